"""Steps in the conversation: a subject's step (a match request's question, answer, acceptance,
refusal …; a need response's shortlisting …) is written into the subject's thread as a message
carrying the step, so the parties read one conversation per deal, in order. The services that
take the steps call `record_step` in the step's transaction; it needs only the thread tables, so
the requests' and needs' services use it without the thread service (which reads them)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.matching.threads.models import Thread, ThreadMessage

MAX_STEP_TEXT = 10_000


async def ensure_thread(session: AsyncSession, kind: str, subject_id: uuid.UUID) -> Thread:
    """The subject's thread, locked, made if it has none yet."""
    await session.execute(
        insert(Thread)
        .values(id=uuid.uuid4(), subject_kind=kind, subject_id=subject_id)
        .on_conflict_do_nothing(constraint="uq_threads_subject")
    )
    # The row exists now, inserted here or by whoever won the race.
    return (
        await session.execute(
            select(Thread).where(Thread.subject_kind == kind, Thread.subject_id == subject_id).with_for_update()
        )
    ).scalar_one()


async def record_step(
    session: AsyncSession,
    kind: str,
    subject_id: uuid.UUID,
    *,
    step: str,
    side: str,
    author_user_id: uuid.UUID | None,
    text: str,
    at: datetime,
) -> ThreadMessage:
    """The step's message (its text may be empty: the step speaks for itself), dated when the
    step was taken."""
    thread = await ensure_thread(session, kind, subject_id)
    message = ThreadMessage(
        thread_id=thread.id,
        author_user_id=author_user_id,
        author_side=side,
        body=text.strip()[:MAX_STEP_TEXT],
        step=step,
        created_at=at,
    )
    session.add(message)
    if thread.last_message_at is None or thread.last_message_at < at:
        thread.last_message_at = at
    await session.flush()
    await session.refresh(message, ["seq"])
    return message
