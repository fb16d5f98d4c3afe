"""The search evaluation's own parts (bench/search_eval.py): its data holds together with the demo
catalogue, and its measures are the textbook ones. (A run starts its own services and takes about a
minute; `make bench-search-eval` runs one.)"""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path

import pytest

from marketplace.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import search_eval as bench


def test_the_data_names_only_published_demo_listings_and_keeps_each_groups_language() -> None:
    cases = bench.load_cases()
    bench.check_against_catalogue(cases, bench.demo_catalogue())  # raises, listing every problem
    sizes = Counter(case.group for case in cases)
    assert len(cases) >= 80 and set(sizes) == set(bench.GROUPS), sizes
    assert all(n >= 12 for n in sizes.values()), sizes


def test_a_wrong_title_or_a_broken_language_condition_stops_the_run(tmp_path: Path) -> None:
    catalogue = {"只有中文的列表": False, "有英文的列表": True}
    cases = [
        bench.Case("en-zh", "only chinese", {"只有中文的列表": 2, "有英文的列表": 1}),
        bench.Case("zh-zh", "不存在", {"没有这个标题": 2}),
        bench.Case("zh-en", "CAR-T细胞", {"只有中文的列表": 2}),
    ]
    with pytest.raises(bench.DataError) as raised:
        bench.check_against_catalogue(cases, catalogue)
    message = str(raised.value)
    assert "'有英文的列表' has English text" in message
    assert "no published demo listing is titled '没有这个标题'" in message
    assert "zh-en 'CAR-T细胞': a Chinese query has Latin letters" in message

    data = tmp_path / "eval.yaml"
    data.write_text("queries:\n  - {group: zh-zh, query: 肝癌, related: [某个列表]}\n  - {group: xx, query: q, relevant: [a]}\n")
    with pytest.raises(bench.DataError) as raised:
        bench.load_cases(data)
    assert "no relevant listing" in str(raised.value) and "group 'xx' is not one of" in str(raised.value)


def test_the_measures() -> None:
    ranked = ["a", "x", "b", "y", "z", "c"]
    # Three relevant listings, two in the top 5; with eight, five in the top 5 would be a full score.
    assert bench.recall_at(ranked, {"a", "b", "c"}) == pytest.approx(2 / 3)
    assert bench.recall_at(["a", "b", "c", "d", "e"], set("abcdefgh")) == 1
    assert bench.reciprocal_rank(ranked, {"b"}) == pytest.approx(1 / 3)
    assert bench.reciprocal_rank(ranked, {"q"}) == 0
    grades = {"a": 2, "b": 1}
    assert bench.ndcg_at(["a", "b"], grades) == 1
    swapped = (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert bench.ndcg_at(["b", "a"], grades) == pytest.approx(swapped)
    assert bench.ndcg_at(["x"], grades) == 0
