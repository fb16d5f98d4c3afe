"""JSON API of a match request's thread: its messages (list, post — JSON, or multipart with
files), the reader's marker, and downloading an attached file."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import File
from litestar.status_codes import HTTP_201_CREATED
from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.config import Settings
from marketplace.db import DbSession
from marketplace.errors import FieldError, InvalidInput
from marketplace.i18n import N_
from marketplace.matching.thread_models import SubjectKindName, ThreadAttachment
from marketplace.matching.threads import IncomingFile, MessageView, ThreadService, ThreadView
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import AppSettings

KIND = SubjectKindName.match_request


async def provide_threads(db_session: DbSession, settings: AppSettings) -> ThreadService:
    return ThreadService(db_session, settings)


Threads = NamedDependency[ThreadService]


def upload_body_limit(settings: Settings) -> int:
    """The largest request a message with files may be: every file at its limit, plus the form."""
    return settings.attachment_max_bytes * settings.attachment_max_files + 1024 * 1024


def sized_for(controller: type[Controller], settings: Settings) -> type[Controller]:
    """The controller with the request-size limit of the settings' attachment limits (the app's
    own limit is far smaller)."""
    return type(controller.__name__, (controller,), {"request_max_body_size": upload_body_limit(settings)})


# ----- shapes ---------------------------------------------------------------------------------


class MessageCreate(Input):
    text: Annotated[str, Meta(max_length=10_000)] = ""


class ReadMarker(Input):
    # The newest message read (its `seq`); without it, every message so far.
    up_to: Annotated[int, Meta(ge=0)] | None = None


class AttachmentOut(Struct):
    id: uuid.UUID
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    url: str


class MessageOut(Struct):
    id: uuid.UUID
    seq: int
    author: str | None
    author_side: str
    text: str
    created_at: datetime
    unread: bool
    attachments: list[AttachmentOut]


class ThreadOut(Struct):
    items: list[MessageOut]
    unread: int
    last_read_seq: int
    can_post: bool


class ReadOut(Struct):
    last_read_seq: int


def attachment_out(request_id: uuid.UUID, attachment: ThreadAttachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id, name=attachment.original_name, content_type=attachment.content_type,
        size_bytes=attachment.size_bytes, sha256=attachment.sha256,
        url=f"/api/v1/match-requests/{request_id}/attachments/{attachment.id}",
    )


def message_out(request_id: uuid.UUID, view: MessageView) -> MessageOut:
    m = view.message
    return MessageOut(
        id=m.id, seq=m.seq, author=view.author, author_side=m.author_side, text=m.body, created_at=m.created_at,
        unread=view.unread, attachments=[attachment_out(request_id, a) for a in view.attachments],
    )


def thread_out(request_id: uuid.UUID, view: ThreadView) -> ThreadOut:
    read = [m.message.seq for m in view.messages if not m.unread]
    return ThreadOut(
        items=[message_out(request_id, m) for m in view.messages], unread=view.unread,
        last_read_seq=max(read, default=0), can_post=view.subject.can_post,
    )


async def uploads_of(request: Request) -> tuple[str, list[IncomingFile]]:
    """The text and files of a multipart form (`text`, `files` repeated)."""
    form = await request.form()
    text = form.get("text") or ""
    if not isinstance(text, str):
        raise InvalidInput(FieldError("text", N_("Not a valid value.")))
    files = [
        IncomingFile(item.filename, item.file)
        for item in form.getall("files") if isinstance(item, UploadFile) and (item.filename or item.size)
    ] if "files" in form else []
    return text, files


def download(attachment: ThreadAttachment, path) -> File:
    return File(
        path=path, filename=attachment.original_name, media_type=attachment.content_type,
        content_disposition_type="attachment", headers={"X-Content-Type-Options": "nosniff"},
    )


class ThreadApi(Controller):
    path = "/api/v1/match-requests/{request_id:uuid}"
    tags = ["matching"]

    @get("/messages")
    async def list_messages(self, principal: CurrentPrincipal, threads: Threads, request_id: FromPath[uuid.UUID]) -> ThreadOut:
        """The request's conversation, oldest first; `unread` per message for the caller. Reading
        it here does not move the caller's marker (POST …/messages/read does)."""
        return thread_out(request_id, await threads.view(principal, KIND, request_id))

    @post("/messages", status_code=HTTP_201_CREATED)
    async def post_message(
        self, request: Request, principal: CurrentPrincipal, threads: Threads, request_id: FromPath[uuid.UUID]
    ) -> MessageOut:
        """A message from the company or the institution's TTO: JSON `{"text": …}`, or multipart
        with a `text` field and `files` (pdf, docx, xlsx, pptx, png, jpg, txt, csv, zip; the size
        and count limits are the server's settings)."""
        if request.content_type[0] == "multipart/form-data":
            text, files = await uploads_of(request)
        else:
            try:
                text, files = msgspec.json.decode(await request.body(), type=MessageCreate).text, []
            except msgspec.ValidationError as error:
                raise InvalidInput(FieldError("text", N_("Not a valid value."))) from error
            except msgspec.DecodeError as error:
                raise InvalidInput(FieldError("body", N_("The body is not valid JSON."))) from error
        posted = await threads.post(principal, KIND, request_id, text, files)
        view = await threads.view(principal, KIND, request_id)
        return message_out(request_id, next(m for m in view.messages if m.message.id == posted.id))

    @post("/messages/read", status_code=200, request_max_body_size=65_536)
    async def mark_read(
        self, principal: CurrentPrincipal, threads: Threads, request_id: FromPath[uuid.UUID], data: JSONBody[ReadMarker]
    ) -> ReadOut:
        """Move the caller's read marker (never backwards)."""
        return ReadOut(await threads.mark_read(principal, KIND, request_id, data.up_to))

    @get("/attachments/{attachment_id:uuid}")
    async def download(
        self, principal: CurrentPrincipal, threads: Threads, request_id: FromPath[uuid.UUID], attachment_id: FromPath[uuid.UUID]
    ) -> File:
        attachment, path = await threads.attachment(principal, KIND, request_id, attachment_id)
        return download(attachment, path)
