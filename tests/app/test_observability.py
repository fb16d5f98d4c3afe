"""What an operator sees: structured logs carrying each request's id, the Prometheus metrics and the
liveness and readiness probes."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator

import pytest
import structlog
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY
from sqlalchemy import text

from marketplace.accounts.models import Role
from marketplace.app import create_app
from marketplace.config import Settings
from marketplace.db import make_engine, make_sessionmaker
from marketplace.embedded.postgres import free_port
from marketplace.logs import configure_logging
from marketplace.notifications.services import NotificationService, send_queued_emails
from marketplace.search.engine import SearchEngine, SearchTaskFailed
from marketplace.search.outbox import enqueue
from marketplace.worker import Job, run_worker
from tests.support.database import TEMPLATE_DB, recreate_database
from tests.support.page_cache import listening
from tests.support.web import csrf_token

TOKEN = "metrics-token-for-the-test"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Production logging for one test, then the suite's own again."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    written = io.StringIO()
    configure_logging("json", stream=written)
    try:
        yield written
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


@pytest.fixture
def scraper(app, settings: Settings) -> Iterator[dict[str, str]]:
    """The app expecting METRICS_TOKEN, and the header that presents it."""
    app.state.settings = settings.model_copy(update={"metrics_token": TOKEN})
    try:
        yield {"Authorization": f"Bearer {TOKEN}"}
    finally:
        app.state.settings = settings


async def test_each_request_has_an_id_in_its_answer_and_its_log_lines(client, json_logs) -> None:
    given = "trace-" + uuid.uuid4().hex
    echoed = await client.get("/api/v1/me", headers={"X-Request-ID": given})
    fresh = await client.get("/api/v1/me", headers={"X-Request-ID": "x" * 500})
    assert echoed.headers["x-request-id"] == given
    assert len(fresh.headers["x-request-id"]) == 32 and fresh.headers["x-request-id"] != "x" * 500
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    access = [line for line in lines if line.get("logger") == "marketplace.access"]
    assert {line["request_id"] for line in access} == {given, fresh.headers["x-request-id"]}
    first = next(line for line in access if line["request_id"] == given)
    assert first["status"] == 401 and first["route"] == "/api/v1/me" and first["level"] == "info" and "ms" in first


async def test_a_search_says_on_its_log_line_where_its_answer_came_from(client, engine, json_logs) -> None:
    await listening(engine)  # answers are kept only while the process hears the others' changes
    q = f"肝癌 {uuid.uuid4().hex[:8]}"
    for _ in range(2):
        assert (await client.get("/api/v1/search", params={"q": q})).status_code == 200
    await client.get("/api/v1/me")
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    asked, kept, other = [line for line in lines if line.get("logger") == "marketplace.access"][-3:]
    assert asked["search_answer"] == "meilisearch" and asked["search_ms"] > 0
    assert kept["search_answer"] == "kept" and "search_ms" not in kept
    assert other["route"] == "/api/v1/me" and "search_answer" not in other  # nothing carried over


async def test_metrics_are_for_prometheus_only(client, scraper) -> None:
    assert (await client.get("/metrics")).status_code == 401  # the test client is not on loopback
    assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
    response = await client.get("/metrics", headers=scraper)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")


async def test_request_latency_is_counted_by_route_template(client, scraper) -> None:
    def served(body: str) -> tuple[float, list[str]]:
        lines = [line for line in body.splitlines() if line.startswith("marketplace_request_duration_seconds_count")]
        templated = [line for line in lines if 'path="/api/v1/listings/{listing_id}"' in line]
        return sum(float(line.split()[-1]) for line in templated), lines

    before, _lines = served((await client.get("/metrics", headers=scraper)).text)
    for _ in range(2):
        await client.get(f"/api/v1/listings/{uuid.uuid4()}")
    after, lines = served((await client.get("/metrics", headers=scraper)).text)
    assert after == before + 2
    # Each listing's own URL never becomes a label of its own.
    uuid_in_path = re.compile(r'path="[^"]*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
    assert not any(uuid_in_path.search(line) for line in lines)


async def test_queues_are_read_from_postgresql_when_scraped(client, db, settings, scraper) -> None:
    await enqueue(db, "listing", [uuid.uuid4(), uuid.uuid4()])
    await NotificationService(db).queue_email("someone@example.com", "test", "Subject", "Body")
    await db.execute(text("update outbox set created_at = now() - interval '90 seconds'"))
    await db.commit()
    body = (await client.get("/metrics", headers=scraper)).text
    values = {line.split()[0]: float(line.split()[1]) for line in body.splitlines() if line and not line.startswith("#")}
    assert values["marketplace_outbox_backlog"] == 2
    assert values["marketplace_outbox_oldest_age_seconds"] >= 90
    assert values["marketplace_email_queue_depth"] == 1


async def test_job_runs_and_failures_are_counted_by_job(settings, monkeypatch) -> None:
    async def fails(_settings, _sessionmaker) -> None:
        raise RuntimeError("boom")

    async def works(_settings, _sessionmaker) -> None:
        pass

    before = sample("marketplace_job_runs_total", job="probe-fails", outcome="failed")
    monkeypatch.setattr("marketplace.worker.JOBS", [Job("probe-fails", 1, fails), Job("probe-works", 1, works)])
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop))
    try:
        for _ in range(300):
            if sample("marketplace_job_runs_total", job="probe-fails", outcome="failed") > before and sample(
                "marketplace_job_runs_total", job="probe-works", outcome="ok"
            ):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
    assert sample("marketplace_job_runs_total", job="probe-fails", outcome="failed") > before
    assert sample("marketplace_job_runs_total", job="probe-works", outcome="ok") >= 1


async def test_search_task_failures_are_counted(settings) -> None:
    before = sample("marketplace_search_task_failures_total", type="documentAdditionOrUpdate")
    async with SearchEngine(settings.meili_url, settings.meili_master_key, f"{settings.meili_index_prefix}fail_") as search:
        with pytest.raises(SearchTaskFailed):
            await search.upsert([{"id": "not a valid id!"}], uid=search.index_name("probe"))
    assert sample("marketplace_search_task_failures_total", type="documentAdditionOrUpdate") == before + 1


async def test_email_failures_are_counted(db, engine, settings) -> None:
    await NotificationService(db).queue_email("someone@example.com", "test", "Subject", "Body")
    await db.commit()
    before = sample("marketplace_email_send_failures_total")
    nowhere = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    assert await send_queued_emails(nowhere, make_sessionmaker(engine)) == 0
    assert sample("marketplace_email_send_failures_total") == before + 1


async def test_ready_waits_for_the_migrations(settings: Settings, worker_id: str) -> None:
    server = os.environ["MARKETPLACE_TEST_SERVER_URL"]
    url = await recreate_database(server, f"marketplace_behind_{worker_id}", template=TEMPLATE_DB)
    behind = make_engine(url)
    async with behind.begin() as conn:
        await conn.execute(text("update alembic_version set version_num = '0001'"))
    await behind.dispose()
    async with AsyncTestClient(create_app(settings.model_copy(update={"database_url": url}))) as client:
        response = await client.get("/ready")
        alive = await client.get("/health")
    assert response.status_code == 503 and response.json()["migrations"] == "pending"
    assert alive.status_code == 200


async def test_the_request_id_follows_a_request_into_the_jobs_it_causes(client, db, engine, settings, world, json_logs) -> None:
    """A password reset asked for in a request queues an e-mail; the worker's lines about that
    e-mail, a failure to send it included, carry the request's id."""
    given = "trace-" + uuid.uuid4().hex
    email = world.emails[Role.company_admin]
    token = await csrf_token(client)
    answer = await client.post("/forgot-password", data={"email": email}, headers={"x-csrftoken": token, "X-Request-ID": given})
    assert answer.status_code in (200, 303), answer.text[-500:]
    assert (await db.execute(text("select request_id from outgoing_emails"))).scalars().all() == [given]
    nowhere = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    await send_queued_emails(nowhere, make_sessionmaker(engine))
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    failure = next(line for line in lines if line["logger"].startswith("marketplace.notifications") and email in line["event"])
    assert failure["request_id"] == given


async def test_an_outbox_row_names_the_request_that_made_the_change(db) -> None:
    with structlog.contextvars.bound_contextvars(request_id="trace-outbox-1234"):
        await enqueue(db, "listing", [uuid.uuid4()])
    await db.commit()
    assert (await db.execute(text("select request_id from outbox"))).scalar_one() == "trace-outbox-1234"
