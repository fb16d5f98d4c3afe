"""The ledger benchmark (bench/ledger.py) runs end to end with tiny numbers on the test database:
its plan is deterministic and puts the asked-for incomes on the hot inventor, every income is
posted through the service, the statements are built and the journal reconciles. (A real run:
`.venv/bin/python bench/ledger.py`, figures in README.md.)"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime

from marketplace.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))  # its sibling bench_common, as when run as a script
_spec = importlib.util.spec_from_file_location("ledger_bench", PROJECT_ROOT / "bench" / "ledger.py")
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["ledger_bench"] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)


def test_the_plan_is_deterministic_and_gives_the_hot_inventor_their_share() -> None:
    items = bench.plan(500, 120, 7)
    assert items == bench.plan(500, 120, 7)
    hot = [(i, r) for i, r, _body in items if i == 0 and r < bench.HOT_RESULTS]
    assert len(hot) == 120
    assert {body["kind"] for i, r, body in items if (i, r) in hot} == {"licence"}
    assert len({body["source_ref"] for _i, _r, body in items}) == 500


async def test_a_tiny_run_posts_builds_statements_and_reconciles(client, database_url: str) -> None:
    report = bench.Report(n=40, hot=25, batch=15, seed=3, started=datetime.now(UTC))
    await bench.run(database_url, n=40, hot=25, batch=15, statements=2, seed_value=3, report=report)
    assert report.incomes == 40 and report.entries == 40 and report.postings > 40 * 5
    assert report.hot_entries == 25
    assert len(report.all_time_ms) == 2 and len(report.quarter_ms) == 2
    assert report.balances_checked > 10 and report.differences == 0 and report.unbalanced == 0
    bench.print_report(report)
