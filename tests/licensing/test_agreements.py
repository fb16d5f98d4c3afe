"""Agreements through the service: drafted from an agreed match, approved with the checks of
exclusivity and ownership, signed by both sides on the current document, in force; a pay-later
licence runs its use period, converts and gets its schedule in the chosen mode, or exits."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import text

from marketplace.accounts.models import Role
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.licensing.models import State
from marketplace.licensing.schemas import AgreementCreate, TransitionIn
from marketplace.licensing.services import LicensingService
from tests.licensing.factories import (
    agreed_match,
    draft,
    licence_body,
    move,
    obligations,
    pay_later_body,
    published_result,
    signed,
)


async def test_a_pay_later_licence_from_an_agreed_match_runs_to_conversion(db, world) -> None:
    result = await published_result(db, world)
    match = await agreed_match(db, world, result.id)
    agreement = await draft(db, world, pay_later_body(match_request_id=str(match.id)))
    assert agreement.company_id == world.orgs["company/own"].id and agreement.state == State.draft
    assert agreement.title == result.title_zh and agreement.use_ends_on is not None

    await move(db, world, agreement.id, "approve", Role.tto_manager)
    assert agreement.document_sha256 and len(agreement.document_sha256) == 64
    await move(db, world, agreement.id, "sign", Role.tto_manager)
    assert agreement.state == State.approved  # one signature is not enough
    await move(db, world, agreement.id, "sign", Role.company_admin)
    assert agreement.state == State.in_use  # today is its effective day: the use period runs
    assert await obligations(db, agreement.id) == []

    await move(db, world, agreement.id, "convert", Role.company_admin)
    assert agreement.state == State.converted and agreement.conversion_trigger == "early"
    await move(db, world, agreement.id, "choose_payment_mode", Role.company_admin, payment_mode="instalments", instalments=3)
    items = await obligations(db, agreement.id)
    assert [item.amount_fen for item in items] == [10_000_000] * 3 and {item.state for item in items} == {"due"}


async def test_a_signature_names_the_current_document(db, world) -> None:
    result = await published_result(db, world)
    agreement = await draft(
        db, world, licence_body("non_exclusive", company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)])
    )
    agreement_id = agreement.id
    await move(db, world, agreement_id, "approve", Role.tto_manager)
    with pytest.raises(InvalidInput) as wrong:
        await move(db, world, agreement_id, "sign", Role.company_admin, document_sha256="0" * 64)
    assert [error.field for error in wrong.value.errors] == ["document_sha256"]
    await db.rollback()
    await move(db, world, agreement_id, "sign", Role.company_admin)
    agreement = await move(db, world, agreement_id, "sign", Role.tto_manager)
    assert agreement.state == State.active
    assert {item.state for item in await obligations(db, agreement_id)} == {"due", "pending"}  # the milestone waits
    with pytest.raises(Exception, match="never changes"):
        await db.execute(text("UPDATE licensing_documents SET language = 'en'"))
    await db.rollback()


async def test_approval_refuses_an_overlapping_exclusive_licence_and_the_ownership_models_limits(db, world) -> None:
    result_id = (await published_result(db, world)).id
    use_right_id = (await published_result(db, world, ownership_model="researchers_use_right")).id
    company, other = str(world.orgs["company/own"].id), str(world.orgs["company/other"].id)

    async def approve(kind: str, company_id: str, listing_id=result_id, **terms) -> None:
        body = licence_body(kind, company_id=company_id, result_ids=[str(listing_id)], **terms)
        agreement_id = (await draft(db, world, body)).id
        try:
            await move(db, world, agreement_id, "approve", Role.tto_manager)
        finally:
            await db.rollback()

    await approve("exclusive", company)
    with pytest.raises(Conflict):
        await approve("non_exclusive", other)  # the exclusive licence covers the same territory, field and time
    with pytest.raises(Conflict):
        await approve("non_exclusive", company, territory="美国")  # the licensee holds the field exclusively already
    await approve("non_exclusive", other, territory="美国")
    with pytest.raises(Conflict):
        await approve("exclusive", other, field_of_use="全部领域", territory="全球")  # over the licence just granted
    with pytest.raises(Conflict):
        await approve("exclusive", company, listing_id=use_right_id)  # the researchers hold the use right


async def test_terms_are_checked_for_the_kind_and_a_pay_later_licence_exits_owing_nothing(db, world) -> None:
    result = await published_result(db, world)
    principal = await world.principal(db, world.emails[Role.tto_staff])
    body = pay_later_body(
        company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)], upfront_fen=100, use_period_months=None
    )
    with pytest.raises(InvalidInput) as wrong:
        await LicensingService(db).create(principal, msgspec.convert(body, AgreementCreate))
    assert {error.field for error in wrong.value.errors} >= {"upfront_fen", "use_period_months"}

    agreement = await draft(db, world, pay_later_body(company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)]))
    agreement_id = agreement.id
    await signed(db, world, agreement_id)
    with pytest.raises(InvalidInput):
        await move(db, world, agreement_id, "exit", Role.company_admin)  # a reason is required
    await db.rollback()
    agreement = await move(db, world, agreement_id, "exit", Role.company_admin, reason="技术路线调整")
    assert agreement.state == State.exited and agreement.end_reason == "技术路线调整"
    with pytest.raises(Conflict):
        await move(db, world, agreement_id, "convert", Role.company_admin)
    await db.rollback()


async def test_scope_members_and_other_organizations_see_nothing(db, world) -> None:
    result = await published_result(db, world)
    agreement = await draft(
        db, world, licence_body("non_exclusive", company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)])
    )
    service = LicensingService(db)
    for email in (world.emails[Role.company_member], world.emails[Role.inventor], "admin@company.other.test"):
        principal = await world.principal(db, email)
        with pytest.raises(NotFound):
            await service.get(principal, agreement.id)
    staff = await world.principal(db, world.emails[Role.tto_staff])
    with pytest.raises(Forbidden):
        await service.transition(staff, agreement.id, TransitionIn(action="approve"))
