"""Every dashboard figure on the fixed history of fixed_data.py, checked exactly (worked out by hand
in that module's docstring), with filters, an empty period and zero denominators."""

from __future__ import annotations

from datetime import date

import pytest

from marketplace.analytics.filters import DashboardFilter, resolve
from marketplace.analytics.schemas import DashboardQuery, Duration, Rate
from marketplace.analytics.services import AnalyticsService
from marketplace.errors import InvalidInput
from tests.analytics.fixed_data import OWN_TECHNICIANS, Story, build

TODAY = date(2026, 11, 30)
Q2 = DashboardQuery(year=2026, quarter=2)
MILLION = 1_000_000


@pytest.fixture
async def story(db, world) -> Story:
    return await build(db, world)


def figures_for(db, query: DashboardQuery, **dimensions):
    where = resolve(query, TODAY)
    return AnalyticsService(db), AnalyticsService(db).figures(DashboardFilter(**{**where.__dict__, **dimensions}), today=TODAY)


async def test_the_quarter_platform_wide(db, world, story: Story) -> None:
    service, figures = figures_for(db, Q2)
    summary = await service.summary(figures)
    assert (summary.companies, summary.projects, summary.hospitals, summary.project_centres) == (2, 4, 2, 1)
    assert (summary.listings_published, summary.agreements_signed, summary.income_fen) == (5, 2, 60 * MILLION)
    assert summary.refreshed_at is not None

    funnel = await figures.funnel()
    assert funnel.listing_views == 10
    assert [(s.step, s.count, s.conversion_bp) for s in funnel.steps] == [
        ("viewed", 3, None),
        ("requested", 4, 10000),  # the three viewed listings all got a request
        ("accepted", 2, 5000),
        ("negotiating", 1, 5000),
        ("agreement", 1, 10000),
        ("first_payment", 1, 10000),
    ]
    assert [(s.stage, s.open, s.lost) for s in funnel.stalls] == [
        ("requested", 1, 1),
        ("accepted", 1, 0),
        ("negotiating", 0, 0),
        ("agreed", 0, 0),
    ]
    # Stuck is now, whatever the period: R4 and R5 submitted long ago, R3 accepted in May.
    assert {s.state: s.count for s in funnel.stuck} == {
        "submitted": 2,
        "under_review": 0,
        "info_requested": 0,
        "accepted": 1,
        "negotiating": 0,
    }

    rates = await figures.match_rates()
    assert rates.institutions == Rate(numerator=1, denominator=2, rate_bp=5000)
    assert rates.needs == Rate(numerator=1, denominator=1, rate_bp=10000)
    assert rates.answered_in_time == Rate(numerator=3, denominator=4, rate_bp=7500)

    times = await figures.times()
    assert times.first_response == Duration(count=3, median_days=2.0, p90_days=8.4)
    assert times.acceptance == Duration(count=2, median_days=6.0, p90_days=9.2)
    assert times.agreement == Duration(count=1, median_days=31.0, p90_days=31.0)
    assert times.trial_startup == Duration(count=1, median_days=40.0, p90_days=40.0)
    assert times.overdue_now == 2

    pay_later = await figures.pay_later()
    assert (pay_later.signed, pay_later.in_use, pay_later.converted, pay_later.exited, pay_later.defaulted) == (1, 1, 0, 0, 0)
    assert pay_later.conversion_bp is None

    income = await service.income(figures)
    assert income.total_fen == 60 * MILLION
    assert [(m.month, m.amount_fen) for m in income.by_month] == [("2026-05", 50 * MILLION), ("2026-06", 10 * MILLION)]
    own, other = income.by_institution
    assert (own.name, own.amount_fen, own.health_technicians) == ("本院", 50 * MILLION, OWN_TECHNICIANS)
    assert own.per_100_technicians_fen == 50 * MILLION * 100 // OWN_TECHNICIANS
    assert (other.name, other.amount_fen, other.per_100_technicians_fen) == ("他院", 10 * MILLION, None)
    assert [(k.key, k.amount_fen) for k in income.by_deal_kind] == [("exclusive", 50 * MILLION), ("licence", 10 * MILLION)]
    # Shanghai's licence shares 70/10/5/15 of 50 million, Beijing's 70/5/20/5 of 10 million.
    assert {k.key: k.amount_fen for k in income.by_category} == {
        "inventors": 42 * MILLION,
        "tto": 5_500_000,
        "iit_fund": 4_500_000,
        "institution": 8 * MILLION,
        "costs": 0,
    }
    assert [(b.band, b.count, b.value_fen) for b in income.value_bands] == [
        ("lt_100w", 2, 110 * MILLION),
        ("100w_500w", 0, 0),
        ("500w_1000w", 0, 0),
        ("1000w_1y", 0, 0),
        ("ge_1y", 0, 0),
    ]

    beds = await service.beds(figures)
    (ward,) = beds.wards
    assert (ward.capacity_bed_days, ward.held_bed_days, ward.utilisation_bp) == (910, 20, 219)
    (institution,) = beds.institutions
    assert (institution.name, institution.ward_beds, institution.over_line) == ("本院", 10, False)

    deals = await service.deals(figures)
    assert deals.total == 2
    assert [d.agreement_id for d in deals.rows] == [story.agreements["AG2"], story.agreements["AG1"]]
    assert (deals.rows[1].value_fen, deals.rows[1].paid_fen, deals.rows[1].company) == (80 * MILLION, 50 * MILLION, "本企业")
    assert (await service.deals(figures, sort="value")).rows[0].agreement_id == story.agreements["AG1"]


async def test_filters_narrow_every_figure(db, world, story: Story) -> None:
    service, beijing = figures_for(db, Q2, city="北京")
    summary = await service.summary(beijing)
    assert (summary.companies, summary.projects, summary.hospitals, summary.income_fen) == (1, 1, 1, 10 * MILLION)
    assert [s.count for s in (await beijing.funnel()).steps] == [1, 1, 0, 0, 0, 0]
    assert (await beijing.times()).overdue_now == 1
    assert (await service.deals(beijing)).total == 0

    own_id = world.orgs["institution/own"].id
    _, own = figures_for(db, Q2, institution_id=own_id)
    assert [s.count for s in (await own.funnel()).steps] == [2, 3, 2, 1, 1, 1]
    assert (await service.income(own)).total_fen == 50 * MILLION
    assert (await own.match_rates()).institutions == Rate(numerator=1, denominator=1, rate_bp=10000)

    _, cardio = figures_for(db, Q2, area="cardiovascular")
    assert [s.count for s in (await cardio.funnel()).steps] == [1, 1, 1, 0, 0, 0]
    assert (await cardio.pay_later()).signed == 1
    assert (await cardio.match_rates()).needs == Rate(numerator=0, denominator=0, rate_bp=None)

    _, resources = figures_for(db, Q2, kind="resource")
    assert [s.count for s in (await resources.funnel()).steps] == [0, 0, 0, 0, 0, 0]
    assert (await service.beds(resources)).wards[0].held_bed_days == 20

    _, july = figures_for(db, DashboardQuery(start=date(2026, 7, 1), end=date(2026, 7, 31)))
    assert (await july.funnel()).listing_views == 4
    assert (await service.income(july)).total_fen == 2 * MILLION


async def test_an_empty_period_has_zeros_and_no_rates(db, world, story: Story) -> None:
    service, figures = figures_for(db, DashboardQuery(year=2025))
    summary = await service.summary(figures)
    assert (summary.companies, summary.projects, summary.income_fen) == (0, 0, 0)
    assert [s.conversion_bp for s in (await figures.funnel()).steps] == [None] * 6
    rates = await figures.match_rates()
    assert rates.needs.rate_bp is None and rates.answered_in_time.rate_bp is None
    assert (await figures.times()).first_response == Duration(count=0, median_days=None, p90_days=None)
    assert (await figures.pay_later()).conversion_bp is None
    income = await service.income(figures)
    assert (income.total_fen, income.by_month, income.by_institution) == (0, [], [])
    (ward,) = (await service.beds(figures)).wards
    assert (ward.capacity_bed_days, ward.utilisation_bp) == (0, None)


async def test_an_institution_dashboard_counts_only_its_own(db, world, story: Story) -> None:
    service = AnalyticsService(db)
    tto = await world.principal(db, "admin@institution.other.test")
    own_id = world.orgs["institution/own"].id
    where = service.scope(tto, DashboardQuery(year=2026, quarter=2, institution=own_id), today=TODAY)
    assert where.institution_id == world.orgs["institution/other"].id
    figures = service.figures(where, today=TODAY)
    assert [s.count for s in (await figures.funnel()).steps] == [1, 1, 0, 0, 0, 0]
    assert (await service.income(figures)).total_fen == 10 * MILLION
    assert (await service.deals(figures)).total == 0
    inbox = await figures.inbox()
    assert (inbox.open, inbox.overdue) == (1, 1)
    freshness = await figures.freshness()
    assert {k.key: k.count for k in freshness.by_status} == {"published": 2}


def test_a_bad_period_names_its_field() -> None:
    with pytest.raises(InvalidInput) as bad:
        resolve(DashboardQuery(start=date(2026, 5, 1), end=date(2026, 4, 1)), TODAY)
    assert [e.field for e in bad.value.errors] == ["end"]
    with pytest.raises(InvalidInput) as bad:
        resolve(DashboardQuery(quarter=2), TODAY)
    assert [e.field for e in bad.value.errors] == ["quarter"]
    assert resolve(DashboardQuery(year=2024, quarter=1), TODAY).end == date(2024, 3, 31)
    assert resolve(DashboardQuery(), TODAY).start == date(2025, 12, 1)
