"""Pages of a match request's thread: posting a message (with files) from the request page, and
downloading a file. The thread itself is shown on the request page (pages.detail_page)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, post, get
from litestar.params import FromPath
from litestar.response import File, Redirect

from marketplace.errors import DomainError
from marketplace.i18n import N_, gettext
from marketplace.matching.api import Matching
from marketplace.matching.pages import detail_page
from marketplace.matching.thread_api import KIND, Threads, download, uploads_of
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import flash


class ThreadPages(Controller):
    include_in_schema = False
    path = "/match-requests/{request_id:uuid}"

    @post("/messages")
    async def post_message(
        self, request: Request, principal: CurrentPrincipal, matching: Matching, threads: Threads, request_id: FromPath[uuid.UUID]
    ) -> Response:
        """The request page's message form (multipart: `text`, `files`). A problem shows the page
        again with its status and the text kept; nothing is stored."""
        principal.require()
        text = ""
        try:
            text, files = await uploads_of(request)
            await threads.post(principal, KIND, request_id, text, files)
        except DomainError as error:
            if error.status_code in (401, 403, 404):
                raise
            found = await matching.get(principal, request_id)
            fields: dict[str, list[str]] = {}
            for e in error.errors:
                fields.setdefault(e.field, []).append(gettext(e.message, **e.params))
            problem = {"message": gettext(error.message, **error.params), "fields": fields}
            return await detail_page(
                request, principal, matching, threads, found, status_code=error.status_code,
                thread_problem=problem, thread_text=text,
            )
        flash(request, N_("Your message has been sent."))
        return Redirect(f"/match-requests/{request_id}#thread")

    @get("/attachments/{attachment_id:uuid}")
    async def download(
        self, principal: CurrentPrincipal, threads: Threads, request_id: FromPath[uuid.UUID], attachment_id: FromPath[uuid.UUID]
    ) -> File:
        principal.require()
        attachment, path = await threads.attachment(principal, KIND, request_id, attachment_id)
        return download(attachment, path)
