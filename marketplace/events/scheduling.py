"""TEMPORARY greedy stand-in, replaced by the CP-SAT module at merge.

The same interface as the real solver (notes/events.md): `schedule(wanted, *, slots, tables,
blocked=(), time_limit=20.0) -> Schedule`. It keeps the pinned meetings where they are, then places
the others heaviest first into the first free (slot, table) where none of their holders sits.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    slot: int
    table: int


@dataclass(frozen=True)
class Wanted:
    key: Hashable
    holders: frozenset
    slots: frozenset[int]
    weight: int = 1
    pinned: tuple[int, int] | None = None


@dataclass(frozen=True)
class Schedule:
    placed: dict
    unplaced: list
    upper_bound: int
    optimal: bool
    seconds: float


def schedule(
    wanted: Sequence[Wanted],
    *,
    slots: int,
    tables: int,
    blocked: Iterable[tuple[int, int]] = (),
    time_limit: float = 20.0,
) -> Schedule:
    started = time.monotonic()
    taken_cells = set(blocked)
    seated: set[tuple[int, object]] = set()
    placed: dict = {}
    for item in wanted:
        if item.pinned is not None:
            placed[item.key] = Placement(*item.pinned)
            taken_cells.add(item.pinned)
            seated.update((item.pinned[0], holder) for holder in item.holders)
    for item in sorted((w for w in wanted if w.pinned is None), key=lambda w: -w.weight):
        for slot in sorted(s for s in item.slots if 0 <= s < slots):
            if any((slot, holder) in seated for holder in item.holders):
                continue
            table = next((t for t in range(tables) if (slot, t) not in taken_cells), None)
            if table is None:
                continue
            placed[item.key] = Placement(slot, table)
            taken_cells.add((slot, table))
            seated.update((slot, holder) for holder in item.holders)
            break
    unplaced = [item.key for item in wanted if item.key not in placed]
    bound = sum(1 for item in wanted if item.pinned is not None or any(0 <= s < slots for s in item.slots))
    return Schedule(placed, unplaced, min(bound, slots * tables), False, time.monotonic() - started)
