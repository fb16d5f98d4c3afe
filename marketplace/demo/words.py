"""The demo catalogue's tables from data/vocabulary.yaml and data/catalogue.yaml, in the shapes the
generator uses (tuples, enum keys as their string values; StrEnum members compare equal to them)."""

from __future__ import annotations

from typing import NamedTuple

from marketplace.demo.tables import pairs, table

_V = table("vocabulary")
_C = table("catalogue")


class Disease(NamedTuple):
    zh: str
    en: str
    areas: tuple[str, ...]  # first is the primary area


DISEASES = {row["zh"]: Disease(row["zh"], row["en"], tuple(row["areas"])) for row in _V["diseases"]}
_FIT_CACHE: dict[tuple[str, ...], list[Disease]] = {}


def diseases_fitting(names: tuple[str, ...]) -> list[Disease]:
    """Diseases named in ``names`` (by Chinese name) or having one of its areas as primary area."""
    if names not in _FIT_CACHE:
        _FIT_CACHE[names] = [d for d in DISEASES.values() if d.zh in names or d.areas[0] in names]
    return _FIT_CACHE[names]


METHODS = {key: tuple(pair) for key, pair in _V["methods"].items()}
PURPOSES = {key: tuple(pair) for key, pair in _V["purposes"].items()}
# (marker zh, en, fit, method keys, purpose keys, extra area)
DX = [
    (r["marker"], r["marker_en"], tuple(r["fit"]), tuple(r["methods"]), tuple(r["purposes"]), r["extra_area"])
    for r in _V["diagnostics"]
]
# (zh, en, fit, extra area)
TX = [(r["name"], r["name_en"], tuple(r["fit"]), r["extra_area"]) for r in _V["therapeutics"]]
# (core zh, core en, fit, variants [(zh, en)], extra area)
DEV = [(r["core"], r["core_en"], tuple(r["fit"]), pairs(r["variants"]), r["extra_area"]) for r in _V["devices"]]
# (software zh, software en, patent tech zh, tech en, task zh, task en, fit, extra area)
ALGO = [
    (r["title"], r["title_en"], r["tech"], r["tech_en"], r["task"], r["task_en"], tuple(r["fit"]), r["extra_area"])
    for r in _V["software"]
]
MAT = [(r["name"], r["name_en"], tuple(r["fit"])) for r in _V["biomaterials"]]
PROC = [(r["title"], r["title_en"], tuple(r["fit"]), r["extra_area"]) for r in _V["know_how"]]
DATA = [(r["title"], r["title_en"], tuple(r["fit"]), r["extra_area"]) for r in _V["clinical_data"]]
DEV_ISSUES = pairs(_V["device_issues"])
DEV_METRICS = pairs(_V["device_metrics"])
DATA_TYPES = pairs(_V["data_types"])
ADVANTAGES = {category: pairs(rows) for category, rows in _V["advantages"].items()}
SURNAMES = pairs(_V["surnames"])
GIVEN = pairs(_V["given_names"])
SPECIALTIES = [(r["zh"], r["en"], tuple(r["areas"])) for r in _V["specialties"]]
WARD_FEATURES: list[str] = _V["ward_features"]
SAMPLE_TYPES = pairs(_V["sample_types"])
EQUIPMENT = [(r["name"], r["name_en"], r["model"], r["maker"], tuple(r["areas"])) for r in _V["equipment"]]

THERAPEUTIC_AREAS: tuple[str, ...] = tuple(_C["therapeutic_areas"])
CONFIDENTIAL_MARKERS: tuple[str, ...] = tuple(_C["confidential_markers"])
CONFIDENTIAL_ONLY_WORDS = (*CONFIDENTIAL_MARKERS, *_C["confidential_only_words"])
FOUNDATION_INVENTOR_NAME: str = _C["foundation_inventor"]
RESULT_TYPE_COUNTS: dict[str, int] = _C["result_types"]
RESOURCE_TYPE_COUNTS: dict[str, int] = _C["resource_types"]
STAGE_WEIGHTS: dict[str, dict[str, int]] = _C["stage_weights"]
STAGE_TRL = {stage: tuple(bounds) for stage, bounds in _C["stage_trl"].items()}
STATUS_WEIGHTS: dict[str, int] = _C["status_weights"]
STALE_SHARE: float = _C["stale_share"]
ENGLISH_SHARE: float = _C["english_share"]
PATENT_CATEGORY_WEIGHTS: dict[str, int] = _C["patent_category_weights"]
STAGE_TEXT = {group: {stage: tuple(pair) for stage, pair in texts.items()} for group, texts in _C["stage_text"].items()}
SEEKING = {kind: tuple(pair) for kind, pair in _C["seeking"].items()}
TYPE_KEYWORD: dict[str, str] = _C["type_keyword"]
PHONE_PREFIX: dict[str, str] = _C["phone_prefix"]
