"""Agreements: drafting (from an agreed match request, or a deal made elsewhere), reading within
the caller's scope, and every step of the lifecycle (lifecycle.py) with the checks that need the
database: exclusivity and ownership at approval (exclusivity.py), the document at approval and
signing (documents.py), the schedule on conversion (schedule.py)."""

from __future__ import annotations

import builtins
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.accounts.models import TTO_ROLES, Role
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.catalog.models import ListingKind, Status
from marketplace.catalog.services import CatalogService
from marketplace.db import add_unless_taken, china_day, utcnow
from marketplace.errors import Conflict, Duplicate, FieldError, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.licensing import schedule
from marketplace.licensing.documents import Documents
from marketplace.licensing.exclusivity import approval_refusal
from marketplace.licensing.lifecycle import LIFECYCLE, NOT_NOW, OBLIGATION, Hooks, effect_action
from marketplace.licensing.models import (
    OPEN_OBLIGATIONS,
    Agreement,
    AgreementResult,
    Kind,
    Obligation,
    ObligationKind,
    ObligationState,
    PaymentMode,
    State,
)
from marketplace.licensing.schemas import AgreementCreate, AgreementTerms, TransitionIn
from marketplace.licensing.terms import add_months, term_errors
from marketplace.matching.requests.models import State as MatchState
from marketplace.matching.requests.services import MatchingService
from marketplace.tenancy import Principal

MATCH_CONSTRAINT = "uq_licensing_agreements_match_request"
# The company's administrator binds the company; its members do not see licences (DESIGN.md).
LICENSEE_ROLES = frozenset({Role.company_admin})


# An agreement "has something due" when an unpaid item falls due within this many days (or is late).
DUE_WITHIN = timedelta(days=30)


def _something_due(today: date):
    return exists().where(
        Obligation.agreement_id == Agreement.id,
        Obligation.state == ObligationState.due,
        Obligation.due_on <= today + DUE_WITHIN,
    )


class Agreements(Documents):
    """Mixed into LicensingService (services.py)."""

    session: AsyncSession
    catalog: CatalogService
    accounts: AccountService
    matching: MatchingService

    # ----- who sees and acts ------------------------------------------------------------------

    @staticmethod
    def visible(principal: Principal):
        """Platform roles see every agreement; the TTO its institution's; a company's administrator
        its company's."""
        principal.require()
        if principal.is_platform:
            return true()
        if principal.role in TTO_ROLES:
            return Agreement.institution_id == principal.organization_id
        if principal.role in LICENSEE_ROLES:
            return Agreement.company_id == principal.organization_id
        return false()

    @staticmethod
    def require_drafter(principal: Principal) -> Principal:
        """The TTO drafts (the form pages ask before they read a form)."""
        return principal.require(*TTO_ROLES)

    @staticmethod
    def reads_licences(principal: Principal) -> bool:
        return principal.is_platform or principal.role in TTO_ROLES | LICENSEE_ROLES

    def allowed_actions(self, principal: Principal, agreement: Agreement) -> builtins.list[str]:
        return states.actions(LIFECYCLE, principal, agreement)

    # ----- reading ----------------------------------------------------------------------------

    async def get(self, principal: Principal, agreement_id: uuid.UUID, *, for_update: bool = False) -> Agreement:
        stmt = select(Agreement).where(Agreement.id == agreement_id, self.visible(principal))
        stmt = stmt.execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        agreement = await self.session.scalar(stmt)
        if agreement is None:
            raise NotFound()
        return agreement

    async def list(
        self,
        principal: Principal,
        *,
        state: str | None = None,
        kind: str | None = None,
        due: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[builtins.list[Agreement], int]:
        """The caller's agreements, those with the nearest open due day first; `due`: those with
        an unpaid item late or falling due within DUE_WITHIN."""
        condition = and_(self.visible(principal))
        if state:
            condition = and_(condition, Agreement.state == state)
        if kind:
            condition = and_(condition, Agreement.kind == kind)
        if due:
            condition = and_(condition, _something_due(china_day(utcnow())))
        next_due = (
            select(func.min(Obligation.due_on))
            .where(Obligation.agreement_id == Agreement.id, Obligation.state == ObligationState.due)
            .correlate(Agreement)
            .scalar_subquery()
        )
        soonest = func.coalesce(next_due, Agreement.use_ends_on)
        stmt = (
            select(Agreement)
            .where(condition)
            .order_by(soonest.asc().nulls_last(), Agreement.created_at.desc(), Agreement.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self.session.scalar(select(func.count()).select_from(Agreement).where(condition))
        return list((await self.session.scalars(stmt)).all()), total or 0

    async def state_counts(self, principal: Principal) -> dict[str, int]:
        """How many of the caller's agreements are in each state (states with none left out)."""
        rows = await self.session.execute(
            select(Agreement.state, func.count()).where(self.visible(principal)).group_by(Agreement.state)
        )
        return {state: int(n) for state, n in rows}

    async def count_due(self, principal: Principal, today: date | None = None) -> int:
        """The caller's agreements with an unpaid item late or falling due within DUE_WITHIN."""
        stmt = (
            select(func.count())
            .select_from(Agreement)
            .where(self.visible(principal), _something_due(today or china_day(utcnow())))
        )
        return int(await self.session.scalar(stmt) or 0)

    async def titles_of(self, principal: Principal, agreement_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The titles of those of these agreements the caller may see, to name them."""
        if not agreement_ids:
            return {}
        stmt = select(Agreement.id, Agreement.title).where(Agreement.id.in_(agreement_ids), self.visible(principal))
        return {row.id: row.title for row in await self.session.execute(stmt)}

    async def results_of(self, agreement_ids: set[uuid.UUID]) -> dict[uuid.UUID, builtins.list[uuid.UUID]]:
        if not agreement_ids:
            return {}
        rows = await self.session.execute(
            select(AgreementResult.agreement_id, AgreementResult.listing_id)
            .where(AgreementResult.agreement_id.in_(agreement_ids))
            .order_by(AgreementResult.position)
        )
        found: dict[uuid.UUID, builtins.list[uuid.UUID]] = {agreement_id: [] for agreement_id in agreement_ids}
        for agreement_id, listing_id in rows:
            found[agreement_id].append(listing_id)
        return found

    async def obligations_of(
        self, agreement_ids: set[uuid.UUID], *, for_update: bool = False
    ) -> dict[uuid.UUID, builtins.list[Obligation]]:
        if not agreement_ids:
            return {}
        stmt = select(Obligation).where(Obligation.agreement_id.in_(agreement_ids)).order_by(Obligation.sequence)
        if for_update:
            stmt = stmt.with_for_update()
        found: dict[uuid.UUID, builtins.list[Obligation]] = {agreement_id: [] for agreement_id in agreement_ids}
        for obligation in await self.session.scalars(stmt.execution_options(populate_existing=True)):
            found[obligation.agreement_id].append(obligation)
        return found

    async def history(self, agreement: Agreement) -> builtins.list:
        """The agreement's audit trail, oldest first (only for callers who may see it)."""
        return list(reversed(await audit.events(self.session, subject_id=agreement.id, limit=200)))

    # ----- drafting ---------------------------------------------------------------------------

    async def create(
        self, principal: Principal, data: AgreementCreate, *, now: datetime | None = None, ip: str | None = None
    ) -> Agreement:
        """A TTO drafts an agreement for its institution: from an agreed match request (its
        company and result), or for a deal made elsewhere (a company and the institution's results)."""
        self.require_drafter(principal)
        assert principal.organization_id is not None, "a TTO acts for its institution"
        errors = term_errors(data.kind, data)
        if data.kind == Kind.open_licence:
            errors.append(FieldError("kind", N_("An open licence is taken by the company from the declaration.")))
        company_id, result_ids = data.company_id, list(dict.fromkeys(data.result_ids))
        if data.match_request_id is not None:
            match = await self._agreed_match(principal, data.match_request_id)
            company_id = match.company_id
            result_ids = result_ids or [match.listing_id]
            if match.listing_id not in result_ids:
                errors.append(FieldError("result_ids", N_("Must include the result the match request is about.")))
        elif company_id is None:
            errors.append(FieldError("company_id", N_("Required for a deal made outside the platform.")))
        if company_id is not None and not await self._is_company(company_id):
            errors.append(FieldError("company_id", N_("No company has this id.")))
        if not result_ids:
            errors.append(FieldError("result_ids", N_("Name at least one result.")))
        listings = await self._own_results(principal.organization_id, result_ids, errors)
        if errors:
            raise InvalidInput(*errors)
        assert company_id is not None
        agreement = Agreement(
            id=uuid.uuid4(),
            institution_id=principal.organization_id,
            company_id=company_id,
            match_request_id=data.match_request_id,
            kind=data.kind,
            state=State.draft,
            created_by_user_id=principal.user_id,
            state_changed_at=now or utcnow(),
        )
        if now is not None:  # the demo's history: drafted on its day
            agreement.created_at = now
        self._set_terms(agreement, data, default_title=listings[0].title_zh)
        if not await add_unless_taken(self.session, agreement, MATCH_CONSTRAINT):
            existing = await self.session.scalar(
                select(Agreement.id).where(
                    Agreement.match_request_id == data.match_request_id, Agreement.state != State.cancelled
                )
            )
            raise Duplicate(
                N_("This match request already has an agreement."),
                FieldError("match_request_id", N_("Open the existing agreement.")),
                existing=existing,
            )
        self.session.add_all(
            AgreementResult(agreement_id=agreement.id, listing_id=listing.id, position=position)
            for position, listing in enumerate(listings)
        )
        self.session.add_all(schedule.from_terms(agreement.id, data))
        await self.session.flush()
        event = await audit.record(
            self.session,
            "agreement_created",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=agreement,
            ip=ip,
            after=agreement.state,
            kind=agreement.kind,
            match_request_id=str(data.match_request_id) if data.match_request_id else None,
        )
        if now is not None:
            event.occurred_at = now
        return agreement

    async def update(
        self, principal: Principal, agreement_id: uuid.UUID, data: AgreementTerms, *, ip: str | None = None
    ) -> Agreement:
        """A draft's terms change (and with them its schedule); an approved one must return to draft first."""
        self.require_drafter(principal)
        agreement = await self.get(principal, agreement_id, for_update=True)
        if LIFECYCLE.sides_of(principal, agreement) != {"institution"}:
            raise NotFound()
        if agreement.state != State.draft:
            raise Conflict(
                N_("Only a draft's terms can change."), FieldError("state", N_("Return the agreement to draft first."))
            )
        errors = term_errors(Kind(agreement.kind), data)
        if errors:
            raise InvalidInput(*errors)
        results = await self.results_of({agreement.id})
        titles = await self.catalog.listing_refs(set(results[agreement.id]))
        first = titles.get(results[agreement.id][0]) if results[agreement.id] else None
        self._set_terms(agreement, data, default_title=first.title_zh if first else agreement.title)
        for obligation in (await self.obligations_of({agreement.id}))[agreement.id]:
            await self.session.delete(obligation)
        await self.session.flush()
        self.session.add_all(schedule.from_terms(agreement.id, data))
        await self.session.flush()
        await audit.record(
            self.session,
            "agreement_updated",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=agreement,
            ip=ip,
        )
        return agreement

    @staticmethod
    def _set_terms(agreement: Agreement, terms: AgreementTerms, *, default_title: str) -> None:
        agreement.title = terms.title.strip() or default_title[:200]
        agreement.territory = terms.territory.strip()
        agreement.field_of_use = terms.field_of_use.strip()
        agreement.starts_on = terms.starts_on
        agreement.term_months = terms.term_months
        agreement.ends_on = add_months(terms.starts_on, terms.term_months)
        for name in (
            "upfront_fen",
            "licence_fee_fen",
            "royalty_bp",
            "annual_minimum_fen",
            "equity_bp",
            "use_period_months",
            "max_instalments",
            "deferral_months",
            "grace_days",
            "report_due_days",
            "insurance_ref",
            "guarantor",
            "language",
        ):
            setattr(agreement, name, getattr(terms, name))
        agreement.conversion_milestone = (terms.conversion_milestone or "").strip() or None
        agreement.payment_modes = [str(mode) for mode in dict.fromkeys(terms.payment_modes)]
        agreement.default_liability = terms.default_liability.strip()
        agreement.notes = terms.notes.strip()
        agreement.use_ends_on = (
            add_months(terms.starts_on, terms.use_period_months) if terms.use_period_months is not None else None
        )

    async def _agreed_match(self, principal: Principal, match_request_id: uuid.UUID):
        try:
            match = await self.matching.get(principal, match_request_id)
        except NotFound:
            raise invalid("match_request_id", N_("No match request of your institution has this id.")) from None
        if match.institution_id != principal.organization_id:
            raise invalid("match_request_id", N_("No match request of your institution has this id."))
        if match.state != MatchState.agreed:
            raise invalid("match_request_id", N_("Only an agreed match request becomes an agreement."))
        return match

    async def _is_company(self, company_id: uuid.UUID) -> bool:
        try:
            await self.accounts.public_organization(company_id, "company")
        except NotFound:
            return False
        return True

    async def _own_results(
        self, institution_id: uuid.UUID, result_ids: builtins.list[uuid.UUID], errors: builtins.list[FieldError]
    ):
        listings = []
        for index, result_id in enumerate(result_ids):
            try:
                listing = await self.catalog.institution_result(institution_id, result_id)
            except NotFound:
                errors.append(FieldError(f"result_ids[{index}]", N_("No result of your institution has this id.")))
                continue
            if listing.kind != ListingKind.result or listing.status != Status.published:
                errors.append(FieldError(f"result_ids[{index}]", N_("Only a published result can be licensed.")))
                continue
            listings.append(listing)
        return listings

    # ----- the lifecycle ----------------------------------------------------------------------

    async def transition(
        self,
        principal: Principal,
        agreement_id: uuid.UUID,
        data: TransitionIn,
        *,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> Agreement:
        principal.require()
        declared = LIFECYCLE.action(data.action)
        agreement = await self.get(principal, agreement_id, for_update=True)
        now = now or utcnow()
        hooks = Hooks(data, approve=self._approve_guard, sign=self._sign_guard, choose_payment_mode=self._choose_guard)
        await states.apply(self.session, LIFECYCLE, principal, agreement, declared, data.reason, context=hooks, now=now, ip=ip)
        await self._after_step(principal, agreement, data.action, now)
        return agreement

    async def _after_step(self, principal: Principal | None, agreement: Agreement, action: str, now: datetime) -> None:
        """What follows a step: a signed agreement whose day has come takes effect; an ended one
        owes nothing more."""
        if action == "sign" and agreement.state == State.signed and agreement.starts_on <= china_day(now):
            await self.take_effect(agreement, now)
        if agreement.state in (State.exited, State.terminated, State.cancelled):
            await self._cancel_open(agreement, now, principal)

    async def _approve_guard(self, step: states.Step) -> None:
        agreement: Agreement = step.record
        refusal = await approval_refusal(self.session, self.catalog, agreement)
        if refusal is not None:
            raise refusal
        document = await self.write_document(agreement, step.principal)
        agreement.document_sha256 = document.sha256
        step.details["document_sha256"] = document.sha256

    async def _sign_guard(self, step: states.Step) -> None:
        data: TransitionIn = step.context.data
        agreement: Agreement = step.record
        if data.document_sha256 is None:
            raise invalid("document_sha256", N_("Say which document you signed: its SHA-256."))
        if data.document_sha256 != agreement.document_sha256:
            raise invalid("document_sha256", N_("This is not the current document: read the agreement again."))
        step.details["document_sha256"] = agreement.document_sha256

    async def _choose_guard(self, step: states.Step) -> None:
        data: TransitionIn = step.context.data
        agreement: Agreement = step.record
        if agreement.payment_mode is not None:  # `offered` only hides the button: a second schedule must not follow
            raise Conflict(N_("The payment mode has been chosen already."), FieldError("payment_mode", NOT_NOW))
        if data.payment_mode is None:
            raise invalid("payment_mode", N_("Required."))
        if data.payment_mode not in agreement.payment_modes:
            raise invalid("payment_mode", N_("The agreement does not allow this payment mode."))
        if data.payment_mode == PaymentMode.instalments and (data.instalments or 0) > agreement.max_instalments:
            raise invalid("instalments", N_("At most %(count)s instalments."), count=agreement.max_instalments)
        agreement.payment_mode = data.payment_mode
        step.details.update(payment_mode=str(data.payment_mode), instalments=data.instalments)
        existing = (await self.obligations_of({agreement.id}))[agreement.id]
        last = max((obligation.sequence for obligation in existing), default=0)
        rows = schedule.on_conversion(agreement, data.payment_mode, data.instalments, china_day(step.now), after=last)
        self.session.add_all(rows)

    async def take_effect(self, agreement: Agreement, now: datetime) -> None:
        """The system puts a signed agreement in force: a pay-later licence's use period starts;
        any other's upfront fee and instalments fall due."""
        await states.apply(self.session, LIFECYCLE, None, agreement, effect_action(agreement), as_system=True, now=now)
        if agreement.state == State.active:
            for obligation in (await self.obligations_of({agreement.id}, for_update=True))[agreement.id]:
                if obligation.state == ObligationState.pending and obligation.kind != ObligationKind.milestone:
                    await states.apply(
                        self.session, OBLIGATION, None, obligation, "fall_due", as_system=True, now=now, context=agreement
                    )

    async def convert(self, agreement: Agreement, trigger: str, now: datetime, principal: Principal | None = None) -> None:
        """The system converts a pay-later licence at its first trigger (the use period's end, the
        first revenue reported, the named milestone); the licensee then chooses the payment mode."""
        agreement.conversion_trigger = trigger
        await states.apply(
            self.session, LIFECYCLE, principal, agreement, "convert", as_system=True, now=now, details={"trigger": trigger}
        )

    async def _cancel_open(self, agreement: Agreement, now: datetime, principal: Principal | None) -> None:
        for obligation in (await self.obligations_of({agreement.id}, for_update=True))[agreement.id]:
            if obligation.state in OPEN_OBLIGATIONS:
                await states.apply(
                    self.session, OBLIGATION, principal, obligation, "cancel", as_system=True, now=now, context=agreement
                )

    async def take_effect_due(self, today: date, now: datetime | None = None) -> int:
        """The daily job: signed agreements whose effective day has come take effect."""
        now = now or utcnow()
        stmt = (
            select(Agreement)
            .where(Agreement.state == State.signed, Agreement.starts_on <= today)
            .with_for_update(skip_locked=True)
        )
        count = 0
        for agreement in await self.session.scalars(stmt):
            await self.take_effect(agreement, now)
            count += 1
        return count
