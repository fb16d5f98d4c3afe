"""The listings index's documents: only published listings, and of them only public fields
(`listing_document`), built from what the catalogue gives search."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import rjieba
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import i18n
from marketplace.accounts.models import Organization
from marketplace.accounts.services import AccountService
from marketplace.catalog.models import Listing, TherapeuticArea
from marketplace.catalog.public_listings import public_listings
from marketplace.catalog.services import CatalogService
from marketplace.search.index_settings import INDEX_SETTINGS, INNER_WORDS, LISTING_PASSAGE, LISTINGS, SearchIndex
from marketplace.search.models import EntityType
from marketplace.search.query_text import PIECE_SEPARATOR, compound_pieces, identifier_forms

# ----- documents: only published listings, only public fields ------------------------------------

FREE_RUN_BEDS = (1, 2, 4, 8, 16)  # as marketplace/beds/availability.py computes them
# Every field a document may carry. Built field by field from this list's meaning, never by
# copying the row, so confidential details, contacts and inventors' shares cannot slip in.
DOCUMENT_FIELDS = frozenset(
    {
        "id",
        "kind",
        "type",
        "type_zh",
        "type_en",
        "title_zh",
        "title_en",
        "summary_zh",
        "summary_en",
        "advantages",
        "keywords",
        "areas",
        "area_names_zh",
        "area_names_en",
        "stage",
        "trl",
        "ownership_model",
        "licence_options",
        "engagement_modes",
        "pricing_model",
        "availability",
        "open_licence",
        "free_bed_days_90",
        *(f"free_run_{k}" for k in FREE_RUN_BEDS),
        "institution_id",
        "institution_name_zh",
        "institution_name_en",
        "institution_city",
        "gcp_certified",
        "ethics_alliance_member",
        "published_at",
        "confirmed_at",
        "updated_at",
        "is_stale",
        "changed_at_ms",
        INNER_WORDS,
    }
)


def inner_words(texts: Iterable[str | None]) -> str:
    """The words jieba's search mode finds inside the texts' compounds (细胞 in 干细胞) that its
    precise mode, as Meilisearch segments, does not give; once each, space-separated. Without the
    HMM guesser, as Meilisearch's segmenter runs jieba."""
    present = [text for text in texts if text]
    precise = {word for text in present for word in rjieba.cut(text, False)}
    inner = [word for text in present for word in rjieba.cut_for_search(text, False) if word not in precise]
    return " ".join(dict.fromkeys(inner))


def recall_words(texts: Iterable[str | None]) -> str:
    """The hidden recall field: the words inside compounds, then what a query phrase may ask for
    (see search.query_text): the compounds' pieces (卒 中 of 脑卒中) and identifiers that open with
    digits (5 G), apart from each other."""
    texts = list(texts)
    return PIECE_SEPARATOR.join(filter(None, [inner_words(texts), compound_pieces(texts), identifier_forms(texts)]))


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since 1970, exactly (no float rounding: alerts compare them)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def bed_fields(summary: dict | None) -> dict[str, int | None]:
    """A research ward's free beds over the next 90 days (None for other listings, which filters
    on them leave out): the free bed-days, and per k beds the longest run of days with k free."""
    runs = (summary or {}).get("runs") or {}
    fields: dict[str, int | None] = {"free_bed_days_90": summary.get("free_bed_days_90") if summary else None}
    for k in FREE_RUN_BEDS:
        fields[f"free_run_{k}"] = int(runs.get(str(k), 0)) if summary else None
    return fields


def listing_document(listing: Listing, owner: Organization, areas: dict[str, TherapeuticArea]) -> dict[str, Any]:
    """The public face of a published listing, as search shows and filters it."""
    codes = [a.area_code for a in listing.areas]
    type_zh = i18n.translations("zh_CN").gettext(listing.type)
    area_names_zh = [areas[c].name_zh for c in codes if c in areas]
    return {
        "id": str(listing.id),
        "kind": listing.kind,
        "type": listing.type,
        "type_zh": type_zh,
        "type_en": i18n.translations("en").gettext(listing.type),
        "title_zh": listing.title_zh,
        "title_en": listing.title_en,
        "summary_zh": listing.summary_zh,
        "summary_en": listing.summary_en,
        "advantages": listing.advantages,
        INNER_WORDS: recall_words(
            [
                listing.title_zh,
                listing.summary_zh,
                listing.advantages,
                type_zh,
                owner.name_zh,
                *listing.keywords,
                *area_names_zh,
            ]
        ),
        "keywords": list(listing.keywords),
        "areas": codes,
        "area_names_zh": area_names_zh,
        "area_names_en": [areas[c].name_en for c in codes if c in areas],
        "stage": listing.stage,
        "trl": listing.trl,
        "ownership_model": listing.ownership_model,
        "licence_options": list(listing.licence_options),
        "engagement_modes": list(listing.engagement_modes),
        "pricing_model": listing.pricing_model,
        "availability": listing.availability,
        # 开放许可: an open licence is declared on the result (its terms are on the listing page).
        "open_licence": listing.open_licence is not None,
        **bed_fields(listing.bed_availability),
        "institution_id": str(owner.id),
        "institution_name_zh": owner.name_zh,
        "institution_name_en": owner.name_en,
        "institution_city": owner.city,
        "gcp_certified": owner.gcp_certified,
        "ethics_alliance_member": owner.ethics_alliance_member,
        "published_at": _epoch(listing.published_at),
        "confirmed_at": _epoch(listing.confirmed_at),
        "updated_at": listing.updated_at.isoformat() if listing.updated_at else None,
        "is_stale": 1 if listing.is_stale else 0,  # a number, for the ranking rule
        "changed_at_ms": epoch_ms(listing.changed_at),  # saved-search alerts look for changes by it
    }


async def _documents(
    session: AsyncSession, ids: list[uuid.UUID] | None = None, *, after: uuid.UUID | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Documents of the listings the public may see, from what the catalogue and accounts give."""
    listings = await public_listings(session, ids, after=after, limit=limit)
    if not listings:
        return []
    owners = await AccountService(session).public_organizations({item.institution_id for item in listings})
    areas = {area.code: area for area in await CatalogService(session).areas()}
    return [listing_document(item, owners[item.institution_id], areas) for item in listings]


async def listing_documents(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Documents for those of `ids` that search should show; an id missing from the answer is one
    the index must not hold (a draft, withdrawn, archived or deleted listing)."""
    ids = list(ids)
    if not ids:
        return {}
    return {uuid.UUID(doc["id"]): doc for doc in await _documents(session, ids)}


async def published_documents(session: AsyncSession, page_size: int = 1000) -> AsyncIterator[list[dict[str, Any]]]:
    """Every published listing's document, a page at a time (keyset by id, for big catalogues)."""
    after: uuid.UUID | None = None
    while True:
        page = await _documents(session, after=after, limit=page_size)
        if not page:
            return
        yield page
        after = uuid.UUID(page[-1]["id"])


LISTINGS_INDEX = SearchIndex(
    EntityType.listing, LISTINGS, INDEX_SETTINGS, listing_documents, published_documents, LISTING_PASSAGE
)
