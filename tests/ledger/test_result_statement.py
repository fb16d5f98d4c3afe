"""The statement of one result: its income (gross), where each fen went, and each inventor's part,
to the fen; the same totals in every download; the TTO manager of its institution, platform roles
and the inventors it names (their own line only) see it, everyone else is told it is not found."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from tests.ledger.factories import (
    INSTITUTION,
    MANAGER_OTHER,
    amounts,
    file_text,
    income_body,
    ledger_with_two_inventors,
    record,
    seed_policy,
    seed_result,
)
from tests.support.web import login

# ¥10,000.00 and ¥2,000.01 in; inventors 70%, TTO 10%, IIT fund 5%, the institution 15% and the leftover fen.
DISTRIBUTION = {
    "income_received": 1_200_001,
    "inventor_payable": 840_000,
    "tto": 120_000,
    "iit_fund": 60_000,
    "institution_retained": 180_001,
}


async def test_the_tto_manager_sees_the_result_to_the_fen(client, db, world) -> None:
    inventor = await ledger_with_two_inventors(db, world)
    result = world.scratch["result"]
    answer = await client.get(f"/api/v1/statements/results/{result}", headers=world.bearer(Role.tto_manager))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["institution_id"] == str(world.orgs[INSTITUTION].id)
    got = {c["category"]: c["amount"] for c in body["categories"] if c["asset"] == "CNY"}
    assert {k: v for k, v in got.items() if v} == DISTRIBUTION
    parts = sum(v for k, v in got.items() if k != "income_received")
    assert parts == got["income_received"]  # every fen of income is distributed (or a cost)
    lines = {line["holder_name"]: line for line in body["inventors"]}
    assert lines["发明人"] | {"user_id": None} == {
        "user_id": None,
        "holder_name": "发明人",
        "asset": "CNY",
        "accrued": 630_000,
        "paid": 100_000,
        "outstanding": 530_000,
    }
    assert lines["发明人"]["user_id"] == str(inventor.user_id)
    assert (lines["外院合作者"]["accrued"], lines["外院合作者"]["paid"], lines["外院合作者"]["outstanding"]) == (
        210_000,
        0,
        210_000,
    )

    # The page: the same figures, and the period narrows them to March's income.
    await login(client, world.emails[Role.tto_manager])
    page = await client.get(f"/statements/results/{result}")
    assert page.status_code == 200, page.text
    for shown in ("¥12,000.01", "¥8,400.00", "¥1,200.00", "¥600.00", "¥1,800.01", "¥6,300.00", "¥2,100.00", "¥5,300.00"):
        assert shown in page.text, shown
    assert "HT-2026-001" in page.text and "HT-2026-002" in page.text
    march = await client.get(f"/statements/results/{result}?period_from=2026-03-01&period_to=2026-03-31")
    assert amounts(march.text)[:3] == ["¥10,000.00", "¥0.00", "¥7,000.00"]
    assert "HT-2026-002" not in march.text

    # Linked from the institution's statement and from the inventor's.
    institution = await client.get(f"/statements/institutions/{world.orgs[INSTITUTION].id}")
    assert f'href="/statements/results/{result}"' in institution.text
    theirs = await client.get(f"/statements/inventors/{inventor.user_id}")
    assert f'href="/statements/results/{result}"' in theirs.text


async def test_a_named_inventor_sees_the_totals_and_their_own_line_only(client, db, world) -> None:
    await ledger_with_two_inventors(db, world)
    result = world.scratch["result"]
    answer = await client.get(f"/api/v1/statements/results/{result}", headers=world.bearer(Role.inventor))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(line["holder_name"], line["accrued"]) for line in body["inventors"]] == [("发明人", 630_000)]
    assert {c["category"]: c["amount"] for c in body["categories"]}["income_received"] == 1_200_001

    await login(client, world.emails[Role.inventor])
    page = await client.get(f"/statements/results/{result}")
    assert page.status_code == 200 and "¥6,300.00" in page.text and "¥12,000.01" in page.text
    assert "外院合作者" not in page.text and "¥2,100.00" not in page.text
    mine = await client.get("/statements/me")
    assert f'href="/statements/results/{result}"' in mine.text
    text = file_text((await client.get(f"/statements/results/{result}/download?format=csv")).content, "csv")
    assert "外院合作者" not in text and "2100.00" not in text.replace(",", "")


async def test_out_of_scope_the_result_is_not_found(client, db, world) -> None:
    await ledger_with_two_inventors(db, world)
    result = world.scratch["result"]
    # Another result of the same institution that does not name our inventor.
    boss = await world.principal(db, world.emails[Role.tto_manager])
    elsewhere = await seed_result(db, world.orgs[INSTITUTION].id)
    await record(db, boss, income_body(elsewhere.id, 50_000, source_ref="HT-2026-009"))
    await login(client, world.emails[Role.inventor])
    for path in (f"/statements/results/{elsewhere.id}", f"/statements/results/{elsewhere.id}/download?format=csv"):
        assert (await client.get(path)).status_code == 404, path
    refused = await client.get(f"/api/v1/statements/results/{elsewhere.id}", headers=world.bearer(Role.inventor))
    assert refused.status_code == 404

    await login(client, MANAGER_OTHER)
    for path in (f"/statements/results/{result}", f"/statements/results/{result}/download?format=pdf"):
        assert (await client.get(path)).status_code == 404, path
    await login(client, "target@institution.other.test")  # an inventor elsewhere, not named on it
    assert (await client.get(f"/statements/results/{result}")).status_code == 404

    await login(client, world.emails[Role.platform_analyst])
    assert (await client.get(f"/statements/results/{result}")).status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
async def test_each_download_carries_the_results_exact_totals(client, db, world, fmt) -> None:
    await ledger_with_two_inventors(db, world)
    result = world.scratch["result"]
    await login(client, world.emails[Role.tto_manager])
    answer = await client.get(f"/statements/results/{result}/download?format={fmt}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].startswith(f'attachment; filename="statement-result-all.{fmt}"')
    text = file_text(answer.content, fmt).replace(",", "")
    for figure in ("12000.01", "8400.00", "1200.00", "600.00", "1800.01", "6300.00", "2100.00", "10000.00", "2000.01"):
        assert figure in text, (figure, text)
    assert "HT-2026-001" in text and "HT-2026-002" in text

    api = await client.get(
        f"/api/v1/statements/results/{result}/download?format={fmt}&period_to=2026-03-31", headers=world.bearer(Role.tto_manager)
    )
    assert api.status_code == 200
    text = file_text(api.content, fmt).replace(",", "")
    assert "10000.00" in text and "5250.00" in text and "HT-2026-002" not in text


async def test_a_results_costs_are_part_of_its_distribution(client, db, world) -> None:
    boss = await world.principal(db, world.emails[Role.tto_manager])
    await seed_policy(db, boss)
    result = await seed_result(db, world.orgs[INSTITUTION].id)
    cost = {"kind": "taxes_fees", "amount_fen": 10_000, "document": "发票 001"}
    await record(db, boss, income_body(result.id, 1_000_001, costs=[cost]))
    await record(db, boss, income_body(result.id, 200_000, received_on="2026-04-01", source_ref="HT-2026-002"))
    answer = await client.get(f"/api/v1/statements/results/{result.id}", headers=world.bearer(Role.tto_manager))
    got = {c["category"]: c["amount"] for c in answer.json()["categories"]}
    assert got["income_received"] == 1_200_001 and got["deductible_costs"] == 10_000
    assert sum(v for k, v in got.items() if k != "income_received") == 1_200_001
    await login(client, world.emails[Role.tto_manager])
    page = await client.get(f"/statements/results/{result.id}")
    assert amounts(page.text)[:2] == ["¥12,000.01", "¥100.00"]
