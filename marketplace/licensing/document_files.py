"""The agreement as a PDF, from the standard contract template (the seeds ask for standard contract
texts; the wording is data, contract_template.yaml), in Chinese or — when the agreement's language
is "en" — English. The document's language is the agreement's, not the reader's, so the text comes
from the template in that language rather than the message catalogue.

Pure: runs in a worker thread (documents.py). Money stays integer fen to the last step: "¥1,234.56"
and, in Chinese, the capital form a contract writes out (人民币壹仟贰佰叁拾肆元伍角陆分). The PDF is
written "invariant" (no creation time or random id), so its bytes, and so its SHA-256, follow from
its text alone; the text carries the version and the time it was generated.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

import yaml
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from marketplace.db import CHINA_TIME
from marketplace.ledger.statement_files import cjk_font, format_fen
from marketplace.licensing.models import Agreement, Kind, Obligation, ObligationKind, PaymentMode

MARGIN = 20 * mm
FRAME_PADDING = 6  # reportlab's default padding of a frame, in points
DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿", "亿亿")
SMALL_NUMERALS = "零一二三四五六七八九"


@dataclass(frozen=True)
class ResultText:
    title: str
    patents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AgreementText:
    agreement: Agreement
    licensor: str
    licensee: str
    results: list[ResultText]
    obligations: list[Obligation]
    generated_at: datetime
    version: int = 1


@cache
def template(language: str) -> dict[str, Any]:
    text = resources.files("marketplace.licensing").joinpath("contract_template.yaml").read_text("utf-8")
    return yaml.safe_load(text)["en" if language == "en" else "zh"]


# ----- numbers and money ------------------------------------------------------------------------


def _four_digits(group: int) -> str:
    text, zero = "", False
    for place in (3, 2, 1, 0):
        digit = group // 10**place % 10
        if digit == 0:
            zero = bool(text)
            continue
        text += ("零" if zero else "") + DIGITS[digit] + PLACES[place]
        zero = False
    return text


def capital_yuan(fen: int) -> str:
    """Fen in the capital numerals of a contract: 123456 → 壹仟贰佰叁拾肆元伍角陆分, 1000 → 壹拾元整."""
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    groups: list[int] = []
    while yuan:
        yuan, group = divmod(yuan, 10_000)
        groups.append(group)
    if len(groups) > len(GROUPS):
        return format_fen(fen)
    text, zero = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            zero = bool(text)
            continue
        if text and (zero or group < 1000):
            text += "零"
        text += _four_digits(group) + GROUPS[index]
        zero = False
    if text:
        text += "元"
    if jiao:
        text += DIGITS[jiao] + "角"
    if cents:
        text += ("零" if text and not jiao else "") + DIGITS[cents] + "分"
    return (text or "零元") + ("" if cents else "整")


def percent_text(bp: int) -> str:
    """Basis points as a percentage, exactly: 300 → "3", 250 → "2.5", 125 → "1.25"."""
    whole, rest = divmod(bp, 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".")


def article_number(number: int, language: str) -> str:
    if language == "en" or number >= 100:
        return str(number)
    tens, ones = divmod(number, 10)
    return (SMALL_NUMERALS[tens] if tens > 1 else "") + ("十" if tens else "") + (SMALL_NUMERALS[ones] if ones else "")


# ----- the text ---------------------------------------------------------------------------------


def _money(words: dict[str, Any], fen: int) -> str:
    return words["money"].format(amount=format_fen(fen), capital=capital_yuan(fen))


def _values(text: AgreementText, words: dict[str, Any]) -> dict[str, Any]:
    """Every placeholder of the template, formatted for the document's language."""
    agreement = text.agreement
    kind = words["kinds"][agreement.kind]
    percent = words["percent"]
    values: dict[str, Any] = {
        "agreement_id": str(agreement.id),
        "title": agreement.title,
        "kind_title": kind["title"],
        "kind_name": kind["name"],
        "grant": kind["grant"],
        "licensor": text.licensor,
        "licensee": text.licensee,
        "licensor_role": kind["roles"][0],
        "licensee_role": kind["roles"][1],
        "territory": agreement.territory,
        "field_of_use": agreement.field_of_use,
        "starts_on": agreement.starts_on.isoformat(),
        "ends_on": agreement.ends_on.isoformat(),
        "term_months": agreement.term_months,
        "upfront": _money(words, agreement.upfront_fen),
        "licence_fee": _money(words, agreement.licence_fee_fen),
        "royalty": percent.format(value=percent_text(agreement.royalty_bp or 0)),
        "annual_minimum": _money(words, agreement.annual_minimum_fen or 0),
        "equity": percent.format(value=percent_text(agreement.equity_bp or 0)),
        "use_period_months": agreement.use_period_months,
        "use_ends_on": agreement.use_ends_on.isoformat() if agreement.use_ends_on else "",
        "conversion_milestone": agreement.conversion_milestone or "",
        "max_instalments": agreement.max_instalments,
        "deferral_months": agreement.deferral_months,
        "report_due_days": agreement.report_due_days,
        "grace_days": agreement.grace_days,
        "insurance_ref": agreement.insurance_ref or "",
        "default_liability": agreement.default_liability,
        "notes": agreement.notes,
        "version": text.version,
        "generated": text.generated_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") + " (UTC+8)",
    }
    values["guarantor"] = (
        words["guarantor"][agreement.guarantor].format(licensor=text.licensor, platform=words["platform"])
        if agreement.guarantor
        else ""
    )
    return values


def _conditions(text: AgreementText) -> set[str]:
    agreement = text.agreement
    pay_later = agreement.kind == Kind.pay_later
    held = {
        "pay_later": pay_later,
        "paid": not pay_later,
        "upfront": agreement.upfront_fen > 0,
        "royalty": agreement.royalty_bp is not None,
        "annual_minimum": agreement.annual_minimum_fen is not None,
        "equity": agreement.equity_bp is not None,
        "licence_fee": agreement.licence_fee_fen > 0,
        "milestone": bool(agreement.conversion_milestone),
        "insurance": bool(agreement.insurance_ref),
        "guarantor": bool(agreement.guarantor),
        "default_liability": bool(agreement.default_liability),
        "notes": bool(agreement.notes),
        "schedule": bool(_scheduled(text)),
    }
    held["no_money"] = not pay_later and not (
        held["upfront"] or held["royalty"] or held["equity"] or held["schedule"] or held["annual_minimum"]
    )
    return {name for name, holds in held.items() if holds}


def _scheduled(text: AgreementText) -> list[Obligation]:
    # The agreed schedule: fixed items (royalty items come from reports, top-ups from the year's sales).
    return [
        obligation
        for obligation in text.obligations
        if obligation.kind not in (ObligationKind.royalty, ObligationKind.annual_minimum)
    ]


def _list(name: str, text: AgreementText, words: dict[str, Any], values: dict[str, Any]) -> list[str]:
    if name == "results":
        return [
            words["result"].format(number=number, title=result.title)
            + (words["patents"].format(numbers=words["separator"].join(result.patents)) if result.patents else "")
            for number, result in enumerate(text.results, start=1)
        ]
    if name == "modes":
        modes = [mode for mode in PaymentMode if mode in text.agreement.payment_modes]
        return [f"{number}. " + words["modes"][mode].format_map(values) for number, mode in enumerate(modes, start=1)]
    lines = []
    for number, obligation in enumerate(_scheduled(text), start=1):
        item = {"number": number, "name": words["schedule"][obligation.kind], "money": _money(words, obligation.amount_fen)}
        if obligation.due_on is not None:
            lines.append(words["schedule"]["due_on"].format(date=obligation.due_on.isoformat(), **item))
        else:
            lines.append(
                words["schedule"]["due_after"].format(
                    event=obligation.milestone_event or "", days=obligation.due_days_after_event or 0, **item
                )
            )
    return lines


def _text(item: str | dict[str, Any]) -> str:
    return item if isinstance(item, str) else item["text"]


def contract_lines(text: AgreementText) -> list[tuple[str, str]]:
    """The contract as (style, line) pairs, in order: title, parties, preamble, articles. Split
    from the layout so the wording can be read (and tested) without a PDF."""
    words = template(text.agreement.language)
    values = _values(text, words)
    held = _conditions(text)

    def shown(item: Any) -> bool:
        return not isinstance(item, dict) or set(item.get("when", [])) <= held

    lines: list[tuple[str, str]] = [
        ("title", values["kind_title"]),
        ("subtitle", text.agreement.title),
        ("version", words["version"].format_map(values)),
    ]
    lines += [("party", _text(line).format_map(values)) for line in words["party_lines"] if shown(line)]
    lines += [("body", line.format_map(values)) for line in words["preamble"]]
    number = 0
    for clause in words["clauses"]:
        if not shown(clause):
            continue
        number += 1
        heading = words["article"].format(number=article_number(number, text.agreement.language), heading=clause["heading"])
        lines.append(("article", heading))
        for item in clause["body"]:
            if not shown(item):
                continue
            if isinstance(item, dict) and "list" in item:
                lines += [("item", line) for line in _list(item["list"], text, words, values)]
            else:
                lines.append(("body", _text(item).format_map(values)))
    return lines


# ----- the layout -------------------------------------------------------------------------------


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=17, spaceAfter=1.5 * mm, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=2 * mm),
        "subtitle": ParagraphStyle("subtitle", parent=body, alignment=TA_CENTER),
        "version": ParagraphStyle("version", parent=body, fontSize=8.5, alignment=TA_CENTER, spaceAfter=6 * mm),
        "party": ParagraphStyle("party", parent=body, fontSize=11),
        "article": ParagraphStyle("article", parent=body, fontSize=11.5, spaceBefore=4 * mm, spaceAfter=2 * mm),
        "body": body,
        "item": ParagraphStyle("item", parent=body, leftIndent=6 * mm),
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=12),
    }


def _paragraph(line: str, style: str) -> Paragraph:
    return Paragraph(escape(line), _styles()[style])


def _signature_block(text: AgreementText, words: dict[str, Any], values: dict[str, Any]) -> list[Any]:
    signatures = words["signatures"]
    roles = [role.format_map(values) for role in signatures["roles"]]
    parties = [(roles[0], text.licensor), (roles[1], text.licensee)]
    if text.agreement.guarantor:
        parties.append((roles[2], values["guarantor"]))
    cells = [
        [_paragraph(signatures["party"].format(role=role, name=name), "body")]
        + [_paragraph(line, "body") for line in signatures["lines"]]
        for role, name in parties
    ]
    width = A4[0] - 2 * MARGIN - 2 * FRAME_PADDING
    table = Table([cells], colWidths=[width / len(parties)] * len(parties))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    heading = _paragraph(signatures["heading"], "article")
    return [KeepTogether([heading, _paragraph(signatures["note"], "small"), Spacer(0, 3 * mm), table])]


def _canvas(header: str, footer: str) -> type[Canvas]:
    """A canvas that holds the pages until the end, so each can say how many there are."""

    class PagedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802  (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(len(self._pages))
                super().showPage()
            super().save()

        def _decorate(self, pages: int) -> None:
            width, height = A4
            self.setFont(cjk_font(), 8)
            self.setLineWidth(0.4)
            self.line(MARGIN, height - 14 * mm, width - MARGIN, height - 14 * mm)
            self.drawString(MARGIN, height - 12 * mm, header)
            self.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
            self.drawCentredString(width / 2, 9 * mm, footer.format(page=self._pageNumber, pages=pages))

    return PagedCanvas


def agreement_pdf(text: AgreementText) -> bytes:
    words = template(text.agreement.language)
    values = _values(text, words)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=22 * mm,
        bottomMargin=22 * mm,
        title=f"{values['kind_title']} {text.agreement.id}",
        creator="marketplace",
        invariant=True,
    )
    story: list[Any] = [_paragraph(line, style) for style, line in contract_lines(text)]
    story += _signature_block(text, words, values)
    header = words["header"].format(title=values["kind_title"], agreement_id=values["agreement_id"])
    document.build(story, canvasmaker=_canvas(header, words["footer"]))
    return buffer.getvalue()
