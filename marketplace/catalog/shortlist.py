"""A company member's shortlist: listings they keep an eye on, each with a note of their own. It is
personal, not the company's: nobody else reads it (another person's entry answers 404), and it
shows only listings the catalogue still publishes."""

from __future__ import annotations

import uuid

from litestar.di import NamedDependency
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import COMPANY_ROLES
from marketplace.audit import services as audit
from marketplace.catalog.models import Listing, ShortlistEntry, Status
from marketplace.catalog.services import CatalogService
from marketplace.db import DbSession, add_unless_taken
from marketplace.errors import NotFound, invalid
from marketplace.i18n import N_
from marketplace.tenancy import Principal

NOTE_MAX = 1000
UNIQUE = "uq_shortlist_entries_user_id"


class ShortlistService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.catalog = CatalogService(session)

    @staticmethod
    def may_shortlist(principal: Principal) -> bool:
        """Companies' people keep shortlists (the listing page offers the button to them)."""
        return principal.is_authenticated and principal.role in COMPANY_ROLES

    @staticmethod
    def _require(principal: Principal) -> uuid.UUID:
        principal.require(*COMPANY_ROLES)
        assert principal.user_id is not None, "require() lets only a signed-in caller through"
        return principal.user_id

    @staticmethod
    def _note(note: str) -> str:
        note = note.strip()
        if len(note) > NOTE_MAX:
            raise invalid("note", N_("At most %(n)s characters."), n=NOTE_MAX)
        return note

    async def entries(self, principal: Principal) -> list[tuple[ShortlistEntry, Listing]]:
        """The caller's entries on listings still published, newest first."""
        user_id = self._require(principal)
        rows = await self.session.execute(
            select(ShortlistEntry, Listing)
            .join(Listing, Listing.id == ShortlistEntry.listing_id)
            .where(ShortlistEntry.user_id == user_id, Listing.status == Status.published)
            .options(selectinload(Listing.areas))
            .order_by(ShortlistEntry.created_at.desc(), ShortlistEntry.id)
        )
        return [(entry, listing) for entry, listing in rows]

    async def entry_for(self, principal: Principal, listing_id: uuid.UUID) -> ShortlistEntry | None:
        """The caller's entry on a listing (its page shows the note), if they keep one."""
        if not self.may_shortlist(principal):
            return None
        return await self.session.scalar(
            select(ShortlistEntry).where(ShortlistEntry.user_id == principal.user_id, ShortlistEntry.listing_id == listing_id)
        )

    async def _own(self, principal: Principal, entry_id: uuid.UUID) -> ShortlistEntry:
        user_id = self._require(principal)
        entry = await self.session.scalar(
            select(ShortlistEntry).where(ShortlistEntry.id == entry_id, ShortlistEntry.user_id == user_id).with_for_update()
        )
        if entry is None:
            raise NotFound()
        return entry

    async def add(self, principal: Principal, listing_id: uuid.UUID, note: str = "") -> ShortlistEntry:
        """Put a published listing the caller sees on their shortlist; already there: the entry as
        it is (a second submit adds nothing and keeps the first note)."""
        user_id = self._require(principal)
        note = self._note(note)
        listing = await self.catalog.get(principal, listing_id)
        if listing.status != Status.published:
            raise NotFound()
        entry = ShortlistEntry(user_id=user_id, listing_id=listing.id, note=note)
        if not await add_unless_taken(self.session, entry, UNIQUE):
            found = await self.entry_for(principal, listing.id)
            assert found is not None, "the unique constraint refused the insert, so the entry exists"
            return found
        await self._audit(principal, "shortlist_added", entry)
        return entry

    async def set_note(self, principal: Principal, entry_id: uuid.UUID, note: str) -> ShortlistEntry:
        entry = await self._own(principal, entry_id)
        note = self._note(note)
        if note != entry.note:
            entry.note = note
            await self.session.flush()
            await self._audit(principal, "shortlist_note_changed", entry)
        return entry

    async def remove(self, principal: Principal, entry_id: uuid.UUID) -> None:
        entry = await self._own(principal, entry_id)
        await self._audit(principal, "shortlist_removed", entry)
        await self.session.delete(entry)
        await self.session.flush()

    async def _audit(self, principal: Principal, action: str, entry: ShortlistEntry) -> None:
        await audit.record(
            self.session,
            action,
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject_type="shortlist_entries",
            subject_id=entry.id,
            listing_id=str(entry.listing_id),
        )


Shortlist = NamedDependency[ShortlistService]


async def provide_shortlist(db_session: DbSession) -> ShortlistService:
    return ShortlistService(db_session)
