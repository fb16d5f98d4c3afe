"""What an orchestrator and Prometheus ask: /health (is the process serving), /ready (can it serve:
database, search, schema at this code's head) and /metrics."""

from __future__ import annotations

import hmac
from ipaddress import ip_address
from typing import Literal

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotAuthorizedException
from litestar.openapi import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from marketplace import metrics
from marketplace.db import code_revisions, database_revisions, utcnow
from marketplace.notifications.services import email_queue
from marketplace.search.outbox import outbox_backlog
from marketplace.serving import draining

Up = Literal["ok", "unavailable"]


class Health(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    # "draining": the server is stopping (SIGTERM) and still answers, but wants no new traffic.
    status: Literal["ok", "degraded", "draining"]
    database: Up
    search: Up
    # "ok" when the database is at this code's newest revision; "pending" before `migrate`.
    migrations: Literal["ok", "pending", "unknown"]


@get("/health", tags=["ops"])
async def health() -> Health:
    """Liveness: the process answers. Restart it only when this fails."""
    return Health("ok")


@get("/ready", tags=["ops"], responses={503: ResponseSpec(Readiness, description="Not ready.", generate_examples=False)})
async def ready(request: Request) -> Response[Readiness]:
    """Readiness: database and search answer and the schema is at this code's head, and the server is
    not stopping; 503 otherwise (the load balancer sends no traffic meanwhile)."""
    state = request.app.state
    database: Up = "ok"
    migrations: Literal["ok", "pending", "unknown"] = "unknown"
    try:
        async with state.engine.connect() as conn:
            revisions = await database_revisions(conn)
        migrations = "ok" if revisions == (code_revisions()[1],) else "pending"
    except Exception:  # any failure to reach the database is "down"
        database = "unavailable"
    search: Up = "ok" if await state.search.healthy() else "unavailable"
    ok = database == "ok" and search == "ok" and migrations == "ok"
    status: Literal["ok", "degraded", "draining"] = "draining" if draining() else "ok" if ok else "degraded"
    return Response(Readiness(status, database, search, migrations), status_code=200 if status == "ok" else 503)


def _may_scrape(request: Request) -> bool:
    """With METRICS_TOKEN set, a scraper presents it as a bearer token; without, only this machine scrapes."""
    token = request.app.state.settings.metrics_token
    if token:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), token.encode())
    host = request.client.host if request.client else ""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@get("/metrics", tags=["ops"], include_in_schema=False)
async def scrape(request: Request) -> Response[bytes]:
    """Prometheus' text format; the queue gauges are read from PostgreSQL now."""
    if not _may_scrape(request):
        raise NotAuthorizedException()
    async with request.app.state.sessionmaker() as session:
        backlog, oldest = await outbox_backlog(session)
        queued, failed = await email_queue(session)
    metrics.OUTBOX_BACKLOG.set(backlog)
    metrics.OUTBOX_OLDEST_AGE.set((utcnow() - oldest).total_seconds() if oldest else 0)
    metrics.EMAIL_QUEUE_DEPTH.set(queued)
    metrics.EMAIL_FAILED.set(failed)
    return Response(generate_latest(metrics.scrape_registry()), media_type=CONTENT_TYPE_LATEST)
