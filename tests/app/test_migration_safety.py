"""Migrations stay safe on a populated database: squawk (squawk-cli, from npm) lints the SQL each one runs,
and no process serves or migrates a database that newer code has migrated."""

from __future__ import annotations

import io
import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from marketplace.app import create_app
from marketplace.cli import main
from marketplace.config import PROJECT_ROOT
from marketplace.db import SchemaAhead, code_revisions, make_engine, run_migrations
from tests.support.database import TEMPLATE_DB, recreate_database

# squawk-cli's binary package for this platform (package.json says why that one only).
SQUAWK = PROJECT_ROOT / "node_modules" / "@squawk-cli" / "linux-x64" / "bin" / "squawk"

# Findings in migrations that had run on every database before squawk joined the suite, by
# revision and rule. They cannot change now; a new migration must have none. The indexes and
# constraints were added while those tables were still small.
APPLIED_BEFORE_SQUAWK = {
    ("0003", "prefer-identity"): 1,
    ("0004", "prefer-identity"): 1,
    ("0004", "require-concurrent-index-creation"): 1,
    ("0005", "constraint-missing-not-valid"): 1,
    ("0008", "constraint-missing-not-valid"): 1,
    ("0009", "constraint-missing-not-valid"): 1,
    ("0011_failed_emails", "require-concurrent-index-deletion"): 1,
    ("0011_failed_emails", "require-concurrent-index-creation"): 2,
    ("0015_beds", "require-concurrent-index-deletion"): 1,
    ("0015_beds", "require-concurrent-index-creation"): 1,
    ("0015_beds", "constraint-missing-not-valid"): 1,
    ("0016_analytics", "constraint-missing-not-valid"): 1,
    ("0016_analytics", "prefer-identity"): 1,
    ("0016_analytics", "require-concurrent-index-creation"): 10,
    # Not applied before squawk, but Procrastinate's schema as the library ships it: new, empty
    # tables whose ids are bigserial (its functions rely on them).
    ("0026_procrastinate", "prefer-identity"): 3,
}


def write_migration_sql(folder: Path) -> list[Path]:
    """Each revision's upgrade as the SQL Alembic would run (offline mode), one file per revision."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = "postgresql+asyncpg://lint@127.0.0.1/lint"  # offline: never connected
    files = []
    for revision in reversed(list(ScriptDirectory.from_config(config).walk_revisions())):
        config.output_buffer = io.StringIO()
        span = f"{revision.down_revision}:{revision.revision}" if revision.down_revision else revision.revision
        command.upgrade(config, span, sql=True)
        path = folder / f"{revision.revision}.sql"
        path.write_text(config.output_buffer.getvalue())
        files.append(path)
    return files


def squawk(*files: Path) -> Counter[tuple[str, str]]:
    """squawk's findings, counted by (file stem, rule), under the project's .squawk.toml."""
    run = subprocess.run(
        [SQUAWK, "--config", PROJECT_ROOT / ".squawk.toml", "--reporter", "json", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode in (0, 1) and run.stdout.strip(), run.stderr
    return Counter((Path(finding["file"]).stem, finding["rule_name"]) for finding in json.loads(run.stdout))


def test_every_migration_passes_squawk(tmp_path: Path) -> None:
    files = write_migration_sql(tmp_path)
    assert len(files) == len(code_revisions()[0])
    findings = squawk(*files)
    new = {key: count for key, count in findings.items() if APPLIED_BEFORE_SQUAWK.get(key) != count}
    assert not new, f"unsafe on a populated database (see https://squawkhq.com/docs/rules): {new}"
    assert dict(findings) == APPLIED_BEFORE_SQUAWK, "a finding listed as applied is gone: remove it from the list"


def test_each_migration_sets_its_timeouts(tmp_path: Path) -> None:
    """The lock and statement timeouts come from migrations/env.py, in every revision's transaction."""
    for path in write_migration_sql(tmp_path):
        sql = path.read_text()
        assert sql.index("SET LOCAL lock_timeout") < sql.index("-- Running upgrade"), path.name


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        ("CREATE INDEX ix_listings_title ON listings (title);", "require-concurrent-index-creation"),
        ("ALTER TABLE listings ADD COLUMN grade integer NOT NULL;", "adding-required-field"),
        ("ALTER TABLE listings ALTER COLUMN title TYPE text;", "changing-column-type"),
    ],
)
def test_squawk_catches_an_unsafe_migration(tmp_path: Path, statement: str, rule: str) -> None:
    unsafe = tmp_path / "9999_unsafe.sql"
    unsafe.write_text(f"BEGIN;\nSET LOCAL lock_timeout = '10s';\nSET LOCAL statement_timeout = '1min';\n{statement}\nCOMMIT;\n")
    assert ("9999_unsafe", rule) in squawk(unsafe)


@pytest.fixture
async def ahead_url(worker_id: str) -> str:
    """A migrated database whose revision is one this code has never seen."""
    import os

    url = await recreate_database(
        os.environ["MARKETPLACE_TEST_SERVER_URL"], f"marketplace_ahead_{worker_id}", template=TEMPLATE_DB
    )
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("update alembic_version set version_num = '0999_from_the_future'"))
    await engine.dispose()
    return url


def test_migrating_refuses_a_database_ahead_of_the_code(ahead_url: str) -> None:
    with pytest.raises(SchemaAhead, match="0999_from_the_future.*its newest is " + code_revisions()[1]):
        run_migrations(ahead_url)


def test_the_migrate_command_says_which_revision(ahead_url: str, settings) -> None:
    result = CliRunner().invoke(
        main,
        ["migrate"],
        env={
            "DATABASE_URL": ahead_url,
            "MEILI_URL": settings.meili_url,
            "MEILI_MASTER_KEY": settings.meili_master_key,
            "DATA_DIR": str(settings.data_dir),
        },
    )
    assert result.exit_code == 1
    assert "0999_from_the_future" in result.output and code_revisions()[1] in result.output


async def test_the_app_refuses_to_start_on_it(ahead_url: str, settings) -> None:
    app = create_app(settings.model_copy(update={"database_url": ahead_url, "run_worker_in_app": False}))
    with pytest.raises(BaseExceptionGroup) as refused:  # the lifespan's task group carries it
        async with AsyncTestClient(app):
            pass
    assert refused.group_contains(SchemaAhead, match="0999_from_the_future", depth=None)
