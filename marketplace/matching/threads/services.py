"""Conversation threads: messages with attached files and read markers, on a subject of a
registered kind. The kind decides who reads, who posts and who is told of a new message; the
thread code applies that decision to every route, the downloads included.

The kinds of subject, and the registry of them, are in subjects.py.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from litestar.di import NamedDependency
from sqlalchemy import Select, and_, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import forms, i18n
from marketplace.accounts.models import Role, User
from marketplace.config import Settings
from marketplace.db import DbSession
from marketplace.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from marketplace.i18n import N_
from marketplace.matching.events import MESSAGE_EMAIL, MatchEvents
from marketplace.matching.threads.files import (
    CONTENT_TYPES,
    IncomingFile,
    Staged,
    clean_name,
    content_matches,
    extension_of,
    human_size,
)
from marketplace.matching.threads.models import Thread, ThreadAttachment, ThreadMessage, ThreadReadMarker, ThreadSide
from marketplace.matching.threads.steps import ensure_thread
from marketplace.matching.threads.subjects import SUBJECT_KINDS, ThreadSubject
from marketplace.notifications.services import NotificationService
from marketplace.tenancy import Principal
from marketplace.web import AppSettings

MAX_TEXT = 10_000
CHUNK = 1024 * 1024


@dataclass
class MessageView:
    message: ThreadMessage
    author: str | None
    attachments: list[ThreadAttachment]
    unread: bool


@dataclass
class ThreadView:
    subject: ThreadSubject
    messages: list[MessageView]
    unread: int
    last_seq: int


class ThreadService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    @staticmethod
    def reads_conversations(principal: Principal) -> bool:
        """The platform analyst reads no conversation (subjects.py refuses it), so has no unread."""
        return principal.role != Role.platform_analyst

    async def subject(self, principal: Principal, kind: str, subject_id: uuid.UUID) -> ThreadSubject:
        if kind not in SUBJECT_KINDS:
            raise NotFound()
        return await SUBJECT_KINDS[kind].load(self.session, self.settings, principal, subject_id)

    async def locate(self, principal: Principal, kind: str, path_params: Mapping[str, object]) -> uuid.UUID:
        """The subject a route's path names, for a signed-in caller (whether the caller may read
        its thread is checked when it is loaded)."""
        principal.require()
        return await SUBJECT_KINDS[kind].locate(self.session, path_params)

    async def _thread(self, kind: str, subject_id: uuid.UUID) -> Thread | None:
        return await self.session.scalar(select(Thread).where(Thread.subject_kind == kind, Thread.subject_id == subject_id))

    async def _last_read(self, thread_id: uuid.UUID, user_id: uuid.UUID) -> int:
        marker = await self.session.scalar(
            select(ThreadReadMarker.last_read_seq).where(
                ThreadReadMarker.thread_id == thread_id, ThreadReadMarker.user_id == user_id
            )
        )
        return marker or 0

    # ----- reading ----------------------------------------------------------------------------

    async def view(self, principal: Principal, kind: str, subject_id: uuid.UUID) -> ThreadView:
        """The messages, oldest first, each with its files and whether the viewer has read it; the
        subject's steps (a message with a `step`) among them."""
        subject = await self.subject(principal, kind, subject_id)
        thread = await self._thread(kind, subject_id)
        if thread is None:
            return ThreadView(subject, [], 0, 0)
        reader = principal.signed_in_user_id  # subject() has turned the anonymous away
        last_read = await self._last_read(thread.id, reader)
        rows = list(
            (
                await self.session.execute(
                    select(ThreadMessage, User.name)
                    .outerjoin(User, User.id == ThreadMessage.author_user_id)
                    .where(ThreadMessage.thread_id == thread.id)
                    # In time order: the steps copied from the audit trail (migration 0021) came
                    # after the messages of their time; seq orders what shares a moment.
                    .order_by(ThreadMessage.created_at, ThreadMessage.seq)
                )
            ).all()
        )
        files: dict[uuid.UUID, list[ThreadAttachment]] = {}
        if rows:
            for attachment in await self.session.scalars(
                select(ThreadAttachment)
                .where(ThreadAttachment.message_id.in_([m.id for m, _ in rows]))
                .order_by(ThreadAttachment.created_at, ThreadAttachment.original_name)
            ):
                files.setdefault(attachment.message_id, []).append(attachment)
        messages = [
            MessageView(m, name, files.get(m.id, []), m.seq > last_read and m.author_user_id != reader) for m, name in rows
        ]
        return ThreadView(subject, messages, sum(v.unread for v in messages), max((m.seq for m, _ in rows), default=0))

    async def mark_read(self, principal: Principal, kind: str, subject_id: uuid.UUID, up_to: int | None = None) -> int:
        """Move the viewer's marker to `up_to` (default: the newest message); never backwards.
        Returns the marker."""
        await self.subject(principal, kind, subject_id)
        thread = await self._thread(kind, subject_id)
        if thread is None:
            return 0
        newest = await self.session.scalar(select(func.max(ThreadMessage.seq)).where(ThreadMessage.thread_id == thread.id)) or 0
        return await self._advance(thread.id, principal.signed_in_user_id, min(up_to, newest) if up_to is not None else newest)

    async def _advance(self, thread_id: uuid.UUID, user_id: uuid.UUID, seq: int) -> int:
        statement = (
            insert(ThreadReadMarker)
            .values(thread_id=thread_id, user_id=user_id, last_read_seq=seq)
            .on_conflict_do_update(
                index_elements=["thread_id", "user_id"],
                set_={"last_read_seq": func.greatest(ThreadReadMarker.last_read_seq, seq), "read_at": func.now()},
            )
            .returning(ThreadReadMarker.last_read_seq)
        )
        # The upsert returns exactly the one marker row.
        return (await self.session.execute(statement)).scalar_one()

    @staticmethod
    def unread_subjects(user_id: uuid.UUID, kind: str) -> Select:
        """The ids of a kind's subjects whose conversation holds messages by others the user has not
        read (a subquery: lists filter by it and the home page counts it, in SQL)."""
        marker = and_(ThreadReadMarker.thread_id == Thread.id, ThreadReadMarker.user_id == user_id)
        return (
            select(Thread.subject_id)
            .join(ThreadMessage, ThreadMessage.thread_id == Thread.id)
            .outerjoin(ThreadReadMarker, marker)
            .where(
                Thread.subject_kind == kind,
                ThreadMessage.seq > func.coalesce(ThreadReadMarker.last_read_seq, 0),
                ThreadMessage.author_user_id.is_distinct_from(user_id),
            )
        )

    async def unread_counts(self, user_id: uuid.UUID, kind: str, subject_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Unread messages (by others) per subject, for lists of subjects the caller already sees."""
        if not subject_ids:
            return {}
        marker = and_(ThreadReadMarker.thread_id == Thread.id, ThreadReadMarker.user_id == user_id)
        rows = await self.session.execute(
            select(Thread.subject_id, func.count(ThreadMessage.id))
            .join(ThreadMessage, ThreadMessage.thread_id == Thread.id)
            .outerjoin(ThreadReadMarker, marker)
            .where(
                Thread.subject_kind == kind,
                Thread.subject_id.in_(list(subject_ids)),
                ThreadMessage.seq > func.coalesce(ThreadReadMarker.last_read_seq, 0),
                ThreadMessage.author_user_id.is_distinct_from(user_id),
            )
            .group_by(Thread.subject_id)
        )
        return dict(rows.all())  # not dict(rows): a Result has keys(), so dict() would treat it as a mapping

    async def attachment(
        self, principal: Principal, kind: str, subject_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> tuple[ThreadAttachment, Path]:
        """A file on the subject's thread, for those who read the thread; anything else 404."""
        await self.subject(principal, kind, subject_id)
        found = await self.session.scalar(
            select(ThreadAttachment)
            .join(ThreadMessage, ThreadMessage.id == ThreadAttachment.message_id)
            .join(Thread, Thread.id == ThreadMessage.thread_id)
            .where(ThreadAttachment.id == attachment_id, Thread.subject_kind == kind, Thread.subject_id == subject_id)
        )
        path = self.settings.attachment_storage / str(attachment_id)
        if found is None or not path.is_file():
            raise NotFound()
        return found, path

    # ----- writing ----------------------------------------------------------------------------

    async def post(
        self, principal: Principal, kind: str, subject_id: uuid.UUID, text: str, files: Sequence[IncomingFile] = ()
    ) -> ThreadMessage:
        """A message from one of the subject's parties, with its files. Bad input changes nothing:
        no row and no file is kept."""
        subject = await self.subject(principal, kind, subject_id)
        author = principal.signed_in_user_id
        if subject.side is None:
            raise Forbidden()
        if not subject.open:
            raise Conflict(subject.closed_message, FieldError("text", subject.closed_message))
        text = text.strip()
        errors: list[FieldError] = forms.control_character_errors({"text": text})
        if len(text) > MAX_TEXT:
            errors.append(FieldError("text", N_("At most %(n)s characters."), {"n": MAX_TEXT}))
        if not text and not files:
            errors.append(FieldError("text", N_("Write a message or attach a file.")))
        if len(files) > self.settings.attachment_max_files:
            errors.append(
                FieldError("files", N_("At most %(n)s files in one message."), {"n": self.settings.attachment_max_files})
            )
        if errors:
            raise InvalidInput(*errors)
        staged = await self._stage(files)
        stored: list[Path] = []
        try:
            thread = await ensure_thread(self.session, kind, subject_id)
            if subject.answer is not None and text:
                # The answer a step waits for: the step writes the message (and tells the other
                # side in its own words), the files go on it.
                message = await subject.answer(text)
                tell: list[uuid.UUID] = []
            else:
                before = {p.id: 0 for p in await subject.people(self._other(subject.side))}
                unread_before = await self._unread_for(thread.id, list(before))
                message = ThreadMessage(thread_id=thread.id, author_user_id=author, author_side=subject.side, body=text)
                self.session.add(message)
                await self.session.flush()
                tell = [uid for uid in before if not unread_before.get(uid)]
            for item in staged:
                attachment = ThreadAttachment(
                    message_id=message.id,
                    original_name=item.name,
                    extension=item.extension,
                    content_type=CONTENT_TYPES[item.extension],
                    size_bytes=item.size,
                    sha256=item.sha256,
                )
                self.session.add(attachment)
                await self.session.flush()
                final = self.settings.attachment_storage / str(attachment.id)
                os.replace(item.temp, final)
                stored.append(final)
            thread.last_message_at = func.now()
            await self.session.flush()
            await self.session.refresh(message, ["seq", "created_at"])
            await self._advance(thread.id, author, message.seq)
            await self._tell(subject, message, tell, len(staged))
        except BaseException:
            for path in stored:
                path.unlink(missing_ok=True)
            raise
        finally:
            for item in staged:
                item.temp.unlink(missing_ok=True)
        return message

    @staticmethod
    def _other(side: ThreadSide) -> ThreadSide:
        return ThreadSide.institution if side == ThreadSide.company else ThreadSide.company

    async def _unread_for(self, thread_id: uuid.UUID, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(User.id, func.count(ThreadMessage.id))
            .select_from(User)
            .join(ThreadMessage, ThreadMessage.thread_id == thread_id)
            .outerjoin(ThreadReadMarker, and_(ThreadReadMarker.thread_id == thread_id, ThreadReadMarker.user_id == User.id))
            .where(
                User.id.in_(user_ids),
                ThreadMessage.seq > func.coalesce(ThreadReadMarker.last_read_seq, 0),
                ThreadMessage.author_user_id.is_distinct_from(User.id),
            )
            .group_by(User.id)
        )
        return dict(rows.all())

    async def _stage(self, files: Sequence[IncomingFile]) -> list[Staged]:
        """Copy each upload into the storage folder under a temporary name, checking size and
        content; on any problem remove them all and name every bad file."""
        folder = self.settings.attachment_storage
        folder.mkdir(parents=True, exist_ok=True)
        limit = self.settings.attachment_max_bytes
        staged: list[Staged] = []
        errors: list[FieldError] = []
        try:
            for upload in files:
                name = clean_name(upload.name or "")
                extension = extension_of(name)
                if not name:
                    errors.append(FieldError("files", N_("A file has no name.")))
                    continue
                if extension not in CONTENT_TYPES:
                    errors.append(FieldError("files", N_("“%(name)s”: this type of file is not accepted."), {"name": name}))
                    continue
                temp = folder / f".upload-{uuid.uuid4()}"
                digest, size, too_big = hashlib.sha256(), 0, False
                with temp.open("wb") as out:
                    while chunk := upload.file.read(CHUNK):
                        size += len(chunk)
                        if size > limit:
                            too_big = True
                            break
                        digest.update(chunk)
                        out.write(chunk)
                staged.append(Staged(name, extension, size, digest.hexdigest(), temp))
                if too_big:
                    errors.append(
                        FieldError(
                            "files", N_("“%(name)s” is larger than %(limit)s."), {"name": name, "limit": human_size(limit)}
                        )
                    )
                elif size == 0:
                    errors.append(FieldError("files", N_("“%(name)s” is empty."), {"name": name}))
                elif not content_matches(extension, temp):
                    errors.append(FieldError("files", N_("“%(name)s” is not the kind of file its name says."), {"name": name}))
        except BaseException:
            for item in staged:
                item.temp.unlink(missing_ok=True)
            raise
        if errors:
            for item in staged:
                item.temp.unlink(missing_ok=True)
            raise InvalidInput(*errors)
        return staged

    async def _tell(self, subject: ThreadSubject, message: ThreadMessage, user_ids: list[uuid.UUID], file_count: int) -> None:
        """Tell the other side's people who had read everything before this message: one notice
        (and e-mail) per unread stretch, not one per message. The e-mail does not quote the
        message: confidential matter stays on the platform."""
        if not user_ids:
            return
        assert subject.side is not None, "only a party posts (post() refuses the others)"
        item = {"label": subject.title_zh, "label_en": subject.title_en, "link": subject.link}
        await NotificationService(self.session).notify(
            user_ids, subject.notice_kind, subject.notice, items=[item], link=subject.link
        )
        people = [p for p in await subject.people(self._other(subject.side)) if p.id in set(user_ids)]
        events = MatchEvents(self.session, self.settings)
        party = subject.side_names[subject.side]

        def values(locale: str) -> dict:
            title = subject.title_en if locale == "en" and subject.title_en else subject.title_zh
            return {"title": title, "party": i18n.gettext(party), "files": file_count}

        await events.email(
            people,
            MESSAGE_EMAIL.key,
            subject.link,
            N_("New message on “%(title)s”"),
            N_(
                "There is a new message from %(party)s in the conversation on “%(title)s” (files attached: %(files)s). Read it and answer on the platform."
            ),
            values,
        )


# Controllers (API and pages alike) ask for the service on the request's session by this name.
Threads = NamedDependency[ThreadService]


async def provide_threads(db_session: DbSession, settings: AppSettings) -> ThreadService:
    return ThreadService(db_session, settings)
