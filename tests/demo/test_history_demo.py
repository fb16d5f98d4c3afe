"""The demo's two years of history (marketplace/demo/data/history.yaml) tell the dashboard's story
on the loaded database, counted in SQL: who answers late, where deals stall, what pay-later
licences became, income month by month, needs awarded and beds used across the year."""

from __future__ import annotations

from sqlalchemy import text

from marketplace.demo import load_demo_data
from marketplace.demo.history import DATA, MONTH_DAYS, history_states, plan

# A request answered after its due day (the due day its creation recorded), or still unanswered past it.
OVERDUE_BY_INSTITUTION = """
    SELECT o.name_zh, count(*) FILTER (WHERE coalesce((r.first_answered_at AT TIME ZONE 'Asia/Shanghai')::date,
                                                      (now() AT TIME ZONE 'Asia/Shanghai')::date) > (e.data->>'due')::date)::float
                      / count(*) AS share
    FROM match_requests r
    JOIN organizations o ON o.id = r.institution_id
    JOIN audit_events e ON e.subject_id = r.id::text AND e.action = 'match_request_created'
    GROUP BY o.name_zh ORDER BY share DESC
"""


async def test_the_history_tells_the_dashboards_story(client, db) -> None:
    assert await load_demo_data(db) is True
    await db.commit()
    sql = lambda q, **p: db.execute(text(q), p)  # noqa: E731

    # Every planned request is there, with its history in the audit trail at its own moments.
    planned = plan()
    assert 150 <= len(planned) <= 250
    created = await db.scalar(
        text(
            "SELECT count(*) FROM audit_events WHERE action = 'match_request_created' AND occurred_at < now() - interval '600 days'"
        )
    )
    assert created and created >= sum(DATA["volume"][:3])

    # The late institutions: 春申大学附属第一医院 has the highest share of overdue answers, then 京华.
    shares = (await sql(OVERDUE_BY_INSTITUTION)).all()
    late = sorted(DATA["institutions"], key=lambda name: -DATA["institutions"][name]["late"])
    assert [row.name_zh for row in shares[:2]] == late[:2], shares

    # Open requests sent more than 90 days ago stall at negotiating most of all, then at accepted.
    stalled = (
        await sql(
            "SELECT state, count(*) AS n FROM match_requests WHERE submitted_at < now() - interval '90 days' "
            "AND state IN ('submitted', 'under_review', 'info_requested', 'accepted', 'negotiating') "
            "GROUP BY state ORDER BY n DESC"
        )
    ).all()
    assert stalled[0].state == DATA["stalls_most_at"] and stalled[1].state == "accepted", stalled
    # The audit events say when each request reached a stage (data.after), as the dashboard reads it.
    reached = dict(
        (
            await sql(
                "SELECT data->>'after' AS after, count(DISTINCT subject_id) FROM audit_events "
                "WHERE action LIKE 'match_request_%' AND data->>'after' IN ('accepted', 'negotiating', 'agreed') "
                "GROUP BY 1"
            )
        ).all()
    )
    assert reached["accepted"] > reached["negotiating"] > reached["agreed"] >= history_states()["agreed"]

    # Licences from agreed requests, every kind; pay-later ones in use, converted, exited, in default.
    kinds = dict(
        (
            await sql(
                "SELECT kind, count(*) FROM licensing_agreements WHERE match_request_id IS NOT NULL "
                "AND company_signed_at IS NOT NULL GROUP BY kind"
            )
        ).all()
    )
    assert set(kinds) >= {"exclusive", "non_exclusive", "assignment", "pay_later", "equity"}, kinds
    assert 25 <= sum(kinds.values()) <= 45, kinds
    pay_later = dict(
        (await sql("SELECT state, count(*) FROM licensing_agreements WHERE kind = 'pay_later' GROUP BY state")).all()
    )
    assert {"in_use", "converted", "exited"} <= set(pay_later), pay_later
    defaulted = await db.scalar(
        text(
            "SELECT count(*) FROM licensing_obligations o JOIN licensing_agreements a ON a.id = o.agreement_id "
            "WHERE a.kind = 'pay_later' AND o.state = 'due' AND o.defaulted_at IS NOT NULL "
            "AND o.due_on + a.grace_days < (now() AT TIME ZONE 'Asia/Shanghai')::date"
        )
    )
    assert defaulted >= 1

    # Income (ledger) in at least 18 of the last 24 months, most of it from licence payments.
    months = await db.scalar(
        text(
            "SELECT count(DISTINCT date_trunc('month', received_on)) FROM ledger_incomes "
            "WHERE received_on >= (now() AT TIME ZONE 'Asia/Shanghai')::date - CAST(:days AS integer)"
        ),
        {"days": int(24 * MONTH_DAYS)},
    )
    assert months >= 18, months
    payments = await db.scalar(text("SELECT count(*) FROM licensing_payments"))
    assert payments >= 40

    # Needs awarded with a selected response, and beds used in many months of the past year.
    selected = await db.scalar(text("SELECT count(*) FROM need_responses WHERE state = 'selected'"))
    assert selected >= 1 + sum(1 for n in DATA["needs"] if n["select"] is not None)
    bed_months = await db.scalar(
        text("SELECT count(DISTINCT date_trunc('month', starts_on)) FROM bed_allocations WHERE state = 'completed'")
    )
    assert bed_months >= 6

    # The funnel starts with two years of page visits; the listings people asked about were
    # looked at more. Every institution counts its health technicians (income per 100).
    months, requested, other = (
        await sql(
            "SELECT count(DISTINCT date_trunc('month', day)),"
            " avg(views) FILTER (WHERE EXISTS (SELECT 1 FROM match_requests m WHERE m.listing_id = v.listing_id)),"
            " avg(views) FILTER (WHERE NOT EXISTS (SELECT 1 FROM match_requests m WHERE m.listing_id = v.listing_id))"
            " FROM listing_view_days v"
        )
    ).one()
    assert months >= 24 and requested > other
    counted = await db.scalar(text("SELECT count(*) FROM organizations WHERE kind = 'institution' AND health_technicians > 0"))
    assert counted == 30
    # The dashboards' views were refreshed at the end of the load.
    assert await db.scalar(text("SELECT count(*) FROM analytics_requests")) == await db.scalar(
        text("SELECT count(*) FROM match_requests")
    )
