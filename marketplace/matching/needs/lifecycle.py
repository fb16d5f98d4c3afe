"""The state machines of needs and of institutions' responses (declared for marketplace/states.py):
states, steps, who takes each, and their hooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Role
from marketplace.db import china_day
from marketplace.errors import invalid
from marketplace.i18n import N_
from marketplace.matching.needs.models import Need, NeedKind, NeedResponse, NeedState, ResponseState
from marketplace.search.models import EntityType
from marketplace.search.outbox import enqueue
from marketplace.tenancy import Principal

# Keyed by state value (the enum members are those strings): the machine looks up a column's plain string.
NEED_STATE_LABELS: dict[str, str] = {
    NeedState.draft: N_("Draft"),
    NeedState.open: N_("Open for responses"),
    NeedState.closed: N_("Closed"),
    NeedState.awarded: N_("Awarded"),
}
NEED_ACTION_LABELS = {"publish": N_("Publish the need"), "close": N_("Close for responses")}
RESPONSE_STATE_LABELS: dict[str, str] = {
    ResponseState.submitted: N_("Awaiting a decision"),
    ResponseState.shortlisted: N_("Shortlisted"),
    ResponseState.selected: N_("Selected"),
    ResponseState.not_selected: N_("Not selected"),
    ResponseState.withdrawn: N_("Withdrawn"),
}
RESPONSE_ACTION_LABELS = {
    "shortlist": N_("Shortlist"),
    "select": N_("Select this proposal"),
    "decline": N_("Not selected"),
    "withdraw": N_("Withdraw the response"),
}
# A response's step as its conversation names it (threads/steps.py); "decline_other_selected" is
# the system's decline when the poster selects another response.
RESPONSE_STEP_LABELS = {
    "shortlist": N_("Shortlisted"),
    "select": N_("Selected"),
    "decline": N_("Not selected"),
    "decline_other_selected": N_("Not selected: another proposal was selected"),
    "withdraw": N_("Response withdrawn"),
}
# Where a need can still be decided on.
DECIDABLE = frozenset({NeedState.open, NeedState.closed})
REFUSAL = N_("A need or response that is “%(state)s” cannot take the step “%(action)s”.")
NOT_NOW = N_("Not allowed from the current state.")


def is_poster(principal: Principal, need: Need) -> bool:
    """Who acts for the poster: the company's people for a need; the platform admin for a challenge."""
    if need.kind == NeedKind.challenge:
        return principal.role == Role.platform_admin
    return principal.role in COMPANY_ROLES and principal.organization_id == need.organization_id


def is_responder(principal: Principal, response: NeedResponse) -> bool:
    return principal.role in TTO_ROLES and principal.organization_id == response.institution_id


def _organization(step: states.Step):
    """The actor's organization; the need's own for the deadline job, which has no actor."""
    return step.principal.organization_id if step.principal else step.record.organization_id


# ----- needs ------------------------------------------------------------------------------------


async def _enter_need(step: states.Step) -> None:
    need = step.record
    if step.target == NeedState.open and need.opened_at is None:
        need.opened_at = step.now
    need.state = step.target
    need.state_changed_at = step.now
    await step.session.flush()
    await enqueue(step.session, EntityType.need, [need.id])


async def _deadline_ahead(step: states.Step) -> None:
    if step.record.deadline < china_day(step.now):
        raise invalid("deadline", N_("The deadline has passed: set a new one before publishing."))


POSTER = (states.Party("poster", COMPANY_ROLES | {Role.platform_admin}),)

# A need: the poster publishes a draft and may close it early; the deadline passing closes it
# (the worker, as `expire`); selecting a response awards it, also after the deadline, since the
# deadline ends the call for responses, not the poster's choice. `expire` and `award` are the
# system's. PostgreSQL allows the same moves (migration 0010_state_guards).
NEED = states.Machine(
    name="need",
    table="needs",
    column="state",
    states=tuple(NeedState),
    initial=frozenset({NeedState.draft}),
    actions={
        "publish": states.Action("publish", frozenset({NeedState.draft}), NeedState.open, POSTER, guard=_deadline_ahead),
        "close": states.Action("close", frozenset({NeedState.open}), NeedState.closed, POSTER),
        "expire": states.Action("expire", frozenset({NeedState.open}), NeedState.closed),
        "award": states.Action("award", DECIDABLE, NeedState.awarded),
    },
    sides=lambda principal, need, _context: ["poster"] if is_poster(principal, need) else [],
    refusal=REFUSAL,
    refusal_field=NOT_NOW,
    state_labels=NEED_STATE_LABELS,
    action_labels=NEED_ACTION_LABELS,
    enter=_enter_need,
    organization=_organization,
)


# ----- responses ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A response's context: its need, and for `select` how the service opens the match."""

    need: Need
    open_match: Callable[[], Awaitable[dict]] | None = None


async def _enter_response(step: states.Step) -> None:
    step.record.state = step.target
    step.record.state_changed_at = step.now
    await step.session.flush()


def decidable(need: Need) -> bool:
    """A multi-centre need stays decidable once awarded: further centres may be selected."""
    return need.state in DECIDABLE or (need.multi_centre and need.state == NeedState.awarded)


async def _need_decidable(step: states.Step) -> None:
    need = step.context.need
    if not decidable(need):
        raise step.refuse(NEED_STATE_LABELS[NeedState(need.state)])


async def _select(step: states.Step) -> None:
    """Selecting opens the match request (NeedService._select) before the response moves."""
    await _need_decidable(step)
    if step.context.open_match is not None:
        step.details.update(await step.context.open_match())


def _decidable(_principal: Principal, _response: NeedResponse, decision: Decision) -> bool:
    return decidable(decision.need)


LIVE = frozenset({ResponseState.submitted, ResponseState.shortlisted})

# A response: the poster shortlists, declines or selects while the need can be decided on; the
# institution may withdraw until one is selected. Selecting one declines every other live response
# of the need (the system's `decline`).
RESPONSE = states.Machine(
    name="need_response",
    table="need_responses",
    column="state",
    states=tuple(ResponseState),
    initial=frozenset({ResponseState.submitted}),
    actions={
        "shortlist": states.Action(
            "shortlist",
            frozenset({ResponseState.submitted}),
            ResponseState.shortlisted,
            POSTER,
            guard=_need_decidable,
            offered=_decidable,
        ),
        "select": states.Action("select", LIVE, ResponseState.selected, POSTER, guard=_select, offered=_decidable),
        "decline": states.Action("decline", LIVE, ResponseState.not_selected, POSTER, guard=_need_decidable, offered=_decidable),
        "withdraw": states.Action("withdraw", LIVE, ResponseState.withdrawn, (states.Party("institution", TTO_ROLES),)),
    },
    sides=lambda principal, response, decision: [
        side
        for side, on in (("poster", is_poster(principal, decision.need)), ("institution", is_responder(principal, response)))
        if on
    ],
    refusal=REFUSAL,
    refusal_field=NOT_NOW,
    state_labels=RESPONSE_STATE_LABELS,
    action_labels=RESPONSE_ACTION_LABELS,
    enter=_enter_response,
    organization=_organization,
)
