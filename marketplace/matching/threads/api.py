"""JSON API of a subject's thread — a match request's, a need response's: its messages (list,
post — JSON, or multipart with files), the reader's marker, and downloading an attached file. One
set of handlers; each kind of subject is a subclass naming its kind and its address."""

from __future__ import annotations

from typing import ClassVar

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.response import File
from litestar.status_codes import HTTP_201_CREATED

from marketplace import api_docs
from marketplace.accounts.scopes import SCOPE_OPT, Scope, needs
from marketplace.config import Settings
from marketplace.errors import FieldError, InvalidInput
from marketplace.i18n import N_
from marketplace.matching.threads.files import CONTENT_TYPES, download, uploads_of
from marketplace.matching.threads.models import SubjectKindName, ThreadAttachment
from marketplace.matching.threads.schemas import AttachmentOut, MessageCreate, MessageOut, ReadMarker, ReadOut, ThreadOut
from marketplace.matching.threads.services import MessageView, Threads, ThreadView
from marketplace.tenancy import CurrentPrincipal

API = "/api/v1"

# The handler reads its own body: JSON, or a form of the same text and files.
MESSAGE_JSON = api_docs.flat_struct_schema(MessageCreate)
MESSAGE_BODY = api_docs.multipart({**MESSAGE_JSON["properties"], "files": api_docs.files()}, [], also_json=MESSAGE_JSON)
# An attachment is answered in the type its content was recognised as.
ATTACHMENT = api_docs.download("The file, as an attachment.", *sorted({t.split(";")[0] for t in CONTENT_TYPES.values()}))


def upload_body_limit(settings: Settings) -> int:
    """The largest request a message with files may be: every file at its limit, plus the form."""
    return settings.attachment_max_bytes * settings.attachment_max_files + 1024 * 1024


def sized_for(controller: type[Controller], settings: Settings) -> type[Controller]:
    """The controller with the request-size limit of the settings' attachment limits (the app's
    own limit is far smaller)."""
    return type(controller.__name__, (controller,), {"request_max_body_size": upload_body_limit(settings)})


def attachment_out(base: str, attachment: ThreadAttachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id,
        name=attachment.original_name,
        content_type=attachment.content_type,
        size_bytes=attachment.size_bytes,
        sha256=attachment.sha256,
        url=f"{base}/attachments/{attachment.id}",
    )


def message_out(base: str, view: MessageView) -> MessageOut:
    m = view.message
    return MessageOut(
        id=m.id,
        seq=m.seq,
        author=view.author,
        author_side=m.author_side,
        text=m.body,
        created_at=m.created_at,
        unread=view.unread,
        attachments=[attachment_out(base, a) for a in view.attachments],
        step=m.step,
    )


def thread_out(view: ThreadView) -> ThreadOut:
    base = API + view.subject.path
    read = [m.message.seq for m in view.messages if not m.unread]
    return ThreadOut(
        items=[message_out(base, m) for m in view.messages],
        unread=view.unread,
        last_read_seq=max(read, default=0),
        can_post=view.subject.can_post,
    )


class ThreadApi(Controller):
    """A match request's thread; a subclass serves another kind of subject at its address (the
    kind finds its subject from the path's values)."""

    kind: ClassVar[str] = SubjectKindName.match_request
    path = "/api/v1/match-requests/{request_id:uuid}"
    tags = ["matching"]
    # An integration reads a request's conversation with requests:read; posting is for people (None).
    opt = needs(Scope.requests_read)

    @get("/messages")
    async def list_messages(self, request: Request, principal: CurrentPrincipal, threads: Threads) -> ThreadOut:
        """The conversation, oldest first; `unread` per message for the caller. Reading it here
        does not move the caller's marker (POST …/messages/read does)."""
        subject_id = await threads.locate(principal, self.kind, request.path_params)
        return thread_out(await threads.view(principal, self.kind, subject_id))

    @post(
        "/messages",
        status_code=HTTP_201_CREATED,
        opt={SCOPE_OPT: None},
        operation_class=api_docs.documented(request_body=MESSAGE_BODY),
    )
    async def post_message(self, request: Request, principal: CurrentPrincipal, threads: Threads) -> MessageOut:
        """A message from one side (the company or the poster of the need; the institution's TTO):
        JSON `{"text": …}`, or multipart with a `text` field and `files` (pdf, docx, xlsx, pptx,
        png, jpg, txt, csv, zip; the size and count limits are the server's settings). While a
        match request waits for the company's information, the company's message with text is its
        answer: it takes the `provide_info` step and comes back with that `step`."""
        subject_id = await threads.locate(principal, self.kind, request.path_params)
        if request.content_type[0] == "multipart/form-data":
            text, files = await uploads_of(request)
        else:
            try:
                text, files = msgspec.json.decode(await request.body(), type=MessageCreate).text, []
            except msgspec.ValidationError as error:
                raise InvalidInput(FieldError("text", N_("Not a valid value."))) from error
            except msgspec.DecodeError as error:
                raise InvalidInput(FieldError("body", N_("The body is not valid JSON."))) from error
        posted = await threads.post(principal, self.kind, subject_id, text, files)
        view = await threads.view(principal, self.kind, subject_id)
        return message_out(API + view.subject.path, next(m for m in view.messages if m.message.id == posted.id))

    @post("/messages/read", status_code=200, request_max_body_size=65_536, opt={SCOPE_OPT: None})
    async def mark_read(
        self, request: Request, principal: CurrentPrincipal, threads: Threads, data: JSONBody[ReadMarker]
    ) -> ReadOut:
        """Move the caller's read marker (never backwards)."""
        subject_id = await threads.locate(principal, self.kind, request.path_params)
        return ReadOut(await threads.mark_read(principal, self.kind, subject_id, data.up_to))

    @get("/attachments/{attachment_id:uuid}", operation_class=api_docs.documented(responses={"200": ATTACHMENT}))
    async def download(self, request: Request, principal: CurrentPrincipal, threads: Threads) -> File:
        subject_id = await threads.locate(principal, self.kind, request.path_params)
        attachment, path = await threads.attachment(principal, self.kind, subject_id, request.path_params["attachment_id"])
        return download(attachment, path)


class NeedResponseThreadApi(ThreadApi):
    """The thread of an institution's response to a need."""

    kind = SubjectKindName.need_response
    path = "/api/v1/needs/{need_id:uuid}/responses/{response_id:uuid}"
    tags = ["needs"]
    opt = {}  # no scope covers needs: for people only
