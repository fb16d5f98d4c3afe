"""A dashboard table as CSV or XLSX, with the filters it was computed under.

CSV is one header row and the rows, UTF-8 with a BOM so Excel reads the Chinese; money as plain
yuan ("1234.56"), rates as percent ("12.5"), so any tool reads numbers. XLSX has the title and
the filters above a frozen header; money is an exact ¥ number, rates a percentage. Every text
cell is neutralised against formulas (marketplace.spreadsheet_safety). Writing is CPU work: the
page runs these in a thread (asyncio.to_thread carries the request's language with it)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from marketplace.analytics.page_tables import COUNT, DATE, DAYS, LABEL, MONEY, RATE, Table
from marketplace.db import CHINA_TIME
from marketplace.i18n import gettext
from marketplace.ledger.statement_files import MONEY_FORMAT, fen_to_decimal, format_fen
from marketplace.spreadsheet_safety import neutralise

FORMATS = ("csv", "xlsx")


def percent_text(bp: int | None) -> str:
    """Basis points as a percent with up to two decimals: 1250 → "12.5", None → ""."""
    if bp is None:
        return ""
    return f"{Decimal(bp) / 100:f}".rstrip("0").rstrip(".") if bp % 100 else str(bp // 100)


def day_text(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TIME).date().isoformat()
    return value.isoformat()


def cell_text(kind: str, value: Any, *, grouping: bool = True) -> str:
    """A cell as text, the same on the page and in the CSV (the CSV without thousands separators)."""
    if value is None:
        return ""
    if kind == MONEY:
        return format_fen(value, grouping=grouping)
    if kind == RATE:
        return percent_text(value) + ("%" if grouping else "")
    if kind == DATE:
        return day_text(value)
    if kind == COUNT:
        return f"{value:,}" if grouping else str(value)
    if kind == DAYS:
        return f"{value:.1f}"
    return gettext(value) if kind == LABEL and value else str(value)


def _header(table: Table) -> list[str]:
    """Column names, with the unit where the cells are yuan or percent."""
    units = {MONEY: "%(label)s (yuan)", RATE: "%(label)s (%%)"}
    return [gettext(units[c.kind], label=gettext(c.label)) if c.kind in units else gettext(c.label) for c in table.columns]


def table_csv(table: Table) -> bytes:
    rows: list[list[Any]] = [_header(table)]
    rows += [
        [neutralise(cell_text(c.kind, v, grouping=False)) for c, v in zip(table.columns, row, strict=True)] for row in table.rows
    ]
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the Chinese


def _xlsx_value(kind: str, value: Any) -> tuple[Any, str | None]:
    """A cell's value and number format: numbers stay numbers, so they sum and sort."""
    if value is None:
        return None, None
    if kind == MONEY:
        return fen_to_decimal(value), MONEY_FORMAT
    if kind == RATE:
        return Decimal(value) / 10_000, "0.00%"
    if kind == DATE:
        return day_text(value), None
    if kind in (COUNT, DAYS):
        return value, "#,##0" if kind == COUNT else "0.0"
    return neutralise(gettext(value) if kind == LABEL and value else str(value)), None


def table_xlsx(table: Table, filters: str) -> bytes:
    """Row 1 the title, row 2 the filters, row 4 the header (frozen), the rows from row 5."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.key[:31]
    sheet.cell(row=1, column=1, value=neutralise(gettext(table.title))).font = Font(bold=True, size=14, color="1F3A5F")
    sheet.cell(row=2, column=1, value=neutralise(filters)).font = Font(color="595959")
    widths = []
    for column, name in enumerate(_header(table), start=1):
        cell = sheet.cell(row=4, column=column, value=neutralise(name))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3A5F")
        widths.append(max(10, len(name) * 2))
    for offset, row in enumerate(table.rows):
        for column, (spec, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            shown, number_format = _xlsx_value(spec.kind, value)
            cell = sheet.cell(row=5 + offset, column=column, value=shown)
            if number_format:
                cell.number_format = number_format
            widths[column - 1] = min(60, max(widths[column - 1], len(str(shown or "")) + 2))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A5"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
