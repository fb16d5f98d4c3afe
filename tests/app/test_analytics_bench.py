"""The analytics benchmark (bench/analytics.py) runs end to end with tiny numbers on the test
database: the services' rows are cloned to the sizes asked, the reporting views see them all, and
every figure answers over the app. (A real run: `make bench-analytics`, figures in README.md.)"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime

from sqlalchemy import text

from marketplace.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))  # its sibling bench_common, as when run as a script
_spec = importlib.util.spec_from_file_location("analytics_bench", PROJECT_ROOT / "bench" / "analytics.py")
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["analytics_bench"] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)


async def test_a_tiny_run_fills_the_year_and_answers_every_figure(client, db, database_url: str) -> None:
    sizes = bench.Sizes(listings=40, requests=20, agreements=8, payments=24)
    report = bench.Report(sizes=sizes, runs=2, started=datetime.now(UTC))
    await bench.run(database_url, sizes=sizes, runs=2, report=report)
    # The templates (one listing, two requests, one agreement and payment per institution) and their clones.
    institutions = len(bench.INSTITUTIONS)
    assert report.counts["listings"] == 40 and report.counts["requests"] == 20
    assert report.counts["agreements"] == 8 and report.counts["payments"] == 24 and report.counts["ledger incomes"] == 24
    counts = (await db.execute(text("SELECT (SELECT count(*) FROM analytics_requests), (SELECT count(*) FROM analytics_incomes), "
                                    "(SELECT count(*) FROM analytics_agreements WHERE signed_at IS NOT NULL)"))).one()  # fmt: skip
    assert tuple(counts) == (20 + 2 * institutions, 24 + institutions, 8 + institutions)
    for name in bench.FIGURES:
        assert len(report.timings[f"/api/v1/analytics/{name}"]) == 2
    assert len(report.timings["8 API calls in turn (all figures)"]) == 2 and len(report.timings[bench.ONE_SESSION]) == 2
    bench.print_report(report)
