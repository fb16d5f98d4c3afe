"""The annual report as a PDF in Chinese (ReportLab): the white paper an operator can publish.

Built from plain data (report.ReportData), so it needs no database. Always Chinese, whatever the
request's language: the catalogue's zh_CN texts are set for the drawing. Money stays integer fen to
the text (ledger.statement_files.format_fen); charts plot yuan as floats, their tables say the exact
figures. Called in a thread: drawing is CPU work.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from marketplace import i18n
from marketplace.analytics.page_tables import EVENT_STEP_LABELS
from marketplace.analytics.report_labels import (
    BAND_LABELS,
    CATEGORY_LABELS,
    DEFINITIONS,
    HEADLINES,
    PAY_LATER_LABELS,
    STAGE_LABELS,
    STEP_LABELS,
    TIME_LABELS,
    ReportData,
)
from marketplace.db import CHINA_TIME
from marketplace.i18n import gettext
from marketplace.ledger.page_forms import KIND_LABELS as INCOME_KINDS
from marketplace.ledger.statement_files import cjk_font, format_fen, period_text
from marketplace.licensing.lifecycle import STATE_LABELS as AGREEMENT_STATES
from marketplace.licensing.views import KIND_LABELS
from marketplace.matching.requests.lifecycle import STATE_LABELS as REQUEST_STATES

INK = colors.HexColor("#1F3A5F")
ACCENT = colors.HexColor("#2E7D9A")
MUTED = colors.HexColor("#595959")
RULE = colors.HexColor("#B8C4D2")
STRIPE = colors.HexColor("#F3F6FA")
PALETTE = [colors.HexColor(c) for c in ("#1F3A5F", "#2E7D9A", "#7FB069", "#E6AA68", "#CA3C25", "#8E7DBE", "#5C946E")]
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN - 12  # the frame's room, less its padding
MAX_ROWS = 30
# A deal without an agreement is a ledger income of its kind (migration 0016: deal_kind).
DEAL_KINDS: dict[str, str] = {
    str(kind): label for kind, label in INCOME_KINDS.items()
}  # the longest tables (institutions, wards) show their first rows


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    return {
        "cover": ParagraphStyle("cover", fontName=font, fontSize=26, leading=36, textColor=INK, spaceAfter=8 * mm),
        "scope": ParagraphStyle("scope", fontName=font, fontSize=16, leading=22, textColor=ACCENT, spaceAfter=4 * mm),
        "section": ParagraphStyle(
            "section", fontName=font, fontSize=14, leading=20, textColor=INK, spaceBefore=4 * mm, spaceAfter=3 * mm
        ),
        "sub": ParagraphStyle(
            "sub", fontName=font, fontSize=11, leading=16, textColor=INK, spaceBefore=3 * mm, spaceAfter=2 * mm
        ),
        "body": ParagraphStyle("body", fontName=font, fontSize=10, leading=15),
        "note": ParagraphStyle("note", fontName=font, fontSize=8.5, leading=12.5, textColor=MUTED, spaceBefore=1.5 * mm),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11),
        "head_right": ParagraphStyle("head_right", fontName=font, fontSize=8.5, leading=11, alignment=TA_RIGHT),
        "kpi": ParagraphStyle("kpi", fontName=font, fontSize=17, leading=22, textColor=INK),
        "kpi_label": ParagraphStyle("kpi_label", fontName=font, fontSize=9, leading=12, textColor=MUTED),
    }


def _p(text: str, style: str = "body") -> Paragraph:
    return Paragraph(escape(text), _styles()[style])


def percent(bp: int | None) -> str:
    return "—" if bp is None else f"{bp / 100:.1f}%"


def days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def yuan(fen: int) -> str:
    return "¥" + format_fen(fen)


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float], *, numeric_from: int = 1) -> Table:
    """A striped table, its header repeated on every page; columns from `numeric_from` right-aligned."""
    cells = [[_p(h, "head_right" if i >= numeric_from else "cell") for i, h in enumerate(head)]]
    cells += [[_p(v, "cell") if isinstance(v, str) and i < numeric_from else v for i, v in enumerate(row)] for row in rows]
    table = Table(cells, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), cjk_font()),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), STRIPE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.9, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _columns(*shares: float) -> list[float]:
    return [WIDTH * s / sum(shares) for s in shares]


def _none(items: Sequence[Any]) -> list[Any]:
    """An empty table says so in a line instead."""
    return [] if items else [_p(gettext("No data for this period."), "note")]


# ----- sections --------------------------------------------------------------------------------------


def _cover(data: ReportData) -> list[Any]:
    scope = data.institution or gettext("Platform-wide")
    generated = data.generated_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
    period = data.summary.period
    story: list[Any] = [
        Spacer(1, 55 * mm),
        _p(gettext("Annual report on medical technology transfer, %(year)s", year=data.year), "cover"),
        _p(scope, "scope"),
        _p(gettext("Reporting period") + "：" + period_text(period.start, period.end)),
        _p(gettext("Generated on") + "：" + generated + " (UTC+8)"),
        Spacer(1, 12 * mm),
        _p(
            gettext(
                "Figures are computed from the platform's records: match requests, agreements, payments received and research beds."
            ),
            "note",
        ),
    ]
    if data.empty:
        story += [
            Spacer(1, 8 * mm),
            _p(
                gettext("Nothing was recorded in %(year)s: no match request, agreement, payment or trial centre.", year=data.year)
            ),
        ]
    return [*story, PageBreak()]


def _headline(data: ReportData) -> list[Any]:
    s = data.summary
    values = {"companies": str(s.companies), "projects": str(s.projects), "hospitals": str(s.hospitals),
              "project_centres": str(s.project_centres), "listings_published": str(s.listings_published),
              "agreements_signed": str(s.agreements_signed), "income": yuan(s.income_fen)}  # fmt: skip
    cards = [[_p(values[key], "kpi"), _p(gettext(label), "kpi_label")] for key, label in HEADLINES]
    grid = [cards[i : i + 2] for i in range(0, len(cards), 2)]
    rows = [[Table([[c[0]], [c[1]]]) for c in pair] + [""] * (2 - len(pair)) for pair in grid]
    table = Table(rows, colWidths=[WIDTH / 2] * 2, hAlign="LEFT")
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.6, RULE), ("INNERGRID", (0, 0), (-1, -1), 0.4, RULE),
                               ("BACKGROUND", (0, 0), (-1, -1), STRIPE), ("TOPPADDING", (0, 0), (-1, -1), 6)]))  # fmt: skip
    return [_p(gettext("1. Headline figures"), "section"), table, _p(gettext(DEFINITIONS["headline"]), "note")]


def _funnel(data: ReportData) -> list[Any]:
    f = data.funnel
    steps = [[gettext(STEP_LABELS[s.step]), f"{s.count:,}", percent(s.conversion_bp)] for s in f.steps]
    head = (gettext("Step"), gettext("Count"), gettext("Conversion from the step before"))
    stalls = [[gettext(STAGE_LABELS[s.stage]), f"{s.open:,}", f"{s.lost:,}"] for s in f.stalls]
    stuck = [[gettext(REQUEST_STATES.get(s.state, s.state)), f"{s.count:,}"] for s in f.stuck]
    views = f"{f.listing_views:,}"
    return [
        _p(gettext("2. The funnel"), "section"),
        _table(head, steps, _columns(3, 1.2, 2)),
        _p(gettext(DEFINITIONS["funnel"]) + " " + gettext("Listing views in the period: %(views)s.", views=views), "note"),
        _p(gettext("Where deals stall"), "sub"),
        _table((gettext("Furthest stage reached"), gettext("Still open"), gettext("Lost")), stalls, _columns(3, 1.5, 1.5)),
        _p(gettext("Stuck now: open requests without a move for %(days)d days or more", days=f.stuck_days), "sub"),
        _table((gettext("State"), gettext("Requests")), stuck, _columns(3, 1.5)),
    ]


def _rates(data: ReportData) -> list[Any]:
    m = data.match_rates
    rows = [
        [gettext("Institution match rate (对接率)"), f"{m.institutions.numerator:,} / {m.institutions.denominator:,}", percent(m.institutions.rate_bp)],
        [gettext("Needs with a selected response"), f"{m.needs.numerator:,} / {m.needs.denominator:,}", percent(m.needs.rate_bp)],
        [gettext("Requests answered in time"), f"{m.answered_in_time.numerator:,} / {m.answered_in_time.denominator:,}", percent(m.answered_in_time.rate_bp)],
    ]  # fmt: skip
    notes = [_p(gettext(DEFINITIONS[key]), "note") for key in ("institutions", "needs", "answered_in_time")]
    return [
        _p(gettext("3. Match rates"), "section"),
        _table((gettext("Rate"), gettext("Of"), gettext("Share")), rows, _columns(3, 1.5, 1)),
        *notes,
    ]


def _times(data: ReportData) -> list[Any]:
    t = data.times
    measures = (
        ("first_response", t.first_response),
        ("acceptance", t.acceptance),
        ("agreement", t.agreement),
        ("trial_startup", t.trial_startup),
    )
    rows = [[gettext(TIME_LABELS[key]), f"{d.count:,}", days(d.median_days), days(d.p90_days)] for key, d in measures]
    head = (gettext("Measure"), gettext("Requests"), gettext("Median (days)"), gettext("90th percentile (days)"))
    return [
        _p(gettext("4. Times"), "section"),
        _table(head, rows, _columns(3, 1, 1.3, 1.6)),
        _p(
            gettext(DEFINITIONS["times"])
            + " "
            + gettext("Requests overdue when the report was made: %(count)s.", count=t.overdue_now),
            "note",
        ),
    ]


def _pay_later(data: ReportData) -> list[Any]:
    p = data.pay_later
    rows = [[gettext(label), f"{getattr(p, key):,}"] for key, label in PAY_LATER_LABELS]
    rows.append([gettext("Conversion rate (converted of converted and exited)"), percent(p.conversion_bp)])
    return [_p(gettext("5. Use first, pay later"), "section"), _table((gettext("Licences"), gettext("Count")), rows, _columns(3, 1.2)),
            _p(gettext(DEFINITIONS["pay_later"]), "note")]  # fmt: skip


def _bar_chart(labels: list[str], values: list[float]) -> Drawing:
    drawing = Drawing(WIDTH, 62 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 16 * mm, 10 * mm, WIDTH - 22 * mm, 48 * mm
    chart.data = [values]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontName = cjk_font()
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = cjk_font()
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


def _pie(labels: list[str], values: list[float]) -> Drawing:
    drawing = Drawing(WIDTH, 52 * mm)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 10 * mm, 4 * mm, 44 * mm, 44 * mm
    pie.data = values
    pie.simpleLabels = 1
    pie.labels = None
    pie.slices.strokeColor = colors.white
    for i in range(len(values)):
        pie.slices[i].fillColor = PALETTE[i % len(PALETTE)]
    legend = Legend()
    legend.x, legend.y = 70 * mm, 40 * mm
    legend.fontName = cjk_font()
    legend.fontSize = 8.5
    legend.alignment = "right"
    legend.colorNamePairs = [(PALETTE[i % len(PALETTE)], label) for i, label in enumerate(labels)]
    drawing.add(pie)
    drawing.add(legend)
    return drawing


def _income(data: ReportData) -> list[Any]:
    income = data.income
    story: list[Any] = [
        _p(gettext("6. Income"), "section"),
        _p(gettext("Income received in the period: %(amount)s (CNY).", amount=yuan(income.total_fen))),
        _p(gettext("By month"), "sub"),
    ]
    by_month = {m.month: m.amount_fen for m in income.by_month}
    months = [f"{data.year}-{month:02d}" for month in range(1, 13)]
    if income.by_month:
        story.append(_bar_chart([m[5:] for m in months], [by_month.get(m, 0) / 100 for m in months]))
    story.append(
        _table((gettext("Month"), gettext("Amount (CNY)")), [[m, format_fen(by_month.get(m, 0))] for m in months], _columns(2, 2))
    )
    rows = [[i.name, format_fen(i.amount_fen), "—" if i.health_technicians is None else f"{i.health_technicians:,}",
             "—" if i.per_100_technicians_fen is None else format_fen(i.per_100_technicians_fen)] for i in income.by_institution[:MAX_ROWS]]  # fmt: skip
    head = (
        gettext("Institution"),
        gettext("Amount (CNY)"),
        gettext("Health technicians"),
        gettext("Per 100 health technicians (CNY)"),
    )
    story += [_p(gettext("By institution"), "sub"), *_none(rows)]
    if rows:
        story += [_table(head, rows, _columns(3.2, 1.6, 1.2, 1.8)), _p(gettext(DEFINITIONS["per_100"]), "note")]
    categories = [c for c in income.by_category if c.amount_fen > 0]
    part: list[Any] = [_p(gettext("By distribution category"), "sub")]
    if categories:
        part.append(
            _pie([gettext(CATEGORY_LABELS.get(c.key, c.key)) for c in categories], [c.amount_fen / 100 for c in categories])
        )
    rows = [[gettext(CATEGORY_LABELS.get(c.key, c.key)), format_fen(c.amount_fen), percent(c.amount_fen * 10000 // income.total_fen if income.total_fen else None)]
            for c in income.by_category]  # fmt: skip
    story.append(
        KeepTogether([*part, _table((gettext("Category"), gettext("Amount (CNY)"), gettext("Share")), rows, _columns(3, 2, 1))])
    )
    rows = [
        [gettext(KIND_LABELS.get(k.key) or DEAL_KINDS.get(k.key) or k.key), format_fen(k.amount_fen)] for k in income.by_deal_kind
    ]
    story += [_p(gettext("By agreement type"), "sub"), *_none(rows)]
    if rows:
        story.append(_table((gettext("Agreement type"), gettext("Amount (CNY)")), rows, _columns(3, 2)))
    return story


def _bands(data: ReportData) -> list[Any]:
    rows = [[gettext(BAND_LABELS[b.band]), f"{b.count:,}", format_fen(b.value_fen)] for b in data.income.value_bands]
    head = (gettext("Contract value"), gettext("Agreements"), gettext("Total value (CNY)"))
    return [KeepTogether([_p(gettext("7. Contracts by value"), "section"), _table(head, rows, _columns(3, 1.2, 2)),
                          _p(gettext(DEFINITIONS["bands"]), "note")])]  # fmt: skip


def _beds(data: ReportData) -> list[Any]:
    b = data.beds
    rows = [[i.name, "—" if i.approved_beds is None else f"{i.approved_beds:,}", f"{i.ward_beds:,}", f"{i.held_bed_days:,} / {i.capacity_bed_days:,}",
             percent(i.utilisation_bp), gettext("Yes") if i.over_line else ""] for i in b.institutions[:MAX_ROWS]]  # fmt: skip
    head = (
        gettext("Institution"),
        gettext("Approved beds"),
        gettext("Research beds"),
        gettext("Bed-days held / open"),
        gettext("Utilisation"),
        gettext("Over 10%"),
    )
    story: list[Any] = [_p(gettext("8. Research beds"), "section"), *_none(rows)]
    if rows:
        story.append(_table(head, rows, _columns(3, 1.2, 1.2, 2, 1.1, 0.9)))
    wards = sorted(b.wards, key=lambda w: -(w.utilisation_bp or 0))[:MAX_ROWS]
    ward_rows = [
        [w.name, f"{w.beds:,}", f"{w.held_bed_days:,} / {w.capacity_bed_days:,}", percent(w.utilisation_bp)] for w in wards
    ]
    if ward_rows:
        story += [_p(gettext("Wards, the busiest first"), "sub"),
                  _table((gettext("Ward"), gettext("Beds"), gettext("Bed-days held / open"), gettext("Utilisation")), ward_rows, _columns(3.5, 1, 2, 1.2))]  # fmt: skip
    return [*story, _p(gettext(DEFINITIONS["beds"]), "note")]


def _events(data: ReportData) -> list[Any]:
    e = data.events
    kinds = {k.key: k.count for k in e.participants}
    counts = [
        [gettext("Events in the period"), f"{e.events:,}"],
        [gettext("Events held"), f"{e.events_held:,}"],
        [gettext("Institutions registered"), f"{kinds.get('institution', 0):,}"],
        [gettext("Companies registered"), f"{kinds.get('company', 0):,}"],
    ]
    steps = [[gettext(EVENT_STEP_LABELS[s.step]), f"{s.count:,}", percent(s.conversion_bp)] for s in e.steps]
    story: list[Any] = [_p(gettext("9. Matchmaking events"), "section")]
    if not e.events:
        return [*story, *_none([])]
    return [
        *story,
        _table((gettext("Figure"), gettext("Value")), counts, _columns(3, 1.5)),
        _table((gettext("Step"), gettext("Count"), gettext("Conversion from the step before")), steps, _columns(3, 1.2, 2)),
    ]


def _deals(data: ReportData) -> list[Any]:
    rows = [[d.title, d.institution, d.company, gettext(KIND_LABELS.get(d.kind, d.kind)), gettext(AGREEMENT_STATES.get(d.state, d.state)),
             d.signed_at.astimezone(CHINA_TIME).date().isoformat() if d.signed_at else "—", format_fen(d.value_fen), format_fen(d.paid_fen)]
            for d in data.deals.rows]  # fmt: skip
    head = (gettext("Agreement"), gettext("Institution"), gettext("Company"), gettext("Type"), gettext("State"), gettext("Signed"),
            gettext("Value (CNY)"), gettext("Paid (CNY)"))  # fmt: skip
    story: list[Any] = [_p(gettext("10. The year's largest agreements"), "section"), *_none(rows)]
    if rows:
        story.append(_table(head, rows, _columns(2.6, 2, 2, 1.4, 1.1, 1.5, 1.6, 1.5), numeric_from=6))
        story.append(
            _p(
                gettext(
                    "%(shown)d of the %(total)d agreements signed in the year, by contract value.",
                    shown=len(rows),
                    total=data.deals.total,
                ),
                "note",
            )
        )
    return story


# ----- the document --------------------------------------------------------------------------------


def _footer(title: str):
    def draw(canvas: Canvas, document: SimpleDocTemplate) -> None:
        if canvas.getPageNumber() == 1:
            return  # the cover
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, 13 * mm, A4[0] - MARGIN, 13 * mm)
        canvas.setFont(cjk_font(), 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 9 * mm, title)
        canvas.drawRightString(A4[0] - MARGIN, 9 * mm, gettext("Page %(page)s", page=canvas.getPageNumber()))
        canvas.restoreState()

    return draw


def annual_report_pdf(data: ReportData) -> bytes:
    """A4: the cover, then each section in turn (tables' headers repeat across pages)."""
    token = i18n.current_locale.set("zh_CN")  # the report is Chinese whoever asks
    try:
        title = gettext("Annual report on medical technology transfer, %(year)s", year=data.year)
        running = f"{title}  |  {data.institution or gettext('Platform-wide')}"
        buffer = io.BytesIO()
        document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                     bottomMargin=20 * mm, title=title, subject=data.institution or "", creator="marketplace")  # fmt: skip
        story = [*_cover(data), *_headline(data), *_funnel(data), *_rates(data), *_times(data), *_pay_later(data)]
        story += [PageBreak(), *_income(data), *_bands(data), *_beds(data), *_events(data), *_deals(data)]
        footer = _footer(running)
        document.build(story, onFirstPage=footer, onLaterPages=footer)
        return buffer.getvalue()
    finally:
        i18n.current_locale.reset(token)
