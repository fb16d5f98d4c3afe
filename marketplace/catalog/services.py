"""The catalogue's rules: writing a listing, its lifecycle steps, the spreadsheet import. Its parts
by concept are mixins: who sees and may do what (visibility.py), field rules (validation.py), the
NDA and confidential access (confidential.py), what other domains read and the summaries they keep
on a listing (references.py); the state machine and the stale job are lifecycle.py, the public's
read for search public_listings.py. These modules are the only code that writes listing tables."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar.di import NamedDependency
from sqlalchemy import URL, ColumnElement, Select, and_, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from marketplace import states
from marketplace.accounts.models import INSTITUTION_ROLES, TTO_ROLES, Role
from marketplace.audit import services as audit
from marketplace.catalog.confidential import ConfidentialAccess
from marketplace.catalog.lifecycle import DUE_WARNING, LIFECYCLE, STALE_AFTER
from marketplace.catalog.models import (
    Inventor,
    IpAsset,
    Listing,
    ListingArea,
    Status,
    TherapeuticArea,
)
from marketplace.catalog.page_views import PageViews, one_more_view
from marketplace.catalog.public_listings import load_cards
from marketplace.catalog.references import ListingReferences
from marketplace.catalog.schemas import ListingCreate, ListingFields, ListingUpdate
from marketplace.catalog.spreadsheets import ParsedRow, field_errors_to_rows
from marketplace.catalog.validation import ListingValidation, check_complete, missing_to_publish
from marketplace.catalog.visibility import ListingVisibility
from marketplace.db import DbSession, utcnow
from marketplace.errors import Forbidden, InvalidInput, NotFound
from marketplace.tenancy import Principal


def _load(stmt: Select) -> Select:
    return stmt.options(selectinload(Listing.areas), selectinload(Listing.inventors), selectinload(Listing.ip_assets))


# The therapeutic areas, read once per process and database: only the migrations write them.
_areas: dict[URL, list[TherapeuticArea]] = {}


class CatalogService(ListingVisibility, ListingValidation, ConfidentialAccess, ListingReferences, PageViews):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._area_codes: set[str] | None = None

    async def history(self, principal: Principal, listing: Listing, limit: int = 20) -> list:
        """The listing's audit lines: the owning institution's and the platform's to read, not a
        company's that holds an NDA grant."""
        if self.is_owner_side(principal, listing) or principal.is_platform:
            return await audit.events(self.session, subject_id=listing.id, limit=limit)
        return []

    async def get(self, principal: Principal, listing_id: uuid.UUID, *, for_update: bool = False) -> Listing:
        stmt = _load(select(Listing).where(Listing.id == listing_id, self.visible(principal)))
        stmt = stmt.execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update(of=Listing)
        listing = await self.session.scalar(stmt)
        if listing is None:
            raise NotFound()
        return listing

    async def open_page(self, principal: Principal, listing_id: uuid.UUID) -> Listing:
        """A listing as its page shows it; a published one opened by someone outside its institution
        counts as viewed that China day (the dashboards' funnel starts there)."""
        listing = await self.get(principal, listing_id)
        if self.counts_view(principal, listing):
            await self.session.execute(one_more_view(listing.id))
        return listing

    async def search(
        self,
        principal: Principal,
        *,
        kind: str | None = None,
        type: str | None = None,
        status: str | None = None,
        institution_id: uuid.UUID | None = None,
        area: str | None = None,
        q: str | None = None,
        stale: bool | None = None,
        own: bool = False,
        page: int = 1,
        page_size: int = 20,
        cards: bool = False,
    ) -> tuple[list[Listing], int]:
        """The catalogue's own filtered list (full-text relevance is the search domain's job);
        `own`: an inventor's listings only (those they wrote or are named on); `cards`: loaded
        for cards only (their areas; their inventors and IP are not loaded)."""
        conditions = [self.visible(principal)]
        if own and principal.role == Role.inventor:
            conditions.append(self._written_by(principal))
        for column, value in ((Listing.kind, kind), (Listing.type, type), (Listing.status, status)):
            if value:
                conditions.append(column == value)
        if institution_id:
            conditions.append(Listing.institution_id == institution_id)
        if area:
            conditions.append(exists().where(ListingArea.listing_id == Listing.id, ListingArea.area_code == area))
        if q:
            pattern = f"%{q.strip()}%"
            conditions.append(or_(Listing.title_zh.ilike(pattern), Listing.title_en.ilike(pattern)))
        if stale is not None:
            conditions.append(Listing.is_stale == stale)
        total = await self.session.scalar(select(func.count()).select_from(Listing).where(*conditions))
        stmt = (load_cards if cards else _load)(
            select(Listing)
            .where(*conditions)
            .order_by(Listing.published_at.desc().nulls_last(), Listing.updated_at.desc(), Listing.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return list((await self.session.scalars(stmt)).all()), total or 0

    async def areas(self) -> list[TherapeuticArea]:
        """Every page reads them: kept, detached from the session that read them, per database (one
        process may serve several, as the tests do)."""
        database = self.session.get_bind().engine.url
        if database not in _areas:
            found = list((await self.session.scalars(select(TherapeuticArea).order_by(TherapeuticArea.position))).all())
            for area in found:
                self.session.expunge(area)
            _areas[database] = found
        return list(_areas[database])

    # ----- writing ----------------------------------------------------------------------------

    async def create(self, principal: Principal, data: ListingCreate, *, ip: str | None = None) -> Listing:
        principal.require(*INSTITUTION_ROLES)
        if not self.may_create(principal, data.kind):
            raise Forbidden()
        await self._validate(data, kind=data.kind, type=data.type, institution_id=principal.acting_organization_id, creating=True)
        listing = Listing(
            institution_id=principal.organization_id,
            kind=data.kind,
            type=data.type,
            status=Status.draft,
            created_by_user_id=principal.user_id,
        )
        self._apply(listing, data)
        self.session.add(listing)
        await self.session.flush()
        await audit.record(
            self.session,
            "listing_created",
            actor_user_id=principal.user_id,
            organization_id=listing.institution_id,
            subject=listing,
            ip=ip,
            kind=listing.kind,
            type=listing.type,
        )
        return await self.get(principal, listing.id)

    async def update(self, principal: Principal, listing_id: uuid.UUID, data: ListingUpdate) -> Listing:
        principal.require()
        listing = await self.get(principal, listing_id, for_update=True)
        if not self.may_edit(principal, listing):
            raise Forbidden()
        await self._validate(data, kind=listing.kind, type=listing.type, institution_id=listing.institution_id)
        # Rows are replaced whole: delete the old ones first, or their positions collide with the
        # new rows' (the unit of work inserts before it deletes orphans).
        if (data.inventors is not None and listing.inventors) or (data.ip_assets is not None and listing.ip_assets):
            if data.inventors is not None:
                listing.inventors = []
            if data.ip_assets is not None:
                listing.ip_assets = []
            await self.session.flush()
        self._apply(listing, data)
        if listing.status == Status.published:
            check_complete(listing)
        await self.session.flush()
        await audit.record(
            self.session,
            "listing_updated",
            actor_user_id=principal.user_id,
            organization_id=listing.institution_id,
            subject=listing,
            fields=sorted(f for f in data.__struct_fields__ if getattr(data, f) is not None),
        )
        return await self.get(principal, listing.id)

    def _apply(self, listing: Listing, data: ListingFields) -> None:
        """The input's fields onto the row; a field left out (None) keeps its value."""
        plain = (
            "title_zh",
            "title_en",
            "summary_zh",
            "summary_en",
            "confidential_details",
            "keywords",
            "contact_name",
            "contact_email",
            "contact_phone",
            "stage",
            "trl",
            "advantages",
            "ownership_model",
            "details",
            "engagement_modes",
            "pricing_model",
            "availability",
        )
        for name in plain:
            value = getattr(data, name)
            if value is not None:
                setattr(listing, name, value)
        if data.therapeutic_areas is not None:
            listing.areas = [ListingArea(area_code=code) for code in dict.fromkeys(data.therapeutic_areas)]
        if data.licence_options is not None:
            listing.licence_options = [offer.option for offer in data.licence_options]
            listing.licence_terms = {offer.option: offer.terms for offer in data.licence_options}
        if data.inventors is not None:
            listing.inventors = [
                Inventor(position=i, user_id=inv.user_id, name=inv.name, share_bp=inv.share_bp)
                for i, inv in enumerate(data.inventors)
            ]
        if data.ip_assets is not None:
            listing.ip_assets = [IpAsset(position=i, **msgspec.structs.asdict(asset)) for i, asset in enumerate(data.ip_assets)]

    async def transition(self, principal: Principal, listing_id: uuid.UUID, action: str, reason: str = "") -> Listing:
        principal.require()
        step = LIFECYCLE.action(action)
        listing = await self.get(principal, listing_id, for_update=True)
        # get() already answered 404 for what the caller may not see; seeing is not acting.
        await states.apply(self.session, LIFECYCLE, principal, listing, step, reason)
        return listing

    async def import_rows(self, principal: Principal, rows: list[ParsedRow], *, dry_run: bool) -> dict:
        """Validate every row; unless it is a dry run and if no row has a problem, create them all.
        All rows or none: a single problem anywhere writes nothing."""
        principal.require(*TTO_ROLES)
        errors = [error for row in rows for error in row.errors]
        listings = []
        for row in rows:
            if row.data is None:
                continue
            try:
                await self._validate(
                    row.data,
                    kind=row.data.kind,
                    type=row.data.type,
                    institution_id=principal.acting_organization_id,
                    creating=True,
                )
            except InvalidInput as error:
                # The sheet's own reading already named some of these fields, with the allowed values.
                named = {e["field"] for e in row.errors}
                errors += [e for e in field_errors_to_rows(row.number, error.errors) if e["field"] not in named]
                continue
            listing = Listing(
                institution_id=principal.organization_id,
                kind=row.data.kind,
                type=row.data.type,
                status=Status.draft,
                created_by_user_id=principal.user_id,
            )
            self._apply(listing, row.data)
            if row.publish and not row.errors:
                errors += field_errors_to_rows(row.number, missing_to_publish(listing))
                listing.status, listing.published_at = Status.published, utcnow()
                listing.confirmed_at = listing.published_at
            listings.append(listing)
        errors.sort(key=lambda e: e["row"])  # a row's problems together, the sheet's own first
        report = {"dry_run": dry_run, "rows": len(rows), "created": 0, "errors": errors}
        if errors or dry_run:
            return report
        self.session.add_all(listings)
        await self.session.flush()
        for listing in listings:
            await audit.record(
                self.session,
                "listing_created",
                actor_user_id=principal.user_id,
                organization_id=listing.institution_id,
                subject=listing,
                source="import",
                status=listing.status,
            )
        report["created"] = len(listings)
        return report

    async def export_rows(self, principal: Principal) -> list[Listing]:
        """Every listing of the caller's institution, for the spreadsheet export."""
        principal.require(*TTO_ROLES)
        stmt = _load(select(Listing).where(Listing.institution_id == principal.organization_id).order_by(Listing.created_at))
        return list((await self.session.scalars(stmt)).all())

    async def due_for_confirmation(self, principal: Principal) -> list[Listing]:
        """The institution's published listings that are stale or turn stale within 30 days."""
        principal.require(*TTO_ROLES, Role.platform_admin)
        cutoff = utcnow() - STALE_AFTER + DUE_WARNING
        stmt = _load(
            select(Listing)
            .where(
                Listing.status == Status.published,
                Listing.institution_id == principal.organization_id if not principal.is_platform else true(),
                or_(Listing.is_stale, Listing.confirmed_at < cutoff),
            )
            .order_by(Listing.confirmed_at)
        )
        return list((await self.session.scalars(stmt)).all())

    async def status_counts(self, principal: Principal, *, own: bool = False) -> dict[str, int]:
        """How many listings in each status: the institution's for its people (`own`: only those
        an inventor wrote or is named on), every one for platform roles."""
        condition: ColumnElement[bool]
        if principal.is_platform:
            condition = true()
        elif own and principal.role == Role.inventor:
            condition = self._written_by(principal)
        elif self.has_own_listings(principal):
            condition = Listing.institution_id == principal.organization_id
        else:
            return {}
        rows = await self.session.execute(select(Listing.status, func.count()).where(condition).group_by(Listing.status))
        return {status: int(n) for status, n in rows}

    async def review_counts(self, principal: Principal) -> tuple[int, int]:
        """What /review lists, counted: listings waiting for review, and published ones to reconfirm."""
        principal.require(*TTO_ROLES)
        cutoff = utcnow() - STALE_AFTER + DUE_WARNING
        own = Listing.institution_id == principal.organization_id
        waiting = Listing.status == Status.pending_review
        due = and_(Listing.status == Status.published, or_(Listing.is_stale, Listing.confirmed_at < cutoff))
        row = (await self.session.execute(select(func.count().filter(waiting), func.count().filter(due)).where(own))).one()
        return int(row[0]), int(row[1])

    async def pending_review(self, principal: Principal) -> list[Listing]:
        principal.require(*TTO_ROLES)
        stmt = _load(
            select(Listing)
            .where(Listing.institution_id == principal.organization_id, Listing.status == Status.pending_review)
            .order_by(Listing.updated_at)
        )
        return list((await self.session.scalars(stmt)).all())

    # ----- for other domains ------------------------------------------------------------------

    async def add_existing(
        self,
        institution_id: uuid.UUID,
        data: ListingCreate,
        *,
        status: str = Status.draft,
        published_at: datetime | None = None,
        confirmed_at: datetime | None = None,
        created_by_user_id: uuid.UUID | None = None,
        flush: bool = True,
    ) -> Listing:
        """Add a listing that already has a status and dates, as if it had lived through its transitions
        (the demo catalogue, with institutions nobody signs in to). No one acts, so nothing is audited
        and no request reaches it. It runs the same field validation and, for a published listing, the
        same completeness check; stale is computed from `confirmed_at`. Adding many: flush=False and
        flush once at the end (this service caches the vocabulary)."""
        await self._validate(data, kind=data.kind, type=data.type, institution_id=institution_id, creating=True)
        listing = Listing(
            institution_id=institution_id, kind=data.kind, type=data.type, status=status, created_by_user_id=created_by_user_id
        )
        self._apply(listing, data)
        if status in (Status.published, Status.withdrawn, Status.archived):
            listing.published_at = published_at or utcnow()
            listing.confirmed_at = confirmed_at or listing.published_at
            listing.is_stale = listing.confirmed_at < utcnow() - STALE_AFTER
        if status == Status.published:
            check_complete(listing)
        self.session.add(listing)
        if flush:
            await self.session.flush()
        return listing


# Controllers (API and pages alike) ask for the service on the request's session by this name.
Catalog = NamedDependency[CatalogService]


async def provide_catalog(db_session: DbSession) -> CatalogService:
    return CatalogService(db_session)
