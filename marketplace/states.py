"""The one state-machine mechanism: every lifecycle (listings, match requests, needs, need
responses, and the agreements, payments, bed allocations and reviews to come) is a `Machine`
declared once, as data, in its domain; this module applies its actions, lists the actions a
caller may take and writes the PostgreSQL trigger that guards the same moves.

A machine names its states, the states a row may be inserted in, and its actions: from which
states to which, who may take each (parties: a side of the record — "the owning institution",
"the requesting company", "the poster" — with the roles allowed on that side; no parties means a
step only the system takes, never offered to a person), whether a reason is required, and its
hooks: a `guard` (async, may refuse or settle the target, e.g. publishing checks completeness,
agreeing waits for both sides) and `offered` (whether actions() shows it now). The domain gives the
machine a `sides` function (which sides a caller is on for a record) and an `enter` hook (the state
column and what moves with it, e.g. timestamps).

`apply()` is the one way to move a record: 403 for a caller who is no party to the action, 409
(a translated `Conflict` naming the state and the step) for a move the table does not allow, a
field-level error on `reason` when one is required and missing, then the guard, the change and
the audit event (`<prefix>_<action>`, with actor, before, after and reason) — all before anything
is committed, so a refusal changes nothing.

`trigger_sql()` writes the guard trigger from the declaration; migrations hold its output as
literal text (migrations never import app code), and tests/app/test_states.py checks, machine by
machine, that the database accepts exactly the declared inserts and moves.

Why not python-statemachine or transitions: both bind a machine to a Python object's attribute
and run synchronous callbacks around it; here the state lives in a SQLAlchemy column, hooks and
the audit are async and need the session, permission is by role and side of the record, and the
SQL trigger must come from the same table. Each of those would be code around the library, so
one small module does it all.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marketplace.audit import services as audit
from marketplace.db import utcnow
from marketplace.errors import Conflict, FieldError, Forbidden, invalid
from marketplace.i18n import N_
from marketplace.tenancy import Principal


@dataclass(frozen=True)
class Party:
    """Who may act: a caller on `side` of the record (machine.sides) with one of `roles`."""

    side: str
    roles: frozenset


@dataclass(frozen=True)
class Action:
    name: str
    sources: frozenset[str]
    # None: the state stays (or the guard settles it, e.g. the first side's consent to a deal).
    target: str | None
    by: tuple[Party, ...] = ()  # empty: the system's step (a job, or part of another step)
    reason_required: bool = False
    guard: Callable[[Step], Awaitable[None]] | None = None
    # Whether actions() offers it now, beyond state and party (apply()'s guard refuses the same).
    offered: Callable[[Principal, Any, Any], bool] | None = None

    @property
    def by_system(self) -> bool:
        return not self.by


@dataclass
class Step:
    """One action being applied: what hooks read and settle."""

    machine: Machine
    action: Action
    session: Any
    principal: Principal | None
    record: Any
    context: Any
    reason: str
    now: datetime
    before: str
    target: str | None
    sides: frozenset[str]
    details: dict = field(default_factory=dict)  # extra fields of the audit event

    def refuse(self, state_label: str | None = None) -> Conflict:
        return self.machine.illegal(self.action.name, state_label or self.machine.state_label(self.before))


async def _set_state(step: Step) -> None:
    setattr(step.record, step.machine.column, step.target)


async def enter_stamped(step: Step) -> None:
    """The enter hook of records that keep when their state changed and why (`state_changed_at`,
    `state_reason`, where they have them)."""
    setattr(step.record, step.machine.column, step.target)
    if hasattr(step.record, "state_changed_at"):
        step.record.state_changed_at = step.now
    if step.reason and hasattr(step.record, "state_reason"):
        step.record.state_reason = step.reason


def action(name: str, sources: Iterable[str], target: str | None, by: tuple[Party, ...], **hooks: Any) -> tuple[str, Action]:
    """One entry of a declaration's `actions`: (name, Action)."""
    return name, Action(name, frozenset(sources), target, by, **hooks)


def _audit_org(step: Step) -> uuid.UUID | None:
    return step.principal.organization_id if step.principal else None


@dataclass(frozen=True)
class Machine:
    name: str  # the audit actions' prefix: listing → listing_publish
    table: str
    column: str
    states: tuple[str, ...]
    initial: frozenset[str]  # the states a row may be inserted in
    actions: Mapping[str, Action]
    sides: Callable[[Principal, Any, Any], Iterable[str]]
    refusal: str  # 409 message id with %(state)s and %(action)s
    refusal_field: str  # the `action` field's message
    state_labels: Mapping[str, str] | None = None  # default: the state value (translated by value)
    action_labels: Mapping[str, str] | None = None  # default: the audit action name
    enter: Callable[[Step], Awaitable[None]] = _set_state
    organization: Callable[[Step], uuid.UUID | None] = _audit_org  # the audit event's organization

    def __post_init__(self) -> None:
        for action in self.actions.values():
            named = action.sources | ({action.target} if action.target else set())
            assert named <= set(self.states), f"{self.name}.{action.name} names unknown states"
        assert self.initial <= set(self.states)

    # ----- reading the declaration -------------------------------------------------------------

    def moves(self) -> set[tuple[str, str]]:
        """Every (from, to) state change the declaration allows (staying put is not a move)."""
        return {
            (str(source), str(action.target))
            for action in self.actions.values()
            if action.target is not None
            for source in action.sources
            if source != action.target
        }

    def state_label(self, state: str) -> str:
        return (self.state_labels or {}).get(state, str(state))

    def action_label(self, action: str) -> str:
        return (self.action_labels or {}).get(action, f"{self.name}_{action}")

    def illegal(self, action: str, state_label: str) -> Conflict:
        return Conflict(
            self.refusal, FieldError("action", self.refusal_field), state=state_label, action=self.action_label(action)
        )

    def action(self, name: str, *, by_person: bool = True) -> Action:
        """The declared action, or a field-level 422 on `action` (a system step is not a person's)."""
        action = self.actions.get(name)
        if action is None or (by_person and action.by_system):
            raise invalid("action", N_("Not one of the allowed values."))
        return action

    def sides_of(self, principal: Principal, record: Any, context: Any = None) -> frozenset[str]:
        if not principal.is_authenticated:
            return frozenset()
        return frozenset(self.sides(principal, record, context))

    def may(self, principal: Principal, record: Any, action: Action, context: Any = None, sides=None) -> bool:
        sides = self.sides_of(principal, record, context) if sides is None else sides
        return any(party.side in sides and principal.role in party.roles for party in action.by)

    def reason_required(self) -> set[str]:
        return {name for name, action in self.actions.items() if action.reason_required}

    def audit_actions(self) -> set[str]:
        return {f"{self.name}_{name}" for name in self.actions}


def actions(machine: Machine, principal: Principal, record: Any, context: Any = None) -> list[str]:
    """The actions the caller may take on the record now (the buttons a page shows, the API's
    `actions`), in declaration order: the same tests apply() makes before its guard."""
    sides = machine.sides_of(principal, record, context)
    if not sides:
        return []
    state = getattr(record, machine.column)
    return [
        name
        for name, action in machine.actions.items()
        if state in action.sources
        and machine.may(principal, record, action, context, sides)
        and (action.offered is None or action.offered(principal, record, context))
    ]


async def apply(
    session: Any,
    machine: Machine,
    principal: Principal | None,
    record: Any,
    action: str | Action,
    reason: str = "",
    *,
    context: Any = None,
    now: datetime | None = None,
    ip: str | None = None,
    details: dict | None = None,
    as_system: bool = False,
) -> Step:
    """Move `record` by `action` for `principal`, or refuse and change nothing (see the module
    docstring). `as_system`: a step the system takes (a job, or the consequence of a person's
    step already checked); the principal, if any, is recorded as the actor, and neither their
    permission nor the guard is checked — only the state table. The caller has loaded the
    record for update and answered 404 for what the principal may not see."""
    if isinstance(action, str):
        action = machine.action(action, by_person=not as_system)
    before = getattr(record, machine.column)
    sides = machine.sides_of(principal, record, context) if principal else frozenset()
    if not as_system and (principal is None or not machine.may(principal, record, action, context, sides)):
        raise Forbidden()
    step = Step(
        machine=machine,
        action=action,
        session=session,
        principal=principal,
        record=record,
        context=context,
        reason=(reason or "").strip(),
        now=now or utcnow(),
        before=before,
        target=action.target,
        sides=sides,
        details=dict(details or {}),
    )
    if before not in action.sources:
        raise step.refuse()
    if action.reason_required and not step.reason:
        raise invalid("reason", N_("Say why (or what): this step needs a text."))
    if action.guard is not None and not as_system:
        await action.guard(step)
    if step.target is not None:
        await machine.enter(step)
    await session.flush()
    event = await audit.record(
        session,
        f"{machine.name}_{action.name}",
        actor_user_id=principal.user_id if principal else None,
        organization_id=machine.organization(step),
        subject=record,
        ip=ip,
        before=before,
        after=getattr(record, machine.column),
        reason=step.reason,
        **step.details,
    )
    event.occurred_at = step.now
    return step


# ----- the database's guard -----------------------------------------------------------------------


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in sorted(values))


def trigger_sql(machine: Machine) -> tuple[str, str, str]:
    """The PostgreSQL statements (function, then trigger) that let a row of `machine.table` start
    only in an initial state and change state only along the declared moves. A migration holds
    them as literal text and executes each (re-running them replaces both)."""
    table, column = machine.table, machine.column
    moves = _sql_list(f"{a}>{b}" for a, b in machine.moves())
    initial = _sql_list(str(state) for state in machine.initial)
    function = f"""CREATE OR REPLACE FUNCTION {table}_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT NEW.{column} = ANY (ARRAY[{initial}]) THEN
            RAISE EXCEPTION '{table}: a row starts as {" or ".join(sorted(str(s) for s in machine.initial))}, not %', NEW.{column}
                USING ERRCODE = 'check_violation';
        END IF;
    ELSIF NEW.{column} IS DISTINCT FROM OLD.{column}
          AND NOT (OLD.{column} || '>' || NEW.{column}) = ANY (ARRAY[{moves}]) THEN
        RAISE EXCEPTION '{table}: cannot move from % to %', OLD.{column}, NEW.{column}
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$"""
    return (
        function,
        f"DROP TRIGGER IF EXISTS {table}_state_moves ON {table}",
        f"CREATE TRIGGER {table}_state_moves BEFORE INSERT OR UPDATE OF {column} ON {table}\n"
        f"    FOR EACH ROW EXECUTE FUNCTION {table}_state_moves()",
    )
