"""The demo catalogue: 30 institutions' 600 results and 250 clinical resources, made from the data
files by a seeded generator. Pure data, no database access, deterministic for a seed.

Every ``confidential_details`` text carries the markers in ``CONFIDENTIAL_MARKERS`` (an internal
number ``MKT-…`` and the words 未公开数据); no public field ever does, so a search for them must
find nothing.
"""

from __future__ import annotations

from marketplace.demo.listing import DemoListing
from marketplace.demo.organizations import (
    FOUNDATION_INSTITUTION_COUNT,
    INSTITUTION_META,
    MORE_COMPANIES,
    MORE_INSTITUTIONS,
)
from marketplace.demo.resources import Builder
from marketplace.demo.words import (
    CONFIDENTIAL_MARKERS,
    CONFIDENTIAL_ONLY_WORDS,
    FOUNDATION_INVENTOR_NAME,
    RESOURCE_TYPE_COUNTS,
    RESULT_TYPE_COUNTS,
    THERAPEUTIC_AREAS,
)

__all__ = [
    "CONFIDENTIAL_MARKERS",
    "CONFIDENTIAL_ONLY_WORDS",
    "FOUNDATION_INSTITUTION_COUNT",
    "FOUNDATION_INVENTOR_NAME",
    "INSTITUTION_META",
    "MORE_COMPANIES",
    "MORE_INSTITUTIONS",
    "RESOURCE_COUNT",
    "RESULT_COUNT",
    "THERAPEUTIC_AREAS",
    "DemoListing",
    "demo_listings",
]

RESULT_COUNT = sum(RESULT_TYPE_COUNTS.values())
RESOURCE_COUNT = sum(RESOURCE_TYPE_COUNTS.values())


def demo_listings(seed: int = 2026) -> list[DemoListing]:
    """The results then the clinical resources, the same for the same seed."""
    builder = Builder(seed)
    rng = builder.rng
    result_types = [t for t, n in RESULT_TYPE_COUNTS.items() for _ in range(n)]
    rng.shuffle(result_types)
    listings = [builder.result(t) for t in result_types]
    resource_types = [t for t, n in RESOURCE_TYPE_COUNTS.items() for _ in range(n)]
    rng.shuffle(resource_types)
    listings += [builder.resource(t) for t in resource_types]
    return listings
