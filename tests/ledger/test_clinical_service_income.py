"""Clinical-trial service income (issue 13, point 7) may be received for a resource listing — the
research ward or trial site whose beds or trial earned it — while every other kind still names a
result; the platform admin finds the resource's institution the same way."""

from __future__ import annotations

import msgspec
import pytest

from marketplace.accounts.models import Role
from marketplace.catalog.schemas import ListingCreate
from marketplace.errors import NotFound
from tests.catalog.factories import resource_body, seed_listing
from tests.ledger.factories import income_body, ready_institutions, record


async def test_clinical_service_income_names_a_resource_and_other_kinds_do_not(db, world) -> None:
    await ready_institutions(db, world)
    manager = await world.principal(db, world.emails[Role.tto_manager])
    own = world.orgs["institution/own"].id
    ward = await seed_listing(db, own, msgspec.convert(resource_body(), ListingCreate), status="published")
    await db.commit()
    ward_id = ward.id

    income = await record(db, manager, income_body(ward_id, kind="clinical_service", source_kind="bed_allocation"))
    assert income.result_id == ward_id and income.source_kind == "bed_allocation"
    with pytest.raises(NotFound):
        await record(db, manager, income_body(ward_id, kind="licence"))
    await db.rollback()

    admin = await world.principal(db, world.emails[Role.platform_admin])
    by_admin = await record(db, admin, income_body(ward_id, kind="clinical_service", source_ref="HT-2"))
    assert by_admin.institution_id == own
