"""Pages of a subject's thread: posting a message (with files) from the subject's page, and
downloading a file. The thread itself is shown on the subject's page (a match request's:
requests/pages.py detail_page; a need response's: needs/pages.py response_page). One set of handlers; each kind
of subject is a subclass naming its kind, its address and how its page shows a problem."""

from __future__ import annotations

import uuid
from typing import ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.response import File, Redirect, Template

from marketplace.errors import DomainError
from marketplace.i18n import N_, gettext
from marketplace.matching.needs.services import NeedService
from marketplace.matching.needs.pages import response_page
from marketplace.matching.requests.pages import detail_page
from marketplace.matching.requests.services import MatchingService
from marketplace.matching.threads.api import Threads, download, uploads_of
from marketplace.matching.threads.models import SubjectKindName
from marketplace.matching.threads.services import ThreadService
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import flash


class ThreadPages(Controller):
    """A match request's thread; a subclass serves another kind of subject at its address."""

    include_in_schema = False
    kind: ClassVar[str] = SubjectKindName.match_request
    path = "/match-requests/{request_id:uuid}"

    async def show_problem(
        self, request: Request, principal: Principal, threads: ThreadService, subject_id: uuid.UUID,
        status_code: int, problem: dict, text: str,
    ) -> Template:
        """The subject's page again, with the problem beside the message form and the text kept."""
        matching = MatchingService(threads.session, threads.settings)
        found = await matching.get(principal, subject_id)
        return await detail_page(
            request, principal, matching, threads, found, status_code=status_code, thread_problem=problem, thread_text=text
        )

    @post("/messages")
    async def post_message(self, request: Request, principal: CurrentPrincipal, threads: Threads) -> Response:
        """The subject page's message form (multipart: `text`, `files`). A problem shows the page
        again with its status and the text kept; nothing is stored."""
        subject_id = await threads.locate(principal, self.kind, request.path_params)
        text = ""
        try:
            text, files = await uploads_of(request)
            await threads.post(principal, self.kind, subject_id, text, files)
        except DomainError as error:
            if error.status_code in (401, 403, 404):
                raise
            fields: dict[str, list[str]] = {}
            for e in error.errors:
                fields.setdefault(e.field, []).append(gettext(e.message, **e.params))
            problem = {"message": gettext(error.message, **error.params), "fields": fields}
            return await self.show_problem(request, principal, threads, subject_id, error.status_code, problem, text)
        flash(request, N_("Your message has been sent."))
        return Redirect(request.url.path.removesuffix("/messages") + "#thread")

    @get("/attachments/{attachment_id:uuid}")
    async def download(self, request: Request, principal: CurrentPrincipal, threads: Threads) -> File:
        subject_id = await threads.locate(principal, self.kind, request.path_params)
        attachment, path = await threads.attachment(principal, self.kind, subject_id, request.path_params["attachment_id"])
        return download(attachment, path)


class NeedResponseThreadPages(ThreadPages):
    """The thread of an institution's response to a need, on the response's page."""

    kind = SubjectKindName.need_response
    path = "/needs/{need_id:uuid}/responses/{response_id:uuid}"

    async def show_problem(self, request, principal, threads, subject_id, status_code, problem, text):
        needs = NeedService(threads.session)
        need, response = await needs.get_response(principal, request.path_params["need_id"], subject_id)
        return await response_page(
            request, principal, needs, threads, need, response, status_code=status_code, thread_problem=problem,
            thread_text=text,
        )
