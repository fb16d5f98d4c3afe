"""What the API and the pages show of an agreement: its parties and results by name, its schedule
with each item's label, lateness and default, and what is due next — in the reader's language.
Mixed into LicensingService: the names come from the accounts' and the catalogue's services."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from marketplace.accounts.models import TTO_ROLES
from marketplace.db import china_today
from marketplace.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from marketplace.i18n import N_, current_locale, gettext
from marketplace.licensing import standing
from marketplace.licensing.agreements import LICENSEE_ROLES
from marketplace.licensing.lifecycle import LIFECYCLE, OBLIGATION_STATE_LABELS, STATE_LABELS, Side
from marketplace.licensing.models import (
    Agreement,
    ConversionTrigger,
    Document,
    Guarantor,
    Kind,
    Obligation,
    ObligationKind,
    ObligationState,
    PaymentMode,
    RoyaltyReport,
    State,
)
from marketplace.licensing.payments import Payments
from marketplace.licensing.royalties import Royalties
from marketplace.licensing.schemas import (
    AgreementOut,
    AgreementPage,
    AgreementSummary,
    NextDue,
    ObligationOut,
    ResultRef,
)
from marketplace.tenancy import Principal

KIND_LABELS: dict[str, str] = {
    Kind.assignment: N_("Assignment"),
    Kind.exclusive: N_("Exclusive licence"),
    Kind.non_exclusive: N_("Non-exclusive licence"),
    Kind.pay_later: N_("Use first, pay later"),
    Kind.open_licence: N_("Open licence"),
    Kind.equity: N_("Equity contribution"),
    Kind.co_development: N_("Co-development"),
}
PAYMENT_MODE_LABELS: dict[str, str] = {
    PaymentMode.lump_sum: N_("Lump sum"),
    PaymentMode.instalments: N_("Instalments"),
    PaymentMode.deferred: N_("Deferred payment"),
    PaymentMode.revenue_share: N_("Revenue share"),
}
GUARANTOR_LABELS: dict[str, str] = {
    Guarantor.tto: N_("The transfer office (three-party agreement)"),
    Guarantor.platform: N_("The platform (three-party agreement)"),
}
TRIGGER_LABELS: dict[str, str] = {
    ConversionTrigger.use_period_end: N_("The use period ended"),
    ConversionTrigger.first_revenue: N_("First revenue reported"),
    ConversionTrigger.milestone: N_("The conversion milestone was reached"),
    ConversionTrigger.early: N_("The licensee converted early"),
}
USE_PERIOD_END = N_("End of the use period")


def obligation_label(obligation: Obligation, instalments: builtins.list[Obligation], reports: dict) -> str:
    """What an item of the schedule is for: 首付款, 第 1/3 期, the milestone's event, 许可费, 提成 and its period."""
    kind = obligation.kind
    if kind == ObligationKind.upfront:
        return gettext("Upfront fee")
    if kind == ObligationKind.instalment:
        number = next(index for index, item in enumerate(instalments, start=1) if item.id == obligation.id)
        return gettext("Instalment %(n)s/%(count)s", n=number, count=len(instalments))
    if kind == ObligationKind.milestone:
        return obligation.milestone_event or gettext("Milestone")
    if kind == ObligationKind.lump_sum:
        return gettext("Licence fee")
    report = reports.get(obligation.royalty_report_id)
    if kind == ObligationKind.royalty:
        if report is None:
            return gettext("Royalty")
        return gettext("Royalty %(start)s—%(end)s", start=report.period_start.isoformat(), end=report.period_end.isoformat())
    if report is None:
        return gettext("Annual minimum top-up")
    return gettext("Annual minimum top-up to %(end)s", end=report.period_end.isoformat())


def obligation_out(
    obligation: Obligation, agreement: Agreement, today: date, instalments: builtins.list[Obligation], reports: dict
) -> ObligationOut:
    return ObligationOut(
        id=obligation.id,
        sequence=obligation.sequence,
        kind=ObligationKind(obligation.kind),
        state=ObligationState(obligation.state),
        state_label=gettext(OBLIGATION_STATE_LABELS[obligation.state]),
        label=obligation_label(obligation, instalments, reports),
        amount_fen=obligation.amount_fen,
        paid_fen=obligation.paid_fen,
        outstanding_fen=standing.outstanding(obligation),
        due_on=obligation.due_on,
        milestone_event=obligation.milestone_event,
        due_days_after_event=obligation.due_days_after_event,
        reached_on=obligation.reached_on,
        paid_on=obligation.paid_on,
        late=standing.is_late(obligation, today),
        in_default=standing.in_default(obligation, agreement, today),
    )


def next_due(agreement: Agreement, items: builtins.list[ObligationOut]) -> NextDue | None:
    """The earliest due item; in a use period, its end."""
    due = [item for item in items if item.state == ObligationState.due and item.due_on is not None]
    if due:
        first = min(due, key=lambda item: (item.due_on, item.sequence))
        assert first.due_on is not None
        return NextDue(kind="obligation", due_on=first.due_on, label=first.label, amount_fen=first.outstanding_fen)
    if agreement.state == State.in_use and agreement.use_ends_on is not None:
        return NextDue(kind="use_period_end", due_on=agreement.use_ends_on, label=gettext(USE_PERIOD_END))
    return None


@dataclass
class Names:
    """The names an agreement view needs, read once for a list."""

    orgs: dict = field(default_factory=dict)
    listings: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    obligations: dict = field(default_factory=dict)
    reports: dict = field(default_factory=dict)


@dataclass
class AgreementDetail:
    """An agreement's page: its view, its audit trail with who acted, its current document."""

    view: AgreementOut
    side: str | None
    history: builtins.list
    actors: dict[uuid.UUID, str]
    document: Document | None
    reason_required: set[str]
    money_steps: set[str] = field(default_factory=set)
    payments: builtins.list = field(default_factory=list)
    reports: builtins.list = field(default_factory=list)


@dataclass
class DraftChoices:
    match: Any = None
    company: Any = None
    listing: Any = None
    companies: builtins.list = field(default_factory=list)
    results: builtins.list = field(default_factory=list)


class Views(Payments, Royalties):
    """Mixed into LicensingService (services.py)."""

    def require_reader(self, principal: Principal) -> Principal:
        """The list of agreements: the TTO, the company's administrator, platform roles."""
        principal.require()
        if not self.reads_licences(principal):
            raise Forbidden()
        return principal

    def drafts(self, principal: Principal) -> bool:
        """Whether the caller drafts agreements (the list offers the draft form)."""
        return principal.is_authenticated and principal.role in TTO_ROLES

    async def _names(self, agreements: builtins.list[Agreement]) -> Names:
        ids = {agreement.id for agreement in agreements}
        names = Names()
        names.orgs = await self.accounts.public_organizations(
            {a.institution_id for a in agreements} | {a.company_id for a in agreements}
        )
        names.results = await self.results_of(ids)
        names.listings = await self.catalog.listing_refs({i for found in names.results.values() for i in found})
        names.obligations = await self.obligations_of(ids)
        report_ids = {o.royalty_report_id for found in names.obligations.values() for o in found if o.royalty_report_id}
        if report_ids:
            rows = await self.session.scalars(select(RoyaltyReport).where(RoyaltyReport.id.in_(report_ids)))
            names.reports = {report.id: report for report in rows}
        return names

    @staticmethod
    def _org_name(names: Names, org_id: uuid.UUID) -> str:
        org = names.orgs.get(org_id)
        return org.display_name(current_locale.get()) if org else ""

    @staticmethod
    def _schedule(agreement: Agreement, names: Names, today: date) -> builtins.list[ObligationOut]:
        rows = names.obligations.get(agreement.id, [])
        instalments = [o for o in rows if o.kind == ObligationKind.instalment]
        return [obligation_out(o, agreement, today, instalments, names.reports) for o in rows]

    async def agreement_views(
        self, principal: Principal, agreements: builtins.list[Agreement], *, today: date | None = None
    ) -> builtins.list[AgreementOut]:
        today = today or china_today()
        names = await self._names(agreements)
        english = current_locale.get() == "en"
        found = []
        for a in agreements:
            items = self._schedule(a, names, today)
            listings = [names.listings[i] for i in names.results.get(a.id, []) if i in names.listings]
            results = [ResultRef(id=x.id, title=(x.title_en if english and x.title_en else x.title_zh)) for x in listings]
            found.append(
                AgreementOut(
                    id=a.id,
                    kind=Kind(a.kind),
                    state=State(a.state),
                    state_label=gettext(STATE_LABELS[a.state]),
                    institution_id=a.institution_id,
                    institution_name=self._org_name(names, a.institution_id),
                    company_id=a.company_id,
                    company_name=self._org_name(names, a.company_id),
                    match_request_id=a.match_request_id,
                    open_licence_id=a.open_licence_id,
                    results=results,
                    title=a.title,
                    territory=a.territory,
                    field_of_use=a.field_of_use,
                    starts_on=a.starts_on,
                    term_months=a.term_months,
                    ends_on=a.ends_on,
                    currency=a.currency,
                    upfront_fen=a.upfront_fen,
                    licence_fee_fen=a.licence_fee_fen,
                    royalty_bp=a.royalty_bp,
                    annual_minimum_fen=a.annual_minimum_fen,
                    equity_bp=a.equity_bp,
                    use_period_months=a.use_period_months,
                    use_ends_on=a.use_ends_on,
                    conversion_milestone=a.conversion_milestone,
                    payment_modes=[PaymentMode(mode) for mode in a.payment_modes],
                    payment_mode=PaymentMode(a.payment_mode) if a.payment_mode else None,
                    max_instalments=a.max_instalments,
                    deferral_months=a.deferral_months,
                    grace_days=a.grace_days,
                    report_due_days=a.report_due_days,
                    default_liability=a.default_liability,
                    insurance_ref=a.insurance_ref,
                    guarantor=Guarantor(a.guarantor) if a.guarantor else None,
                    language=a.language,
                    notes=a.notes,
                    approved_at=a.approved_at,
                    document_sha256=a.document_sha256,
                    institution_signed_at=a.institution_signed_at,
                    company_signed_at=a.company_signed_at,
                    effective_at=a.effective_at,
                    converted_at=a.converted_at,
                    conversion_trigger=a.conversion_trigger,
                    ended_at=a.ended_at,
                    end_reason=a.end_reason,
                    created_at=a.created_at,
                    updated_at=a.updated_at,
                    obligations=items,
                    next_due=next_due(a, items),
                    in_default=any(item.in_default for item in items),
                    actions=self.allowed_actions(principal, a),
                )
            )
        return found

    async def agreement_view(self, principal: Principal, agreement: Agreement) -> AgreementOut:
        return (await self.agreement_views(principal, [agreement]))[0]

    async def agreement_page(
        self,
        principal: Principal,
        *,
        state: str | None = None,
        kind: str | None = None,
        due: bool = False,
        page: int = 1,
        page_size: int = 50,
        today: date | None = None,
    ) -> AgreementPage:
        """The caller's agreements by next due day, as summaries."""
        self.require_reader(principal)
        items, total = await self.list(principal, state=state, kind=kind, due=due, limit=page_size, offset=(page - 1) * page_size)
        today = today or china_today()
        names = await self._names(items)
        summaries = []
        for a in items:
            schedule = self._schedule(a, names, today)
            summaries.append(
                AgreementSummary(
                    id=a.id,
                    kind=Kind(a.kind),
                    state=State(a.state),
                    state_label=gettext(STATE_LABELS[a.state]),
                    title=a.title,
                    institution_id=a.institution_id,
                    institution_name=self._org_name(names, a.institution_id),
                    company_id=a.company_id,
                    company_name=self._org_name(names, a.company_id),
                    starts_on=a.starts_on,
                    next_due=next_due(a, schedule),
                    late=any(item.late for item in schedule),
                    in_default=any(item.in_default for item in schedule),
                )
            )
        return AgreementPage(items=summaries, total=total)

    async def agreement_detail(self, principal: Principal, agreement_id: uuid.UUID) -> AgreementDetail:
        """What the agreement's page shows (404 outside the caller's scope)."""
        agreement = await self.get(principal, agreement_id)
        history = await self.history(agreement)
        try:
            document = await self.current_document(agreement)
        except NotFound:
            document = None
        return AgreementDetail(
            view=await self.agreement_view(principal, agreement),
            side=next(iter(LIFECYCLE.sides_of(principal, agreement)), None),
            history=history,
            actors=await self.accounts.user_names({e.actor_user_id for e in history if e.actor_user_id}),
            document=document,
            reason_required=LIFECYCLE.reason_required(),
            money_steps=self.money_steps(principal, agreement),
            payments=await self.payments(principal, agreement.id),
            reports=await self.royalty_reports(principal, agreement.id),
        )

    def money_steps(self, principal: Principal, agreement: Agreement) -> set[str]:
        """The money forms the agreement's page offers its viewer: the TTO records payments on an
        agreement in force; either side reports net sales (where a royalty is owed, or in a use
        period: the first revenue converts it) and milestones reached."""
        side = next(iter(LIFECYCLE.sides_of(principal, agreement)), None)
        if side is None or principal.role not in TTO_ROLES | LICENSEE_ROLES:
            return set()
        steps = set()
        in_force = agreement.state in (State.active, State.converted)
        if side == Side.institution and in_force:
            steps.add("record_payment")
        owes_royalty = agreement.royalty_bp is not None and (
            agreement.state == State.active
            or (agreement.state == State.converted and agreement.payment_mode == PaymentMode.revenue_share)
        )
        if agreement.state == State.in_use or owes_royalty:
            steps.add("report_royalties")
        if in_force or (agreement.state == State.in_use and agreement.conversion_milestone):
            steps.add("reach_milestone")
        return steps

    async def draft_to_edit(self, principal: Principal, agreement_id: uuid.UUID) -> Agreement:
        """A draft the caller's TTO may change (as update() decides: the drafter's roles, the institution's
        side, a draft)."""
        self.require_drafter(principal)
        agreement = await self.get(principal, agreement_id)
        if LIFECYCLE.sides_of(principal, agreement) != {Side.institution}:
            raise NotFound()
        if agreement.state != State.draft:
            raise Conflict(
                N_("Only a draft's terms can change."), FieldError("state", N_("Return the agreement to draft first."))
            )
        return agreement

    async def document_of(self, principal: Principal, agreement_id: uuid.UUID) -> tuple[Agreement, Document]:
        """The agreement's current document (404 before approval, or outside the caller's scope)."""
        agreement = await self.get(principal, agreement_id)
        return agreement, await self.current_document(agreement)

    async def draft_choices(self, principal: Principal, match_request_id: uuid.UUID | None = None) -> DraftChoices:
        """What the draft form offers the TTO: the agreed match it starts from (when given and
        agreed), else the companies and the institution's published results."""
        self.require_drafter(principal)
        choices = DraftChoices()
        if match_request_id is not None:
            try:
                choices.match = await self._agreed_match(principal, match_request_id)
            except InvalidInput:
                choices.match = None
        if choices.match is not None:
            choices.company = await self.accounts.public_organization(choices.match.company_id)
            choices.listing = (await self.catalog.listing_refs({choices.match.listing_id})).get(choices.match.listing_id)
        choices.companies = await self.accounts.directory("company")
        choices.results, _ = await self.catalog.search(
            principal, kind="result", status="published", institution_id=principal.organization_id, page_size=200
        )
        return choices
