"""Statements for people: the page's figures and chart, and the downloadable files, built from the
statement data (statements.py) by plain functions, so the pages and the API answer the same files.

Files carry CNY only (integer fen, the journal's money); shares of a company from an equity
contribution show on the pages, in units.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal
from urllib.parse import quote

from litestar import Response

from marketplace.db import utcnow
from marketplace.i18n import N_, gettext
from marketplace.ledger import schemas, statement_files
from marketplace.ledger.models import CNY, AccountKind, EntryKind
from marketplace.ledger.statement_files import Statement, StatementLine, format_fen
from marketplace.ledger.statements import StatementEntry, Statements
from marketplace.tenancy import Principal

StatementFormat = Literal["csv", "xlsx", "pdf"]

MEDIA_TYPES = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8"
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
RENDERERS = {"csv": statement_files.statement_csv, "xlsx": statement_files.statement_xlsx, "pdf": statement_files.statement_pdf}

ENTRY_LABELS = {
    EntryKind.income: N_("Income distribution"),
    EntryKind.payout: N_("Payment to the payee"),
    EntryKind.reversal: N_("Reversal"),
}

# The distribution by category, in the order the chart draws it: where each fen of income went.
DISTRIBUTION = (
    (AccountKind.inventor_payable, N_("Inventors"), "inventors"),
    (AccountKind.tto, N_("Technology transfer office"), "tto"),
    (AccountKind.iit_fund, N_("Investigator-initiated trial fund"), "iit"),
    (AccountKind.institution_retained, N_("Institution retained"), "institution"),
    (AccountKind.deductible_costs, N_("Deductible costs"), "costs"),
)
CATEGORIES = {kind.value: label for kind, label, _key in DISTRIBUTION} | {
    AccountKind.income_received.value: N_("Income received")
}

# Labels of a floor's parts on the compliance table.
INCOME_KINDS = {
    "licence": N_("Licence or transfer income"),
    "equity": N_("Equity contribution"),
    "own_implementation": N_("Own implementation"),
    "clinical_service": N_("Clinical-trial service income"),
}
SHARES = {
    "inventors": N_("Inventors"),
    "tto": N_("Technology transfer office"),
    "iit_fund": N_("Investigator-initiated trial fund"),
    "institution": N_("Institution retained"),
}
JURISDICTIONS = {
    "national": N_("National law"),
    "shanghai": N_("Shanghai"),
    "beijing": N_("Beijing"),
    "zhejiang": N_("Zhejiang"),
    "hangzhou": N_("Hangzhou"),
}


def percent_bp(bp: int | None) -> str:
    """Basis points as a percentage: 7000 → "70%", 550 → "5.5%"."""
    if bp is None:
        return "—"
    whole, rest = divmod(bp, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


def money(amount: int, asset: str) -> str:
    """Fen as ¥ yuan; any other asset (shares of a company) as whole units."""
    if asset != CNY:
        return f"{amount:,}"
    return ("-¥" if amount < 0 else "¥") + format_fen(abs(amount))


def asset_label(asset: str) -> str:
    return gettext("CNY") if asset == CNY else asset.removeprefix("SHARES:")


def cny_total(totals: Iterable[schemas.StatementTotal]) -> schemas.StatementTotal:
    found = next((t for t in totals if t.asset == CNY), None)
    return found or schemas.StatementTotal(asset=CNY, accrued=0, paid=0, outstanding=0)


@dataclass(frozen=True)
class Bar:
    key: str  # the CSS class of its colour
    label: str
    amount: int  # fen
    percent: str  # of the income received, "70.0"
    width: int  # of BAR_WIDTH, in SVG units


BAR_WIDTH = 400


def distribution(statement: schemas.InstitutionStatement | schemas.ResultStatement) -> tuple[int, list[Bar]]:
    """The CNY income received over the period, and where it went, category by category."""
    amounts = {c.category: c.amount for c in statement.categories if c.asset == CNY}
    income = amounts.get(AccountKind.income_received, 0)
    bars = []
    for kind, label, key in DISTRIBUTION:
        amount = amounts.get(kind, 0)
        share = amount / income if income > 0 else 0.0  # display only; the amounts stay exact
        bars.append(Bar(key, gettext(label), amount, f"{share * 100:.1f}", max(0, round(share * BAR_WIDTH))))
    return income, bars


def payables_outstanding(statement: schemas.InstitutionStatement) -> int:
    return sum(p.outstanding for p in statement.payables if p.asset == CNY)


def _lines(entries: list[StatementEntry]) -> list[StatementLine]:
    return [StatementLine(e.day, e.result_title, e.reference, gettext(ENTRY_LABELS[e.kind]), e.accrued, e.paid) for e in entries]


def _file(kind: str, title: str, party: str, statement, summary: list[tuple[str, int]], entries) -> Statement:
    """What every statement file carries besides its own summary: party, period, time, lines."""
    return Statement(
        kind=kind,
        title=title,
        party=party,
        period_start=statement.period_from,
        period_end=statement.period_to,
        generated_at=utcnow(),
        summary=summary,
        lines=_lines(entries),
    )


def inventor_file(statement: schemas.InventorStatement, entries: list[StatementEntry]) -> Statement:
    total = cny_total(statement.totals)
    summary = [
        (gettext("Accrued in the period"), total.accrued),
        (gettext("Paid in the period"), total.paid),
        (gettext("Outstanding at the end of the period"), total.outstanding),
    ]
    return _file("inventor", gettext("Inventor's revenue-sharing statement"), statement.name, statement, summary, entries)


def institution_file(statement: schemas.InstitutionStatement, entries: list[StatementEntry]) -> Statement:
    income, bars = distribution(statement)
    summary = [
        (gettext("Income received"), income),
        *[(bar.label, bar.amount) for bar in bars],
        (gettext("Paid in the period"), sum(e.paid for e in entries)),
        (gettext("Payables outstanding at the end of the period"), payables_outstanding(statement)),
    ]
    return _file("institution", gettext("Institution's revenue-sharing statement"), statement.name, statement, summary, entries)


def result_file(statement: schemas.ResultStatement, entries: list[StatementEntry]) -> Statement:
    income, bars = distribution(statement)
    people = [line for line in statement.inventors if line.asset == CNY]
    summary = [
        (gettext("Income received"), income),
        *[(bar.label, bar.amount) for bar in bars],
        *[(gettext("%(name)s: accrued from this result", name=line.holder_name), line.accrued) for line in people],
    ]
    return _file("result", gettext("Result's revenue-sharing statement"), statement.title, statement, summary, entries)


def _filename(kind: str, party: str, start: date | None, end: date | None, fmt: str) -> tuple[str, str]:
    """An ASCII name for every client, and the same with the party's own name for those that read
    RFC 6266's filename*."""
    period = "-".join(d.isoformat() for d in (start, end) if d) or "all"
    ascii_name = f"statement-{kind}-{period}.{fmt}"
    return ascii_name, f"{party}-{ascii_name}"


async def file_response(statement: Statement, fmt: StatementFormat) -> Response:
    # Rendering is CPU work: in a thread, so the event loop keeps serving (the language goes along).
    content = await asyncio.to_thread(RENDERERS[fmt], statement)
    plain, full = _filename(statement.kind, statement.party, statement.period_start, statement.period_end, fmt)
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(full, safe='')}"
    return Response(content, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})


# The downloads the pages and the API offer alike: the statement, its entries, the file.


async def inventor_download(
    ledger: Statements, principal: Principal, user_id: uuid.UUID, start: date | None, end: date | None, fmt: StatementFormat
) -> Response:
    statement = await ledger.inventor_statement(principal, user_id, start, end)
    return await file_response(inventor_file(statement, await ledger.inventor_entries(principal, user_id, start, end)), fmt)


async def institution_download(
    ledger: Statements, principal: Principal, org_id: uuid.UUID, start: date | None, end: date | None, fmt: StatementFormat
) -> Response:
    statement = await ledger.institution_statement(principal, org_id, start, end)
    entries = await ledger.institution_entries(principal, org_id, start, end)
    return await file_response(institution_file(statement, entries), fmt)


async def result_download(
    ledger: Statements, principal: Principal, listing_id: uuid.UUID, start: date | None, end: date | None, fmt: StatementFormat
) -> Response:
    statement = await ledger.result_statement(principal, listing_id, start, end)
    return await file_response(result_file(statement, await ledger.result_entries(principal, listing_id, start, end)), fmt)
