"""The transfer office's ledger pages: income recorded by hand and split to the fen in the journal,
a policy below its city's floor refused naming the rule, a double submit recorded once, reversals
with a reason, payouts against the balance, and what TTO staff may not do."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.ledger.models import DistributionPolicy, Entry, Income, Payout
from marketplace.ledger.services import LedgerService
from tests.ledger.factories import income_body, record, seed_policy, seed_result
from tests.support.web import error_of, login, post_form


async def ready(db, world):
    manager = await world.principal(db, world.emails[Role.tto_manager])
    await seed_policy(db, manager)
    result = await seed_result(db, world.orgs["institution/own"].id)
    return manager, result


def hidden_key(html: str) -> str:
    match = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html)
    assert match, "the income form carries an idempotency key"
    return match.group(1)


def income_form(result_id, key: str, **changes) -> dict:
    form = {
        "idempotency_key": key,
        "source_ref": "HT-2026-088",
        "result_id": str(result_id),
        "kind": "licence",
        "amount": "10,000.01",
        "received_on": "2026-03-01",
        "cost_kind_0": "taxes_fees",
        "cost_amount_0": "100.00",
        "cost_document_0": "发票 001",
    }
    form.update(changes)
    return form


async def count(db, model) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_income_recorded_on_the_page_shows_exactly_split_in_the_journal(client, db, world) -> None:
    _, result = await ready(db, world)
    await login(client, world.emails[Role.tto_staff])
    page = await client.get("/ledger/income")
    assert page.status_code == 200 and result.title_zh in page.text
    sent = await post_form(client, "/ledger/income", income_form(result.id, hidden_key(page.text)))
    assert sent.status_code == 302, sent.text
    income = await db.scalar(select(Income))
    assert (income.amount, income.costs_deducted) == (1_000_001, 10_000)  # yuan typed, fen exactly

    journal = (await client.get("/ledger/entries")).text
    # Net 990,001 fen: inventors 70% = 693,000 (张晓华 60%, 李明 40%), TTO 10% = 99,000, IIT fund
    # 5% = 49,500, institution 15% = 148,500 and the leftover fen = 148,501.
    for shown in ("¥10,000.01", "¥100.00", "¥4,158.00", "¥2,772.00", "¥990.00", "¥495.00", "¥1,485.01"):
        assert shown in journal, shown
    assert "张晓华" in journal and "李明" in journal
    listed = (await client.get("/ledger/income")).text
    assert "HT-2026-088" in listed and "¥9,900.01" in listed


async def test_the_income_form_shows_each_problem_beside_its_input_and_keeps_it(client, db, world) -> None:
    _, result = await ready(db, world)
    await login(client, world.emails[Role.tto_staff])
    key = hidden_key((await client.get("/ledger/income")).text)
    floaty = await post_form(client, "/ledger/income", income_form(result.id, key, amount="12.345", source_ref=""))
    assert floaty.status_code == 422
    assert error_of(floaty.text, "amount") and error_of(floaty.text, "source_ref")
    assert 'value="12.345"' in floaty.text
    # An exponent no amount has (int() of it would build a billion digits), and one past the bounds.
    for huge in ("1e999999999", "1" + "0" * 20):
        absurd = await post_form(client, "/ledger/income", income_form(result.id, key, amount=huge))
        assert absurd.status_code == 422 and error_of(absurd.text, "amount"), huge
    # The policy does not deduct negotiation costs: the service says so beside the second cost row.
    form = income_form(result.id, key, cost_kind_0="", cost_amount_0="", cost_document_0="")
    form |= {"cost_kind_1": "negotiation", "cost_amount_1": "50", "cost_document_1": "谈判费发票"}
    refused = await post_form(client, "/ledger/income", form)
    assert refused.status_code == 422 and error_of(refused.text, "cost_kind_1")
    assert await count(db, Income) == 0


async def test_a_policy_below_the_city_floor_names_the_rule_keeps_the_input_and_writes_nothing(client, db, world) -> None:
    await login(client, world.emails[Role.tto_manager])
    form = {
        "effective_from": "2026-01-01",
        "licence_inventors": "60",
        "licence_tto": "10",
        "licence_iit_fund": "10",
        "licence_institution": "20",
        "deductible_costs": "taxes_fees",
        "remainder_share": "institution",
        "patent_cost_recovery": "all_first",
    }
    refused = await post_form(client, "/ledger/policies", form)
    assert refused.status_code == 422, refused.text
    assert "shanghai-licence-inventors" in error_of(refused.text, "licence_inventors")
    assert 'name="licence_inventors" aria-label' in refused.text and 'value="60"' in refused.text
    assert await count(db, DistributionPolicy) == 0

    accepted = await post_form(client, "/ledger/policies", {**form, "licence_inventors": "70", "licence_institution": "10"})
    assert accepted.status_code == 302, accepted.text
    page = (await client.get("/ledger/policies")).text
    assert "shanghai-licence-inventors" in page and "70%" in page
    assert await count(db, DistributionPolicy) == 1


async def test_a_double_submit_of_the_income_form_records_once_and_shows_the_first(client, db, world) -> None:
    _, result = await ready(db, world)
    await login(client, world.emails[Role.tto_staff])
    form = income_form(result.id, hidden_key((await client.get("/ledger/income")).text))
    first = await post_form(client, "/ledger/income", form)
    second = await post_form(client, "/ledger/income", form)
    assert first.status_code == second.status_code == 302
    assert first.headers["location"] == second.headers["location"]
    assert await count(db, Income) == 1 and await count(db, Entry) == 1

    # The same key with another amount (the back button, then an edit): refused, nothing written,
    # and the form comes back with a fresh key.
    changed = await post_form(client, "/ledger/income", {**form, "amount": "20,000"})
    assert changed.status_code == 409
    assert hidden_key(changed.text) != form["idempotency_key"]
    assert await count(db, Income) == 1


async def test_a_reversal_needs_a_reason_and_links_to_what_it_reverses(client, db, world) -> None:
    manager, result = await ready(db, world)
    income = await record(db, manager, income_body(result.id))
    original = await LedgerService(db).income_entry(income.id)
    await login(client, world.emails[Role.tto_manager])

    missing = await post_form(client, f"/ledger/entries/{original.id}/reversal", {"reason": "  "})
    assert missing.status_code == 422
    assert error_of(missing.text, "reason")
    assert await count(db, Entry) == 1

    done = await post_form(client, f"/ledger/entries/{original.id}/reversal", {"reason": "合同金额录错"})
    assert done.status_code == 302
    reversal = await db.scalar(select(Entry).where(Entry.reverses_entry_id == original.id))
    assert done.headers["location"] == f"/ledger/entries/{reversal.id}"
    shown = (await client.get(done.headers["location"])).text
    assert "合同金额录错" in shown and f'href="/ledger/entries/{original.id}"' in shown
    back = (await client.get(f"/ledger/entries/{original.id}")).text
    assert f'href="/ledger/entries/{reversal.id}"' in back


async def test_a_payout_above_the_balance_is_refused_with_the_message_and_one_within_recorded(client, db, world) -> None:
    manager, result = await ready(db, world)
    await record(db, manager, income_body(result.id, 1_000_000))  # 张晓华: 70% × 60% = ¥4,200.00
    await login(client, world.emails[Role.tto_manager])
    page = (await client.get("/ledger/payouts")).text
    assert "¥4,200.00" in page and "name:张晓华|CNY" in page
    form = {"payee": "name:张晓华|CNY", "amount": "4,200.01", "paid_on": "2026-04-01", "reference": "转账-001"}
    refused = await post_form(client, "/ledger/payouts", form)
    assert refused.status_code == 409
    message = error_of(refused.text, "amount")
    assert "¥4,200.00" in message and "¥4,200.01" in message
    assert await count(db, Payout) == 0

    paid = await post_form(client, "/ledger/payouts", {**form, "amount": "4,200"})
    assert paid.status_code == 302
    after = (await client.get("/ledger/payouts")).text
    assert "name:张晓华|CNY" not in after and "转账-001" in after
    assert await count(db, Payout) == 1


async def test_tto_staff_record_income_but_cannot_change_policies_reverse_or_pay(client, db, world) -> None:
    await login(client, world.emails[Role.tto_staff])
    assert (await client.get("/ledger/policies")).status_code == 403
    form = {"effective_from": "2026-01-01", "licence_inventors": "70", "licence_institution": "30"}
    assert (await post_form(client, "/ledger/policies", form)).status_code == 403
    assert await count(db, DistributionPolicy) == 0
    income = (await client.get("/ledger/income")).text
    assert 'href="/ledger/policies"' not in income and 'name="idempotency_key"' in income
    assert 'action="/ledger/payouts' not in (await client.get("/ledger/payouts")).text
