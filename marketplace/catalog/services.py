"""The catalogue's rules: who sees and edits which listing, field validation, completeness to
publish, the lifecycle state machine and freshness. The only code that writes listing tables."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import msgspec
from litestar.di import NamedDependency
from sqlalchemy import Select, and_, exists, false, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from marketplace import forms, states
from marketplace.accounts.models import COMPANY_ROLES, INSTITUTION_ROLES, TTO_ROLES, Role
from marketplace.audit import services as audit
from marketplace.catalog.models import (
    ConfidentialGrant,
    Inventor,
    IpAsset,
    IpKind,
    Jurisdiction,
    Listing,
    ListingArea,
    ListingKind,
    NdaVersion,
    ResourceType,
    ResultType,
    Status,
    TherapeuticArea,
)
from marketplace.catalog.schemas import RESOURCE_DETAILS, ListingCreate, ListingFields, ListingUpdate
from marketplace.catalog.spreadsheets import ParsedRow, field_errors_to_rows
from marketplace.db import DbSession, utcnow
from marketplace.errors import DomainError, FieldError, Forbidden, InvalidInput, NotFound
from marketplace.i18n import N_
from marketplace.tenancy import Principal

STALE_AFTER = timedelta(days=180)
# Listings due for confirmation show up in the TTO's list this long before they turn stale.
DUE_WARNING = timedelta(days=30)
TOTAL_SHARES_BP = 10_000

# Patent and software-copyright numbers by jurisdiction (checked by format, not by registry).
NUMBER_FORMATS: dict[str, re.Pattern] = {
    Jurisdiction.CN: re.compile(r"^(?:(?:ZL|CN)\s?)?\d{4}[1-9]\d{7}\.[\dX]$|^CN\s?\d{9}\s?[ABCUYS]\d?$"),
    Jurisdiction.PCT: re.compile(r"^PCT/[A-Z]{2}\d{4}/\d{6}$"),
    Jurisdiction.US: re.compile(r"^US\s?(?:\d{1,2},?\d{3},?\d{3}\s?B[12]|\d{4}/?\d{7}\s?A[19])$|^\d{2}/\d{3},?\d{3}$"),
    Jurisdiction.EP: re.compile(r"^EP\s?(?:\d{7}\s?[AB]\d|\d{8}\.\d)$"),
}
SOFTWARE_COPYRIGHT = re.compile(r"^\d{4}SR\d{7}$")

RESULT_ONLY = ("stage", "trl", "advantages", "ownership_model", "licence_options", "ip_assets", "inventors")
RESOURCE_ONLY = ("details", "engagement_modes", "pricing_model", "availability")


def valid_ip_number(number: str, kind: str, jurisdiction: str) -> bool:
    number = number.strip().upper()
    if kind == IpKind.software_copyright:
        return bool(SOFTWARE_COPYRIGHT.match(number))
    pattern = NUMBER_FORMATS.get(jurisdiction)
    return bool(pattern.match(number)) if pattern else bool(number)


def _load(stmt: Select) -> Select:
    return stmt.options(selectinload(Listing.areas), selectinload(Listing.inventors), selectinload(Listing.ip_assets))


class CatalogService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._area_codes: set[str] | None = None

    # ----- who sees what ----------------------------------------------------------------------

    def visible(self, principal: Principal):
        """Published listings are public. The owning institution's TTO sees all of its listings;
        an inventor sees the drafts they wrote or are named on; platform roles see everything."""
        if principal.is_platform:
            return true()
        published = Listing.status == Status.published
        if principal.role in TTO_ROLES:
            return or_(published, Listing.institution_id == principal.organization_id)
        if principal.role == Role.inventor:
            named = exists().where(Inventor.listing_id == Listing.id, Inventor.user_id == principal.user_id)
            own = and_(
                Listing.institution_id == principal.organization_id,
                or_(Listing.created_by_user_id == principal.user_id, named),
            )
            return or_(published, own)
        return published

    @staticmethod
    def is_owner_side(principal: Principal, listing: Listing) -> bool:
        """The owning institution's people and the platform admin: they see everything about it."""
        if principal.role == Role.platform_admin:
            return True
        return principal.role in INSTITUTION_ROLES and listing.institution_id == principal.organization_id

    @staticmethod
    def has_own_listings(principal: Principal) -> bool:
        """The institution's people: their own listings, in every status, are a view of theirs."""
        return principal.role in INSTITUTION_ROLES

    @staticmethod
    def may_create(principal: Principal, kind: str | None = None) -> bool:
        """The institution's people write listings; an inventor only results."""
        if principal.role not in INSTITUTION_ROLES:
            return False
        return not (principal.role == Role.inventor and kind == ListingKind.resource)

    @staticmethod
    def may_request_match(principal: Principal, listing: Listing) -> bool:
        """Companies ask for matches on published listings (the matching service decides when asked)."""
        return principal.role in COMPANY_ROLES and listing.status == Status.published

    @staticmethod
    def default_contact(principal: Principal) -> dict[str, str]:
        """A TTO writing a listing is its contact unless they say otherwise."""
        return {"contact_name": principal.name, "contact_email": principal.email} if principal.role in TTO_ROLES else {}

    async def history(self, principal: Principal, listing: Listing, limit: int = 20) -> list:
        """The listing's audit lines: the owning institution's and the platform's to read, not a
        company's that holds an NDA grant."""
        if self.is_owner_side(principal, listing) or principal.is_platform:
            return await audit.events(self.session, subject_id=listing.id, limit=limit)
        return []

    @classmethod
    def sees_inventor_shares(cls, principal: Principal, listing: Listing) -> bool:
        """Inventors' revenue shares are internal: the owning institution's TTO, the listing's author
        and the inventors named on it, and the platform admin see them; names stay public."""
        if principal.role == Role.platform_admin:
            return True
        if principal.role in TTO_ROLES:
            return listing.institution_id == principal.organization_id
        me = principal.user_id
        return me is not None and (listing.created_by_user_id == me or any(i.user_id == me for i in listing.inventors))

    async def sees_confidential(self, principal: Principal, listing: Listing) -> bool:
        return listing.id in await self.confidential_listing_ids(principal, [listing])

    async def confidential_listing_ids(self, principal: Principal, listings: list[Listing]) -> set[uuid.UUID]:
        """Which of `listings` the caller may read the confidential details of: the owning
        institution (and the platform admin), and a company holding a grant under the current NDA."""
        allowed = {item.id for item in listings if self.is_owner_side(principal, item)}
        others = [item.id for item in listings if item.id not in allowed]
        if others and principal.role in COMPANY_ROLES:
            granted = await self.session.scalars(
                select(ConfidentialGrant.listing_id).where(
                    ConfidentialGrant.listing_id.in_(others),
                    ConfidentialGrant.company_id == principal.organization_id,
                    ConfidentialGrant.nda_version == self._current_nda_version(),
                )
            )
            allowed |= set(granted)
        return allowed

    async def outdated_grant(self, principal: Principal, listing: Listing) -> bool:
        """The caller's company was granted access under an NDA version that is no longer current."""
        if principal.role not in COMPANY_ROLES:
            return False
        version = await self.session.scalar(
            select(ConfidentialGrant.nda_version).where(
                ConfidentialGrant.listing_id == listing.id, ConfidentialGrant.company_id == principal.organization_id
            )
        )
        return version is not None and version < await self.current_nda_version()

    @staticmethod
    def may_edit(principal: Principal, listing: Listing) -> bool:
        if principal.role == Role.platform_admin:
            return True
        if listing.institution_id != principal.organization_id:
            return False
        if principal.role in TTO_ROLES:
            return True
        return (
            principal.role == Role.inventor and listing.created_by_user_id == principal.user_id and listing.status == Status.draft
        )

    @staticmethod
    def allowed_actions(principal: Principal, listing: Listing) -> list[str]:
        """The lifecycle actions the caller may take on the listing now (the buttons a page shows)."""
        return states.actions(LIFECYCLE, principal, listing)

    async def get(self, principal: Principal, listing_id: uuid.UUID, *, for_update: bool = False) -> Listing:
        stmt = _load(select(Listing).where(Listing.id == listing_id, self.visible(principal)))
        stmt = stmt.execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update(of=Listing)
        listing = await self.session.scalar(stmt)
        if listing is None:
            raise NotFound()
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
        page: int = 1,
        page_size: int = 20,
    ) -> tuple[list[Listing], int]:
        """The catalogue's own filtered list (full-text relevance is the search domain's job)."""
        conditions = [self.visible(principal)]
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
        stmt = _load(
            select(Listing)
            .where(*conditions)
            .order_by(Listing.published_at.desc().nulls_last(), Listing.updated_at.desc(), Listing.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return list((await self.session.scalars(stmt)).all()), total or 0

    async def areas(self) -> list[TherapeuticArea]:
        return list((await self.session.scalars(select(TherapeuticArea).order_by(TherapeuticArea.position))).all())

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
            self._check_complete(listing)
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
                errors += field_errors_to_rows(row.number, error.errors)
                continue
            listing = Listing(
                institution_id=principal.organization_id,
                kind=row.data.kind,
                type=row.data.type,
                status=Status.draft,
                created_by_user_id=principal.user_id,
            )
            self._apply(listing, row.data)
            if row.publish:
                errors += field_errors_to_rows(row.number, self.missing_to_publish(listing))
                listing.status, listing.published_at = Status.published, utcnow()
                listing.confirmed_at = listing.published_at
            listings.append(listing)
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

    async def pending_review(self, principal: Principal) -> list[Listing]:
        principal.require(*TTO_ROLES)
        stmt = _load(
            select(Listing)
            .where(Listing.institution_id == principal.organization_id, Listing.status == Status.pending_review)
            .order_by(Listing.updated_at)
        )
        return list((await self.session.scalars(stmt)).all())

    # ----- the NDA and confidential access ------------------------------------------------------

    @staticmethod
    def _current_nda_version():
        return select(func.max(NdaVersion.version)).scalar_subquery()

    async def current_nda(self) -> NdaVersion:
        """The NDA text companies accept now: the latest version (the migration seeds version 1)."""
        return (await self.session.scalars(select(NdaVersion).order_by(NdaVersion.version.desc()).limit(1))).one()

    async def current_nda_version(self) -> int:
        return (await self.session.execute(select(self._current_nda_version()))).scalar_one()

    async def nda_version(self, version: int) -> NdaVersion | None:
        return await self.session.get(NdaVersion, version)

    async def publish_nda(self, principal: Principal, text_zh: str, text_en: str) -> NdaVersion:
        """A new NDA version (platform admin). From now on every company must accept it before it
        sees confidential details again, since grants under older versions stop counting."""
        principal.require(Role.platform_admin)
        errors = [
            FieldError(name, N_("Required.")) for name, value in (("text_zh", text_zh), ("text_en", text_en)) if not value.strip()
        ]
        if errors:
            raise InvalidInput(*errors)
        # Serialize publishers so two cannot take the same number.
        await self.session.execute(select(NdaVersion.version).order_by(NdaVersion.version).limit(1).with_for_update())
        nda = NdaVersion(version=await self.current_nda_version() + 1, text_zh=text_zh.strip(), text_en=text_en.strip())
        self.session.add(nda)
        await self.session.flush()
        await audit.record(
            self.session,
            "nda_published",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject_type="nda_versions",
            subject_id=str(nda.version),
            version=nda.version,
        )
        await self.session.refresh(nda)
        return nda

    async def grant_confidential_access(
        self,
        listing_id: uuid.UUID,
        company_id: uuid.UUID,
        nda_version: int,
        *,
        actor_user_id: uuid.UUID | None = None,
        now: datetime | None = None,
    ) -> None:
        """Let a company read the listing's confidential details under `nda_version`. Called by the
        matching domain once a request is accepted (or its NDA accepted again); idempotent."""
        grant = await self.session.get(ConfidentialGrant, (listing_id, company_id), with_for_update=True)
        if grant is not None and grant.nda_version == nda_version:
            return
        if grant is None:
            grant = ConfidentialGrant(listing_id=listing_id, company_id=company_id)
            self.session.add(grant)
        grant.nda_version = nda_version
        grant.granted_at = now or utcnow()
        institution_id = await self.session.scalar(select(Listing.institution_id).where(Listing.id == listing_id))
        await self.session.flush()
        await audit.record(
            self.session,
            "confidential_access_granted",
            actor_user_id=actor_user_id,
            organization_id=institution_id,
            subject_type="listings",
            subject_id=listing_id,
            company_id=company_id,
            nda_version=nda_version,
        )

    async def revoke_confidential_access(
        self, listing_id: uuid.UUID, company_id: uuid.UUID, *, actor_user_id: uuid.UUID | None = None
    ) -> None:
        grant = await self.session.get(ConfidentialGrant, (listing_id, company_id), with_for_update=True)
        if grant is None:
            return
        institution_id = await self.session.scalar(select(Listing.institution_id).where(Listing.id == listing_id))
        await self.session.delete(grant)
        await self.session.flush()
        await audit.record(
            self.session,
            "confidential_access_revoked",
            actor_user_id=actor_user_id,
            organization_id=institution_id,
            subject_type="listings",
            subject_id=listing_id,
            company_id=company_id,
        )

    # ----- for other domains ------------------------------------------------------------------

    async def listing_refs(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Listing]:
        """Listings by id whatever their status, for records the caller may already see that point
        at them (a match request keeps showing its listing's title after a withdrawal)."""
        if not ids:
            return {}
        return {item.id: item for item in await self.session.scalars(select(Listing).where(Listing.id.in_(ids)))}

    @staticmethod
    def listings_naming(user_id: uuid.UUID) -> Select:
        """The ids of the listings that name the user as an inventor (as a subquery)."""
        return select(Inventor.listing_id).where(Inventor.user_id == user_id)

    # ----- validation -------------------------------------------------------------------------

    async def _validate(
        self, data: ListingFields, *, kind: str, type: str, institution_id: uuid.UUID, creating: bool = False
    ) -> None:
        errors: list[FieldError] = []
        types = ResultType if kind == ListingKind.result else ResourceType
        if type not in set(types):
            errors.append(FieldError("type", N_("Not one of the allowed values.")))
        if creating:
            for name in ("title_zh", "summary_zh"):
                if not getattr(data, name):
                    errors.append(FieldError(name, N_("Required.")))
        misplaced = RESOURCE_ONLY if kind == ListingKind.result else RESULT_ONLY
        for name in misplaced:
            if getattr(data, name) not in (None, [], {}):
                errors.append(
                    FieldError(name, N_("Not used for results.") if kind == ListingKind.result else N_("Not used for resources."))
                )
        if data.therapeutic_areas:
            if self._area_codes is None:
                self._area_codes = set((await self.session.scalars(select(TherapeuticArea.code))).all())
            for i, code in enumerate(data.therapeutic_areas):
                if code not in self._area_codes:
                    errors.append(FieldError(f"therapeutic_areas[{i}]", N_("Unknown therapeutic area.")))
        for i, asset in enumerate(data.ip_assets or []):
            if not valid_ip_number(asset.number, asset.kind, asset.jurisdiction):
                errors.append(
                    FieldError(
                        f"ip_assets[{i}].number", N_("Not a valid %(jurisdiction)s number."), {"jurisdiction": asset.jurisdiction}
                    )
                )
            if asset.filing_date and asset.expiry_date and asset.expiry_date <= asset.filing_date:
                errors.append(FieldError(f"ip_assets[{i}].expiry_date", N_("Must be after the filing date.")))
        if data.inventors:
            total = sum(inv.share_bp for inv in data.inventors)
            if total != TOTAL_SHARES_BP:
                errors.append(
                    FieldError(
                        "inventors", N_("Inventor shares must sum to 10,000 basis points (now %(total)d)."), {"total": total}
                    )
                )
            members = {inv.user_id for inv in data.inventors if inv.user_id}
            if members:
                from marketplace.accounts.services import AccountService

                known_members = await AccountService(self.session).member_ids(institution_id, members)
                for i, inv in enumerate(data.inventors):
                    if inv.user_id and inv.user_id not in known_members:
                        errors.append(FieldError(f"inventors[{i}].user_id", N_("Not a member of this institution.")))
        if data.licence_options:
            options = [offer.option for offer in data.licence_options]
            if len(set(options)) != len(options):
                errors.append(FieldError("licence_options", N_("Each licence option may appear once.")))
        if data.details is not None and kind == ListingKind.resource and type in RESOURCE_DETAILS:
            errors += forms.field_errors(data.details, RESOURCE_DETAILS[type], prefix="details")
        if errors:
            raise InvalidInput(*errors)

    def _apply(self, listing: Listing, data: ListingFields) -> None:
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

    def missing_to_publish(self, listing: Listing) -> list[FieldError]:
        """What a listing lacks before it may be published — companies reject vague listings."""
        required: list[tuple[str, object]] = [
            ("title_zh", listing.title_zh),
            ("summary_zh", listing.summary_zh),
            ("therapeutic_areas", listing.areas),
            ("contact", listing.contact_email or listing.contact_phone),
        ]
        if listing.kind == ListingKind.result:
            required += [
                ("advantages", (listing.advantages or "").strip()),
                ("stage", listing.stage),
                ("trl", listing.trl),
                ("ownership_model", listing.ownership_model),
                ("licence_options", listing.licence_options),
                ("inventors", listing.inventors),
            ]
        else:
            required += [
                ("details", listing.details),
                ("engagement_modes", listing.engagement_modes),
                ("pricing_model", listing.pricing_model),
                ("availability", listing.availability),
            ]
        return [FieldError(name, N_("Required to publish.")) for name, value in required if not value]

    def _check_complete(self, listing: Listing) -> None:
        missing = self.missing_to_publish(listing)
        if missing:
            raise DomainError(N_("The listing is not complete enough to publish."), *missing, status_code=422)

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
            self._check_complete(listing)
        self.session.add(listing)
        if flush:
            await self.session.flush()
        return listing


# ----- the lifecycle ------------------------------------------------------------------------------


def _listing_sides(principal: Principal, listing: Listing, _context: object) -> set[str]:
    """The owning institution's people, among them the listing's author; the platform's."""
    sides = {"platform"} if principal.is_platform else set()
    if listing.institution_id == principal.organization_id:
        sides.add("institution")
        if listing.created_by_user_id == principal.user_id:
            sides.add("author")
    return sides


async def _check_complete(step: states.Step) -> None:
    CatalogService(step.session)._check_complete(step.record)


async def _enter(step: states.Step) -> None:
    listing = step.record
    listing.status = step.target
    if step.target == Status.published:
        listing.published_at = listing.published_at or step.now
        listing.confirmed_at = step.now
        listing.is_stale = False


BY_TTO = (states.Party("institution", TTO_ROLES), states.Party("platform", frozenset({Role.platform_admin})))
# An inventor submits only what they wrote.
BY_AUTHOR = (*BY_TTO, states.Party("author", frozenset({Role.inventor})))
# The lifecycle. `confirm` keeps a published listing published and marks it current. Listings may
# be inserted in any status (the demo data, imports of past listings and the benchmark seed them
# so); the database guards every later move (migration 0010).
LIFECYCLE = states.Machine(
    name="listing",
    table="listings",
    column="status",
    states=tuple(Status),
    initial=frozenset(Status),
    actions={
        action.name: action
        for action in (
            states.Action("submit", frozenset({Status.draft}), Status.pending_review, BY_AUTHOR),
            states.Action("return", frozenset({Status.pending_review}), Status.draft, BY_TTO),
            states.Action(
                "publish",
                frozenset({Status.draft, Status.pending_review}),
                Status.published,
                BY_TTO,
                guard=_check_complete,
            ),
            states.Action("withdraw", frozenset({Status.published}), Status.withdrawn, BY_TTO),
            states.Action("republish", frozenset({Status.withdrawn}), Status.published, BY_TTO, guard=_check_complete),
            states.Action(
                "archive",
                frozenset({Status.draft, Status.pending_review, Status.published, Status.withdrawn}),
                Status.archived,
                BY_TTO,
            ),
            states.Action("restore", frozenset({Status.archived}), Status.draft, BY_TTO),
            states.Action("confirm", frozenset({Status.published}), Status.published, BY_TTO),
        )
    },
    sides=_listing_sides,
    refusal=N_("A listing that is %(state)s cannot be %(action)s."),
    refusal_field=N_("Not allowed from the listing's current status."),
    enter=_enter,
    organization=lambda step: step.record.institution_id,
)


async def mark_stale(session: AsyncSession, now: datetime | None = None) -> int:
    """Flag published listings not confirmed for 180 days (a timed job); returns how many changed."""
    cutoff = (now or utcnow()) - STALE_AFTER
    result = await session.execute(
        update(Listing)
        .where(Listing.status == Status.published, Listing.is_stale.is_(false()), Listing.confirmed_at < cutoff)
        .values(is_stale=True)
        .returning(Listing.id, Listing.institution_id)
    )
    rows = result.all()
    for listing_id, institution_id in rows:
        await audit.record(
            session, "listing_marked_stale", organization_id=institution_id, subject_type="listings", subject_id=listing_id
        )
    return len(rows)


# ----- for search ---------------------------------------------------------------------------------


async def public_listings(
    session: AsyncSession, ids: list[uuid.UUID] | None = None, *, after: uuid.UUID | None = None, limit: int | None = None
) -> list[Listing]:
    """What search may show, by id order: the listings the public sees (published), with their
    areas loaded, freshly read. Those of `ids`, or with `after`/`limit` every one a page at a time."""
    stmt = (
        select(Listing)
        .where(CatalogService(session).visible(Principal()))  # nobody signed in: the public's view
        .options(selectinload(Listing.areas))
        .order_by(Listing.id)
        .limit(limit)
        .execution_options(populate_existing=True)  # a document is built from the row as it is now
    )
    if ids is not None:
        stmt = stmt.where(Listing.id.in_(ids))
    if after is not None:
        stmt = stmt.where(Listing.id > after)
    return list((await session.scalars(stmt)).all())


# Controllers (API and pages alike) ask for the service on the request's session by this name.
Catalog = NamedDependency[CatalogService]


async def provide_catalog(db_session: DbSession) -> CatalogService:
    return CatalogService(db_session)
