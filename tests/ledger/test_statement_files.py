"""The ledger's statements as CSV, XLSX and PDF: plain data in, files out, no database."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from marketplace import i18n
from marketplace.ledger.statement_files import (
    Statement,
    StatementLine,
    fen_to_decimal,
    format_fen,
    statement_csv,
    statement_pdf,
    statement_xlsx,
)
from marketplace.spreadsheet_safety import unneutralise

FORMULA = '=HYPERLINK("http://evil.example","点击")'
TITLES = ("一种基于深度学习的肺结节早期筛查系统", "可降解镁合金心血管支架", FORMULA)
HEADERS_ZH = ("日期", "科技成果", "合同/凭证编号", "摘要", "应计金额（元）", "已付金额（元）")
HEADERS_EN = ("Date", "Result", "Reference", "Particulars", "Accrued (CNY)", "Paid (CNY)")


@pytest.fixture
def chinese() -> Iterator[None]:
    token = i18n.current_locale.set("zh_CN")
    yield
    i18n.current_locale.reset(token)


@pytest.fixture
def english() -> Iterator[None]:
    token = i18n.current_locale.set("en")
    yield
    i18n.current_locale.reset(token)


def make_statement(n: int = 4, **overrides: object) -> Statement:
    amounts = [(1_234_567, 0), (-5, 0), (0, 50_000), (100, -3)]
    lines = [
        StatementLine(
            day=date(2026, 1, 1) + timedelta(days=i % 180),
            result_title=f"{TITLES[i % 3]}{i}" if i >= 3 else TITLES[i],
            reference="+86 contract" if i == 1 else f"HT-2026-{i:04d}",
            description=("收入分配", "冲销", "支付", "-adjustment")[i % 4],
            accrued_fen=amounts[i % 4][0],
            paid_fen=amounts[i % 4][1],
        )
        for i in range(n)
    ]
    accrued, paid = sum(x.accrued_fen for x in lines), sum(x.paid_fen for x in lines)
    fields: dict = {
        "kind": "inventor",
        "title": "发明人收益分配对账单",
        "party": "张晓华",
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 6, 30),
        "generated_at": datetime(2026, 7, 1, 1, 30, tzinfo=UTC),
        "summary": [("应计合计", accrued), ("已支付", paid), ("未付余额", accrued - paid)],
        "lines": lines,
    }
    return Statement(**{**fields, **overrides})


def squeeze(text: str) -> str:
    """Text without whitespace: a PDF's extraction breaks wrapped cells and spaces glyphs its own way."""
    return "".join(text.split())


def pdf_pages(content: bytes) -> list[str]:
    return [squeeze(page.extract_text()) for page in PdfReader(io.BytesIO(content)).pages]


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# --- amounts ---


def test_fen_are_shown_exactly() -> None:
    assert format_fen(0) == "0.00"
    assert format_fen(5) == "0.05"
    assert format_fen(-5) == "-0.05"
    assert format_fen(-100) == "-1.00"
    assert format_fen(123_456) == "1,234.56"
    assert format_fen(-123_456_789) == "-1,234,567.89"
    assert format_fen(123_456, grouping=False) == "1234.56"
    assert format_fen(10**15) == "10,000,000,000,000.00"
    assert str(fen_to_decimal(-5)) == "-0.05"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_fen_to_text_to_decimal_round_trips(fen: int) -> None:
    exact = Decimal(fen) / 100
    assert Decimal(format_fen(fen).replace(",", "")) == exact
    assert Decimal(format_fen(fen, grouping=False)) == exact
    assert fen_to_decimal(fen) == exact
    assert int(fen_to_decimal(fen) * 100) == fen


def test_a_statement_refuses_a_naive_time_and_an_unknown_kind() -> None:
    with pytest.raises(ValueError):
        make_statement(generated_at=datetime(2026, 7, 1, 9, 30))
    with pytest.raises(ValueError):
        make_statement(kind="company")


# --- PDF ---


@pytest.mark.usefixtures("chinese")
def test_the_pdf_holds_title_party_lines_and_exact_totals() -> None:
    statement = make_statement(6)
    text = "".join(pdf_pages(statement_pdf(statement)))
    assert "发明人收益分配对账单" in text and "张晓华" in text
    assert "2026-01-01至2026-06-30" in text and "2026-07-0109:30(UTC+8)" in text  # China time
    for line in statement.lines:
        assert squeeze(line.result_title) in text
    accrued, paid = statement.totals
    assert "合计" + format_fen(accrued) + format_fen(paid) in text
    for label, fen in statement.summary:
        assert f"{label}¥{format_fen(fen)}" in text
    assert "-0.05" in text and "12,345.67" in text


@pytest.mark.usefixtures("chinese")
def test_a_long_pdf_repeats_the_header_and_numbers_its_pages() -> None:
    statement = make_statement(300)
    pages = pdf_pages(statement_pdf(statement))
    assert len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        assert all(header in page for header in HEADERS_ZH), number
        assert f"第{number}页/共{len(pages)}页" in page
    assert "发明人收益分配对账单" in pages[0]
    accrued, paid = statement.totals
    assert "合计" + format_fen(accrued) + format_fen(paid) in pages[-1]
    assert sum(page.count("HT-2026-") for page in pages) == 299  # line 1's reference is "+86 contract"


@pytest.mark.usefixtures("chinese")
def test_an_empty_statement_says_so() -> None:
    text = "".join(pdf_pages(statement_pdf(make_statement(0, period_start=None, period_end=None))))
    assert "本期间没有记录。" in text and "全部期间" in text and "第1页/共1页" in text


@pytest.mark.usefixtures("chinese")
def test_markup_characters_are_printed_as_they_are() -> None:
    """Paragraphs read <, > and & as markup: names and titles must come out unchanged, not break the file."""
    long_title = "R&D <b>成果</b> " + "非常长的成果名称" * 6
    line = StatementLine(date(2026, 2, 1), long_title, "A&B <1>", "收入分配", 100, 0)
    statement = make_statement(0, title="对账单 <R&D>", party="李 & 王 <课题组>" * 8, lines=[line])
    text = "".join(pdf_pages(statement_pdf(statement)))
    assert squeeze("对账单 <R&D>") in text and squeeze(long_title) in text and "A&B<1>" in text
    assert "..." in text  # the footer's title and party, cut to leave room for the page number


# --- CSV ---


@pytest.mark.usefixtures("chinese")
def test_csv_round_trips_amounts_and_neutralises_formulas() -> None:
    statement = make_statement(8)
    rows = csv_rows(statement_csv(statement))
    assert rows[0] == ["发明人收益分配对账单"]
    assert ["发明人", "张晓华"] in rows and ["生成时间", "2026-07-01 09:30 (UTC+8)"] in rows
    for label, fen in statement.summary:
        assert [label, format_fen(fen, grouping=False)] in rows
    header = rows.index(list(HEADERS_ZH))
    body, total = rows[header + 1 : -1], rows[-1]
    assert len(body) == len(statement.lines)
    for row, line in zip(body, statement.lines, strict=True):
        assert row[0] == line.day.isoformat()
        assert [unneutralise(cell) for cell in row[1:4]] == [line.result_title, line.reference, line.description]
        assert Decimal(row[4]) == Decimal(line.accrued_fen) / 100 and Decimal(row[5]) == Decimal(line.paid_fen) / 100
    assert body[2][1] == "'" + FORMULA  # the formula is text, as the catalogue's export writes it
    assert body[1][2] == "'+86 contract" and body[3][3] == "'-adjustment"
    assert body[1][4] == "-0.05"  # an amount is a number, never escaped
    accrued, paid = statement.totals
    assert total[0] == "合计" and (Decimal(total[4]), Decimal(total[5])) == (Decimal(accrued) / 100, Decimal(paid) / 100)


# --- XLSX ---


@pytest.mark.usefixtures("chinese")
def test_xlsx_amounts_are_exact_numbers_and_text_is_neutralised() -> None:
    statement = make_statement(8)
    sheet = load_workbook(io.BytesIO(statement_xlsx(statement))).active
    assert sheet is not None
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "发明人收益分配对账单"
    header = next(i for i, row in enumerate(cells) if tuple(row[:6]) == HEADERS_ZH)
    assert sheet.freeze_panes == f"A{header + 2}"
    assert sheet.cell(row=header + 1, column=1).font.bold
    summary = {row[3]: row[4] for row in cells[1:header] if row[3]}
    assert {label: Decimal(str(value)) for label, value in summary.items()} == {
        label: Decimal(fen) / 100 for label, fen in statement.summary
    }
    body = cells[header + 1 : header + 1 + len(statement.lines)]
    for row, line in zip(body, statement.lines, strict=True):
        assert row[0].date() == line.day
        assert [unneutralise(cell) for cell in row[1:4]] == [line.result_title, line.reference, line.description]
        for value, fen in ((row[4], line.accrued_fen), (row[5], line.paid_fen)):
            assert isinstance(value, (int, float)) and Decimal(str(value)) == fen_to_decimal(fen)
    assert body[2][1] == "'" + FORMULA and body[1][2] == "'+86 contract"
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)
    money = sheet.cell(row=header + 2, column=5)
    assert "¥" in money.number_format and "0.00" in money.number_format
    total = cells[header + 1 + len(statement.lines)]
    accrued, paid = statement.totals
    assert total[0] == "合计" and (Decimal(str(total[4])), Decimal(str(total[5]))) == (
        fen_to_decimal(accrued),
        fen_to_decimal(paid),
    )
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width


# --- English ---


@pytest.mark.usefixtures("english")
def test_english_labels_in_every_format() -> None:
    statement = make_statement(3, title="Inventor revenue statement", summary=[("Outstanding", 1_234_662)])
    rows = csv_rows(statement_csv(statement))
    assert list(HEADERS_EN) in rows and ["Inventor", "张晓华"] in rows
    assert ["Period", "2026-01-01 to 2026-06-30"] in rows and rows[-1][0] == "Total"

    sheet = load_workbook(io.BytesIO(statement_xlsx(statement))).active
    assert sheet is not None
    values = {cell.value for row in sheet.iter_rows() for cell in row}
    assert set(HEADERS_EN) <= values and {"Inventor", "Period", "Generated on", "Total"} <= values
    assert sheet.title == "Statement"

    text = pdf_pages(statement_pdf(statement))[0]
    for label in (*HEADERS_EN, "Inventor", "Period", "Generatedon", "Totals", "Entries", "Page1/1"):
        assert squeeze(label) in text, label
    assert "Outstanding¥12,346.62" in text


@pytest.mark.usefixtures("english")
def test_english_periods_read_well() -> None:
    rows = csv_rows(statement_csv(make_statement(1, period_start=None)))
    assert ["Period", "Until 2026-06-30"] in rows
    rows = csv_rows(statement_csv(make_statement(1, period_end=None)))
    assert ["Period", "From 2026-01-01"] in rows
