"""The agreement as a PDF, from the standard template (the seeds ask for standard contract texts),
in Chinese (or English on request). Pure: runs in a worker thread."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from marketplace.licensing.models import Agreement, Obligation


@dataclass(frozen=True)
class AgreementText:
    agreement: Agreement
    licensor: str
    licensee: str
    results: list[str]
    obligations: list[Obligation]
    generated_at: datetime


@cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def agreement_pdf(text: AgreementText) -> bytes:
    agreement = text.agreement
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=6 * mm)
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=agreement.title, creator="marketplace")
    lines = [
        f"许可方：{text.licensor}",
        f"被许可方：{text.licensee}",
        "标的成果：" + "；".join(text.results),
        f"类型：{agreement.kind}",
        f"地域：{agreement.territory}；领域：{agreement.field_of_use}",
        f"期限：{agreement.starts_on.isoformat()} 至 {agreement.ends_on.isoformat()}",
    ]
    if agreement.kind == "open_licence":  # the declared fee standard, in words, is the licence's price
        lines.append(f"开放许可（专利法第五十条至第五十二条）许可使用费标准：{agreement.notes}")
    story = [Paragraph(escape(agreement.title), title)]
    story += [Paragraph(escape(line), body) for line in lines]
    story.append(Spacer(0, 4 * mm))
    document.build(story)
    return buffer.getvalue()
