"""The agreement's document: the standard contract text as a PDF (read back with pypdf) in Chinese,
or English on request; signed by its SHA-256; never changed once written, and a new version (with
a new hash) when an approved agreement returns to draft and is approved again."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from marketplace.accounts.models import Role
from marketplace.audit import services as audit
from marketplace.errors import InvalidInput
from marketplace.licensing.document_files import capital_yuan, format_fen, percent_text, template
from marketplace.licensing.models import Document, Kind, State
from marketplace.licensing.services import LicensingService
from tests.licensing.factories import agreed_match, draft, licence_body, move, pay_later_body, published_result, signed


def squeeze(content: str) -> str:
    """Text without whitespace: the PDF wraps lines and spaces glyphs its own way."""
    return "".join(content.split())


def pdf_text(content: bytes) -> str:
    return squeeze("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


async def documents(db, agreement_id) -> list[Document]:
    stmt = select(Document).where(Document.agreement_id == agreement_id).order_by(Document.version)
    return list((await db.scalars(stmt.execution_options(populate_existing=True))).all())


def test_money_is_written_exactly_in_figures_and_in_capitals() -> None:
    assert format_fen(123_456) == "1,234.56" and format_fen(5) == "0.05"
    assert capital_yuan(123_456) == "壹仟贰佰叁拾肆元伍角陆分"
    assert capital_yuan(30_000_000) == "叁拾万元整"
    assert capital_yuan(100_005) == "壹仟元零伍分"
    assert capital_yuan(10_000_001_00) == "壹仟万零壹元整" and capital_yuan(10_000_100_00) == "壹仟万零壹佰元整"
    assert capital_yuan(1_000_000_000_00) == "壹拾亿元整"
    assert capital_yuan(1010) == "壹拾元壹角整" and capital_yuan(0) == "零元整"
    assert [percent_text(bp) for bp in (300, 250, 125, 10_000, 1)] == ["3", "2.5", "1.25", "100", "0.01"]


def test_the_template_says_the_same_clauses_in_both_languages() -> None:
    """A YAML slip (an unquoted ": ") would turn a paragraph into a mapping; and the English text
    must follow the Chinese clause for clause."""

    def shape(language: str) -> list:
        clauses = template(language)["clauses"]
        for clause in clauses:
            for item in clause["body"]:
                assert isinstance(item, str) or set(item) in ({"text"}, {"text", "when"}, {"list"}, {"list", "when"}), item
        return [
            (clause.get("when"), [item.get("when") for item in clause["body"] if isinstance(item, dict)]) for clause in clauses
        ]

    assert shape("zh") == shape("en")
    assert set(template("zh")["kinds"]) == set(template("en")["kinds"]) == set(Kind)


async def test_a_pay_later_agreement_reads_as_the_standard_contract_in_chinese(db, world) -> None:
    result = await published_result(db, world)
    match = await agreed_match(db, world, result.id)
    body = pay_later_body(match_request_id=str(match.id), guarantor="tto", insurance_ref="PICC-2026-0042", territory="中国大陆")
    agreement = await draft(db, world, body)
    await move(db, world, agreement.id, "approve", Role.tto_manager)

    document = await LicensingService(db).current_document(agreement)
    assert document.version == 1 and document.language == "zh"
    assert document.sha256 == hashlib.sha256(document.content).hexdigest() == agreement.document_sha256
    content = pdf_text(document.content)
    institution, company = world.orgs["institution/own"], world.orgs["company/own"]
    for expected in (
        "职务科技成果先使用后付费许可协议",
        f"甲方（许可方）：{institution.name_zh}",
        f"乙方（被许可方）：{company.name_zh}",
        f"丙方（履约保证方）：{institution.name_zh}技术转移机构",
        f"1.{result.title_zh}（专利号：ZL202110234567.8、PCT/CN2022/123456）",
        "地域：中国大陆。实施领域：体外诊断试剂。",
        "使用期自本协议生效之日起12个月",
        "（一）使用期届满；（二）乙方首次取得实施标的成果的产品或服务收入；（三）产品获得医疗器械注册证。",
        "可随时书面通知提前转为有偿许可",
        "许可费¥300,000.00（人民币叁拾万元整）",
        "1.一次性支付",
        "2.分期支付：转化后按月分期支付许可费，最多4期。",
        "3.延期支付：转化后12个月内一次付清许可费。",
        "4.收入提成：按乙方实施标的成果所得净销售额的3%支付提成费。",
        "退出后标的成果的实施权利归还甲方，乙方应停止实施，双方互不负担许可费",
        "给予30日宽限期",
        "企业履约信用档案",
        "双方另行约定的违约责任：逾期付款按日万分之五支付违约金。",
        "保单号：PICC-2026-0042",
        "争议解决",
        "本合同文本为第1版",
        f"合同编号：{agreement.id}",
        "第1页/共",
    ):
        assert squeeze(expected) in content, expected
    assert "入门费：" not in content  # 零门槛: no fee clause of a paid licence


async def test_a_paid_licence_in_english_shows_its_fees_and_schedule(db, world) -> None:
    result = await published_result(db, world)
    body = licence_body(
        "exclusive", company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)], language="en", territory="PRC"
    )
    agreement = await draft(db, world, body)
    await move(db, world, agreement.id, "approve", Role.tto_manager)

    document = await LicensingService(db).current_document(agreement)
    assert document.language == "en"
    content = pdf_text(document.content)
    instalments = body["instalments"]
    for expected in (
        "Patent Licence Agreement (Exclusive Licence)",
        f"Party A (Licensor): {world.orgs['institution/own'].name_zh}",
        f"1. {result.title_en} (patent numbers: ZL202110234567.8, PCT/CN2022/123456)",
        "an exclusive licence",
        "Territory: PRC.",
        "Upfront fee: ¥500,000.00",
        "Royalty: 3% of Party B's net sales",
        "Annual minimum royalty: ¥100,000.00",
        f"Instalment: ¥200,000.00, payable by {instalments[0]['due_on']}",
        f"Instalment: ¥200,000.00, payable by {instalments[1]['due_on']}",
        'Milestone payment: ¥300,000.00, payable within 30 days after "产品获得医疗器械注册证"',
        "Liability for breach",
        "This is version 1 of the text",
        f"Agreement No. {agreement.id}",
        "Page 1 of",
    ):
        assert squeeze(expected) in content, expected
    assert "Use first, pay later" not in content and "许可方" not in content


async def test_signing_records_both_signatures_on_the_documents_hash(db, world) -> None:
    result = await published_result(db, world)
    body = licence_body("non_exclusive", company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)])
    agreement_id = (await draft(db, world, body)).id
    agreement = await signed(db, world, agreement_id)

    document = await LicensingService(db).current_document(agreement)
    digest = hashlib.sha256(document.content).hexdigest()
    assert agreement.document_sha256 == document.sha256 == digest
    manager = await world.principal(db, world.emails[Role.tto_manager])
    admin = await world.principal(db, world.emails[Role.company_admin])
    assert agreement.institution_signed_by_user_id == manager.user_id and agreement.institution_signed_at
    assert agreement.company_signed_by_user_id == admin.user_id and agreement.company_signed_at
    signatures = await audit.events(db, action="agreement_sign", subject_id=agreement_id)
    assert sorted(event.data["side"] for event in signatures) == ["company", "institution"]
    assert {event.data["document_sha256"] for event in signatures} == {digest}
    approval = await audit.events(db, action="agreement_approve", subject_id=agreement_id)
    assert approval[0].data["document_sha256"] == digest


async def test_postgresql_refuses_to_change_or_delete_a_document(db, world) -> None:
    result = await published_result(db, world)
    body = licence_body("non_exclusive", company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)])
    agreement_id = (await draft(db, world, body)).id
    await signed(db, world, agreement_id)
    for statement in (
        "UPDATE licensing_documents SET content = 'forged' WHERE agreement_id = :id",
        "UPDATE licensing_documents SET sha256 = repeat('0', 64) WHERE agreement_id = :id",
        "DELETE FROM licensing_documents WHERE agreement_id = :id",
    ):
        with pytest.raises(Exception, match="never changes"):
            await db.execute(text(statement), {"id": agreement_id})
        await db.rollback()
    assert len(await documents(db, agreement_id)) == 1


async def test_approving_again_after_a_return_to_draft_writes_version_two(db, world) -> None:
    result = await published_result(db, world)
    body = licence_body("non_exclusive", company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)])
    agreement_id = (await draft(db, world, body)).id
    first = await move(db, world, agreement_id, "approve", Role.tto_manager)
    old_hash = first.document_sha256
    assert old_hash is not None

    agreement = await move(db, world, agreement_id, "revise", Role.tto_staff, reason="入门费调整")
    assert agreement.state == State.draft and agreement.document_sha256 is None
    agreement = await move(db, world, agreement_id, "approve", Role.tto_manager)
    old, new = await documents(db, agreement_id)
    assert (old.version, new.version) == (1, 2)
    assert old.sha256 == old_hash == hashlib.sha256(old.content).hexdigest()  # version 1 stays as it was
    assert new.sha256 != old_hash and agreement.document_sha256 == new.sha256
    assert "本合同文本为第2版" in pdf_text(new.content)

    with pytest.raises(InvalidInput) as refused:
        await move(db, world, agreement_id, "sign", Role.company_admin, document_sha256=old_hash)
    assert [error.field for error in refused.value.errors] == ["document_sha256"]
    await db.rollback()
    agreement = await move(db, world, agreement_id, "sign", Role.company_admin)
    assert agreement.company_signed_at is not None
