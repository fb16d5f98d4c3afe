"""A match request's state machine (declared for marketplace/states.py): its states, steps, who
takes each, and the hooks for the NDA, the deal both sides confirm and the response clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Role
from marketplace.accounts.services import AccountService
from marketplace.catalog.services import CatalogService
from marketplace.errors import Conflict, FieldError, invalid
from marketplace.i18n import N_
from marketplace.matching.requests.models import OPEN_STATES, MatchRequest, Side, State
from marketplace.tenancy import Principal
from marketplace.working_days import add_working_days, response_due_on

# Reminders go this many working days before the due day.
REMIND_WORKING_DAYS_BEFORE = 2

# Keyed by state value (the enum members are those strings): the machine looks up a column's plain string.
STATE_LABELS: dict[str, str] = {
    State.submitted: N_("Awaiting answer"),
    State.under_review: N_("Under review"),
    State.info_requested: N_("Information requested"),
    State.accepted: N_("Accepted"),
    State.declined: N_("Declined"),
    State.negotiating: N_("Negotiating"),
    State.agreed: N_("Agreed"),
    State.closed_no_deal: N_("Closed without a deal"),
    State.withdrawn: N_("Withdrawn by the company"),
}
ACTION_LABELS = {
    "review": N_("Start the review"),
    "request_info": N_("Ask for information"),
    "provide_info": N_("Send the information"),
    "accept": N_("Accept the request"),
    "decline": N_("Decline the request"),
    "start_negotiation": N_("Start negotiating"),
    "agree": N_("Confirm the agreement"),
    "close_no_deal": N_("Close without a deal"),
    "withdraw": N_("Withdraw the request"),
    "accept_nda": N_("Accept the current agreement"),
}
# A step as the conversation names it (the step's message: threads/steps.py), in the past tense.
STEP_LABELS = {
    "review": N_("Review started"),
    "request_info": N_("Asked for information"),
    "provide_info": N_("Information sent"),
    "accept": N_("Accepted"),
    "decline": N_("Declined"),
    "start_negotiation": N_("Negotiation started"),
    "agree": N_("Confirmed the agreement"),
    "close_no_deal": N_("Closed without a deal"),
    "withdraw": N_("Withdrawn by the company"),
    "accept_nda": N_("Accepted the current confidentiality agreement"),
}
# Leaving submitted this way is the institution's answer, which stops the response clock.
ANSWERS = frozenset({"review", "request_info", "accept", "decline"})
NOT_NOW = N_("Not allowed from the request's current state.")


@dataclass(frozen=True)
class Nda:
    """What the NDA steps need: the current version (to offer `accept_nda`) and the version the
    caller accepts (to take it)."""

    current: int | None = None
    accepted: int | None = None


def side_of(principal: Principal, request: MatchRequest) -> Side | None:
    if principal.role in TTO_ROLES and request.institution_id == principal.organization_id:
        return Side.institution
    if principal.role in COMPANY_ROLES and request.company_id == principal.organization_id:
        return Side.company
    return None


def consent_of(request: MatchRequest, side: Side | None) -> datetime | None:
    return request.company_agreed_at if side == Side.company else request.institution_agreed_at


def start_clock(request: MatchRequest, working_days: int, now: datetime) -> None:
    request.response_due_on = response_due_on(now, working_days)
    request.remind_on = add_working_days(request.response_due_on, -REMIND_WORKING_DAYS_BEFORE)
    request.reminder_sent_at = None


async def enter_state(session, request: MatchRequest, target: State, *, answered: bool, now: datetime) -> None:
    """The state and what moves with it: the institution's first answer stops the clock; the
    company's information restarts it with a fresh deadline (and reminder)."""
    if request.state == State.submitted:
        if answered and request.first_answered_at is None:
            request.first_answered_at, request.first_answer_due_on = now, request.response_due_on
        request.response_due_on = request.remind_on = None
    if target == State.submitted:
        institution = await AccountService(session).public_organization(request.institution_id)
        start_clock(request, institution.response_working_days, now)
    request.state = target
    request.state_changed_at = now


async def _enter(step: states.Step) -> None:
    assert step.target is not None, "the machine enters only steps that have a target"
    await enter_state(step.session, step.record, State(step.target), answered=step.action.name in ANSWERS, now=step.now)


async def _accept_nda(step: states.Step) -> None:
    """The company accepts the NDA version in force; the state stays."""
    request = step.record
    current = await CatalogService(step.session).current_nda_version()
    given = step.context.accepted if isinstance(step.context, Nda) else None
    if given is None:
        raise invalid("nda_version", N_("Required."))
    if given != current:
        raise invalid("nda_version", N_("A newer confidentiality agreement is in force: read it and accept it."))
    if request.nda_version >= current:
        raise Conflict(N_("The current confidentiality agreement is already accepted."), FieldError("action", NOT_NOW))
    step.details.update(nda_version_before=request.nda_version, nda_version=current)
    request.nda_version, request.nda_accepted_at = current, step.now


async def _agree(step: states.Step) -> None:
    """Agreed needs both sides' confirmation: the first one keeps the request negotiating."""
    assert step.principal is not None, "agreeing is a party's action, never the system's"
    request, side = step.record, side_of(step.principal, step.record)
    if consent_of(request, side) is not None:
        raise Conflict(N_("You have confirmed the agreement already; the other side has not yet."), FieldError("action", NOT_NOW))
    if side == Side.company:
        request.company_agreed_at = step.now
    else:
        request.institution_agreed_at = step.now
    step.details["side"] = str(side)
    step.target = State.agreed if request.company_agreed_at and request.institution_agreed_at else None


ANSWERABLE = frozenset({State.submitted, State.under_review})
INSTITUTION = (states.Party(Side.institution, TTO_ROLES),)
COMPANY = (states.Party(Side.company, COMPANY_ROLES),)
EITHER = INSTITUTION + COMPANY


# Every step a match request can take. The institution's TTO answers and decides; the requesting
# company supplies information, may withdraw until agreed and accepts a new NDA version; either
# side opens negotiation or ends it without a deal; a deal is agreed only when both have confirmed
# (the TTO, and the company's administrator, since it binds the company). Platform roles read but
# never act for a party. PostgreSQL refuses any other state change (migration 0010_state_guards).
LIFECYCLE = states.Machine(
    name="match_request",
    table="match_requests",
    column="state",
    states=tuple(State),
    initial=frozenset({State.submitted}),
    actions=dict(
        [
            states.action("review", {State.submitted}, State.under_review, INSTITUTION),
            states.action("request_info", ANSWERABLE, State.info_requested, INSTITUTION, reason_required=True),
            states.action("provide_info", {State.info_requested}, State.submitted, COMPANY, reason_required=True),
            states.action("accept", ANSWERABLE, State.accepted, INSTITUTION),
            states.action("decline", ANSWERABLE, State.declined, INSTITUTION, reason_required=True),
            states.action("start_negotiation", {State.accepted}, State.negotiating, EITHER),
            states.action(
                "agree",
                {State.negotiating},
                State.agreed,
                (*INSTITUTION, states.Party(Side.company, frozenset({Role.company_admin}))),
                guard=_agree,
                offered=lambda principal, request, _nda: consent_of(request, side_of(principal, request)) is None,
            ),
            states.action("close_no_deal", {State.negotiating}, State.closed_no_deal, EITHER, reason_required=True),
            states.action("withdraw", OPEN_STATES, State.withdrawn, COMPANY),
            states.action(
                "accept_nda",
                OPEN_STATES | {State.agreed},
                None,
                COMPANY,
                guard=_accept_nda,
                offered=lambda _principal, request, nda: nda is not None and request.nda_version < nda.current,
            ),
        ]
    ),
    sides=lambda principal, request, _context: filter(None, [side_of(principal, request)]),
    refusal=N_("A request that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=NOT_NOW,
    state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS,
    enter=_enter,
)
