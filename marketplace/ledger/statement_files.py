"""The ledger's statements as files: CSV, XLSX and a PDF with Chinese text.

Built from plain data (Statement, StatementLine), so they need no database; the ledger's services
fill these from the journal. Labels go through the message catalogue in the current language; the
lines' own texts arrive already translated.

Money stays integer fen to the last step: shown as "1,234.56" by integer arithmetic, never through a
float. XLSX amounts are numbers (written from an exact Decimal; Excel itself keeps 15 significant
digits) in a ¥ format, so they sum and sort. Text cells are neutralised against formulas by
marketplace.spreadsheet_safety, as the catalogue's export does.

Rendering is CPU work (a statement of thousands of lines takes seconds as a PDF): async callers run
these functions with asyncio.to_thread, as the catalogue's exports do, so the event loop keeps
serving; to_thread carries the context, so the request's language goes with it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from marketplace.db import CHINA_TIME
from marketplace.i18n import N_, gettext
from marketplace.spreadsheet_safety import neutralise

# The party's label, by the kind of statement.
KINDS = {"inventor": N_("Inventor"), "institution": N_("Institution"), "result": N_("Result")}
COLUMNS = (N_("Date"), N_("Result"), N_("Reference"), N_("Particulars"), N_("Accrued (CNY)"), N_("Paid (CNY)"))


@dataclass(frozen=True)
class StatementLine:
    day: date
    result_title: str  # the result (listing) the money came from
    reference: str  # agreement / contract / payout reference
    description: str  # already translated, e.g. "收入分配" / "支付" / "冲销"
    accrued_fen: int  # added to what is owed (negative for a reversal)
    paid_fen: int  # paid out


@dataclass(frozen=True)
class Statement:
    kind: str  # "inventor" | "institution" | "result"
    title: str  # translated, e.g. "发明人收益分配对账单"
    party: str  # the inventor's or institution's name (the result's title for a result)
    period_start: date | None
    period_end: date | None
    generated_at: datetime  # aware; shown in China time
    summary: list[tuple[str, int]]  # (translated label, fen): accrued, paid, outstanding …
    lines: list[StatementLine]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown statement kind {self.kind!r}")
        if self.generated_at.tzinfo is None:
            raise ValueError("generated_at must be aware: a naive time would be read in the server's zone")

    @property
    def totals(self) -> tuple[int, int]:
        return sum(line.accrued_fen for line in self.lines), sum(line.paid_fen for line in self.lines)


def format_fen(fen: int, grouping: bool = True) -> str:
    """Fen → yuan as text, exactly: 123456 → "1,234.56", -5 → "-0.05"."""
    yuan, cents = divmod(abs(fen), 100)
    whole = f"{yuan:,}" if grouping else str(yuan)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


def fen_to_decimal(fen: int) -> Decimal:
    # From a string, so no context precision rounds it, however large.
    return Decimal(f"{fen}E-2")


def period_text(start: date | None, end: date | None) -> str:
    if start and end:
        return gettext("%(start)s to %(end)s", start=start.isoformat(), end=end.isoformat())
    if start:
        return gettext("From %(start)s", start=start.isoformat())
    if end:
        return gettext("Until %(end)s", end=end.isoformat())
    return gettext("All dates")


def generated_text(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") + " (UTC+8)"


def _heading(statement: Statement) -> list[tuple[str, str]]:
    return [
        (gettext(KINDS[statement.kind]), statement.party),
        (gettext("Period"), period_text(statement.period_start, statement.period_end)),
        (gettext("Generated on"), generated_text(statement.generated_at)),
    ]


# --- CSV ---------------------------------------------------------------------------------------


def statement_csv(statement: Statement) -> bytes:
    """The heading, the summary, then the lines under a header row and a total; amounts as plain
    decimals ("1234.56", no grouping) so any tool reads them as numbers."""
    text = neutralise
    rows: list[list[Any]] = [[text(statement.title)]]
    rows += [[text(label), text(value)] for label, value in _heading(statement)]
    rows.append([])
    rows += [[text(label), format_fen(fen, grouping=False)] for label, fen in statement.summary]
    rows.append([])
    rows.append([gettext(column) for column in COLUMNS])
    rows += [
        [
            line.day.isoformat(),
            text(line.result_title),
            text(line.reference),
            text(line.description),
            format_fen(line.accrued_fen, grouping=False),
            format_fen(line.paid_fen, grouping=False),
        ]
        for line in statement.lines
    ]
    accrued, paid = statement.totals
    rows.append([gettext("Total"), "", "", "", format_fen(accrued, grouping=False), format_fen(paid, grouping=False)])
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the Chinese


# --- XLSX --------------------------------------------------------------------------------------

MONEY_FORMAT = '"¥"#,##0.00;[Red]-"¥"#,##0.00'
DARK = "1F3A5F"
LIGHT = "E8EEF5"


def _display_width(value: object) -> int:
    """Columns are measured in Latin characters; a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def statement_xlsx(statement: Statement) -> bytes:
    """One sheet: the title, the heading (A:B) beside the summary (D:E), then the lines with a frozen,
    filterable header that repeats when printed, and a total row."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = gettext("Statement")[:31]
    label_font = Font(bold=True, color="595959")
    widths = [_display_width(gettext(column)) for column in COLUMNS]

    def put(row: int, column: int, value: str | int, **style: Any) -> None:
        """Text, neutralised; or fen (an int) as a ¥ amount."""
        if isinstance(value, int):
            cell = sheet.cell(row=row, column=column, value=fen_to_decimal(value))
            cell.number_format = MONEY_FORMAT
            shown = "¥" + format_fen(value)
        else:
            cell = sheet.cell(row=row, column=column, value=neutralise(value))
            shown = value
        for name, setting in style.items():
            setattr(cell, name, setting)
        if row > 1:  # the title spans the columns and sets no width
            widths[column - 1] = max(widths[column - 1], _display_width(shown))

    put(1, 1, statement.title, font=Font(bold=True, size=15, color=DARK))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet.row_dimensions[1].height = 24
    heading = _heading(statement)
    for offset, (label, value) in enumerate(heading):
        put(2 + offset, 1, label, font=label_font)
        put(2 + offset, 2, value)
    for offset, (label, fen) in enumerate(statement.summary):
        put(2 + offset, 4, label, font=label_font)
        put(2 + offset, 5, fen, font=Font(bold=True))

    header = 2 + max(len(heading), len(statement.summary)) + 1
    for column, name in enumerate(COLUMNS, start=1):
        put(
            header,
            column,
            gettext(name),
            font=Font(bold=True, color="FFFFFF"),
            fill=PatternFill("solid", fgColor=DARK),
            alignment=Alignment(horizontal="right" if column > 4 else "left", vertical="center"),
        )
    sheet.row_dimensions[header].height = 20
    row = header
    for row, line in enumerate(statement.lines, start=header + 1):
        sheet.cell(row=row, column=1, value=line.day).number_format = "yyyy-mm-dd"
        put(row, 2, line.result_title)
        put(row, 3, line.reference)
        put(row, 4, line.description)
        put(row, 5, line.accrued_fen)
        put(row, 6, line.paid_fen)
    widths[0] = max(widths[0], 10)
    last_line = row
    total = row + 1
    accrued, paid = statement.totals
    line_above = Border(top=Side(style="thin", color=DARK), bottom=Side(style="double", color=DARK))
    for column in range(1, len(COLUMNS) + 1):
        sheet.cell(row=total, column=column).border = line_above
        sheet.cell(row=total, column=column).fill = PatternFill("solid", fgColor=LIGHT)
    put(total, 1, gettext("Total"), font=Font(bold=True))
    put(total, 5, accrued, font=Font(bold=True))
    put(total, 6, paid, font=Font(bold=True))

    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 3, 60)
    sheet.freeze_panes = sheet.cell(row=header + 1, column=1)
    if last_line > header:
        sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(COLUMNS))}{last_line}"
    sheet.print_title_rows = f"{header}:{header}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------------------

INK = colors.HexColor("#1F3A5F")
MUTED = colors.HexColor("#595959")
RULE = colors.HexColor("#B8C4D2")
STRIPE = colors.HexColor("#F3F6FA")
MARGIN = 15 * mm
FRAME_PADDING = 6  # platypus's default frame padding, each side
CELL_PADDING = 6  # and a table cell's, left and right


@cache
def cjk_font() -> str:
    # Adobe's CID font ships with every PDF reader, so the file embeds no font and stays small.
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, splitLongWords=True)
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=24, textColor=INK, spaceAfter=2 * mm),
        "section": ParagraphStyle("section", fontName=font, fontSize=11, leading=15, textColor=INK, spaceAfter=2 * mm),
        "label": ParagraphStyle("label", fontName=font, fontSize=9, leading=13, textColor=MUTED),
        "value": ParagraphStyle("value", fontName=font, fontSize=9.5, leading=13),
        "cell": cell,
        "head": ParagraphStyle("head", parent=cell, textColor=colors.white),
        "head_right": ParagraphStyle("head_right", parent=cell, textColor=colors.white, alignment=TA_RIGHT),
        "empty": ParagraphStyle("empty", fontName=font, fontSize=9.5, leading=13, textColor=MUTED),
    }


def _paragraph(text: str, style: str) -> Paragraph:
    return Paragraph(escape(text), _styles()[style])


def _cell(text: str, width: float) -> str | Paragraph:
    """A Paragraph only where the text must wrap: a plain string draws many times faster."""
    if "\n" not in text and pdfmetrics.stringWidth(text, cjk_font(), 8.5) <= width - 2 * CELL_PADDING:
        return text
    return _paragraph(text, "cell")


def _shortened(text: str, room: float, size: float) -> str:
    if pdfmetrics.stringWidth(text, cjk_font(), size) <= room:
        return text
    while text and pdfmetrics.stringWidth(text + "...", cjk_font(), size) > room:
        text = text[:-1]
    return text + "..."


def _page_canvas(running_title: str) -> type[Canvas]:
    """A canvas that holds every page until the end, so each footer can say how many there are."""

    class PagedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802  (reportlab's name)
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            pages = len(self._held)
            for state in self._held:
                self.__dict__.update(state)
                self._footer(pages)
                super().showPage()
            super().save()

        def _footer(self, pages: int) -> None:
            width, _height = A4
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, 12 * mm, width - MARGIN, 12 * mm)
            self.setFont(cjk_font(), 8)
            self.setFillColor(MUTED)
            page = gettext("Page %(page)s / %(pages)s", page=self._pageNumber, pages=pages)
            self.drawRightString(width - MARGIN, 8 * mm, page)
            room = width - 2 * MARGIN - pdfmetrics.stringWidth(page, cjk_font(), 8) - 10 * mm
            self.drawString(MARGIN, 8 * mm, _shortened(running_title, room, 8))

    return PagedCanvas


def _summary_table(statement: Statement) -> Table:
    font = cjk_font()
    rows = [[_paragraph(label, "value"), "¥" + format_fen(fen)] for label, fen in statement.summary]
    table = Table(rows, colWidths=[62 * mm, 42 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (1, 0), (1, -1), 10.5),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, -1), STRIPE),
                ("LINEBELOW", (0, 0), (-1, -2), 0.4, RULE),
                ("BOX", (0, 0), (-1, -1), 0.6, RULE),
                ("LINEBEFORE", (0, 0), (0, -1), 2.5, INK),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("LEFTPADDING", (0, 0), (0, -1), 8),
                ("RIGHTPADDING", (1, 0), (1, -1), 8),
            ]
        )
    )
    return table


def _lines_table(statement: Statement) -> Table:
    font = cjk_font()
    accrued, paid = statement.totals
    amounts = [format_fen(n) for line in statement.lines for n in (line.accrued_fen, line.paid_fen)]
    amounts += [format_fen(accrued), format_fen(paid), gettext(COLUMNS[4]), gettext(COLUMNS[5])]
    # Amounts never wrap: their columns grow to the widest figure (or header), taken from the result's.
    amount_width = max(22 * mm, max(pdfmetrics.stringWidth(a, font, 9.5) for a in amounts) + 12)
    usable = A4[0] - 2 * MARGIN - 2 * FRAME_PADDING
    widths = [22 * mm, 0.0, 34 * mm, 26 * mm, amount_width, amount_width]
    widths[1] = usable - sum(widths)
    head = [_paragraph(gettext(c), "head_right" if i > 3 else "head") for i, c in enumerate(COLUMNS)]
    body = [
        [
            line.day.isoformat(),
            _cell(line.result_title, widths[1]),
            _cell(line.reference, widths[2]),
            _cell(line.description, widths[3]),
            format_fen(line.accrued_fen),
            format_fen(line.paid_fen),
        ]
        for line in statement.lines
    ]
    total = [gettext("Total"), "", "", "", format_fen(accrued), format_fen(paid)]
    table = Table([head, *body, total], colWidths=widths, repeatRows=1)
    style: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (4, 0), (5, -1), "RIGHT"),
        ("BACKGROUND", (0, 0), (-1, 0), INK),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, STRIPE]),
        ("LINEBELOW", (0, 1), (-1, -2), 0.25, RULE),
        ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#E3E9F1")),
        ("LINEABOVE", (0, -1), (-1, -1), 0.9, INK),
        ("LINEBELOW", (0, -1), (-1, -1), 0.9, INK),
        ("FONTSIZE", (0, -1), (-1, -1), 9.5),
        ("VALIGN", (0, -1), (-1, -1), "MIDDLE"),
    ]
    # Reversals stand out: a negative amount is printed in red, as in a bank statement.
    for row, line in enumerate(statement.lines, start=1):
        for column, fen in ((4, line.accrued_fen), (5, line.paid_fen)):
            if fen < 0:
                style.append(("TEXTCOLOR", (column, row), (column, row), colors.HexColor("#B42318")))
    table.setStyle(TableStyle(style))
    return table


def statement_pdf(statement: Statement) -> bytes:
    """A4: title, party, period and generation time, the summary, then the lines (their header
    repeated on every page, a total at the end), "page n of m" in every footer."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=18 * mm,
        title=statement.title,
        subject=statement.party,
        creator="marketplace",
    )
    heading = Table(
        [[_paragraph(label, "label"), _paragraph(value, "value")] for label, value in _heading(statement)],
        colWidths=[28 * mm, None],
        hAlign="LEFT",
    )
    heading.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 1.5)]))
    story: list[Flowable] = [
        _paragraph(statement.title, "title"),
        HRFlowable(width="100%", thickness=1.2, color=INK, spaceAfter=3 * mm),
        heading,
        Spacer(0, 6 * mm),
    ]
    if statement.summary:
        story += [_paragraph(gettext("Totals"), "section"), _summary_table(statement), Spacer(0, 7 * mm)]
    story.append(_paragraph(gettext("Entries"), "section"))
    if statement.lines:
        story.append(_lines_table(statement))
    else:
        story.append(_paragraph(gettext("No entries in this period."), "empty"))
    document.build(story, canvasmaker=_page_canvas(f"{statement.title}  |  {statement.party}"))
    return buffer.getvalue()
