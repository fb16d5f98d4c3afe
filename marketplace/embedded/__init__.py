"""Local PostgreSQL and Meilisearch for the embedded default.

When no DATABASE_URL / MEILI_URL is configured, the app starts these as its own child processes,
listening on 127.0.0.1 only, with their data under DATA_DIR, and stops them on exit.
"""

from .meilisearch import (
    MEILI_VERSION,
    NPM_INTEGRITY,
    NPM_PACKAGE,
    EmbeddedMeilisearch,
    IntegrityError,
    ensure_binary,
    verify_integrity,
)
from .postgres import EmbeddedPostgres, EmbeddedServiceError

__all__ = [
    "MEILI_VERSION",
    "NPM_INTEGRITY",
    "NPM_PACKAGE",
    "EmbeddedMeilisearch",
    "EmbeddedPostgres",
    "EmbeddedServiceError",
    "IntegrityError",
    "ensure_binary",
    "verify_integrity",
]
