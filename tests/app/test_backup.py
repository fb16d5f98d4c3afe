"""The restore drill: the demo data backed up from a running system and restored into an empty one
loses nothing — every table's rows, the ledger's balances, search's answers."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from marketplace.backup import DUMP, BackupError, Manifest, backup, rebuild_search, restore
from marketplace.cli import main
from marketplace.config import Settings
from marketplace.db import SchemaAhead, code_revisions, ensure_database, make_engine, make_sessionmaker
from marketplace.demo import load_demo_data
from marketplace.ledger.services import LedgerService
from marketplace.search.engine import search_engine_for
from tests.support.database import recreate_database

QUERIES = ("肿瘤", "PD-1", "IVD 试剂盒", "研究型病房", "lung cancer", "生物样本库")


async def empty_database(name: str) -> str:
    server = os.environ["MARKETPLACE_TEST_SERVER_URL"]
    await recreate_database(server, name)
    return await ensure_database(server, name)


def system(settings: Settings, folder: Path, database_url: str, prefix: str) -> Settings:
    """Another system on the suite's services: its own database, index prefix and data folder."""
    return settings.model_copy(update={"data_dir": folder, "database_url": database_url, "meili_index_prefix": prefix})


async def fingerprint(database_url: str) -> dict[str, tuple[int, str]]:
    """Every table's and materialised view's row count and an md5 of its rows in a fixed order."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            names = (
                await conn.execute(
                    text(
                        "select tablename from pg_tables where schemaname = 'public' "
                        "union select matviewname from pg_matviews where schemaname = 'public'"
                    )
                )
            ).scalars()
            prints = {}
            for name in names:
                row = (
                    await conn.execute(
                        text(
                            f"select count(*), md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) from \"{name}\" t"
                        )
                    )
                ).one()
                prints[name] = (row[0], row[1])
            return prints
    finally:
        await engine.dispose()


async def balances(database_url: str) -> tuple[list[tuple], int]:
    """The ledger's kept balances, and how many differ from its journal."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            kept = (await session.execute(text("select * from ledger_balances order by 1, 2"))).all()
            _checked, differences = await LedgerService(session).reconcile()
            return [tuple(row) for row in kept], len(differences)
    finally:
        await engine.dispose()


async def answers(settings: Settings) -> dict[str, list[str]]:
    async with search_engine_for(settings) as search:
        index = search.client.index(search.listings_index)
        return {q: [hit["id"] for hit in (await index.search(q, limit=20)).hits] for q in QUERIES}


def running_system(settings: Settings, tmp_path: Path, worker_id: str) -> Settings:
    """The suite's database as a running system, with an uploaded file and a generated secret key."""
    original = system(settings, tmp_path / "original", settings.database_url, f"orig_{worker_id}_")
    original.attachment_storage.mkdir(parents=True)
    (original.attachment_storage / str(uuid.uuid4())).write_bytes(b"%PDF-1.7 signed licence\n" * 100)
    (original.data_dir / "secret_key").write_text("generated-secret")
    return original.model_copy(update={"secret_key": ""})


@pytest.fixture
async def populated(db, settings: Settings, tmp_path: Path, worker_id: str) -> Settings:
    """The demo data, indexed."""
    assert await load_demo_data(db)
    await db.commit()
    original = running_system(settings, tmp_path, worker_id)
    await rebuild_search(original)
    return original


@pytest.fixture
async def small(world, db, settings: Settings, tmp_path: Path, worker_id: str) -> Settings:
    """A few organizations and people: enough for the refusals."""
    await db.commit()
    return running_system(settings, tmp_path, worker_id)


async def test_a_restored_backup_loses_nothing(populated: Settings, tmp_path: Path, worker_id: str) -> None:
    manifest = await backup(populated, tmp_path / "backup")
    assert manifest.schema_revision == code_revisions()[1]
    assert manifest.tables["listings"] >= 850 and manifest.secret_key_included
    assert (tmp_path / "backup").stat().st_mode & 0o077 == 0  # the owner's only

    restored = system(
        populated, tmp_path / "restored", await empty_database(f"marketplace_restored_{worker_id}"), f"rest_{worker_id}_"
    )
    await restore(restored, tmp_path / "backup")

    # Every row is back; the outbox also holds what the reindex queued again for the relay.
    restored_tables, original_tables = await fingerprint(restored.database_url), await fingerprint(populated.database_url)
    assert restored_tables.pop("outbox")[0] > original_tables.pop("outbox")[0]
    assert restored_tables == original_tables
    kept, differences = await balances(restored.database_url)
    assert kept and differences == 0 and (kept, differences) == await balances(populated.database_url)
    original_answers = await answers(populated)
    assert any(original_answers.values()) and await answers(restored) == original_answers
    files = lambda s: {p.name: p.read_bytes() for p in s.attachment_storage.iterdir()}  # noqa: E731
    assert files(restored) == files(populated)
    assert (restored.data_dir / "secret_key").read_text() == "generated-secret"


async def test_a_damaged_or_misplaced_backup_is_refused_before_anything_is_written(
    small: Settings, tmp_path: Path, worker_id: str
) -> None:
    populated = small
    folder = tmp_path / "backup"
    await backup(populated, folder)
    with pytest.raises(BackupError, match="not empty"):
        await backup(populated, folder)
    # Into a database that already holds data.
    with pytest.raises(BackupError, match="database is not empty"):
        await restore(system(populated, tmp_path / "busy", populated.database_url, "busy_"), folder)

    target = system(populated, tmp_path / "target", await empty_database(f"marketplace_damaged_{worker_id}"), f"dmg_{worker_id}_")
    dump = folder / DUMP
    good = dump.read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    dump.write_bytes(bytes(damaged))
    with pytest.raises(BackupError, match=f"{DUMP} is missing or damaged"):
        await restore(target, folder)
    assert not target.attachment_storage.exists()
    assert await fingerprint(target.database_url) == {}
    dump.write_bytes(good)

    # A backup taken by newer code (its revision unknown here).
    manifest = Manifest.read(folder)
    manifest.schema_revision = "0999_from_the_future"
    manifest.write(folder)
    with pytest.raises(SchemaAhead, match="0999_from_the_future"):
        await restore(target, folder)
    assert await fingerprint(target.database_url) == {}


def test_the_commands_back_up_and_restore(settings: Settings, tmp_path: Path, worker_id: str) -> None:
    import asyncio

    source = asyncio.run(empty_database(f"marketplace_cli_source_{worker_id}"))
    target = asyncio.run(empty_database(f"marketplace_cli_target_{worker_id}"))
    base = {"MEILI_URL": settings.meili_url, "MEILI_MASTER_KEY": settings.meili_master_key, "SECRET_KEY": "cli"}
    runner = CliRunner()
    migrated = runner.invoke(main, ["migrate"], env={**base, "DATABASE_URL": source, "DATA_DIR": str(tmp_path / "a")})
    assert migrated.exit_code == 0, migrated.output
    made = runner.invoke(
        main, ["backup", "--to", str(tmp_path / "b")], env={**base, "DATABASE_URL": source, "DATA_DIR": str(tmp_path / "a")}
    )
    assert made.exit_code == 0 and "Backed up" in made.output, made.output
    env = {**base, "DATABASE_URL": target, "DATA_DIR": str(tmp_path / "c"), "MEILI_INDEX_PREFIX": f"cli_{worker_id}_"}
    restored = runner.invoke(main, ["restore", str(tmp_path / "b")], env=env)
    assert restored.exit_code == 0 and "search rebuilt" in restored.output, restored.output
    again = runner.invoke(main, ["restore", str(tmp_path / "b")], env=env)
    assert again.exit_code == 1 and "database is not empty" in again.output
