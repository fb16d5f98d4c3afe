"""Chinese recall on the demo catalogue: what a query finds, against what it should find.

    .venv/bin/python bench/chinese_recall.py

Starts a throw-away PostgreSQL and Meilisearch (marketplace.embedded) in a temporary folder,
loads the demo data, indexes every published listing with the app's index settings, and asks each
case through the app's own query code (`run_search`, as GET /api/v1/search does).

- (a) a word inside a longer compound and (b) digits inside Chinese text: "should" is every
  published listing whose public Chinese text holds the query (spaces ignored); the line shows
  how many of them the search returns (recall), how many it returns in all, and how many of its
  top 5 are among them (of as many as could be).
- (c) multi-word Chinese queries and (d) English and mixed ones: "should" is every listing that
  holds each word of the query (as the engine's segmenter cuts it); for each matching strategy
  (the engine called directly) and for the app's query, the hits, the should-listings found, and
  how many of the top 5 hold as many of the words as any listing does.
- (e) misspelt English synonyms: how many listings holding the Chinese term the query finds.
- (f) precision: words the segmenter cuts into single characters (卒中 is 卒 / 中) and Latin
  identifiers with digits (PD-1 is PD / 1): "should" is every listing whose Chinese or English
  text holds the query; the line shows how many of them are found, how many hits there are in
  all, the precision (should-listings among the hits) and the top 5.

A few synthetic listings (SYNTHETIC_TITLES) carry the issue's own example (农业发展银行) and
digit cases the demo data lacks; they are built and indexed exactly like the others.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path

import rjieba

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace.config import Settings

# (query, note)
COMPOUND_CASES = [
    ("农业", "issue's example: 农业发展银行 (synthetic listing)"),
    ("肿瘤", "肿瘤医院, 肿瘤学"),
    ("胰岛", "胰岛素"),
    ("细胞", "细胞治疗, 干细胞"),
    ("诊断", "诊断试剂盒, 辅助诊断"),
    ("试剂", "试剂盒"),
    ("肺癌", "非小细胞肺癌"),
    ("样本", "生物样本库"),
    ("糖尿", "糖尿病"),
    ("心肌", "心肌梗死"),
    ("喉镜", "可视喉镜"),
    ("骨关节炎", "膝骨关节炎"),
    ("阿托品", "低剂量阿托品缓释滴眼液"),
    ("抑制剂", "选择性抑制剂"),
    ("淋巴瘤", "弥漫大B细胞淋巴瘤"),
    ("病房", "研究型病房"),
    ("儿童", "儿童医学中心"),
    ("数据集", "标注数据集"),
]
DIGIT_CASES = [
    ("2型糖尿病", ""),
    ("CAR-T细胞", ""),
    ("3D打印", ""),
    ("II期临床", ""),
    ("IgA肾病", ""),
    ("GLP-1", ""),
    ("7T", "7T全身磁共振"),
    ("B7-H3", ""),
    ("CLDN18.2", ""),
    ("EB病毒", ""),
    ("5G", "synthetic: 5G远程超声"),
    ("第2代", "synthetic: 第2代测序"),
    ("3期", "synthetic: 已完成3期临床"),
]
# Queries of several words, as people type them. A listing "should" be found when it holds every
# word (as the engine's segmenter cuts the query); when none does, the best listings are those that
# hold the most words.
MULTIWORD_CASES = [
    "肝细胞癌 辅助诊断",
    "非小细胞肺癌 抑制剂",
    "2型糖尿病 胰岛素",
    "干细胞 外泌体",
    "肿瘤 研究型病房",
    "脑卒中 康复",
    "淋巴瘤 CAR-T细胞",
    "阿尔茨海默病 早期筛查",
    "单细胞测序 数据",
    "乳腺癌 液体活检",
    "肺癌靶向抑制剂",
    "肝癌早期诊断试剂盒",
    "糖尿病足创面修复材料",
    "儿童哮喘队列研究",
    "冠心病介入治疗器械",
]
ENGLISH_CASES = [
    "lung cancer inhibitor",
    "liver cancer diagnosis",
    "stem cell exosomes",
    "cell therapy for lymphoma",
    "deep learning for stroke",
    "biobank of gastric cancer samples",
    "knee osteoarthritis implant",
    "research ward oncology",
    "CAR-T 淋巴瘤",
    "AI 眼底筛查",
]
# (misspelt English synonym, the Chinese term of its synonym group)
TYPO_CASES = [
    ("gene theraphy", "基因治疗"),
    ("exosme", "外泌体"),
    ("monoclonal antibdy", "单克隆抗体"),
    ("biobnak", "生物样本库"),
    ("reserch ward", "研究型病房"),
]
# Queries whose words the segmenter cuts into single characters, or Latin identifiers with digits.
PRECISION_CASES = [
    ("卒中", "卒 / 中: listings say 脑卒中"),
    ("脑卒中", "one word to the segmenter"),
    ("阿尔茨海默病", "阿尔茨海默 / 病"),
    ("肺结节", "肺 / 结节"),
    ("脑机接口", "脑 / 机 / 接口"),
    ("PD-1", "PD / 1; the demo has PD-4277 (synthetic: PD-1 and PD-L1 listings)"),
    ("PD-L1", "synthetic"),
    ("GLP-1", ""),
    ("CLDN18.2", ""),
    ("B7-H3", ""),
    ("KRAS G12D", ""),
    ("G12D", ""),
    ("p-tau217", ""),
    ("癌", "one character: searched as typed"),
]
# Published listings added to the demo data, copies of its first result under another title.
SYNTHETIC_TITLES = [
    "农业发展银行支持的县域医疗器械产业化项目",
    "基于5G远程超声的基层筛查平台",
    "第2代测序肿瘤基因检测试剂盒",
    "已完成3期临床的降压复方制剂",
    "靶向PD-1的人源化单克隆抗体注射液",
    "PD-L1表达免疫组化检测试剂盒",
]
STRATEGIES = ("last", "all", "frequency")
LATIN = re.compile("[A-Za-z]")
CHINESE_TEXT = ("title_zh", "summary_zh", "advantages", "keywords", "area_names_zh", "type_zh", "institution_name_zh")


def holds(text: str, query: str) -> bool:
    """The query inside the text, and not as part of a longer Latin word or number (II期 is not
    inside III期, 2型 not inside 12型)."""
    query = query.replace(" ", "")
    latin = re.compile("[A-Za-z0-9]")  # (texts are compared as given; English ones lower-cased)
    before = "(?<![A-Za-z0-9])" if latin.match(query[0]) else ""
    after = "(?![A-Za-z0-9])" if latin.match(query[-1]) else ""
    return re.search(before + re.escape(query) + after, text) is not None


def english_text(doc: dict) -> str:
    parts = [doc.get(name) or "" for name in ("title_en", "summary_en", "type_en", "institution_name_en")]
    return " ".join(parts + doc.get("area_names_en", []) + doc.get("keywords", [])).lower()


def chinese_text(doc: dict) -> str:
    parts = []
    for name in CHINESE_TEXT:
        value = doc.get(name)
        parts += value if isinstance(value, list) else [value or ""]
    return " ".join(parts).replace(" ", "")


async def everything_found(search, q: str) -> list[dict]:
    from marketplace.search.query import SearchQuery, run_search

    # Every page, through the app's query code.
    found, page = [], 1
    while True:
        outcome = await run_search(search, SearchQuery(q=q, page=page, page_size=100))
        found += [hit.document for hit in outcome.hits]
        if page >= outcome.pages:
            return found
        page += 1


async def add_synthetic(session) -> None:
    import msgspec
    from sqlalchemy import select

    from marketplace.accounts.models import Organization
    from marketplace.catalog.services import CatalogService
    from marketplace.demo.catalogue import demo_listings

    template = next(item for item in demo_listings() if item.status == "published" and item.data.kind == "result")
    institution = await session.scalar(select(Organization.id).where(Organization.kind == "institution").limit(1))
    catalog = CatalogService(session)
    for title in SYNTHETIC_TITLES:
        data = msgspec.structs.replace(template.data, title_zh=title, title_en=None)
        await catalog.add_existing(institution, data, status="published")


async def measure(settings: Settings) -> None:
    from marketplace.db import make_engine, make_sessionmaker
    from marketplace.demo import load_demo_data
    from marketplace.search.documents import published_documents
    from marketplace.search.engine import search_engine_for
    from marketplace.search.query import SearchQuery, run_search

    engine = make_engine(settings.database_url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await load_demo_data(session)
        await add_synthetic(session)
    documents: list[dict] = []
    async with make_sessionmaker(engine)() as session:
        async for page in published_documents(session):
            documents += page
    await engine.dispose()

    async with search_engine_for(settings) as search:
        await search.wait_healthy()
        await search.ensure_index()
        await search.upsert(documents)
        await search.warm_up()
        texts = {doc["id"]: chinese_text(doc) for doc in documents}
        print(f"{len(documents)} documents (published demo listings + synthetic ones)\n")

        totals = {"should": 0, "found": 0}
        for title, cases in (
            ("(a) a word inside a longer compound", COMPOUND_CASES),
            ("(b) digits and Latin inside Chinese text", DIGIT_CASES),
        ):
            print(title)
            print(f"  {'query':<12} {'should':>6} {'found':>6} {'recall':>7} {'hits':>5} {'top5':>5}  note")
            for q, note in cases:
                should = {i for i, text in texts.items() if holds(text, q)}
                hits = await everything_found(search, q)
                found = should & {doc["id"] for doc in hits}
                recall = f"{len(found) / len(should):.0%}" if should else "-"
                top = f"{len(should & {doc['id'] for doc in hits[:5]})}/{min(5, len(should))}"
                totals["should"] += len(should)
                totals["found"] += len(found)
                print(f"  {q:<12} {len(should):>6} {len(found):>6} {recall:>7} {len(hits):>5} {top:>5}  {note}")
            print()
        print(f"  overall: {totals['found']} of {totals['should']} found ({totals['found'] / max(1, totals['should']):.0%})\n")

        print("(e) misspelt English synonyms: listings that hold the Chinese term, found by the misspelt query")
        print(f"  {'query':<20} {'term':<8} {'should':>6} {'found':>6} {'hits':>5}")
        for q, term in TYPO_CASES:
            should = {i for i, text in texts.items() if holds(text, term)}
            hits = {doc["id"] for doc in await everything_found(search, q)}
            print(f"  {q:<20} {term:<8} {len(should):>6} {len(should & hits):>6} {len(hits):>5}")
        print()

        english = {doc["id"]: english_text(doc) for doc in documents}
        print("(f) precision: single characters the segmenter leaves, and Latin identifiers with digits")
        print(f"  {'query':<12} {'should':>6} {'found':>6} {'hits':>5} {'precision':>9} {'top5':>5}  note")
        for q, note in PRECISION_CASES:
            latin = LATIN.search(q) is not None  # then compared in lower case
            should = {
                i for i in texts if holds((texts[i] + " " + english[i]).lower() if latin else texts[i], q.lower() if latin else q)
            }
            hits = await everything_found(search, q)
            found = should & {doc["id"] for doc in hits}
            precision = f"{len(found) / len(hits):.0%}" if hits else "-"
            top = f"{len(should & {doc['id'] for doc in hits[:5]})}/{min(5, len(should))}"
            print(f"  {q:<12} {len(should):>6} {len(found):>6} {len(hits):>5} {precision:>9} {top:>5}  {note}")
        print()

        for title, cases in (
            ("(c) multi-word Chinese queries", MULTIWORD_CASES),
            ("(d) English and mixed queries", ENGLISH_CASES),
        ):
            print(
                f"{title}: for each matching strategy, hits, listings that hold every word found / should,"
                " and how many of the top 5 hold the most words any listing holds (of as many as could)"
            )
            print(f"  {'query':<34} {'should':>6}  " + "  ".join(f"{s:<14}" for s in STRATEGIES) + "  the app's query")
            index = search.client.index(search.listings_index)
            for q in cases:
                words = [w.lower() for w in rjieba.cut(q, False) if w.strip()]
                held = {i: sum(holds(texts[i] + " " + english[i], w) for w in words) for i in texts}
                most = max(held.values())
                should = {i for i, n in held.items() if n == len(words)}
                room = min(5, sum(n == most for n in held.values())) if most else 0  # the best a top 5 can do
                cells = []
                for strategy in STRATEGIES:
                    result = await index.search(q, matching_strategy=strategy, limit=1000, attributes_to_retrieve=["id"])
                    ids = [hit["id"] for hit in result.hits]
                    best = sum(held[i] == most for i in ids[:5]) if most else 0
                    cells.append(f"{len(ids):>4} {len(should & set(ids)):>2}/{len(should):<2} {best}/{room}")
                outcome = await run_search(search, SearchQuery(q=q, page_size=5))
                best = sum(held[hit.document["id"]] == most for hit in outcome.hits) if most else 0
                print(f"  {q:<34} {len(should):>6}  " + "  ".join(cells) + f"  {outcome.total:>4} {best}/{room}")
            print()


def main() -> None:
    from marketplace.cli import services
    from marketplace.db import run_migrations

    with tempfile.TemporaryDirectory(prefix="recall-") as folder:
        settings = Settings(data_dir=Path(folder), database_url="", meili_url="", meili_index_prefix="recall_")
        with services(settings):
            run_migrations(settings.database_url)
            asyncio.run(measure(settings))


if __name__ == "__main__":
    main()
