"""The dashboard's tables, built once from its figures: the page shows them (and its charts read
them), the CSV and XLSX exports write them, so a download holds exactly the numbers on the page.

A cell keeps its raw value and its column says what it is: text, a label (a message id), a count, money (integer fen),
a rate (basis points, None when the denominator is zero), days, or a date. Labels are message ids,
translated where they are shown or written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketplace.analytics.dashboard import Dashboard
from marketplace.analytics.schemas import Deal, Duration, Rate
from marketplace.i18n import N_
from marketplace.ledger.page_forms import KIND_LABELS as INCOME_KIND_LABELS
from marketplace.ledger.page_forms import SHARE_LABELS
from marketplace.licensing.lifecycle import STATE_LABELS as AGREEMENT_STATE_LABELS
from marketplace.licensing.views import KIND_LABELS as AGREEMENT_KIND_LABELS
from marketplace.matching.requests.lifecycle import STATE_LABELS as REQUEST_STATE_LABELS

CHART_TOP = 12  # institutions a bar chart names; the table lists every one
TEXT, LABEL, COUNT, MONEY, RATE, DAYS, DATE = "text", "label", "count", "money", "rate", "days", "date"

STEP_LABELS = {
    "viewed": N_("Listings viewed"),
    "requested": N_("Match requests"),
    "accepted": N_("Accepted"),
    "negotiating": N_("Negotiating"),
    "agreement": N_("Agreements"),
    "first_payment": N_("First payment"),
    "agreed": N_("Agreed"),
}
CATEGORY_LABELS = {
    **{str(k): v for k, v in SHARE_LABELS.items()},
    "institution": N_("Institution"),
    "costs": N_("Deductible costs"),
}
BAND_LABELS = {
    "lt_100w": N_("Under 1 million yuan"),
    "100w_500w": N_("1–5 million yuan"),
    "500w_1000w": N_("5–10 million yuan"),
    "1000w_1y": N_("10–100 million yuan"),
    "ge_1y": N_("100 million yuan or more"),
}
DEAL_KIND_LABELS = {**{str(k): v for k, v in INCOME_KIND_LABELS.items()}, **{str(k): v for k, v in AGREEMENT_KIND_LABELS.items()}}


@dataclass(frozen=True)
class Column:
    label: str  # message id
    kind: str = TEXT
    series: bool = False  # a chart draws this column


@dataclass(frozen=True)
class Table:
    key: str  # its name in the export's address
    title: str  # message id
    columns: tuple[Column, ...]
    rows: list[list[Any]]
    chart: str | None = None  # bar | hbar | line | pie | stack | funnel: how the page draws it
    chart_top: int | None = None  # the chart draws the first rows only (the table has them all)
    labels: dict[str, str] | None = None  # the first column's keys → message ids


def _label(labels: dict[str, str], key: str) -> str:
    return labels.get(key, key)


def _duration_row(label: str, d: Duration) -> list[Any]:
    return [label, d.count, d.median_days, d.p90_days]


def _rate_row(label: str, r: Rate) -> list[Any]:
    return [label, r.numerator, r.denominator, r.rate_bp]


def _counts(key: str, title: str, label: str, count: str, rows: list[list[Any]]) -> Table:
    """A table of labelled counts (a label column, a count column), drawn as a table only."""
    return Table(key, title, (Column(label, LABEL), Column(count, COUNT)), rows)


def summary(d: Dashboard) -> Table:
    s = d.summary
    rows = [
        [N_("Companies"), s.companies],
        [N_("Projects (match requests)"), s.projects],
        [N_("Hospitals"), s.hospitals],
        [N_("Project centres"), s.project_centres],
        [N_("Published listings"), s.listings_published],
        [N_("Agreements signed"), s.agreements_signed],
    ]
    return _counts("summary", N_("Headline figures"), N_("Figure"), N_("Value"), rows)


def funnel(d: Dashboard) -> Table:
    rows = [[_label(STEP_LABELS, s.step), s.count, s.conversion_bp] for s in d.funnel.steps]
    columns = (
        Column(N_("Step"), LABEL),
        Column(N_("Count"), COUNT, series=True),
        Column(N_("Conversion"), RATE),
    )
    return Table("funnel", N_("Funnel"), columns, rows, chart="hbar")


def stalls(d: Dashboard) -> Table:
    rows = [[_label(STEP_LABELS, s.stage), s.open, s.lost] for s in d.funnel.stalls]
    columns = (
        Column(N_("Furthest stage reached"), LABEL),
        Column(N_("Still open there"), COUNT, series=True),
        Column(N_("Lost there"), COUNT, series=True),
    )
    return Table("stalls", N_("Where deals stall"), columns, rows, chart="stack")


def stuck(d: Dashboard) -> Table:
    rows = [[_label(REQUEST_STATE_LABELS, s.state), s.count] for s in d.funnel.stuck]
    return _counts("stuck", N_("Open requests without a move"), N_("State"), N_("Requests"), rows)


def match_rates(d: Dashboard) -> Table:
    r = d.rates
    rows = [
        _rate_row(N_("Institutions with an accepted match (对接率)"), r.institutions),
        _rate_row(N_("Needs with a selected response"), r.needs),
        _rate_row(N_("Requests answered within their deadline"), r.answered_in_time),
    ]
    columns = (
        Column(N_("Rate"), LABEL),
        Column(N_("Numerator"), COUNT),
        Column(N_("Denominator"), COUNT),
        Column(N_("Proportion"), RATE),
    )
    return Table("match_rates", N_("Match rates"), columns, rows)


DURATION_COLUMNS = (Column(N_("Time"), LABEL), Column(N_("Count"), COUNT), Column(N_("Median (days)"), DAYS, series=True),
                    Column(N_("90th percentile (days)"), DAYS, series=True))  # fmt: skip


def times(d: Dashboard) -> Table:
    t = d.times
    rows = [
        _duration_row(N_("To first response"), t.first_response),
        _duration_row(N_("To acceptance"), t.acceptance),
        _duration_row(N_("To agreement"), t.agreement),
        _duration_row(N_("Trial start-up"), t.trial_startup),
    ]
    return Table("times", N_("Times"), DURATION_COLUMNS, rows, chart="bar")


def pay_later(d: Dashboard) -> Table:
    p = d.pay_later
    rows = [
        [N_("Signed in the period"), p.signed],
        [N_("In use"), p.in_use],
        [N_("Converted"), p.converted],
        [N_("Exited"), p.exited],
        [N_("Terminated"), p.terminated],
        [N_("In default"), p.defaulted],
    ]
    return _counts("pay_later", N_("Use first, pay later"), N_("Licences"), N_("Count"), rows)


def income_by_month(d: Dashboard) -> Table:
    rows = [[m.month, m.amount_fen] for m in d.income.by_month]
    return Table(
        "income_by_month",
        N_("Income by month"),
        (Column(N_("Month")), Column(N_("Income"), MONEY, series=True)),
        rows,
        chart="line",
    )


def income_by_institution(d: Dashboard) -> Table:
    rows = [[i.name, i.amount_fen, i.health_technicians, i.per_100_technicians_fen] for i in d.income.by_institution]
    columns = (
        Column(N_("Institution")),
        Column(N_("Income"), MONEY, series=True),
        Column(N_("Health technicians"), COUNT),
        Column(N_("Income per 100 health technicians"), MONEY),
    )
    return Table("income_by_institution", N_("Income by institution"), columns, rows, chart="hbar", chart_top=CHART_TOP)


def income_by_kind(d: Dashboard) -> Table:
    rows = [[_label(DEAL_KIND_LABELS, k.key), k.amount_fen] for k in d.income.by_deal_kind]
    columns = (Column(N_("Agreement type"), LABEL), Column(N_("Income"), MONEY, series=True))
    return Table("income_by_kind", N_("Income by agreement type"), columns, rows, chart="pie")


def income_by_category(d: Dashboard) -> Table:
    rows = [[_label(CATEGORY_LABELS, k.key), k.amount_fen] for k in d.income.by_category]
    columns = (Column(N_("Category"), LABEL), Column(N_("Amount"), MONEY, series=True))
    return Table("income_by_category", N_("Income by category"), columns, rows, chart="pie")


def value_bands(d: Dashboard) -> Table:
    rows = [[_label(BAND_LABELS, b.band), b.count, b.value_fen] for b in d.income.value_bands]
    columns = (
        Column(N_("Contract value"), LABEL),
        Column(N_("Agreements"), COUNT, series=True),
        Column(N_("Total value"), MONEY),
    )
    return Table("value_bands", N_("Contract values by band"), columns, rows, chart="hbar")


def beds_by_institution(d: Dashboard) -> Table:
    rows = [
        [
            i.name,
            i.approved_beds,
            i.ward_beds,
            i.capacity_bed_days,
            i.held_bed_days,
            i.utilisation_bp,
            N_("Above the line") if i.over_line else "",
        ]
        for i in d.beds.institutions
    ]
    columns = (
        Column(N_("Institution")),
        Column(N_("Approved beds"), COUNT),
        Column(N_("Research beds"), COUNT),
        Column(N_("Bed-days open"), COUNT),
        Column(N_("Bed-days held"), COUNT),
        Column(N_("Utilisation"), RATE, series=True),
        Column(N_("Above the 10 percent line"), LABEL),
    )
    return Table("beds_by_institution", N_("Bed use by institution"), columns, rows, chart="hbar", chart_top=CHART_TOP)


def beds_by_ward(d: Dashboard) -> Table:
    names = {i.institution_id: i.name for i in d.beds.institutions}
    rows = [
        [w.name, names.get(w.institution_id, ""), w.beds, w.capacity_bed_days, w.held_bed_days, w.utilisation_bp]
        for w in d.beds.wards
    ]
    columns = (
        Column(N_("Ward")),
        Column(N_("Institution")),
        Column(N_("Research beds"), COUNT),
        Column(N_("Bed-days open"), COUNT),
        Column(N_("Bed-days held"), COUNT),
        Column(N_("Utilisation"), RATE, series=True),
    )
    return Table("beds_by_ward", N_("Bed use by ward"), columns, rows)


EVENT_STEP_LABELS = {
    "requested": N_("Meeting requests made"),
    "accepted": N_("Meetings accepted"),
    "scheduled": N_("Meetings scheduled"),
    "held": N_("Meetings held"),
    "match_request": N_("Became match requests"),
    "agreement": N_("Became agreements"),
}


def event_funnel(d: Dashboard) -> Table:
    steps = d.events.steps if d.events else []
    rows = [[_label(EVENT_STEP_LABELS, s.step), s.count, s.conversion_bp] for s in steps]
    columns = (Column(N_("Step"), LABEL), Column(N_("Count"), COUNT, series=True), Column(N_("Conversion"), RATE))
    return Table("event_funnel", N_("Matchmaking events: from a meeting request to an agreement"), columns, rows, chart="funnel")


def event_participants(d: Dashboard) -> Table:
    rows: list[list[Any]] = []
    if d.events:
        e = d.events
        kinds = {k.key: k.count for k in e.participants}
        rows = [
            [N_("Events in the period"), e.events],
            [N_("Events held"), e.events_held],
            [N_("Institutions registered"), kinds.get("institution", 0)],
            [N_("Companies registered"), kinds.get("company", 0)],
        ]
    return _counts("event_participants", N_("Events and participants"), N_("Figure"), N_("Value"), rows)


DEAL_COLUMNS = (
    Column(N_("Agreement")),
    Column(N_("Institution")),
    Column(N_("Company")),
    Column(N_("Type"), LABEL),
    Column(N_("State"), LABEL),
    Column(N_("Signed"), DATE),
    Column(N_("Contract value"), MONEY),
    Column(N_("Paid"), MONEY),
    Column(N_("Agreement ID")),
)


def deal_row(deal: Deal) -> list[Any]:
    return [
        deal.title,
        deal.institution,
        deal.company,
        _label(DEAL_KIND_LABELS, deal.kind),
        _label(AGREEMENT_STATE_LABELS, deal.state),
        deal.signed_at,
        deal.value_fen,
        deal.paid_fen,
        str(deal.agreement_id),
    ]


def deals(d: Dashboard, rows: list[Deal] | None = None) -> Table:
    return Table("deals", N_("Deals"), DEAL_COLUMNS, [deal_row(x) for x in (d.deals.rows if rows is None else rows)])


def freshness(d: Dashboard) -> Table:
    rows: list[list[Any]] = []
    if d.freshness:
        rows = [[k.key, k.count] for k in d.freshness.by_status]  # a status is its own message id
        rows.append([N_("Published and stale (not reconfirmed)"), d.freshness.stale])
    return _counts("freshness", N_("Listings' freshness"), N_("Listings"), N_("Count"), rows)


def inbox(d: Dashboard) -> Table:
    rows: list[list[Any]] = []
    if d.inbox:
        i = d.inbox
        rows = [
            [N_("Requests waiting for an answer"), i.open, None, None],
            [N_("Overdue now"), i.overdue, None, None],
            [N_("First responses in the period"), i.first_response.count, i.first_response.median_days, None],
            [N_("Requests due in the period"), i.answered_in_time.denominator, None, i.answered_in_time.rate_bp],
        ]
    columns = (
        Column(N_("Inbox"), LABEL),
        Column(N_("Requests"), COUNT),
        Column(N_("Median (days)"), DAYS),
        Column(N_("Answered within their deadline"), RATE),
    )
    return Table("inbox", N_("Inbox health"), columns, rows)


PLATFORM_TABLES: dict[str, Callable[[Dashboard], Table]] = {
    "summary": summary,
    "funnel": funnel,
    "stalls": stalls,
    "stuck": stuck,
    "match_rates": match_rates,
    "times": times,
    "pay_later": pay_later,
    "income_by_month": income_by_month,
    "income_by_institution": income_by_institution,
    "income_by_kind": income_by_kind,
    "income_by_category": income_by_category,
    "value_bands": value_bands,
    "beds_by_institution": beds_by_institution,
    "beds_by_ward": beds_by_ward,
    "event_participants": event_participants,
    "event_funnel": event_funnel,
    "deals": deals,
}
INSTITUTION_TABLES: dict[str, Callable[[Dashboard], Table]] = {"freshness": freshness, "inbox": inbox}


def table_keys(platform: bool) -> set[str]:
    """The tables a dashboard has: the institution's own blocks only on its dashboard."""
    return set(PLATFORM_TABLES) | (set() if platform else set(INSTITUTION_TABLES))


def tables_of(d: Dashboard) -> dict[str, Table]:
    """The dashboard's tables by key."""
    makers = PLATFORM_TABLES | ({} if d.platform else INSTITUTION_TABLES)
    return {key: make(d) for key, make in makers.items()}
