"""Settings from the environment, in one place.

Every variable is listed in README.md. With no DATABASE_URL / MEILI_URL the app runs the embedded
default: a local PostgreSQL and Meilisearch kept under DATA_DIR.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

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
    # Login attempts allowed per e-mail address and client, and per client alone.
    login_rate_limit: str = "5/minute"
    login_rate_limit_per_ip: str = "30/minute"
    # Largest request body the API accepts, in bytes.
    max_body_bytes: int = 1_048_576
    # Files attached to match conversations: where they are kept (empty → DATA_DIR/attachments),
    # the largest file, and how many files one message may carry.
    attachments_dir: Path | None = None
    attachment_max_bytes: int = 20 * 1024 * 1024
    attachment_max_files: int = 5
    # Run the background jobs inside the app (the embedded default); false when a separate
    # `marketplace worker` process runs them (docker-compose.yml).
    run_worker_in_app: bool = True
    # Load the demo organizations and users on the first start of `marketplace run`.
    demo_data: bool = True
    debug: bool = False

    @property
    def embedded_postgres(self) -> bool:
        return not self.database_url

    @property
    def embedded_meilisearch(self) -> bool:
        return not self.meili_url

    @property
    def attachment_storage(self) -> Path:
        return self.attachments_dir or self.data_dir / "attachments"

    @property
    def https(self) -> bool:
        """Served over HTTPS (production): BASE_URL starts with https://."""
        return self.base_url.startswith("https://")

    @cached_property
    def session_secret(self) -> bytes:
        """32 bytes for the session cookie cipher, derived from SECRET_KEY or a generated one."""
        import hashlib

        return hashlib.sha256(self.resolved_secret_key().encode()).digest()

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
