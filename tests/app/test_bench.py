"""The search benchmark's own parts stay in step with the app: its query mix is what the search
API accepts, and its synthetic catalogue is deterministic and fills every facet. (A whole run with
--n 200 takes 20-40 s here, too long for the suite; `make bench BENCH_ARGS="--n 2000"` runs one.)"""

from __future__ import annotations

import sys
import uuid
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from marketplace.catalog.models import Availability, LicenceOption, ListingKind, ResourceType, ResultType, TherapeuticArea
from marketplace.config import PROJECT_ROOT
from marketplace.search.query import parse_search

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import search as bench
import synthetic

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def catalogue(seed: int, n: int) -> list[synthetic.Row]:
    institutions = [(uuid.UUID(int=i + 1), inst) for i, inst in enumerate(synthetic.institutions(seed))]
    return [row for chunk in synthetic.listings(seed, institutions, n, NOW) for row in chunk]


async def test_every_query_of_the_mix_is_one_the_search_api_accepts(db) -> None:
    areas = list((await db.scalars(select(TherapeuticArea.code))).all())
    cities = sorted({inst.data.city for inst in synthetic.institutions(2026)})
    mix = bench.query_mix(2026, cities, [str(uuid.uuid4())], areas)
    assert len(mix) == bench.QUERIES
    queries = []
    for params in mix:
        query, problems = parse_search(params, areas)
        assert problems == [], (params, problems)
        queries.append(query)
    # Chinese, English and empty queries; filters, sorts and later pages all occur.
    assert any(q.q and not q.q.isascii() for q in queries) and any(q.q.isascii() and q.q for q in queries)
    assert any(not q.q for q in queries)
    assert {"kind", "area", "licence", "city", "gcp", "ethics"} <= {name for q in queries for name in q.filters}
    assert {q.sort for q in queries} == {"relevance", "newest", "confirmed"} and any(q.page > 1 for q in queries)


def test_the_synthetic_catalogue_is_deterministic_and_fills_every_facet() -> None:
    rows = catalogue(7, 3000)
    assert [r.listing for r in rows[:50]] == [r.listing for r in catalogue(7, 3000)[:50]]
    listings = [r.listing for r in rows]
    assert Counter(item["status"] for item in listings)["published"] == 3000 and len(listings) == 3150
    assert {item["kind"] for item in listings} == set(ListingKind)
    assert {item["type"] for item in listings} == set(ResultType) | set(ResourceType)
    assert {o for item in listings for o in item["licence_options"]} == set(LicenceOption)
    assert {item["availability"] for item in listings if item["kind"] == "resource"} == set(Availability)
    assert {item["is_stale"] for item in listings if item["status"] == "published"} == {True, False}
    assert len({area for r in rows for area in r.areas}) >= 20
    assert len({item["institution_id"] for item in listings}) > 150
    # Inventors' shares sum to 10,000 basis points, as PostgreSQL checks.
    for r in rows:
        if r.inventors:
            assert sum(i["share_bp"] for i in r.inventors) == 10_000
