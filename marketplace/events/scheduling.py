"""Placing an event's accepted one-to-one meetings into slots and tables: pure, no database.

Why CP-SAT: this is weighted timetabling (each meeting needs one slot in which all its sides are
free, a table, and nobody twice in a slot), NP-hard in general. A hand-written search gets stuck
once popular teams compete for the same slots; OR-Tools' CP-SAT is a well-kept solver that improves
a schedule with large-neighbourhood and local search and, as important for the organiser, proves a
bound, so "placed 1,520 of at most 1,523" is a fact rather than a guess.

The model: one boolean per (meeting, slot it may take); each meeting at most one slot; each slot at
most as many meetings as it has usable tables (tables minus blocked ones minus confirmed meetings
pinned there); each holder (a person, an institution's team) in at most one meeting per slot;
maximise the placed weight. Pinned meetings are not variables: they stay where they are and only
take their table and their holders out of their slot. A greedy schedule is given as a hint so the
solver starts from a good answer, and is the answer if the solver finds none in time.

Why tables are assigned afterwards: within a slot tables are interchangeable, so a (meeting, slot,
table) model would only multiply the variables by the number of tables and add symmetric
solutions the solver must rule out. Once each slot's meetings are known and fit its count of free
tables, numbering them is trivial.

The upper bound reported is the smaller of the solver's proven bound and a counting bound (a max
flow of meetings into slot capacities keeping only each meeting's busiest holder, _flow_bound) —
both valid; the flow one takes milliseconds and is tight when tables or popular teams are the
bottleneck, and with equal weights a schedule that reaches it ends the search at once.
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from ortools.graph.python import max_flow
from ortools.sat.python import cp_model

MAX_WORKERS = 8
SMALL = 2_000  # (meeting, slot) variables under which one worker solves as fast as several
SEED = 17  # fixed: with one worker the same input gives the same schedule (parallel workers race)


@dataclass(frozen=True)
class Wanted:
    """An accepted meeting request to place."""

    key: Hashable  # the meeting's id
    holders: frozenset[Hashable]  # what must not be double-booked: the people attending and, for an institution, its team
    slots: frozenset[int]  # slot indices in which every side is available
    weight: int = 1  # higher: placed first when not all fit
    pinned: tuple[int, int] | None = None  # (slot, table) of a confirmed meeting: stays exactly there


@dataclass(frozen=True)
class Placement:
    slot: int
    table: int


@dataclass(frozen=True)
class Schedule:
    placed: dict[Hashable, Placement]
    unplaced: tuple[Hashable, ...]  # in input order
    upper_bound: int  # a proven upper bound on how many could be placed
    optimal: bool
    seconds: float


def schedule(
    wanted: Sequence[Wanted],
    *,
    slots: int,
    tables: int,
    blocked: Iterable[tuple[int, int]] = (),
    time_limit: float = 20.0,
    workers: int | None = None,
) -> Schedule:
    """Places as much weight of `wanted` as fits; pinned meetings stay exactly where they are.
    ValueError for bad input, and for pinned meetings that conflict (naming them)."""
    began = time.perf_counter()
    blocked_set = _validate(wanted, slots, tables, blocked, time_limit)
    free_tables = _free_tables(wanted, slots, tables, blocked_set)
    busy = {(h, w.pinned[0]) for w in wanted if w.pinned for h in w.holders}
    # What each unpinned meeting may take: its slots with a free table and none of its holders pinned there.
    options = {
        i: sorted(s for s in w.slots if free_tables[s] and not any((h, s) in busy for h in w.holders))
        for i, w in enumerate(wanted)
        if w.pinned is None
    }
    options = {i: o for i, o in options.items() if o}
    capacity = [len(t) for t in free_tables]
    counted = _flow_bound(wanted, options, capacity)
    chosen, bound, optimal = _solve(wanted, options, capacity, counted, began + time_limit, workers)

    placed: dict[Hashable, Placement] = {}
    for i, w in enumerate(wanted):
        if w.pinned:
            placed[w.key] = Placement(*w.pinned)
        elif i in chosen:
            placed[w.key] = Placement(chosen[i], free_tables[chosen[i]].pop(0))
    return Schedule(
        placed=placed,
        unplaced=tuple(w.key for w in wanted if w.key not in placed),
        upper_bound=sum(1 for w in wanted if w.pinned) + bound,
        optimal=optimal,
        seconds=time.perf_counter() - began,
    )


def _validate(
    wanted: Sequence[Wanted], slots: int, tables: int, blocked: Iterable[tuple[int, int]], time_limit: float
) -> set[tuple[int, int]]:
    if slots < 0 or tables < 0:
        raise ValueError("slots and tables must not be negative")
    if not time_limit > 0:
        raise ValueError("the time limit must be positive")
    blocked_set = set(blocked)
    for s, t in blocked_set:
        if not (0 <= s < slots and 0 <= t < tables):
            raise ValueError(f"blocked ({s}, {t}) is outside {slots} slots × {tables} tables")
    keys: set[Hashable] = set()
    for w in wanted:
        if w.key in keys:
            raise ValueError(f"meeting {w.key!r} is given twice")
        keys.add(w.key)
        if w.weight < 1:
            raise ValueError(f"meeting {w.key!r}: the weight must be at least 1")
        if any(not 0 <= s < slots for s in w.slots):
            raise ValueError(f"meeting {w.key!r}: a slot outside 0..{slots - 1}")
        if w.pinned:
            s, t = w.pinned
            if not (0 <= s < slots and 0 <= t < tables):
                raise ValueError(f"meeting {w.key!r} is pinned at ({s}, {t}), outside {slots} slots × {tables} tables")
            if (s, t) in blocked_set:
                raise ValueError(f"meeting {w.key!r} is pinned at ({s}, {t}), a blocked table")
    _check_pins(wanted)
    return blocked_set


def _check_pins(wanted: Sequence[Wanted]) -> None:
    """Two pinned meetings at one table, or sharing a holder in one slot, cannot both stay."""
    at_table: dict[tuple[int, int], Hashable] = {}
    holding: dict[tuple[Hashable, int], Hashable] = {}
    for w in wanted:
        if not w.pinned:
            continue
        if (other := at_table.setdefault(w.pinned, w.key)) != w.key:
            raise ValueError(f"pinned meetings {other!r} and {w.key!r} share slot {w.pinned[0]} table {w.pinned[1]}")
        for h in w.holders:
            if (other := holding.setdefault((h, w.pinned[0]), w.key)) != w.key:
                raise ValueError(f"pinned meetings {other!r} and {w.key!r} both hold {h!r} in slot {w.pinned[0]}")


def _free_tables(wanted: Sequence[Wanted], slots: int, tables: int, blocked: set[tuple[int, int]]) -> list[list[int]]:
    taken = blocked | {w.pinned for w in wanted if w.pinned}
    return [[t for t in range(tables) if (s, t) not in taken] for s in range(slots)]


def _greedy(wanted: Sequence[Wanted], options: dict[int, list[int]], capacity: list[int]) -> dict[int, int]:
    """Heaviest first, then the meetings of the busiest holders (a popular team's), then the most
    constrained; each into the slot that costs the others least: the one the fewest still-waiting
    meetings of its holders could take, then the least wanted per free table."""
    busy = _busy(wanted, options)
    waiting: dict[tuple[Hashable, int], int] = defaultdict(int)  # (holder, slot): unplaced meetings that could take it
    wanting = [0] * len(capacity)  # per slot: unplaced meetings that could take it
    for i, allowed in options.items():
        for s in allowed:
            wanting[s] += 1
            for h in wanted[i].holders:
                waiting[h, s] += 1
    left = list(capacity)
    held: set[tuple[Hashable, int]] = set()
    chosen: dict[int, int] = {}
    busiest = {i: max((busy[h] for h in wanted[i].holders), default=0) for i in options}
    for i in sorted(options, key=lambda i: (-wanted[i].weight, -busiest[i], len(options[i]), i)):
        holders = wanted[i].holders
        for s in options[i]:
            wanting[s] -= 1
            for h in holders:
                waiting[h, s] -= 1
        fits = [s for s in options[i] if left[s] and not any((h, s) in held for h in holders)]
        if fits:
            s = min(fits, key=lambda s: (sum(waiting[h, s] for h in holders), wanting[s] / left[s], s))
            chosen[i] = s
            left[s] -= 1
            held.update((h, s) for h in holders)
    return chosen


def _busy(wanted: Sequence[Wanted], options: dict[int, list[int]]) -> dict[Hashable, int]:
    """How many placeable meetings each holder is in."""
    busy: dict[Hashable, int] = defaultdict(int)
    for i in options:
        for h in wanted[i].holders:
            busy[h] += 1
    return busy


def _solve(
    wanted: Sequence[Wanted],
    options: dict[int, list[int]],
    capacity: list[int],
    counted: int,
    deadline: float,
    workers: int | None,
) -> tuple[dict[int, int], int, bool]:
    """(slot chosen per meeting index, an upper bound on how many unpinned fit, proven optimal).
    `counted` is the flow bound on how many unpinned fit; `deadline` a time.perf_counter() value."""
    greedy = _greedy(wanted, options, capacity)
    weights = {wanted[i].weight for i in options}
    if len(greedy) == len(options) or (len(weights) == 1 and len(greedy) == counted):
        return greedy, counted, True  # all placed, or equal weights and as many as the counting bound allows

    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    per_slot: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    per_holder: dict[tuple[Hashable, int], list[cp_model.IntVar]] = defaultdict(list)
    holders = _distinct_holders(wanted, options)
    for i, allowed in options.items():
        for s in allowed:
            v = x[i, s] = model.new_bool_var(f"m{i}s{s}")
            per_slot[s].append(v)
            for h in holders[i]:
                per_holder[h, s].append(v)
        model.add_at_most_one(x[i, s] for s in allowed)
    for s, vs in per_slot.items():
        if len(vs) > capacity[s]:
            model.add(sum(vs) <= capacity[s])
    for vs in per_holder.values():
        if len(vs) > 1:
            model.add_at_most_one(vs)
    model.add(sum(x.values()) <= counted)  # redundant, but gives the solver the counting bound
    model.maximize(sum(wanted[i].weight * v for (i, _s), v in x.items()))
    for (i, s), v in x.items():
        model.add_hint(v, greedy.get(i) == s)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(deadline - time.perf_counter(), 0.1)  # the model took some of it
    # One worker for a small model: as fast, and the same input then gives the same schedule.
    solver.parameters.num_workers = workers or (1 if len(x) < SMALL else min(os.cpu_count() or 1, MAX_WORKERS))
    solver.parameters.random_seed = SEED
    # Same weights: a schedule with as many meetings as the counting bound cannot be beaten.
    status = solver.solve(model, _StopAt(min(weights) * counted) if len(weights) == 1 else None)

    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = {i: s for (i, s), v in x.items() if solver.boolean_value(v)}
    else:  # no answer in time: the greedy one is valid
        chosen = greedy
    bound = counted
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # Any k meetings weigh at least k × the lightest weight, so the weight bound caps the count.
        bound = min(bound, math.floor(solver.best_objective_bound / min(weights) + 1e-6))
    optimal = status == cp_model.OPTIMAL or (len(weights) == 1 and len(chosen) == bound)
    return chosen, max(bound, len(chosen)), optimal


class _StopAt(cp_model.CpSolverSolutionCallback):
    """Ends the search at a solution worth `target` (known to be the best possible)."""

    def __init__(self, target: int) -> None:
        super().__init__()
        self.target = target

    def on_solution_callback(self) -> None:
        if self.objective_value >= self.target:
            self.stop_search()


def _distinct_holders(wanted: Sequence[Wanted], options: dict[int, list[int]]) -> dict[int, list[Hashable]]:
    """Each meeting's holders, keeping one of any holders that share exactly the same meetings
    (a one-team institution's person and its team): their constraints would be copies."""
    meetings: dict[Hashable, list[int]] = defaultdict(list)
    for i in options:
        for h in _ordered(wanted[i].holders):
            meetings[h].append(i)
    kept: dict[tuple[int, ...], Hashable] = {}
    for h, ms in meetings.items():
        kept.setdefault(tuple(ms), h)
    keep = set(kept.values())
    return {i: [h for h in _ordered(wanted[i].holders) if h in keep] for i in options}


def _flow_bound(wanted: Sequence[Wanted], options: dict[int, list[int]], capacity: list[int]) -> int:
    """How many unpinned meetings could fit if each had only its busiest holder (the one in most
    meetings, typically a popular team): a max flow meeting → (that holder, slot) → slot, with one
    meeting per holder and slot and `capacity` per slot. Dropping the other holders only relaxes the
    problem, so the flow is a valid bound; keeping the busiest one makes it tight when popular teams
    or tables are the bottleneck."""
    if not options:
        return 0
    busy = _busy(wanted, options)
    nodes: dict[Hashable, int] = {}

    def node(name: Hashable) -> int:
        return nodes.setdefault(name, len(nodes))

    flow = max_flow.SimpleMaxFlow()
    source, sink = node("source"), node("sink")
    for s, c in enumerate(capacity):
        flow.add_arc_with_capacity(node(("slot", s)), sink, c)
    for i, allowed in options.items():
        flow.add_arc_with_capacity(source, node(("meeting", i)), 1)
        charged = max(_ordered(wanted[i].holders), key=lambda h: busy[h]) if wanted[i].holders else ("meeting", i)
        for s in allowed:
            if ("held", charged, s) not in nodes:
                flow.add_arc_with_capacity(node(("held", charged, s)), node(("slot", s)), 1)
            flow.add_arc_with_capacity(node(("meeting", i)), nodes["held", charged, s], 1)
    if flow.solve(source, sink) != flow.OPTIMAL:
        return len(options)
    return flow.optimal_flow()


def _ordered(holders: frozenset[Hashable]) -> list[Hashable]:
    """A set's holders in an order that does not change between runs (string hashes do)."""
    return sorted(holders, key=repr)
