"""Open licences (开放许可): the TTO declares one on a published result; a company's administrator
takes it in one action and holds a signed, active ordinary licence at once; two companies take it
twice, the same company once; a withdrawal stops new takers only; an exclusive licence refuses it."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.catalog.models import Listing
from marketplace.errors import Conflict, Duplicate, Forbidden, InvalidInput, NotAuthenticated, NotFound
from marketplace.licensing.models import Agreement, Document, OpenLicenceState, State
from marketplace.licensing.open_licence_schemas import OpenLicenceIn
from marketplace.licensing.services import LicensingService
from marketplace.search.models import OutboxEntry
from marketplace.tenancy import Principal
from tests.licensing.factories import (
    declared,
    draft,
    licence_body,
    move,
    obligations,
    open_licence_body,
    published_result,
    signed,
    take,
)
from tests.support.web import login, post_form

OTHER_COMPANY_ADMIN = "admin@company.other.test"


async def listing_of(db, listing_id) -> Listing:
    return await db.scalar(select(Listing).where(Listing.id == listing_id).execution_options(populate_existing=True))


async def test_an_open_licence_is_taken_in_one_action_by_two_companies(db, world) -> None:
    declaration = await declared(db, world)
    listing = await listing_of(db, declaration.listing_id)
    assert listing.open_licence is not None and listing.open_licence["id"] == str(declaration.id)
    assert listing.open_licence["royalty_bp"] == 300
    outbox = await db.scalars(select(OutboxEntry.entity_id).where(OutboxEntry.entity_id == listing.id))
    assert len(list(outbox)) >= 2  # published, then the declaration: search hears of both

    first = await take(db, world, declaration.id)
    assert first.kind == "open_licence" and first.state == State.active and first.open_licence_id == declaration.id
    assert first.company_id == world.orgs["company/own"].id and first.institution_id == declaration.institution_id
    assert (first.upfront_fen, first.royalty_bp, first.term_months, first.territory) == (5_000_000, 300, 36, "中国大陆")
    assert first.field_of_use == "全部领域" and first.effective_at is not None
    assert first.institution_signed_by_user_id == declaration.declared_by_user_id
    assert first.company_signed_by_user_id == (await world.principal(db, world.emails[Role.company_admin])).user_id
    document = await db.scalar(select(Document).where(Document.agreement_id == first.id))
    assert document is not None and document.sha256 == first.document_sha256
    [upfront] = await obligations(db, first.id)
    assert (upfront.kind, upfront.state, upfront.amount_fen) == ("upfront", "due", 5_000_000)
    steps = await db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == str(first.id)).order_by(AuditEvent.id))
    assert list(steps) == [
        "agreement_created",
        "agreement_approve_by_declaration",
        "agreement_sign_by_notice",
        "agreement_take_effect",
    ]

    first_id, declaration_id = first.id, declaration.id
    with pytest.raises(Duplicate) as again:
        await take(db, world, declaration_id)
    assert again.value.existing == first_id
    await db.rollback()

    second = await take(db, world, declaration_id, OTHER_COMPANY_ADMIN)
    assert second.id != first_id and second.state == State.active
    assert second.company_id == world.orgs["company/other"].id
    taken = await LicensingService(db).takers_count({declaration_id})
    assert taken == {declaration_id: 2}


async def test_a_withdrawal_stops_new_takers_and_the_taken_licences_stand(db, world) -> None:
    declaration = await declared(db, world, upfront_fen=0, royalty_bp=None, payment_mode="lump_sum", fee_standard="免费")
    declaration_id, listing_id = declaration.id, declaration.listing_id
    taken = await take(db, world, declaration_id)
    taken_id = taken.id
    assert await obligations(db, taken_id) == []  # nothing upfront: nothing due
    tto = await world.principal(db, world.emails[Role.tto_staff])
    stranger = await world.principal(db, "admin@institution.other.test")
    service = LicensingService(db)
    with pytest.raises(Forbidden):
        await service.withdraw_open_licence(stranger, declaration_id)
    await db.rollback()
    withdrawn = await service.withdraw_open_licence(tto, declaration_id)
    await db.commit()
    assert withdrawn.state == OpenLicenceState.withdrawn and withdrawn.withdrawn_at is not None
    assert (await listing_of(db, listing_id)).open_licence is None

    with pytest.raises(Conflict):
        await take(db, world, declaration_id, OTHER_COMPANY_ADMIN)
    await db.rollback()
    kept = await db.scalar(select(Agreement).where(Agreement.id == taken_id).execution_options(populate_existing=True))
    assert kept is not None and kept.state == State.active

    # Withdrawn: the institution and the platform still read it; the public no longer does.
    with pytest.raises(NotFound):
        await service.get_open_licence(Principal(), declaration_id)
    with pytest.raises(NotFound):
        await service.get_open_licence(await world.principal(db, world.emails[Role.company_admin]), declaration_id)
    assert (await service.get_open_licence(tto, declaration_id)).id == declaration_id
    assert (await service.get_open_licence(await world.principal(db, world.emails[Role.platform_analyst]), declaration_id)).id
    assert (await service.list_open_licences(Principal(), listing_id=listing_id))[1] == 0
    assert (await service.list_open_licences(tto, state="withdrawn", listing_id=listing_id))[1] == 1

    # The same result may be declared again, for new takers.
    await service.declare(tto, msgspec.convert(open_licence_body(listing_id), OpenLicenceIn))
    await db.commit()
    assert (await service.list_open_licences(Principal(), listing_id=listing_id))[1] == 1
    assert (await listing_of(db, listing_id)).open_licence is not None


async def test_declaring_is_the_tto_s_on_its_own_published_result_and_not_under_an_exclusive_licence(db, world) -> None:
    service = LicensingService(db)
    tto = await world.principal(db, world.emails[Role.tto_staff])
    own = (await published_result(db, world)).id
    other = (await published_result(db, world, "other")).id
    exclusively = (await published_result(db, world)).id
    agreement = await draft(
        db, world, licence_body("exclusive", company_id=str(world.orgs["company/own"].id), result_ids=[str(exclusively)])
    )
    await signed(db, world, agreement.id)

    async def declare(principal, listing_id, **overrides):
        try:
            return await service.declare(principal, msgspec.convert(open_licence_body(listing_id, **overrides), OpenLicenceIn))
        finally:
            await db.rollback()

    with pytest.raises(InvalidInput) as wrong:
        await declare(tto, other)
    assert [error.field for error in wrong.value.errors] == ["listing_id"]
    with pytest.raises(InvalidInput) as wrong:
        await declare(tto, own, royalty_bp=None)  # a revenue share needs its rate
    assert [error.field for error in wrong.value.errors] == ["royalty_bp"]
    for role in (Role.inventor, Role.company_admin, Role.platform_admin):
        principal = await world.principal(db, world.emails[role])
        with pytest.raises(Forbidden):
            await declare(principal, own)

    first = await service.declare(tto, msgspec.convert(open_licence_body(own), OpenLicenceIn))
    first_id = first.id
    await db.commit()
    with pytest.raises(Duplicate) as twice:
        await declare(tto, own)
    assert twice.value.existing == first_id

    with pytest.raises(Conflict):  # an exclusive licence is in force over it
        await declare(tto, exclusively)


async def test_only_a_company_s_administrator_takes_it(db, world) -> None:
    declaration_id = (await declared(db, world)).id
    service = LicensingService(db)
    for role in (Role.company_member, Role.tto_manager, Role.inventor, Role.platform_admin):
        principal = await world.principal(db, world.emails[role])
        with pytest.raises(Forbidden):
            await service.take_open_licence(principal, declaration_id)
        await db.rollback()
    with pytest.raises(NotAuthenticated):
        await service.take_open_licence(Principal(), declaration_id)
    await db.rollback()


async def test_the_api_declares_lists_takes_and_withdraws(client, db, world) -> None:
    listing = await published_result(db, world)
    tto = world.bearer(Role.tto_manager)
    created = await client.post("/api/v1/open-licences", json=open_licence_body(listing.id), headers=tto)
    assert created.status_code == 201, created.text
    open_licence = created.json()
    assert open_licence["state"] == "active" and open_licence["upfront_fen"] == 5_000_000 and open_licence["taken"] == 0

    public = (await client.get(f"/api/v1/open-licences?listing_id={listing.id}")).json()
    assert public["total"] == 1 and public["items"][0]["id"] == open_licence["id"]
    assert (await client.get(f"/api/v1/open-licences/{open_licence['id']}")).status_code == 200

    taken = await client.post(f"/api/v1/open-licences/{open_licence['id']}/take", headers=world.bearer(Role.company_admin))
    assert taken.status_code == 201, taken.text
    assert taken.json()["state"] == "active" and len(taken.json()["document_sha256"]) == 64
    again = await client.post(f"/api/v1/open-licences/{open_licence['id']}/take", headers=world.bearer(Role.company_admin))
    assert again.status_code == 409

    bad = await client.post(
        "/api/v1/open-licences", json=open_licence_body(listing.id, upfront_fen=-1, payment_mode="barter"), headers=tto
    )
    assert bad.status_code == 400 and {e["field"] for e in bad.json()["errors"]} >= {"upfront_fen"}

    withdrawn = await client.post(f"/api/v1/open-licences/{open_licence['id']}/withdraw", headers=tto)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn" and withdrawn.json()["taken"] == 1
    assert (await client.get(f"/api/v1/open-licences/{open_licence['id']}")).status_code == 404


async def test_the_pages_declare_show_the_terms_and_take(client, db, world) -> None:
    listing = await published_result(db, world)
    await login(client, world.emails[Role.tto_staff])
    page = await client.get(f"/listings/{listing.id}")
    assert f"/listings/{listing.id}/open-licence" in page.text
    assert (await client.get(f"/listings/{listing.id}/open-licence")).status_code == 200
    wrong = await post_form(client, f"/listings/{listing.id}/open-licence", {"fee_standard": "", "term_months": "x"})
    assert wrong.status_code == 422
    done = await post_form(
        client,
        f"/listings/{listing.id}/open-licence",
        {
            "fee_standard": "入门费5万元",
            "upfront": "5",
            "royalty": "2.5",
            "payment_mode": "revenue_share",
            "term_months": "24",
            "territory": "中国大陆",
        },
        follow_redirects=False,
    )
    assert done.status_code == 302, done.text
    declaration_id = (await listing_of(db, listing.id)).open_licence["id"]

    await login(client, world.emails[Role.company_admin])
    page = await client.get(f"/listings/{listing.id}")
    assert "入门费5万元" in page.text and "2.50%" in page.text and f"/open-licences/{declaration_id}/take" in page.text
    listed = await client.get("/open-licences")
    assert listed.status_code == 200 and "入门费5万元" in listed.text
    taken = await post_form(client, f"/open-licences/{declaration_id}/take", {}, follow_redirects=False)
    assert taken.status_code == 302 and taken.headers["location"].startswith("/agreements/")
    again = await post_form(client, f"/open-licences/{declaration_id}/take", {}, follow_redirects=False)
    assert again.status_code == 302 and again.headers["location"] == taken.headers["location"]  # the licence it holds


async def test_no_exclusive_licence_is_approved_while_an_open_licence_is_declared(db, world) -> None:
    """Patent Law art. 51: during an open licence the patentee grants no exclusive licence."""
    declaration = await declared(db, world)
    listing_id, declaration_id = declaration.listing_id, declaration.id
    body = licence_body("exclusive", company_id=str(world.orgs["company/own"].id), result_ids=[str(listing_id)])
    agreement_id = (await draft(db, world, body)).id
    tto = await world.principal(db, world.emails[Role.tto_staff])
    with pytest.raises(Conflict) as refused:
        await move(db, world, agreement_id, "approve", Role.tto_manager)
    assert "open licence" in refused.value.errors[0].message
    await db.rollback()
    await LicensingService(db).withdraw_open_licence(tto, declaration_id)
    await db.commit()
    approved = await move(db, world, agreement_id, "approve", Role.tto_manager)
    assert approved.state == State.approved
