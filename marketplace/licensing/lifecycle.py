"""The state machines of licensing (declared for marketplace/states.py): an agreement's, from draft
to signed and in force — and for a pay-later licence (先使用后付费) the use period, conversion or
exit — and an obligation's, from pending to due to paid.

The guards that need the database (exclusivity at approval, the document at signing) are given by
the service as the step's context, so this module stays a declaration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Role
from marketplace.errors import Conflict, FieldError
from marketplace.i18n import N_
from marketplace.licensing.models import Agreement, Kind, Obligation, ObligationState, State
from marketplace.tenancy import Principal

NOT_NOW = N_("Not allowed from the agreement's current state.")

STATE_LABELS: dict[str, str] = {
    State.draft: N_("Draft"),
    State.approved: N_("Approved, awaiting signatures"),
    State.signed: N_("Signed, not yet in force"),
    State.active: N_("In force"),
    State.in_use: N_("Use period running"),
    State.converted: N_("Converted to a paid licence"),
    State.exited: N_("Exited, rights returned"),
    State.terminated: N_("Terminated"),
    State.cancelled: N_("Cancelled"),
}
ACTION_LABELS = {
    "approve": N_("Approve the agreement"),
    "revise": N_("Return to draft"),
    "sign": N_("Sign the agreement"),
    "take_effect": N_("Take effect"),
    "convert": N_("Convert to a paid licence"),
    "choose_payment_mode": N_("Choose the payment mode"),
    "exit": N_("Exit and return the rights"),
    "terminate": N_("Terminate the agreement"),
    "cancel": N_("Cancel the agreement"),
    "approve_by_declaration": N_("Approved by the open-licence declaration"),
    "sign_by_notice": N_("Signed on taking the open licence"),
}


class Side:
    institution = "institution"
    company = "company"


@dataclass
class Hooks:
    """What the service gives a step: the checks and effects that need the database."""

    data: Any = None  # the step's request (the signed document's hash, the payment mode)
    approve: Callable[[states.Step], Awaitable[None]] | None = None
    sign: Callable[[states.Step], Awaitable[None]] | None = None
    choose_payment_mode: Callable[[states.Step], Awaitable[None]] | None = None


def side_of(principal: Principal, agreement: Agreement) -> str | None:
    if principal.role in TTO_ROLES and agreement.institution_id == principal.organization_id:
        return Side.institution
    if principal.role in COMPANY_ROLES and agreement.company_id == principal.organization_id:
        return Side.company
    return None


def signature_of(agreement: Agreement, side: str | None):
    return agreement.company_signed_at if side == Side.company else agreement.institution_signed_at


async def _run(step: states.Step, name: str) -> None:
    hook = getattr(step.context, name, None) if isinstance(step.context, Hooks) else None
    if hook is not None:
        await hook(step)


async def _approve(step: states.Step) -> None:
    await _run(step, "approve")


async def _sign(step: states.Step) -> None:
    """Signing needs both sides: the first signature keeps the agreement approved."""
    assert step.principal is not None, "signing is a party's action"
    agreement, side = step.record, side_of(step.principal, step.record)
    if signature_of(agreement, side) is not None:
        raise Conflict(N_("You have signed already; the other side has not yet."), FieldError("action", NOT_NOW))
    await _run(step, "sign")  # checks the document the signer saw, records its hash
    if side == Side.company:
        agreement.company_signed_at, agreement.company_signed_by_user_id = step.now, step.principal.user_id
    else:
        agreement.institution_signed_at, agreement.institution_signed_by_user_id = step.now, step.principal.user_id
    step.details["side"] = side
    step.target = State.signed if agreement.company_signed_at and agreement.institution_signed_at else None


async def _revise(step: states.Step) -> None:
    if step.record.institution_signed_at or step.record.company_signed_at:
        raise Conflict(N_("A side has signed: cancel the agreement instead of changing it."), FieldError("action", NOT_NOW))


async def _convert_early(step: states.Step) -> None:
    step.record.conversion_trigger = "early"


async def _choose_payment_mode(step: states.Step) -> None:
    await _run(step, "choose_payment_mode")


async def _enter(step: states.Step) -> None:
    agreement: Agreement = step.record
    target = step.target
    assert target is not None
    if target == State.approved:
        agreement.approved_at, agreement.approved_by_user_id = step.now, step.principal.user_id if step.principal else None
    if target == State.draft:
        agreement.approved_at = agreement.approved_by_user_id = agreement.document_sha256 = None
    if target in (State.active, State.in_use):
        agreement.effective_at = step.now
    if target == State.converted:
        agreement.converted_at = step.now
        agreement.conversion_trigger = agreement.conversion_trigger or step.details.get("trigger", "early")
    if target in (State.exited, State.terminated, State.cancelled):
        agreement.ended_at, agreement.end_reason = step.now, step.reason
    agreement.state = target
    agreement.state_changed_at = step.now


INSTITUTION = (states.Party(Side.institution, TTO_ROLES),)
MANAGER = (states.Party(Side.institution, frozenset({Role.tto_manager})),)
COMPANY_ADMIN = (states.Party(Side.company, frozenset({Role.company_admin})),)
IN_FORCE = {State.active, State.in_use, State.converted}


# The TTO drafts; the TTO manager approves (exclusivity and ownership are checked then, and the
# document is generated) and signs for the institution, the company's administrator for the
# company. A signed agreement takes effect on its effective date (a system step): a pay-later
# licence enters its use period, any other kind is in force. The use period ends in conversion
# (the system, at the first trigger; or the licensee, early) or exit (the licensee returns the
# rights). The TTO manager terminates for breach; either side cancels what is not yet signed.
LIFECYCLE = states.Machine(
    name="agreement",
    table="licensing_agreements",
    column="state",
    states=tuple(State),
    initial=frozenset({State.draft}),
    actions=dict(
        [
            states.action("approve", {State.draft}, State.approved, MANAGER, guard=_approve),
            states.action("revise", {State.approved}, State.draft, INSTITUTION, reason_required=True, guard=_revise),
            states.action(
                "sign",
                {State.approved},
                State.signed,
                MANAGER + COMPANY_ADMIN,
                guard=_sign,
                offered=lambda principal, agreement, _context: signature_of(agreement, side_of(principal, agreement)) is None,
            ),
            # An open licence (开放许可) taken: the institution's declaration stands for its approval
            # and signature, the taker's notice for the company's; the system moves the agreement
            # through the same states, so the database's guard needs no new move.
            states.action("approve_by_declaration", {State.draft}, State.approved, ()),
            states.action("sign_by_notice", {State.approved}, State.signed, ()),
            # The system's step: the target (active or in_use) is settled by the service.
            states.action("take_effect", {State.signed}, State.active, ()),
            states.action("start_use", {State.signed}, State.in_use, ()),
            states.action(
                "convert",
                {State.in_use},
                State.converted,
                COMPANY_ADMIN,
                guard=_convert_early,
            ),
            states.action(
                "choose_payment_mode",
                {State.converted},
                None,
                COMPANY_ADMIN + INSTITUTION,
                guard=_choose_payment_mode,
                offered=lambda _principal, agreement, _context: agreement.payment_mode is None,
            ),
            states.action("exit", {State.in_use}, State.exited, COMPANY_ADMIN, reason_required=True),
            states.action("terminate", IN_FORCE, State.terminated, MANAGER, reason_required=True),
            states.action(
                "cancel", {State.draft, State.approved}, State.cancelled, INSTITUTION + COMPANY_ADMIN, reason_required=True
            ),
        ]
    ),
    sides=lambda principal, agreement, _context: filter(None, [side_of(principal, agreement)]),
    refusal=N_("An agreement that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=NOT_NOW,
    state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS,
    enter=_enter,
)


def effect_action(agreement: Agreement) -> str:
    """The system's step that puts a signed agreement in force."""
    return "start_use" if agreement.kind == Kind.pay_later else "take_effect"


# ----- obligations ---------------------------------------------------------------------------------

OBLIGATION_STATE_LABELS: dict[str, str] = {
    ObligationState.pending: N_("Not yet due"),
    ObligationState.due: N_("Due"),
    ObligationState.paid: N_("Paid"),
    ObligationState.waived: N_("Waived"),
    ObligationState.cancelled: N_("Cancelled"),
}


async def _enter_obligation(step: states.Step) -> None:
    obligation: Obligation = step.record
    assert step.target is not None
    obligation.state = step.target
    if step.reason:
        obligation.state_reason = step.reason


def _obligation_sides(principal: Principal, _obligation: Obligation, agreement: Agreement | None):
    return filter(None, [side_of(principal, agreement)]) if agreement is not None else ()


# What the licensee owes moves pending → due (its day or event came), due → paid (the payments
# service, when the last fen arrives); the TTO manager waives with a reason; an ended agreement
# cancels what is still open. The context is the obligation's agreement.
OBLIGATION = states.Machine(
    name="obligation",
    table="licensing_obligations",
    column="state",
    states=tuple(ObligationState),
    initial=frozenset({ObligationState.pending, ObligationState.due}),
    actions=dict(
        [
            states.action("fall_due", {ObligationState.pending}, ObligationState.due, ()),
            states.action("settle", {ObligationState.due}, ObligationState.paid, ()),
            states.action(
                "waive", {ObligationState.pending, ObligationState.due}, ObligationState.waived, MANAGER, reason_required=True
            ),
            states.action("cancel", {ObligationState.pending, ObligationState.due}, ObligationState.cancelled, ()),
        ]
    ),
    sides=_obligation_sides,
    refusal=N_("A payment item that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=N_("Not allowed from the item's current state."),
    state_labels=OBLIGATION_STATE_LABELS,
    action_labels={"waive": N_("Waive the item")},
    enter=_enter_obligation,
)
