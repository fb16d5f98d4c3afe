"""The .xlsx of listings as TTO staff open it: a header row with a comment on each column, a
drop-down (Excel data validation) on every coded column, and a second sheet with the allowed
values of each, which the drop-downs read. Written in openpyxl's write-only mode, so that a large
export streams instead of holding every cell object."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation

from marketplace.catalog.form_fields import ROW_LABELS
from marketplace.catalog.sheet_cells import IP_CHOICES
from marketplace.catalog.sheet_columns import COLUMNS, Column, Vocabulary, detail_types
from marketplace.i18n import N_, gettext
from marketplace.spreadsheet_safety import neutralise

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ONLY_FOR = N_("Only for: %(types)s.")
PICK_ONE = N_("Choose from the list.")
PICK_SEVERAL = N_("Choose from the list; for several, type them separated by semicolons (;).")


def _hint(column: Column, vocab: Vocabulary) -> str:
    parts = []
    if column.key.startswith("details."):
        parts.append(gettext(ONLY_FOR, types=vocab.allowed("type", detail_types(column.key.split(".", 1)[1]))))
    if column.hint:
        parts.append(gettext(column.hint))
    if column.choices and column.key not in ("licence_options",):
        parts.append(gettext(PICK_SEVERAL if column.multi else PICK_ONE))
    return " ".join(parts)


def _allowed_lists(vocab: Vocabulary) -> list[tuple[str, str, list[str]]]:
    """(list name, its heading, its labels) for the sheet of allowed values."""
    lists = []
    for column in COLUMNS:
        if column.choices and column.choices in vocab.lists:
            lists.append((column.choices, column.header, [c.label for c in vocab.lists[column.choices]]))
    for part, name in IP_CHOICES.items():
        heading = f"{gettext(N_('IP assets'))}: {gettext(ROW_LABELS[part])}"
        lists.append((name, heading, [c.label for c in vocab.lists[name]]))
    return lists


def workbook(rows: list[dict[str, str]], vocab: Vocabulary, last_row: int) -> bytes:
    book = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = book.create_sheet(gettext(N_("Listings")))
    allowed: WriteOnlyWorksheet = book.create_sheet(gettext(N_("Allowed values")))
    lists = _allowed_lists(vocab)
    ranges: dict[str, str] = {}
    for position, (name, _heading, labels) in enumerate(lists, start=1):
        letter = get_column_letter(position)
        ranges.setdefault(name, f"{quote_sheetname(allowed.title)}!${letter}$2:${letter}${len(labels) + 1}")
        allowed.column_dimensions[letter].width = 24

    for position, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = 36 if column.key.startswith(("summary", "confidential", "ip_")) else 18
        if column.choices in ranges:
            validation = DataValidation(type="list", formula1=ranges[column.choices], allow_blank=True)
            # Several values in one cell ("肿瘤; 消化") are not one list item: offer the list, allow the rest.
            validation.showErrorMessage = not column.multi
            validation.errorTitle = column.header
            validation.error = gettext(PICK_ONE)
            validation.add(f"{letter}2:{letter}{last_row}")
            sheet.data_validations.append(validation)
    sheet.freeze_panes = "C2"

    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        hint = _hint(column, vocab)
        if hint:
            cell.comment = Comment(hint, "")
            cell.comment.width, cell.comment.height = 260, 110
        header.append(cell)
    sheet.append(header)
    for row in rows:
        # The ' keeps openpyxl from storing the text as a formula (it does for a leading =).
        sheet.append([neutralise(row.get(c.key, "")) for c in COLUMNS])

    longest = max(len(labels) for _name, _heading, labels in lists)
    allowed.append([heading for _name, heading, _labels in lists])
    for i in range(longest):
        allowed.append([labels[i] if i < len(labels) else None for _name, _heading, labels in lists])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
