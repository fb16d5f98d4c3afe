"""What the platform exposes to Prometheus, defined once. Counters are bumped where things happen
(the worker's jobs, Meilisearch's tasks, e-mail attempts); the queue gauges are read from PostgreSQL
when /metrics is scraped (marketplace/probes.py). Request latency by route comes from Litestar's
Prometheus middleware (`prometheus_config`)."""

from __future__ import annotations

import os

from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, multiprocess

JOB_RUNS = Counter("marketplace_job_runs_total", "Background job runs, by job and outcome (ok or failed).", ["job", "outcome"])
SEARCH_TASK_FAILURES = Counter(
    "marketplace_search_task_failures_total", "Meilisearch tasks that ended in anything but success, by task type.", ["type"]
)
SEARCH_ANSWERS = Counter(
    "marketplace_search_answers_total",
    "Multi-searches answered, by where the answer came from: kept in the process (current or stale), or Meilisearch.",
    ["source"],
)
PAGE_CACHE_DROPS = Counter(
    "marketplace_page_cache_drops_total",
    "Notifications that dropped kept pages, sessions or search answers, by what they reach (each process counts its own).",
    ["reach"],
)
EMAIL_SEND_FAILURES = Counter(
    "marketplace_email_send_failures_total", "Attempts to send an e-mail that failed (retried or given up on)."
)
OUTBOX_BACKLOG = Gauge(
    "marketplace_outbox_backlog", "Search outbox rows not yet sent to Meilisearch.", multiprocess_mode="mostrecent"
)
OUTBOX_OLDEST_AGE = Gauge(
    "marketplace_outbox_oldest_age_seconds",
    "Age of the oldest unsent search outbox row (0 when none).",
    multiprocess_mode="mostrecent",
)
EMAIL_QUEUE_DEPTH = Gauge("marketplace_email_queue_depth", "E-mails queued and not yet sent.", multiprocess_mode="mostrecent")
EMAIL_FAILED = Gauge(
    "marketplace_email_failed", "E-mails given up on, waiting for the platform admin.", multiprocess_mode="mostrecent"
)

# Several app processes (`marketplace serve`) write their figures into this folder, and a scrape of
# any of them reads them all; the gauges read from PostgreSQL keep the most recent value.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def scrape_registry() -> CollectorRegistry:
    """Every process's figures under `marketplace serve`; this process's otherwise."""
    if not os.environ.get(MULTIPROCESS_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


# Probes and the scrape itself would drown the routes people use.
UNMEASURED = ["/metrics", "/health", "/ready"]


def prometheus_config() -> PrometheusConfig:
    """Request count, latency histogram and requests in progress, by method, route template and status."""
    return PrometheusConfig(app_name="marketplace", prefix="marketplace", group_path=True, exclude=UNMEASURED)
