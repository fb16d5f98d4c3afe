"""The beds benchmark (bench/beds.py) runs end to end with tiny numbers on the test database: the
year's allocations are approved through the trigger as far as they fit, both reads answer, and of
50 concurrent approvals exactly those that fit succeed, the rest are refused by the CHECK, none
fails otherwise. (A real run: `make bench-beds`, figures in README.md.)"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime

from marketplace.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))  # its sibling bench_common, as when run as a script
_spec = importlib.util.spec_from_file_location("beds_bench", PROJECT_ROOT / "bench" / "beds.py")
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["beds_bench"] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)


async def test_a_tiny_run_reads_the_year_and_holds_under_concurrent_approvals(client, database_url: str) -> None:
    report = bench.Report(n=60, runs=3, seed=3, concurrent_beds=7, started=datetime.now(UTC))
    await bench.run(database_url, n=60, runs=3, seed_value=3, concurrent_beds=7, report=report)
    assert report.approved + report.requested == 60 and report.approved > 0
    assert len(report.calendar_ms) == 3 and len(report.availability_ms) == 3
    assert report.requests_made == bench.CONCURRENT
    assert (report.successes, report.conflicts, report.errors, report.over_capacity_days) == (7, bench.CONCURRENT - 7, [], 0)
    bench.print_report(report)
