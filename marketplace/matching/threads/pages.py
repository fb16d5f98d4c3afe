"""Pages of a subject's thread: posting a message (with files) from the subject's page, and
downloading a file. The thread itself is shown on the subject's page (a match request's:
requests/pages.py detail_page; a need response's: needs/response_pages.py response_page). One set
of handlers; the app makes one controller per kind of subject with `thread_pages`, naming its
address and its page's way to show a problem."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.response import File, Redirect, Template

from marketplace import forms
from marketplace.i18n import N_, gettext
from marketplace.matching.threads.files import download, uploads_of
from marketplace.matching.threads.services import Threads, ThreadService
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import KEEPS_FORM, attempt, control_character_refusal, flash

# The subject's page shown again with a thread's problem: (request, principal, threads, subject
# id, status, problem, text kept). Each subject's pages provide theirs; the app joins them here.
SubjectProblemPage = Callable[[Request, Principal, ThreadService, uuid.UUID, int, dict, str], Awaitable[Template]]


class ThreadPages(Controller):
    """The handlers of one kind of subject's thread; `thread_pages` makes one per kind."""

    include_in_schema = False
    kind: ClassVar[str]
    # Stored as a staticmethod (thread_pages), so the call passes no self.
    show_problem: ClassVar[staticmethod[[Request, Principal, ThreadService, uuid.UUID, int, dict, str], Awaitable[Template]]]

    @post("/messages", opt={KEEPS_FORM: True})
    async def post_message(self, request: Request, principal: CurrentPrincipal, threads: Threads) -> Response:
        """The subject page's message form (multipart: `text`, `files`). A problem — control
        characters included — shows the page again with its status, the form and the text kept;
        nothing is stored. A message that answers the subject's waiting step takes that step."""
        subject_id = await threads.locate(principal, self.kind, request.path_params)
        text = ""
        refusal = await control_character_refusal(request)
        if refusal is not None:
            text = forms.without_control_characters(str((await request.form()).get("text", "")))
            uploaded = None
        else:
            uploaded, refusal = await attempt(uploads_of(request))
        posted = None
        if uploaded is not None:
            text, files = uploaded
            posted, refusal = await attempt(threads.post(principal, self.kind, subject_id, text, files))
        if refusal is not None:
            fields: dict[str, list[str]] = {}
            for e in refusal.errors:
                fields.setdefault(e.field, []).append(gettext(e.message, **e.params))
            problem = {"message": gettext(refusal.message, **refusal.params), "fields": fields}
            return await self.show_problem(request, principal, threads, subject_id, refusal.status_code, problem, text)
        answered = posted is not None and posted.step is not None
        flash(
            request,
            N_("Your answer has been sent; the institution reviews the request again.")
            if answered
            else N_("Your message has been sent."),
        )
        return Redirect(request.url.path.removesuffix("/messages") + "#thread")

    @get("/attachments/{attachment_id:uuid}")
    async def download(self, request: Request, principal: CurrentPrincipal, threads: Threads) -> File:
        subject_id = await threads.locate(principal, self.kind, request.path_params)
        attachment, path = await threads.attachment(principal, self.kind, subject_id, request.path_params["attachment_id"])
        return download(attachment, path)


def thread_pages(kind: str, path: str, show_problem: SubjectProblemPage) -> type[ThreadPages]:
    """The thread pages of `kind` at its subject's address, showing problems on the subject's page."""
    return type(
        f"{kind.title().replace('_', '')}ThreadPages",
        (ThreadPages,),
        {"kind": kind, "path": path, "show_problem": staticmethod(show_problem)},
    )
