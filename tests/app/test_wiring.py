"""The registries (search indexes, e-mail kinds, conversation subject kinds, worker jobs) are filled
in one place, marketplace.wiring, never as a side effect of an import; and the `marketplace`
command, started on its own, sees all of them: `search check` and `search reindex` cover the
needs index as well as the listings'."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from marketplace.accounts.models import Role
from marketplace.config import PROJECT_ROOT
from marketplace.db import make_sessionmaker
from marketplace.search.engine import SearchEngine
from marketplace.search.outbox import OutboxRelay
from tests.matching.needs.factories import need_body
from tests.support.cli import run_cli

# What wiring registers. A domain that adds an index, an e-mail kind, a subject kind or a job adds
# it here too; one left out of marketplace.wiring fails the tests below.
INDEXES = {"listing": "listings", "need": "needs"}
EMAIL_KINDS = [  # in the order the notification settings page lists them
    "match_request_activity",
    "match_thread_messages",
    "match_request_reminders",
    "need_responses",
    "need_response_decisions",
    "saved_search_digest",
    "licensing_reminders",
    "event_reminders",
    "event_meeting_requests",
]
SUBJECT_KINDS = ["match_request", "need_response"]
JOBS = [
    "mark_stale_listings",
    "purge_sessions",
    "purge_integration_tokens",
    "relay_search_outbox",
    "prune_search_outbox",
    "embed_search_documents",
    "saved_search_alerts",
    "saved_search_digests",
    "remind_match_request_deadlines",
    "send_queued_emails",
    "close_expired_needs",
    "licensing_daily",
    "trial_startup_flags",
    "bed_availability_daily",
    "refresh_analytics",
    "remind_event_meetings",
    "remind_event_follow_ups",
    "close_registrations",
]

READ_REGISTRIES = """
import json
from marketplace.matching.threads.subjects import SUBJECT_KINDS
from marketplace.notifications.services import EMAIL_KINDS
from marketplace.search.index_settings import INDEXES
from marketplace.worker import JOBS
print(json.dumps({
    "indexes": {key: index.name for key, index in INDEXES.items()},
    "email_kinds": list(EMAIL_KINDS),
    "subject_kinds": [str(kind) for kind in SUBJECT_KINDS],
    "jobs": [job.name for job in JOBS],
}))
"""


def fresh_process(code: str) -> dict:
    """Run `code` then read the registries, in a new Python process of this checkout's code."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code + READ_REGISTRIES], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_every_module_registers_nothing() -> None:
    found = fresh_process(
        "import importlib, pkgutil, marketplace\n"
        "for module in pkgutil.walk_packages(marketplace.__path__, 'marketplace.'):\n"
        "    importlib.import_module(module.name)\n"
    )
    assert found == {"indexes": {}, "email_kinds": [], "subject_kinds": [], "jobs": []}


def test_the_command_alone_sees_every_index_email_kind_subject_kind_and_job() -> None:
    """What every `marketplace` command runs first, in a process that imported only the CLI module."""
    expected = {"indexes": INDEXES, "email_kinds": EMAIL_KINDS, "subject_kinds": SUBJECT_KINDS, "jobs": JOBS}
    found = fresh_process("import marketplace.cli\nmarketplace.cli.main.callback(verbose=False)\n")
    assert found == expected
    # Wiring twice (the app and its in-app worker both wire) changes nothing.
    found = fresh_process(
        "import marketplace.cli\nmarketplace.cli.main.callback(verbose=False)\nmarketplace.cli.main.callback(verbose=False)\n"
    )
    assert found == expected


async def open_need(client, world, title: str) -> str:
    headers = world.bearer(Role.company_member)
    created = await client.post("/api/v1/needs", json=need_body(title=title), headers=headers)
    assert created.status_code == 201, created.text
    need_id = created.json()["id"]
    opened = await client.post(f"/api/v1/needs/{need_id}/transitions", json={"action": "publish"}, headers=headers)
    assert opened.status_code == 200, opened.text
    return need_id


async def test_search_check_and_reindex_cover_the_needs_index(client, db, world, settings, engine, tmp_path) -> None:
    kept = await open_need(client, world, "寻求肝癌早期诊断试剂合作")
    lost = await open_need(client, world, "寻求骨科植入物临床验证合作")
    prefix = f"{settings.meili_index_prefix}{uuid.uuid4().hex[:8]}_"
    search = SearchEngine(settings.meili_url, settings.meili_master_key, prefix)
    try:
        await search.ensure_indexes()
        await OutboxRelay(make_sessionmaker(engine), search).drain()
        needs_index = search.index_name("needs")
        await search.delete([lost], needs_index)  # the index now misses an open need

        code, output = await run_cli(settings, prefix, tmp_path, "search", "check")
        assert code == 1, output
        assert f"{needs_index}: 1 document(s); PostgreSQL: 2 open public need(s)" in output
        assert f"missing: {lost}" in output and kept not in output

        code, output = await run_cli(settings, prefix, tmp_path, "search", "reindex")
        assert code == 0, output
        assert f"Rebuilt {needs_index} with 2 open public need(s)" in output
        assert f"Rebuilt {search.listings_index} with" in output

        code, output = await run_cli(settings, prefix, tmp_path, "search", "check")
        assert code == 0, output
        assert f"{needs_index}: 2 document(s)" in output and "The indexes match PostgreSQL." in output
    finally:
        for name in await search.index_names():
            if name.startswith(prefix):
                await search.delete_index(name)
        await search.aclose()
