"""Open licences (开放许可, Patent Law arts. 50–52): the TTO declares on a published result of its
institution the fee standard, payment method and term on which anyone may take an ordinary licence;
a company's administrator takes it with one action and at once holds a signed non-exclusive
agreement (kind open_licence) in force. A withdrawal stops new takers only: agreements already taken
stand. The catalogue keeps a summary of the active declaration on the listing (shown there, indexed
for search's facet), set through its own service."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime

from sqlalchemy import and_, false, func, or_, select, true

from marketplace import states
from marketplace.accounts.models import TTO_ROLES, Role
from marketplace.audit import services as audit
from marketplace.catalog.models import Listing, ListingKind, Status
from marketplace.db import add_unless_taken, china_day, utcnow
from marketplace.errors import Conflict, Duplicate, FieldError, Forbidden, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.licensing.agreements import Agreements
from marketplace.licensing.exclusivity import ALL_FIELDS, approval_refusal
from marketplace.licensing.lifecycle import LIFECYCLE
from marketplace.licensing.models import (
    CNY,
    EXCLUSIVE_KINDS,
    LIVE_STATES,
    Agreement,
    AgreementResult,
    Kind,
    Obligation,
    ObligationKind,
    ObligationState,
    OpenLicence,
    OpenLicenceState,
    PaymentMode,
    State,
)
from marketplace.licensing.open_licence_schemas import OpenLicenceIn, OpenLicenceOut
from marketplace.licensing.terms import add_months
from marketplace.tenancy import Principal

ACTIVE_CONSTRAINT = "uq_licensing_open_licences_active_listing"
# An open licence is not limited to a field of use: the declaration names fee, payment and term.
OPEN_FIELD_OF_USE = "全部领域"
assert OPEN_FIELD_OF_USE in ALL_FIELDS
TAKERS = frozenset({Role.company_admin})  # the company's administrator binds the company


def summary(declaration: OpenLicence) -> dict:
    """What the catalogue keeps on the listing (JSON): the declaration's id and terms."""
    return {
        "id": str(declaration.id),
        "fee_standard": declaration.fee_standard,
        "upfront_fen": declaration.upfront_fen,
        "royalty_bp": declaration.royalty_bp,
        "payment_mode": declaration.payment_mode,
        "term_months": declaration.term_months,
        "territory": declaration.territory,
    }


class OpenLicences(Agreements):
    """Mixed into LicensingService (services.py); an agreement's document and taking effect are
    Agreements'."""

    # ----- who sees --------------------------------------------------------------------------

    @staticmethod
    def open_licences_visible(principal: Principal):
        """Active declarations are public (anyone, even not signed in); withdrawn ones are the
        institution's and the platform's."""
        if principal.is_platform:
            return true()
        mine = OpenLicence.institution_id == principal.organization_id if principal.organization_id else false()
        return or_(OpenLicence.state == OpenLicenceState.active, mine)

    @staticmethod
    def may_declare(principal: Principal, listing: Listing) -> bool:
        return principal.role in TTO_ROLES and principal.organization_id == listing.institution_id

    @staticmethod
    def may_withdraw(principal: Principal, declaration: OpenLicence) -> bool:
        return (
            declaration.state == OpenLicenceState.active
            and principal.role in TTO_ROLES
            and principal.organization_id == declaration.institution_id
        )

    @staticmethod
    def may_take(principal: Principal, declaration: OpenLicence) -> bool:
        return declaration.state == OpenLicenceState.active and principal.role in TAKERS

    # ----- reading ---------------------------------------------------------------------------

    async def get_open_licence(self, principal: Principal, open_licence_id: uuid.UUID) -> OpenLicence:
        declaration = await self.session.scalar(
            select(OpenLicence).where(OpenLicence.id == open_licence_id, self.open_licences_visible(principal))
        )
        if declaration is None:
            raise NotFound()
        return declaration

    async def list_open_licences(
        self,
        principal: Principal,
        *,
        state: str = OpenLicenceState.active,
        listing_id: uuid.UUID | None = None,
        institution_id: uuid.UUID | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[builtins.list[OpenLicence], int]:
        """Declarations the caller may read, newest first."""
        condition = and_(self.open_licences_visible(principal), OpenLicence.state == state)
        if listing_id is not None:
            condition = and_(condition, OpenLicence.listing_id == listing_id)
        if institution_id is not None:
            condition = and_(condition, OpenLicence.institution_id == institution_id)
        stmt = (
            select(OpenLicence)
            .where(condition)
            .order_by(OpenLicence.created_at.desc(), OpenLicence.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(OpenLicence).where(condition))
        return list((await self.session.scalars(stmt)).all()), total or 0

    async def takers_count(self, open_licence_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not open_licence_ids:
            return {}
        rows = await self.session.execute(
            select(Agreement.open_licence_id, func.count())
            .where(Agreement.open_licence_id.in_(open_licence_ids))
            .group_by(Agreement.open_licence_id)
        )
        counts = dict.fromkeys(open_licence_ids, 0)
        counts.update({key: count for key, count in rows if key is not None})
        return counts

    async def listing_to_declare(self, principal: Principal, listing_id: uuid.UUID) -> Listing:
        """The result the TTO's form declares on: its institution's (404 for anyone else's)."""
        principal.require(*TTO_ROLES)
        assert principal.organization_id is not None, "a TTO acts for its institution"
        return await self.catalog.institution_result(principal.organization_id, listing_id)

    # ----- declaring and withdrawing ---------------------------------------------------------

    async def declare(self, principal: Principal, data: OpenLicenceIn, *, ip: str | None = None) -> OpenLicence:
        principal.require(*TTO_ROLES)
        assert principal.organization_id is not None, "a TTO acts for its institution"
        try:
            listing = await self.catalog.institution_result(principal.organization_id, data.listing_id)
        except NotFound:
            raise invalid("listing_id", N_("No result of your institution has this id.")) from None
        errors: builtins.list[FieldError] = []
        if listing.kind != ListingKind.result or listing.status != Status.published:
            errors.append(FieldError("listing_id", N_("Only a published result can be licensed.")))
        if not data.fee_standard.strip():
            errors.append(FieldError("fee_standard", N_("Required.")))
        if not data.territory.strip():
            errors.append(FieldError("territory", N_("Required.")))
        if data.payment_mode == PaymentMode.revenue_share and data.royalty_bp is None:
            errors.append(FieldError("royalty_bp", N_("A revenue share needs its rate.")))
        if errors:
            raise InvalidInput(*errors)
        if await self._exclusive_over(listing.id):
            raise Conflict(
                N_("The open licence cannot be declared."),
                FieldError("listing_id", N_("An exclusive licence covers this result: an open licence would contradict it.")),
            )
        declaration = OpenLicence(
            id=uuid.uuid4(),
            listing_id=listing.id,
            institution_id=principal.organization_id,
            state=OpenLicenceState.active,
            fee_standard=data.fee_standard.strip(),
            upfront_fen=data.upfront_fen,
            royalty_bp=data.royalty_bp,
            payment_mode=data.payment_mode,
            term_months=data.term_months,
            territory=data.territory.strip(),
            declared_by_user_id=principal.user_id,
        )
        if not await add_unless_taken(self.session, declaration, ACTIVE_CONSTRAINT):
            existing = await self.session.scalar(
                select(OpenLicence.id).where(OpenLicence.listing_id == listing.id, OpenLicence.state == OpenLicenceState.active)
            )
            raise Duplicate(
                N_("This result has an open licence already."),
                FieldError("listing_id", N_("Withdraw the current declaration first.")),
                existing=existing,
            )
        await self.catalog.set_open_licence(listing.id, summary(declaration))
        await audit.record(
            self.session,
            "open_licence_declared",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=declaration,
            ip=ip,
            listing_id=str(listing.id),
            upfront_fen=declaration.upfront_fen,
            royalty_bp=declaration.royalty_bp,
        )
        return declaration

    async def withdraw_open_licence(
        self, principal: Principal, open_licence_id: uuid.UUID, *, ip: str | None = None
    ) -> OpenLicence:
        """For new takers only: the agreements already taken keep running."""
        principal.require()
        declaration = await self._locked(principal, open_licence_id)
        if not (principal.role in TTO_ROLES and principal.organization_id == declaration.institution_id):
            raise Forbidden()
        if declaration.state != OpenLicenceState.active:
            raise Conflict(N_("This open licence has been withdrawn."), FieldError("state", N_("Withdrawn already.")))
        declaration.state = OpenLicenceState.withdrawn
        declaration.withdrawn_at, declaration.withdrawn_by_user_id = utcnow(), principal.user_id
        await self.session.flush()
        await self.catalog.set_open_licence(declaration.listing_id, None)
        await audit.record(
            self.session,
            "open_licence_withdrawn",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=declaration,
            ip=ip,
            before=OpenLicenceState.active,
            after=OpenLicenceState.withdrawn,
        )
        return declaration

    async def _locked(self, principal: Principal, open_licence_id: uuid.UUID) -> OpenLicence:
        stmt = select(OpenLicence).where(OpenLicence.id == open_licence_id, self.open_licences_visible(principal))
        declaration = await self.session.scalar(stmt.with_for_update().execution_options(populate_existing=True))
        if declaration is None:
            raise NotFound()
        return declaration

    async def _exclusive_over(self, listing_id: uuid.UUID) -> bool:
        """Whether a live exclusive licence (assignment, exclusive, equity) covers the result."""
        found = await self.session.scalar(
            select(Agreement.id)
            .join(AgreementResult, AgreementResult.agreement_id == Agreement.id)
            .where(
                AgreementResult.listing_id == listing_id,
                Agreement.kind.in_([str(kind) for kind in EXCLUSIVE_KINDS]),
                Agreement.state.in_([str(state) for state in LIVE_STATES]),
            )
            .limit(1)
        )
        return found is not None

    # ----- taking ----------------------------------------------------------------------------

    async def take_open_licence(
        self, principal: Principal, open_licence_id: uuid.UUID, *, now: datetime | None = None, ip: str | None = None
    ) -> Agreement:
        """One action: a signed ordinary licence on the declared terms, in force today, its upfront
        fee due. The declaration's row lock makes a company's second take wait for the first and
        then refuse (once while its agreement is live)."""
        principal.require()
        # Not scoped: a withdrawn declaration answers why it cannot be taken (the page was open).
        declaration = await self.session.scalar(
            select(OpenLicence)
            .where(OpenLicence.id == open_licence_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if declaration is None:
            raise NotFound()
        if principal.role not in TAKERS:
            raise Forbidden()
        assert principal.organization_id is not None, "a company's administrator acts for it"
        if declaration.state != OpenLicenceState.active:
            raise Conflict(
                N_("This open licence has been withdrawn."),
                FieldError("open_licence_id", N_("It is no longer offered to new takers.")),
            )
        existing = await self.session.scalar(
            select(Agreement.id).where(
                Agreement.open_licence_id == declaration.id,
                Agreement.company_id == principal.organization_id,
                Agreement.state.in_([str(state) for state in LIVE_STATES]),
            )
        )
        if existing is not None:
            raise Duplicate(
                N_("Your company holds this open licence already."),
                FieldError("open_licence_id", N_("Open the existing agreement.")),
                existing=existing,
            )
        listing = (await self.catalog.listing_refs({declaration.listing_id}))[declaration.listing_id]
        if listing.status != Status.published:
            raise Conflict(
                N_("This open licence has been withdrawn."),
                FieldError("open_licence_id", N_("The result is no longer published.")),
            )
        now = now or utcnow()
        agreement = self._open_agreement(declaration, listing, principal, now)
        self.session.add(agreement)
        await self.session.flush()
        self.session.add(AgreementResult(agreement_id=agreement.id, listing_id=listing.id, position=0))
        if declaration.upfront_fen:
            self.session.add(
                Obligation(
                    id=uuid.uuid4(),
                    agreement_id=agreement.id,
                    sequence=1,
                    kind=ObligationKind.upfront,
                    state=ObligationState.pending,
                    amount_fen=declaration.upfront_fen,
                    due_on=agreement.starts_on,
                )
            )
        await self.session.flush()
        refusal = await approval_refusal(self.session, self.catalog, agreement)
        if refusal is not None:
            raise refusal
        await audit.record(
            self.session,
            "agreement_created",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=agreement,
            ip=ip,
            after=agreement.state,
            kind=agreement.kind,
            open_licence_id=str(declaration.id),
        )
        await self._sign_open_agreement(agreement, declaration, principal, now, ip)
        await self.take_effect(agreement, now)
        return agreement

    @staticmethod
    def _open_agreement(declaration: OpenLicence, listing: Listing, principal: Principal, now: datetime) -> Agreement:
        assert principal.organization_id is not None
        starts_on = china_day(now)
        modes = [declaration.payment_mode]
        return Agreement(
            id=uuid.uuid4(),
            institution_id=declaration.institution_id,
            company_id=principal.organization_id,
            open_licence_id=declaration.id,
            kind=Kind.open_licence,
            state=State.draft,
            title=listing.title_zh[:200],
            territory=declaration.territory,
            field_of_use=OPEN_FIELD_OF_USE,
            starts_on=starts_on,
            term_months=declaration.term_months,
            ends_on=add_months(starts_on, declaration.term_months),
            upfront_fen=declaration.upfront_fen,
            royalty_bp=declaration.royalty_bp,
            payment_modes=modes,
            payment_mode=declaration.payment_mode,
            notes=declaration.fee_standard,  # the declared fee standard, in words, as the document shows
            created_by_user_id=principal.user_id,
            state_changed_at=now,
        )

    async def _sign_open_agreement(
        self, agreement: Agreement, declaration: OpenLicence, principal: Principal, now: datetime, ip: str | None
    ) -> None:
        """Draft → approved (the declaration is the institution's approval; the document is
        generated) → signed (the declaration is the institution's signature, the taker's notice
        the company's), each a system step of the agreement's machine."""
        details = {"open_licence_id": str(declaration.id)}
        await states.apply(
            self.session,
            LIFECYCLE,
            principal,
            agreement,
            "approve_by_declaration",
            as_system=True,
            now=now,
            ip=ip,
            details=details,
        )
        agreement.approved_by_user_id = declaration.declared_by_user_id
        document = await self.write_document(agreement, principal)
        agreement.document_sha256 = document.sha256
        agreement.institution_signed_at, agreement.institution_signed_by_user_id = now, declaration.declared_by_user_id
        agreement.company_signed_at, agreement.company_signed_by_user_id = now, principal.user_id
        await states.apply(
            self.session,
            LIFECYCLE,
            principal,
            agreement,
            "sign_by_notice",
            as_system=True,
            now=now,
            ip=ip,
            details={**details, "document_sha256": document.sha256},
        )

    async def open_licences_out(self, declarations: list[OpenLicence]) -> list[OpenLicenceOut]:
        """Declarations as the API and the pages show them: with their result's title, institution's name and takers."""
        listings = await self.catalog.listing_refs({item.listing_id for item in declarations})
        owners = await self.accounts.public_organizations({item.institution_id for item in declarations})
        taken = await self.takers_count({item.id for item in declarations})
        return [
            OpenLicenceOut(
                id=item.id,
                state=OpenLicenceState(item.state),
                listing_id=item.listing_id,
                listing_title=listings[item.listing_id].title_zh,
                institution_id=item.institution_id,
                institution_name=owners[item.institution_id].name_zh,
                fee_standard=item.fee_standard,
                currency=CNY,
                upfront_fen=item.upfront_fen,
                royalty_bp=item.royalty_bp,
                payment_mode=PaymentMode(item.payment_mode),
                term_months=item.term_months,
                territory=item.territory,
                created_at=item.created_at,
                withdrawn_at=item.withdrawn_at,
                taken=taken[item.id],
            )
            for item in declarations
        ]
