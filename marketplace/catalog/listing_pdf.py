"""A listing's public information on one A4 page (ReportLab), to print or forward inside a company:
what anyone who may see the listing reads on its page, never the confidential details or inventors'
shares. The text is gathered first (in the request's language) and drawn in a thread, since
drawing is CPU work."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from marketplace.accounts.models import Organization
from marketplace.catalog.models import Listing, ListingKind
from marketplace.i18n import current_locale, gettext

INK = colors.HexColor("#1F3A5F")
MUTED = colors.HexColor("#595959")
RULE = colors.HexColor("#B8C4D2")
FONT = "STSong-Light"
# Long texts are cut so the sheet stays one page; the listing's URL has the rest.
SUMMARY_MAX = 900
ADVANTAGES_MAX = 400


@dataclass(frozen=True)
class ListingSheet:
    title: str
    subtitle: str
    institution: str
    facts: list[tuple[str, str]]
    sections: list[tuple[str, str]]
    footer: str
    filename: str


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def listing_sheet(listing: Listing, owner: Organization, area_names: dict[str, str], url: str) -> ListingSheet:
    """The sheet's text for the current language: an English title and summary lead when there is
    one and English is chosen."""
    english = current_locale.get() == "en"
    title = listing.title_en if english and listing.title_en else listing.title_zh
    subtitle = listing.title_zh if title != listing.title_zh else (listing.title_en or "")
    summary = listing.summary_en if english and listing.summary_en else listing.summary_zh
    # The CJK font has no middle dot: plain separators.
    contact = " / ".join(v for v in (listing.contact_name, listing.contact_email, listing.contact_phone) if v)
    comma = ", " if english else "、"
    facts = [
        (gettext("Type"), f"{gettext(listing.kind)} / {gettext(listing.type)}"),
        (gettext("Therapeutic areas"), comma.join(area_names.get(a.area_code, a.area_code) for a in listing.areas) or "—"),
    ]
    if listing.kind == ListingKind.result:
        facts += [
            (gettext("Technology readiness level (TRL)"), str(listing.trl) if listing.trl else "—"),
            (gettext("Development stage"), gettext(listing.stage) if listing.stage else "—"),
        ]
    facts += [
        (gettext("Contact"), contact or gettext("Through the platform: request a match on the listing's page.")),
        (gettext("On the platform"), url),
    ]
    sections = [(gettext("Summary"), _cut(summary, SUMMARY_MAX))]
    if listing.kind == ListingKind.result and listing.advantages:
        sections.append((gettext("Advantages"), _cut(listing.advantages, ADVANTAGES_MAX)))
    return ListingSheet(
        title=title,
        subtitle=subtitle,
        institution=owner.display_name(current_locale.get()),
        facts=facts,
        sections=sections,
        footer=gettext(
            "Public information of the listing; confidential details are shared only under the platform's confidentiality agreement."
        ),
        filename=f"{title[:60]}.pdf",
    )


@cache
def _styles() -> dict[str, ParagraphStyle]:
    # Adobe's CID font ships with every PDF reader, so the file embeds no font and stays small.
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return {
        "title": ParagraphStyle("title", fontName=FONT, fontSize=18, leading=24, textColor=INK, spaceAfter=1.5 * mm),
        "subtitle": ParagraphStyle("subtitle", fontName=FONT, fontSize=11, leading=15, textColor=MUTED, spaceAfter=1.5 * mm),
        "owner": ParagraphStyle("owner", fontName=FONT, fontSize=11, leading=15, textColor=INK, spaceAfter=3 * mm),
        "section": ParagraphStyle(
            "section", fontName=FONT, fontSize=12, leading=16, textColor=INK, spaceBefore=4 * mm, spaceAfter=1.5 * mm
        ),
        "label": ParagraphStyle("label", fontName=FONT, fontSize=9, leading=13, textColor=MUTED),
        "value": ParagraphStyle("value", fontName=FONT, fontSize=9.5, leading=13),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=10, leading=15),
        "footer": ParagraphStyle("footer", fontName=FONT, fontSize=8, leading=11, textColor=MUTED, spaceBefore=6 * mm),
    }


def _p(text: str, style: str) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), _styles()[style])


def draw_sheet(sheet: ListingSheet) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=16 * mm, title=sheet.title
    )
    story: list = [_p(sheet.title, "title")]
    if sheet.subtitle:
        story.append(_p(sheet.subtitle, "subtitle"))
    story += [_p(sheet.institution, "owner"), HRFlowable(width="100%", color=RULE, thickness=0.6, spaceAfter=3 * mm)]
    facts = Table(
        [[_p(label, "label"), _p(value, "value")] for label, value in sheet.facts],
        colWidths=[42 * mm, doc.width - 42 * mm],
    )
    facts.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    story.append(facts)
    for heading, text in sheet.sections:
        story += [_p(heading, "section"), _p(text, "body")]
    story += [Spacer(1, 2 * mm), _p(sheet.footer, "footer")]
    doc.build(story)
    return out.getvalue()


async def listing_pdf(sheet: ListingSheet) -> bytes:
    return await asyncio.to_thread(draw_sheet, sheet)


def content_disposition(sheet: ListingSheet, listing_id: object) -> str:
    """RFC 6266: an ASCII name for old clients, the title for the rest."""
    return f"attachment; filename=\"listing-{listing_id}.pdf\"; filename*=UTF-8''{quote(sheet.filename, safe='')}"
