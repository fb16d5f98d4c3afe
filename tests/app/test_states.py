"""The shared state-machine mechanism (marketplace/states.py), and each machine's database guard
against its declaration."""

from __future__ import annotations

import itertools

import msgspec
import pytest
from sqlalchemy import select, text

from marketplace import states
from marketplace.accounts.access_requests import LIFECYCLE as ACCESS_REQUEST
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Role
from marketplace.audit.models import AuditEvent
from marketplace.beds.lifecycle import MACHINES as BED_MACHINES
from marketplace.catalog.lifecycle import LIFECYCLE
from marketplace.catalog.models import Listing, Status
from marketplace.catalog.schemas import ListingCreate
from marketplace.errors import Conflict, Forbidden, InvalidInput
from marketplace.events.lifecycle import MACHINES as EVENT_MACHINES
from marketplace.licensing.lifecycle import LIFECYCLE as AGREEMENT
from marketplace.licensing.lifecycle import OBLIGATION
from marketplace.matching.needs.lifecycle import NEED, RESPONSE
from marketplace.matching.requests.lifecycle import LIFECYCLE as MATCH_REQUEST
from marketplace.tenancy import ANONYMOUS
from tests.catalog.factories import result_body, seed_listing

# Every machine the product declares: each must have its guard in the database.
MACHINES = [ACCESS_REQUEST, LIFECYCLE, MATCH_REQUEST, NEED, RESPONSE, AGREEMENT, OBLIGATION, *BED_MACHINES, *EVENT_MACHINES]


async def _guarded(step: states.Step) -> None:
    if step.reason == "refuse":
        raise step.refuse()
    step.details["guarded"] = True


# A toy machine on listings, to try the mechanism on its own.
TOY = states.Machine(
    name="toy",
    table="listings",
    column="status",
    states=tuple(Status),
    initial=frozenset({Status.draft}),
    actions={
        "submit": states.Action(
            "submit",
            frozenset({Status.draft}),
            Status.pending_review,
            (states.Party("owner", TTO_ROLES),),
            guard=_guarded,
        ),
        "return": states.Action(
            "return",
            frozenset({Status.pending_review}),
            Status.draft,
            (states.Party("owner", TTO_ROLES), states.Party("anyone", COMPANY_ROLES)),
            reason_required=True,
        ),
        "note": states.Action(
            "note",
            frozenset({Status.draft}),
            None,
            (states.Party("owner", TTO_ROLES),),
            offered=lambda principal, listing, context: context == "show notes",
        ),
        "sweep": states.Action("sweep", frozenset({Status.draft}), Status.archived),
    },
    sides=lambda principal, listing, _context: (
        {"anyone"} | ({"owner"} if listing.institution_id == principal.organization_id else set())
    ),
    refusal="A listing that is %(state)s cannot be %(action)s.",
    refusal_field="Not allowed from the listing's current status.",
)


async def _listing(db, world) -> Listing:
    listing = await seed_listing(db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate))
    await db.commit()
    return listing


async def _events(db, listing: Listing) -> list[AuditEvent]:
    return list((await db.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(listing.id)))).all())


async def test_an_action_moves_the_record_and_audits_it_with_actor_and_reason(client, db, world) -> None:
    listing = await _listing(db, world)
    tto = await world.principal(db, world.emails[Role.tto_staff])
    step = await states.apply(db, TOY, tto, listing, "submit", "  ready  ")
    assert listing.status == Status.pending_review and step.before == Status.draft
    [event] = await _events(db, listing)
    assert event.action == "toy_submit" and event.actor_user_id == tto.user_id
    assert event.organization_id == tto.organization_id
    assert event.data == {"before": "draft", "after": "pending_review", "reason": "ready", "guarded": True}


async def test_an_illegal_move_is_a_409_that_changes_nothing(client, db, world) -> None:
    listing = await _listing(db, world)
    tto = await world.principal(db, world.emails[Role.tto_staff])
    with pytest.raises(Conflict) as refused:
        await states.apply(db, TOY, tto, listing, "return", "why")
    assert refused.value.status_code == 409 and refused.value.params == {"state": "draft", "action": "toy_return"}
    assert [e.field for e in refused.value.errors] == ["action"]
    # A guard refuses the same way, before anything is written.
    with pytest.raises(Conflict):
        await states.apply(db, TOY, tto, listing, "submit", "refuse")
    listing_id = listing.id
    await db.rollback()
    assert await db.scalar(select(Listing.status).where(Listing.id == listing_id)) == Status.draft
    assert await db.scalar(select(AuditEvent.id).where(AuditEvent.subject_id == str(listing_id))) is None


async def test_who_may_act_and_the_reason_a_step_needs(client, db, world) -> None:
    listing = await _listing(db, world)
    tto = await world.principal(db, world.emails[Role.tto_staff])
    company = await world.principal(db, world.emails[Role.company_member])
    inventor = await world.principal(db, world.emails[Role.inventor])
    with pytest.raises(Forbidden):
        await states.apply(db, TOY, company, listing, "submit")
    with pytest.raises(InvalidInput) as unknown:
        await states.apply(db, TOY, tto, listing, "sweep")  # the system's step, not a person's
    assert [e.field for e in unknown.value.errors] == ["action"]
    await states.apply(db, TOY, tto, listing, "submit")
    with pytest.raises(InvalidInput) as missing:
        await states.apply(db, TOY, company, listing, "return", "   ")
    assert [e.field for e in missing.value.errors] == ["reason"]
    assert listing.status == Status.pending_review
    await states.apply(db, TOY, company, listing, "return", "改一下")
    assert listing.status == Status.draft
    # The system's step, applied for it; the state-keeping step, offered only when its hook says so.
    assert states.actions(TOY, tto, listing) == ["submit"]
    assert states.actions(TOY, tto, listing, "show notes") == ["submit", "note"]
    assert states.actions(TOY, inventor, listing) == [] and states.actions(TOY, ANONYMOUS, listing) == []
    await states.apply(db, TOY, None, listing, "sweep", as_system=True)
    assert listing.status == Status.archived
    assert [e.action for e in await _events(db, listing)] == ["toy_submit", "toy_return", "toy_sweep"]
    assert TOY.reason_required() == {"return"}


def test_a_declaration_names_only_its_own_states() -> None:
    with pytest.raises(AssertionError):
        states.Machine(
            name="bad",
            table="t",
            column="state",
            states=("a", "b"),
            initial=frozenset({"a"}),
            actions={"go": states.Action("go", frozenset({"a"}), "c")},
            sides=lambda *_: (),
            refusal="",
            refusal_field="",
        )


# ----- the database's guard is the declaration ------------------------------------------------------


async def _accepted(db, machine: states.Machine) -> tuple[set[str], set[tuple[str, str]]]:
    """Which inserts and state changes the installed guard function lets through, tried one by one
    on a scratch table with the machine's state column."""
    probe, column = f"probe_{machine.table}", machine.column
    await db.execute(text(f"CREATE TEMP TABLE {probe} (id int PRIMARY KEY, {column} text)"))
    await db.execute(
        text(
            f"CREATE TRIGGER guard BEFORE INSERT OR UPDATE OF {column} ON {probe}"
            f" FOR EACH ROW EXECUTE FUNCTION {machine.table}_state_moves()"
        )
    )
    everything = [str(s) for s in machine.states]
    inserted, moved = set(), set()
    for i, state in enumerate(everything):
        try:
            async with db.begin_nested():
                await db.execute(text(f"INSERT INTO {probe} VALUES (:id, :state)"), {"id": i, "state": state})
            inserted.add(state)
        except Exception:
            pass
    await db.execute(text(f"ALTER TABLE {probe} DISABLE TRIGGER guard"))
    await db.execute(text(f"DELETE FROM {probe}"))
    await db.execute(text(f"INSERT INTO {probe} VALUES (1, NULL)"))
    await db.execute(text(f"ALTER TABLE {probe} ENABLE TRIGGER guard"))
    for source, target in itertools.permutations(everything, 2):
        try:
            async with db.begin_nested():
                await db.execute(text(f"ALTER TABLE {probe} DISABLE TRIGGER guard"))
                await db.execute(text(f"UPDATE {probe} SET {column} = :s"), {"s": source})
                await db.execute(text(f"ALTER TABLE {probe} ENABLE TRIGGER guard"))
                await db.execute(text(f"UPDATE {probe} SET {column} = :t"), {"t": target})
                raise _Rollback
        except _Rollback:
            moved.add((source, target))
        except Exception:
            pass
    return inserted, moved


class _Rollback(Exception):
    """Undo a move that went through, so the next one starts from a clean row."""


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
async def test_the_database_allows_exactly_the_declared_starts_and_moves(client, db, machine) -> None:
    definition = await db.scalar(
        text(
            "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE c.relname = :table AND t.tgname = :name AND t.tgenabled = 'O'"
        ),
        {"table": machine.table, "name": f"{machine.table}_state_moves"},
    )
    assert definition and f"BEFORE INSERT OR UPDATE OF {machine.column} ON public.{machine.table}" in definition
    assert f"EXECUTE FUNCTION {machine.table}_state_moves()" in definition
    inserted, moved = await _accepted(db, machine)
    await db.rollback()
    assert inserted == {str(s) for s in machine.initial}
    assert moved == machine.moves()
