"""The meeting scheduler, pure (no database): over random small events every constraint holds and
pins stay put; on tiny ones the placed weight equals a brute-force optimum; and a few cases by hand."""

from __future__ import annotations

import itertools
import random
from collections.abc import Hashable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.events.scheduling import Placement, Schedule, Wanted, schedule

PEOPLE = ["p1", "p2", "p3", "p4", "p5", "p6", "team-a", "team-b"]


@st.composite
def events(draw, max_slots: int = 12, max_meetings: int = 30) -> tuple[list[Wanted], int, int, set[tuple[int, int]]]:
    """(meetings, slots, tables, blocked): holders from a small pool so they collide often, and
    pins drawn one by one, each kept only if it fits with those before (as confirmed meetings do)."""
    slots = draw(st.integers(1, max_slots))
    tables = draw(st.integers(1, 4))
    cells = [(s, t) for s in range(slots) for t in range(tables)]
    blocked = set(draw(st.lists(st.sampled_from(cells), max_size=len(cells) // 3)))
    at_table: set[tuple[int, int]] = set(blocked)
    holding: set[tuple[str, int]] = set()
    wanted = []
    for key in range(draw(st.integers(0, max_meetings))):
        holders = frozenset(draw(st.sets(st.sampled_from(PEOPLE), min_size=1, max_size=3)))
        allowed = frozenset(draw(st.sets(st.integers(0, slots - 1))))
        pin = draw(st.none() | st.sampled_from(cells))
        if pin is not None and (pin in at_table or any((h, pin[0]) in holding for h in holders)):
            pin = None
        if pin is not None:
            at_table.add(pin)
            holding.update((h, pin[0]) for h in holders)
        wanted.append(Wanted(key=f"m{key}", holders=holders, slots=allowed, weight=draw(st.integers(1, 3)), pinned=pin))
    return wanted, slots, tables, blocked


def assert_valid(wanted: Sequence[Wanted], result: Schedule, slots: int, tables: int, blocked: set[tuple[int, int]]) -> None:
    by_key = {w.key: w for w in wanted}
    assert set(result.placed) <= set(by_key)
    assert result.unplaced == tuple(w.key for w in wanted if w.key not in result.placed)
    cells: set[tuple[int, int]] = set()
    held: set[tuple[Hashable, int]] = set()
    for key, at in result.placed.items():
        w = by_key[key]
        if w.pinned:
            assert (at.slot, at.table) == w.pinned
        else:
            assert at.slot in w.slots
        assert 0 <= at.slot < slots and 0 <= at.table < tables
        assert (at.slot, at.table) not in blocked
        assert (at.slot, at.table) not in cells, "two meetings at one table"
        cells.add((at.slot, at.table))
        for h in w.holders:
            assert (h, at.slot) not in held, f"{h} double-booked in slot {at.slot}"
            held.add((h, at.slot))
    assert all(w.key in result.placed for w in wanted if w.pinned)
    assert result.upper_bound >= len(result.placed)
    if result.optimal:  # nothing left out that would still fit
        for w in wanted:
            if w.key in result.placed:
                continue
            for s in w.slots:
                free = any((s, t) not in cells and (s, t) not in blocked for t in range(tables))
                assert not free or any((h, s) in held for h in w.holders), f"{w.key} fits in slot {s}"


def best_by_brute_force(wanted: Sequence[Wanted], tables: int, blocked: set[tuple[int, int]]) -> tuple[int, int]:
    """(the most weight, the most meetings) any valid schedule places, by trying every subset."""
    pinned = [w for w in wanted if w.pinned]
    free = [w for w in wanted if not w.pinned]

    def fits(chosen: Sequence[Wanted]) -> bool:
        room = {s: tables - sum(1 for t in range(tables) if (s, t) in blocked) for s in range(64)}
        held = set()
        for w in pinned:
            assert w.pinned is not None
            room[w.pinned[0]] -= 1
            held.update((h, w.pinned[0]) for h in w.holders)

        def place(k: int) -> bool:
            if k == len(chosen):
                return True
            for s in chosen[k].slots:
                if room[s] > 0 and not any((h, s) in held for h in chosen[k].holders):
                    room[s] -= 1
                    held.update((h, s) for h in chosen[k].holders)
                    if place(k + 1):
                        return True
                    room[s] += 1
                    held.difference_update((h, s) for h in chosen[k].holders)
            return False

        return place(0)

    weight = count = 0
    for n in range(len(free) + 1):
        for chosen in itertools.combinations(free, n):
            if fits(chosen):
                weight = max(weight, sum(w.weight for w in chosen))
                count = max(count, n)
    return weight + sum(w.weight for w in pinned), count + len(pinned)


@settings(max_examples=60, deadline=None)
@given(event=events())
def test_every_constraint_holds_and_pins_stay(event) -> None:
    wanted, slots, tables, blocked = event
    result = schedule(wanted, slots=slots, tables=tables, blocked=blocked, time_limit=5, workers=1)
    assert_valid(wanted, result, slots, tables, blocked)


@settings(max_examples=60, deadline=None)
@given(event=events(max_slots=5, max_meetings=8))
def test_tiny_events_place_the_brute_force_optimum(event) -> None:
    wanted, slots, tables, blocked = event
    result = schedule(wanted, slots=slots, tables=tables, blocked=blocked, time_limit=5, workers=1)
    assert_valid(wanted, result, slots, tables, blocked)
    best_weight, most = best_by_brute_force(wanted, tables, blocked)
    assert sum(w.weight for w in wanted if w.key in result.placed) == best_weight
    assert result.optimal
    assert most <= result.upper_bound


def meeting(key: str, *holders: str, slots: set[int], weight: int = 1, pinned: tuple[int, int] | None = None) -> Wanted:
    return Wanted(key=key, holders=frozenset(holders), slots=frozenset(slots), weight=weight, pinned=pinned)


def test_all_fit() -> None:
    wanted = [
        meeting("a", "p1", "t1", slots={0, 1}),
        meeting("b", "p1", "t2", slots={0, 1}),
        meeting("c", "p2", "t1", slots={0, 1}),
    ]
    result = schedule(wanted, slots=2, tables=2)
    assert set(result.placed) == {"a", "b", "c"} and result.unplaced == ()
    assert result.upper_bound == 3 and result.optimal
    assert result.placed["a"].slot != result.placed["b"].slot  # p1 in both
    assert result.placed["a"].slot != result.placed["c"].slot  # t1 in both


def test_more_meetings_than_tables_leave_the_rest_unplaced_with_a_tight_bound() -> None:
    wanted = [meeting(f"m{k}", f"p{k}", f"t{k}", slots={0, 1}) for k in range(7)]
    result = schedule(wanted, slots=2, tables=2)
    assert len(result.placed) == 4 and len(result.unplaced) == 3
    assert result.unplaced == tuple(w.key for w in wanted if w.key not in result.placed)
    assert result.upper_bound == 4 and result.optimal


def test_a_person_in_two_meetings_free_in_one_slot_gets_one() -> None:
    result = schedule([meeting("a", "p", "t1", slots={0}), meeting("b", "p", "t2", slots={0})], slots=3, tables=2)
    assert len(result.placed) == 1 and result.upper_bound == 1


def test_a_popular_team_bounds_the_count() -> None:
    """Tables to spare, but one team free in 2 slots wanted by 5 companies: the bound says 2."""
    wanted = [meeting(f"m{k}", f"c{k}", "team", slots={0, 1}) for k in range(5)]
    result = schedule(wanted, slots=4, tables=5)
    assert len(result.placed) == 2 and result.upper_bound == 2 and result.optimal


def test_weights_decide_who_goes() -> None:
    wanted = [meeting("light", "p", "t1", slots={0}), meeting("heavy", "p", "t2", slots={0}, weight=5)]
    assert schedule(wanted, slots=1, tables=2).placed.keys() == {"heavy"}


def test_weight_beats_count_when_they_disagree() -> None:
    """Two light meetings or one heavy one that blocks both: the heavy one weighs more."""
    wanted = [
        meeting("x", "p", slots={0}),
        meeting("y", "q", slots={0}),
        meeting("big", "p", "q", slots={0}, weight=3),
    ]
    result = schedule(wanted, slots=1, tables=2)
    assert result.placed.keys() == {"big"} and result.upper_bound >= 2


def test_a_pinned_meeting_stays_even_outside_its_slots_and_holds_its_people() -> None:
    wanted = [meeting("confirmed", "p", "t1", slots={1}, pinned=(0, 1)), meeting("other", "p", "t2", slots={0, 1})]
    result = schedule(wanted, slots=2, tables=2)
    assert result.placed["confirmed"] == Placement(0, 1)
    assert result.placed["other"].slot == 1


def test_blocked_tables_are_not_used() -> None:
    wanted = [meeting("a", "p1", slots={0}), meeting("b", "p2", slots={0})]
    result = schedule(wanted, slots=1, tables=2, blocked=[(0, 0)])
    assert list(result.placed.values()) == [Placement(0, 1)] and result.upper_bound == 1


def test_conflicting_pins_raise_naming_them() -> None:
    same_table = [meeting("a", "p1", slots=set(), pinned=(0, 0)), meeting("b", "p2", slots=set(), pinned=(0, 0))]
    with pytest.raises(ValueError, match="'a' and 'b'"):
        schedule(same_table, slots=1, tables=2)
    same_person = [meeting("a", "p", slots=set(), pinned=(0, 0)), meeting("b", "p", slots=set(), pinned=(0, 1))]
    with pytest.raises(ValueError, match="'a' and 'b'"):
        schedule(same_person, slots=1, tables=2)


@pytest.mark.parametrize(
    ("wanted", "slots", "tables", "blocked"),
    [
        ([], -1, 1, []),
        ([], 1, -1, []),
        ([], 1, 1, [(1, 0)]),
        ([meeting("a", "p", slots={2})], 2, 1, []),
        ([meeting("a", "p", slots=set(), pinned=(0, 3))], 2, 1, []),
        ([meeting("a", "p", slots=set(), pinned=(0, 0))], 2, 1, [(0, 0)]),
        ([meeting("a", "p", slots={0}), meeting("a", "q", slots={0})], 2, 1, []),
        ([meeting("a", "p", slots={0}, weight=0)], 2, 1, []),
    ],
)
def test_bad_input_is_a_value_error(wanted, slots, tables, blocked) -> None:
    with pytest.raises(ValueError):
        schedule(wanted, slots=slots, tables=tables, blocked=blocked)


def test_empty_input_is_an_empty_schedule() -> None:
    result = schedule([], slots=0, tables=0)
    assert result.placed == {} and result.unplaced == () and result.upper_bound == 0 and result.optimal


def test_the_solver_improves_on_a_greedy_start() -> None:
    """The greedy start places the busy team's meetings first and gives "a" slot 1, which costs the
    team nothing but is the only slot "c" can take; CP-SAT finds the schedule of all three."""
    wanted = [meeting("c", "p1", slots={1}), meeting("a", "p2", "team", slots={1, 2}), meeting("b", "p3", "team", slots={0, 2})]
    result = schedule(wanted, slots=3, tables=1)
    assert result.placed == {"c": Placement(1, 0), "a": Placement(2, 0), "b": Placement(0, 0)} and result.optimal


def test_the_same_input_gives_the_same_schedule() -> None:
    wanted = [meeting(f"m{k}", f"c{k % 7}", f"t{k % 4}", slots={k % 5, (k * 3) % 5, 4}, weight=1 + k % 3) for k in range(30)]
    first = schedule(wanted, slots=5, tables=3)
    for _ in range(3):
        again = schedule(wanted, slots=5, tables=3)
        assert (again.placed, again.unplaced, again.upper_bound) == (first.placed, first.unplaced, first.upper_bound)


def test_a_short_time_limit_still_gives_a_valid_schedule() -> None:
    """Too little time for the solver to finish: the answer is still valid and near the bound."""
    rng = random.Random(17)
    free = {p: frozenset(rng.sample(range(16), 11)) for p in [*(f"c{k}" for k in range(40)), *(f"t{k}" for k in range(15))]}
    pairs = {(f"c{rng.randrange(40)}", f"t{min(rng.randrange(15), rng.randrange(15))}") for _ in range(400)}
    # Unequal weights: the greedy start reaching the counting bound does not end the search.
    wanted = [meeting(f"{c}-{t}", c, t, slots=free[c] & free[t], weight=1 + k % 3) for k, (c, t) in enumerate(sorted(pairs))]
    result = schedule(wanted, slots=16, tables=12, time_limit=0.2)
    assert_valid(wanted, result, 16, 12, set())
    assert len(result.placed) >= 0.95 * result.upper_bound
