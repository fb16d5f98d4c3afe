"""PostgreSQL keeps every ward within its beds on every day, whatever the code does: approving
(or activating) an allocation holds its beds day by day, leaving those states frees them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from marketplace.beds.models import WardDayUsage
from tests.beds.factories import allocation_row, seed_ward


async def test_approved_beds_never_exceed_a_wards_beds_on_any_day(db, world) -> None:
    ward = await seed_ward(db, world, beds=10)
    company = world.orgs["company/own"].id
    first = allocation_row(ward, company, 6, date(2026, 12, 1), date(2026, 12, 10))
    second = allocation_row(ward, company, 5, date(2026, 12, 10), date(2026, 12, 20))
    db.add_all([first, second])
    await db.commit()
    ward_id, first_id, second_id = ward.id, first.id, second.id
    first.state = "approved"
    await db.commit()
    held = {row.day: row.held for row in await db.scalars(select(WardDayUsage).where(WardDayUsage.ward_id == ward.id))}
    assert len(held) == 10 and set(held.values()) == {6}
    second.state = "approved"
    with pytest.raises(IntegrityError, match="held_within_capacity"):
        await db.commit()  # 6 + 5 > 10 on 10 December
    await db.rollback()
    await db.execute(text("UPDATE bed_allocations SET state = 'cancelled' WHERE id = :id"), {"id": first_id})
    await db.execute(text("UPDATE bed_allocations SET state = 'approved' WHERE id = :id"), {"id": second_id})
    await db.commit()
    held = {row.day: row.held for row in await db.scalars(select(WardDayUsage).where(WardDayUsage.ward_id == ward_id))}
    assert held[date(2026, 12, 1)] == 0 and held[date(2026, 12, 10)] == 5
