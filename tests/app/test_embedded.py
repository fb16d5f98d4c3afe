"""The embedded PostgreSQL and Meilisearch: loopback only, data kept, nothing left behind."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from click.testing import CliRunner

from marketplace.cli import DATABASE_NAME, main
from marketplace.db import ensure_database, run_migrations
from marketplace.embedded import (
    EmbeddedMeilisearch,
    EmbeddedPostgres,
    EmbeddedServiceError,
    IntegrityError,
    ensure_binary,
    verify_integrity,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def process_tree(pid: int) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def running(process: psutil.Process) -> bool:
    """Running and not a zombie: an orphan's zombie lingers until init gets round to reaping it."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_all_gone(processes: list[psutil.Process]) -> None:
    alive = [p for p in processes if running(p)]
    assert not alive, f"still running after stop(): {alive}"


def crash_while_running(service: str, data_dir: Path, binary: Path | None = None) -> psutil.Process:
    """Start a service from another Python process, SIGKILL that process, return the orphan."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from marketplace import embedded\n"
        "kwargs = {'binary': Path(sys.argv[3])} if len(sys.argv) > 3 else {}\n"
        "server = getattr(embedded, sys.argv[1])(Path(sys.argv[2]), **kwargs)\n"
        "server.start()\n"
        "print(server.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    args = [sys.executable, "-c", code, service, str(data_dir), *([str(binary)] if binary else [])]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env) as app:
        assert app.stdout is not None
        try:
            line = app.stdout.readline()
        finally:
            app.kill()
    assert line.strip(), f"the crashing app did not start {service}"
    orphan = psutil.Process(int(line))
    assert running(orphan), "the server should outlive the killed app"
    return orphan


def test_verify_integrity_accepts_the_right_hash_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    blob = tmp_path / "blob.tgz"
    blob.write_bytes(os.urandom(4096))
    right = "sha512-" + base64.b64encode(hashlib.sha512(blob.read_bytes()).digest()).decode()
    wrong = "sha512-" + base64.b64encode(hashlib.sha512(b"something else").digest()).decode()

    verify_integrity(blob, right)
    with pytest.raises(IntegrityError, match="does not match the pinned hash"):
        verify_integrity(blob, wrong)


@pytest.fixture
def server_dir():
    """A folder outside pytest's /tmp/pytest-of-<user>: another pytest session on the machine
    resets that one to 0700, which locks out the server's unprivileged user mid-test."""
    path = Path(tempfile.mkdtemp(prefix="marketplace-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_postgres_listens_on_loopback_only_and_keeps_its_data(server_dir: Path) -> None:
    data_dir = server_dir / "data"
    pg = EmbeddedPostgres(data_dir)
    url = pg.start()
    try:
        assert pg.pid is not None
        assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{pg.port}/postgres"
        assert pg.url("other") == f"postgresql+asyncpg://postgres@127.0.0.1:{pg.port}/other"
        listening = {
            conn.laddr.ip for conn in psutil.Process(pg.pid).net_connections(kind="inet") if conn.status == psutil.CONN_LISTEN
        }
        assert listening == {"127.0.0.1"}

        conn = await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres")
        try:
            assert await conn.fetchval("select 1") == 1
            assert await conn.fetchval("show listen_addresses") == "127.0.0.1"
            await conn.execute("create table kept (id int); insert into kept values (1)")
        finally:
            await conn.close()

        with pytest.raises(EmbeddedServiceError, match="already running"):
            EmbeddedPostgres(data_dir).start()
        processes = process_tree(pg.pid)
    finally:
        pg.stop()
    assert pg.pid is None
    assert_all_gone(processes)
    pg.stop()  # idempotent

    with EmbeddedPostgres(data_dir) as again:
        conn = await asyncpg.connect(host="127.0.0.1", port=again.port, user="postgres")
        try:
            assert await conn.fetchval("select count(*) from kept") == 1
        finally:
            await conn.close()


def test_postgres_stop_is_safe_when_never_started(tmp_path: Path) -> None:
    EmbeddedPostgres(tmp_path / "data").stop()


def test_postgres_replaces_a_server_left_by_a_crashed_app(server_dir: Path) -> None:
    data_dir = server_dir / "data"
    orphan = crash_while_running("EmbeddedPostgres", data_dir)
    with EmbeddedPostgres(data_dir) as pg:
        assert not running(orphan)
        assert pg.pid is not None and pg.pid != orphan.pid


@pytest.fixture(scope="module")
def meili_binary() -> Path:
    return ensure_binary()


def test_meilisearch_requires_its_key_and_keeps_it(tmp_path: Path, meili_binary: Path) -> None:
    data_dir = tmp_path / "data"
    meili = EmbeddedMeilisearch(data_dir, binary=meili_binary)
    url, key = meili.start()
    try:
        assert meili.pid is not None
        assert url == f"http://127.0.0.1:{meili.port}"
        assert httpx.get(f"{url}/health").json() == {"status": "available"}
        assert httpx.get(f"{url}/indexes").status_code == 401
        authorized = httpx.get(f"{url}/indexes", headers={"Authorization": f"Bearer {key}"})
        assert authorized.status_code == 200
        key_file = data_dir / "meili_master_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key_file.read_text() == key
        processes = process_tree(meili.pid)
    finally:
        meili.stop()
    assert meili.pid is None
    assert_all_gone(processes)
    meili.stop()  # idempotent

    with EmbeddedMeilisearch(data_dir, binary=meili_binary) as again:
        assert again.master_key() == key
        reused = httpx.get(f"{again.url}/indexes", headers={"Authorization": f"Bearer {key}"})
        assert reused.status_code == 200


def test_meilisearch_replaces_a_server_left_by_a_crashed_app(tmp_path: Path, meili_binary: Path) -> None:
    data_dir = tmp_path / "data"
    orphan = crash_while_running("EmbeddedMeilisearch", data_dir, meili_binary)
    with EmbeddedMeilisearch(data_dir, binary=meili_binary) as meili:
        assert not running(orphan)
        assert meili.pid is not None and meili.pid != orphan.pid


def test_a_command_uses_the_embedded_postgres_the_app_runs(server_dir: Path) -> None:
    """`marketplace backup` beside `marketplace run` on the embedded default: the app holds the
    server, and the command connects to it instead of failing to start a second one."""
    data_dir = server_dir / "data"
    assert EmbeddedPostgres(data_dir).running_url() is None
    with EmbeddedPostgres(data_dir) as app_server:
        assert EmbeddedPostgres(data_dir).running_url("x") == app_server.url("x")
        run_migrations(asyncio.run(ensure_database(app_server.url(), DATABASE_NAME)))
        env = {"DATA_DIR": str(data_dir), "DATABASE_URL": "", "MEILI_URL": "", "SECRET_KEY": "s"}
        result = CliRunner().invoke(main, ["backup", "--to", str(server_dir / "backup")], env=env)
        assert result.exit_code == 0 and "Backed up" in result.output, result.output
        assert app_server.pid is not None  # the command left the app's server running
    assert EmbeddedPostgres(data_dir).running_url() is None
