"""An event's meeting slots: numbered from 0 across its days, each day from `day_starts_at` in
steps of `slot_minutes` until the next step would pass `day_ends_at` (China time). A number is
what registrations, the solver and the seats store; people see the times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from marketplace.db import CHINA_TIME


@dataclass(frozen=True)
class Slot:
    number: int
    day: date
    starts_at: datetime  # aware, China time
    ends_at: datetime


def per_day(day_starts_at: time, day_ends_at: time, slot_minutes: int) -> int:
    minutes = (day_ends_at.hour * 60 + day_ends_at.minute) - (day_starts_at.hour * 60 + day_starts_at.minute)
    return max(minutes // slot_minutes, 0) if slot_minutes > 0 else 0


def slots_of(event) -> list[Slot]:
    """Every slot of the event, in order."""
    count = per_day(event.day_starts_at, event.day_ends_at, event.slot_minutes)
    step = timedelta(minutes=event.slot_minutes)
    result: list[Slot] = []
    for offset in range((event.ends_on - event.starts_on).days + 1):
        day = event.starts_on + timedelta(days=offset)
        first = datetime.combine(day, event.day_starts_at, tzinfo=CHINA_TIME)
        for index in range(count):
            starts = first + index * step
            result.append(Slot(len(result), day, starts, starts + step))
    return result


def slot_count(event) -> int:
    return per_day(event.day_starts_at, event.day_ends_at, event.slot_minutes) * ((event.ends_on - event.starts_on).days + 1)
