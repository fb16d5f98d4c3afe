"""Search evaluation on the demo catalogue (issue 15, point 5): how well search finds what a buyer
means, keyword-only against hybrid, by group of queries.

    .venv/bin/python bench/search_eval.py [--modes keyword,hybrid] [--semantic-ratio R[,R…]] [--misses]

Reads the queries and their relevant listings from bench/data/search_eval.yaml (written by reading
the demo catalogue as a buyer would; its header says how) and checks them against the catalogue:
every title must be a published demo listing and every group's language condition must hold, or the
run stops with the list of problems. Then starts a throw-away PostgreSQL and Meilisearch
(marketplace.embedded) in a temporary folder, loads the demo data and indexes it as production does:
the outbox relay sends the documents, the worker's embedding job stores their vectors (the model's
vectors come from the per-user cache after the first run), the relay sends them again. Each query
then goes through the product's query code (`run_search`, as GET /api/v1/search does), once per
mode — keyword-only (`hybrid=False`) and hybrid (the query's vector, with the configured semantic
ratio or each one given) — taking the first page of 10 hits.

Figures, per group and overall (the mean over the group's queries):
- recall@5: of the query's relevant listings, the share in the top 5 — of as many as fit (a query
  with 8 relevant listings scores 1 when 5 of them fill the top 5);
- MRR: the mean of 1/rank of the first relevant listing in the top 10 (0 when none is);
- nDCG@10: graded (relevant 2, related 1), gain 2^grade − 1, against the ideal order.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATA = Path(__file__).resolve().parent / "data" / "search_eval.yaml"
# Group → what it holds; the cross-language groups are the ones hybrid search is for.
GROUPS = {
    "zh-zh": "Chinese query, Chinese listings",
    "en-en": "English query, listings with English",
    "en-zh": "English query, listings with no English",
    "zh-en": "Chinese query, term in Latin letters",
    "abbrev": "abbreviations, both ways",
    "broad-narrow": "broader and narrower terms",
}
CROSS_LANGUAGE = ("en-zh", "zh-en")
SAME_LANGUAGE = ("zh-zh", "en-en")
GOAL_CROSS_GAIN = 0.20  # hybrid recall@5 at least 20 points above keyword-only on the cross-language groups
RECALL_AT = 5
PAGE = 10  # hits asked for; nDCG@10 and MRR are over them
GRADES = {"relevant": 2, "related": 1}
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")  # a Chinese query may hold a lone letter (嵌合抗原受体T细胞)
MODES = ("keyword", "hybrid")


class DataError(Exception):
    """The evaluation's data does not hold together; the message lists every problem."""


@dataclass(frozen=True)
class Case:
    group: str
    query: str
    grades: dict[str, int]  # title_zh → 2 (relevant) or 1 (related)

    @property
    def relevant(self) -> set[str]:
        return {title for title, grade in self.grades.items() if grade == 2}


def load_cases(path: Path = DATA) -> list[Case]:
    """The queries of the data file, checked for shape (not yet against the catalogue)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    cases: list[Case] = []
    seen: set[tuple[str, str]] = set()
    for n, item in enumerate(raw.get("queries") or [], 1):
        where = f"query {n} ({item.get('query')!r})"
        unknown = set(item) - {"group", "query", "note", *GRADES}
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        group, query = item.get("group"), str(item.get("query") or "").strip()
        if group not in GROUPS:
            problems.append(f"{where}: group {group!r} is not one of {list(GROUPS)}")
        if not query:
            problems.append(f"{where}: no query")
        if (group, query) in seen:
            problems.append(f"{where}: given twice in {group}")
        seen.add((group, query))
        grades: dict[str, int] = {}
        for key, grade in GRADES.items():
            for title in item.get(key) or []:
                if title in grades:
                    problems.append(f"{where}: {title!r} listed twice")
                grades[title] = grade
        if not any(grade == 2 for grade in grades.values()):
            problems.append(f"{where}: no relevant listing")
        cases.append(Case(group, query, grades))
    if problems:
        raise DataError(f"{path}:\n  " + "\n  ".join(problems))
    return cases


def check_against_catalogue(cases: Iterable[Case], has_english: Mapping[str, bool]) -> None:
    """Every title a published listing (title_zh → whether it has an English title or summary), and
    each group's language condition (see the data file's header). Raises DataError listing all."""
    problems: list[str] = []
    for case in cases:
        where = f"{case.group} {case.query!r}"
        missing = [title for title in case.grades if title not in has_english]
        problems += [f"{where}: no published demo listing is titled {title!r}" for title in missing]
        known = [title for title in case.grades if title in has_english]
        if case.group in ("zh-zh", "zh-en") and (LATIN_WORD.search(case.query) or not HAN.search(case.query)):
            problems.append(f"{where}: a Chinese query has Latin letters or no Chinese")
        if case.group in ("en-en", "en-zh") and (HAN.search(case.query) or not LATIN.search(case.query)):
            problems.append(f"{where}: an English query has Chinese or no letters")
        if case.group == "en-zh":
            problems += [f"{where}: {t!r} has English text" for t in known if has_english[t]]
        if case.group == "en-en" and not any(has_english[t] for t in known if t in case.relevant):
            problems.append(f"{where}: no relevant listing has English text")
    if problems:
        raise DataError("the evaluation data does not match the demo catalogue:\n  " + "\n  ".join(problems))


def demo_catalogue() -> dict[str, bool]:
    """The published demo listings' Chinese titles → whether the listing has English text."""
    from marketplace.demo.catalogue import demo_listings

    published = (item.data for item in demo_listings() if item.status == "published")
    return {str(data.title_zh): bool(data.title_en or data.summary_en) for data in published}


# ----- the measures --------------------------------------------------------------------------------


def recall_at(ranked: list[str], relevant: set[str], k: int = RECALL_AT) -> float:
    """The share of the relevant listings in the top k, of as many as fit in it."""
    return len(set(ranked[:k]) & relevant) / min(k, len(relevant))


def reciprocal_rank(ranked: list[str], relevant: set[str]) -> float:
    return next((1 / rank for rank, title in enumerate(ranked, 1) if title in relevant), 0.0)


def ndcg_at(ranked: list[str], grades: Mapping[str, int], k: int = PAGE) -> float:
    def dcg(gains: Iterable[int]) -> float:
        return sum((2**g - 1) / math.log2(rank + 1) for rank, g in enumerate(gains, 1))

    ideal = dcg(sorted(grades.values(), reverse=True)[:k])
    return dcg(grades.get(title, 0) for title in ranked[:k]) / ideal


@dataclass
class Scores:
    recall: float
    mrr: float
    ndcg: float


def score(case: Case, ranked: list[str]) -> Scores:
    return Scores(recall_at(ranked, case.relevant), reciprocal_rank(ranked, case.relevant), ndcg_at(ranked, case.grades))


def mean(scores: list[Scores]) -> Scores:
    n = max(1, len(scores))
    return Scores(sum(s.recall for s in scores) / n, sum(s.mrr for s in scores) / n, sum(s.ndcg for s in scores) / n)


# ----- the run -----------------------------------------------------------------------------------


@dataclass
class Run:
    documents: int
    meilisearch: str
    index_seconds: float
    embedding: str  # how the vectors were made (hybrid mode)
    ranked: dict[str, dict[tuple[str, str], list[str]]]  # mode → (group, query) → titles, best first
    query_ms: dict[str, list[float]]  # mode → each query's time through run_search


async def ask(search, mode: str, q: str) -> list[str]:
    """One query through the product's query code, in a mode ("keyword", "hybrid" or "hybrid 0.8",
    with its semantic ratio); the titles of its first page."""
    from marketplace.search.query import SearchQuery, run_search

    hybrid, _, ratio = mode.partition(" ")
    if ratio:
        search.semantic_ratio = float(ratio)
    outcome = await run_search(search, SearchQuery(q=q, page_size=PAGE), hybrid=hybrid == "hybrid")
    return [hit.document["title_zh"] for hit in outcome.hits]


async def evaluate(settings, cases: list[Case], modes: list[str]) -> Run:
    """Load the demo, index it as production does (the relay sends the documents; the worker's
    embedding job stores their vectors, which the relay sends again), and ask every query."""
    from marketplace.db import make_engine, make_sessionmaker
    from marketplace.demo import load_demo_data
    from marketplace.search.documents import published_documents
    from marketplace.search.embedding_job import embed_pending
    from marketplace.search.engine import search_engine_for
    from marketplace.search.outbox import OutboxRelay, install_outbox_listeners
    from marketplace.wiring import wire

    wire()  # the indexes the relay sends to, as the app and the worker register them
    install_outbox_listeners()
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        await load_demo_data(session)
    documents: list[dict] = []
    async with sessionmaker() as session:
        async for page in published_documents(session):
            documents += page
    check_against_catalogue(cases, {d["title_zh"]: bool(d.get("title_en") or d.get("summary_en")) for d in documents})

    async with search_engine_for(settings) as search:
        await search.wait_healthy()
        await search.ensure_index()
        relay = OutboxRelay(sessionmaker, search)
        began = time.perf_counter()
        sent = await relay.drain()
        index_seconds = time.perf_counter() - began
        embedding = ""
        if any(mode.startswith("hybrid") for mode in modes):
            embedder = search.embedder
            if embedder is None or not embedder.available:
                raise SystemExit("hybrid mode: the embedding model is unavailable (see the log line above)")
            began, computed = time.perf_counter(), embedder.computed
            stored = 0
            while done := await embed_pending(sessionmaker, embedder):
                stored += done
            seconds = time.perf_counter() - began
            resent = await relay.drain()
            computed = embedder.computed - computed
            embedding = (
                f"{stored} vectors stored in {seconds:.1f} s ({computed} computed by the model, "
                f"{stored - computed} from the per-user cache); semantic ratio {search.semantic_ratio} unless named"
            )
            sent += resent
        if sent.failed or sent.upserted < len(documents):
            raise SystemExit(f"the relay did not send every listing ({len(documents)}): {sent}")
        await search.warm_up()
        meilisearch = (await search.client.get_version()).pkg_version
        ranked: dict[str, dict[tuple[str, str], list[str]]] = {}
        query_ms: dict[str, list[float]] = {}
        for mode in modes:
            ranked[mode], query_ms[mode] = {}, []
            for case in cases:
                began = time.perf_counter()
                ranked[mode][case.group, case.query] = await ask(search, mode, case.query)
                query_ms[mode].append((time.perf_counter() - began) * 1000)
    await engine.dispose()
    return Run(len(documents), meilisearch, index_seconds, embedding, ranked, query_ms)


# ----- the report --------------------------------------------------------------------------------


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=True, cwd=DATA.parent
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(cases: list[Case], run: Run, modes: list[str], misses: bool) -> None:
    from bench_common import cpu_model, percentile

    line = "=" * 100
    print(line)
    print(f"Search evaluation, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC   ({' '.join(sys.argv)})")
    print(line)
    print("Conditions")
    print(f"  code             commit {git_commit()}")
    print(f"  machine          {os.cpu_count()} cores ({cpu_model()}), shared with other work")
    print(f"  software         Python {platform.python_version()}, Meilisearch {run.meilisearch}")
    print(f"  catalogue        {run.documents} published demo listings, sent by the outbox relay in {run.index_seconds:.1f} s")
    if run.embedding:
        print(f"  embeddings       {run.embedding}")
    print(f"  data             {DATA.relative_to(DATA.parent.parent.parent)}: {len(cases)} queries")
    print(f"  modes            {', '.join(modes)}; first page of {PAGE} hits through run_search (hybrid=False for keyword)")
    first_hybrid = next((mode for mode in modes if mode.startswith("hybrid")), None)
    for mode in modes:
        ms = run.query_ms[mode]
        # The query embedder caches vectors: only the first hybrid mode's times include embedding.
        note = (
            "embedding the query"
            if mode == first_hybrid
            else "query vector cached"
            if first_hybrid in modes[: modes.index(mode)]
            else ""
        )
        print(
            f"  {mode + ' query':<16} p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms"
            f" (run_search, sequential{', ' + note if note else ''})"
        )
    print(f"  load average     {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print()

    by_group: dict[str, dict[str, list[Scores]]] = {mode: {} for mode in modes}
    for mode in modes:
        for case in cases:
            s = score(case, run.ranked[mode][case.group, case.query])
            by_group[mode].setdefault(case.group, []).append(s)
            by_group[mode].setdefault("overall", []).append(s)
    head = "".join(f"{f'{mode} R@5':>17}{'MRR':>7}{'nDCG@10':>9}" for mode in modes)
    print(f"  {'group':<14}{'':<40}{'n':>4}{head}")
    for group in [*GROUPS, "overall"]:
        if group not in by_group[modes[0]]:
            continue
        n = len(by_group[modes[0]][group])
        cells = ""
        for mode in modes:
            m = mean(by_group[mode][group])
            cells += f"{m.recall:>17.2f}{m.mrr:>7.2f}{m.ndcg:>9.2f}"
        print(f"  {group:<14}{GROUPS.get(group, 'all queries'):<40}{n:>4}{cells}")
    print()

    for mode in modes if "keyword" in modes else []:
        if not mode.startswith("hybrid"):
            continue
        print(f"Goals (recall@5, {mode} against keyword-only)")
        for group in (*CROSS_LANGUAGE, *SAME_LANGUAGE):
            keyword, hybrid = (mean(by_group[m].get(group, [])).recall for m in ("keyword", mode))
            want = keyword + GOAL_CROSS_GAIN if group in CROSS_LANGUAGE else keyword
            goal = "+20 points" if group in CROSS_LANGUAGE else "no loss"
            verdict = "met" if hybrid >= want - 1e-9 else "MISSED"
            print(f"  {group:<14}{goal:<12}{verdict:<8}({keyword:.2f} → {hybrid:.2f}, {100 * (hybrid - keyword):+.0f} points)")
        print()

    for mode in modes:
        missed = [case for case in cases if not set(run.ranked[mode][case.group, case.query][:RECALL_AT]) & case.relevant]
        print(f"{mode}: {len(missed)} of {len(cases)} queries with no relevant listing in the top {RECALL_AT}")
        if misses:
            for case in missed:
                top = run.ranked[mode][case.group, case.query][:3]
                print(f"  {case.group:<13} {case.query:<36} top 3: {' | '.join(top) or '(nothing)'}")
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument(
        "--semantic-ratio",
        default="",
        help="hybrid's weight of meaning, 0–1, or several, comma-separated (default: the setting's)",
    )
    parser.add_argument("--misses", action="store_true", help="list the queries with nothing relevant in the top 5")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes: give some of {', '.join(MODES)}")
    try:
        ratios = [float(r) for r in args.semantic_ratio.split(",") if r.strip()]
    except ValueError:
        parser.error("--semantic-ratio: numbers from 0 to 1")
    if any(not 0 <= r <= 1 for r in ratios):
        parser.error("--semantic-ratio: numbers from 0 to 1")
    if "hybrid" in modes and ratios:
        at = modes.index("hybrid")
        modes[at : at + 1] = [f"hybrid {r:g}" for r in ratios]
    cases = load_cases()
    check_against_catalogue(cases, demo_catalogue())  # before anything starts (checked again once indexed)

    from marketplace.cli import services
    from marketplace.config import Settings
    from marketplace.db import run_migrations

    with tempfile.TemporaryDirectory(prefix="search-eval-") as folder:
        settings = Settings(data_dir=Path(folder), database_url="", meili_url="", meili_index_prefix="eval_")
        with services(settings):
            run_migrations(settings.database_url)
            run = asyncio.run(evaluate(settings, cases, modes))
    report(cases, run, modes, args.misses)


if __name__ == "__main__":
    main()
