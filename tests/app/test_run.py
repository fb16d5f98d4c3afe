"""`marketplace run` (what `make run` starts): serves on the embedded services, loads the demo data
once, reuses it on the next start, and leaves no process behind on SIGINT or SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from marketplace.demo import DEMO_PASSWORD
from marketplace.embedded.postgres import free_port

MARKETPLACE = Path(sys.executable).parent / "marketplace"


def start(data_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEILI_URL", "MEILI_MASTER_KEY")}
    env["DATA_DIR"] = str(data_dir)
    return subprocess.Popen(
        [str(MARKETPLACE), "run", "--port", str(port)], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def wait_healthy(process: subprocess.Popen, port: int, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"marketplace run exited:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"not healthy in {timeout} s:\n{log.read_text()[-3000:]}")


def stop_and_check_nothing_left(process: subprocess.Popen, sig: signal.Signals) -> None:
    family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    names = {p.name() for p in family}
    assert "postgres" in names and "meilisearch" in names, names
    process.send_signal(sig)
    assert process.wait(timeout=60) == 0
    alive = []
    for p in family:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.NoSuchProcess:
            pass
    assert not alive, f"left behind after {sig.name}: {alive}"


def sign_in(port: int, email: str) -> httpx.Response:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        client.get("/login")
        return client.post(
            "/login",
            data={"email": email, "password": DEMO_PASSWORD},
            headers={"x-csrftoken": client.cookies["csrftoken"]},
        )


def test_run_serves_reuses_its_data_and_stops_everything(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "run.log"
    port = free_port()

    first = start(data_dir, port, log)
    try:
        wait_healthy(first, port, log)
        assert sign_in(port, "admin@demo.example").status_code == 302
        page = httpx.get(f"http://127.0.0.1:{port}/login")
        assert page.status_code == 200 and "登录" in page.text
        stop_and_check_nothing_left(first, signal.SIGINT)
    finally:
        first.kill()
    assert log.read_text().count("demo data loaded") == 1

    second = start(data_dir, port, log)
    try:
        wait_healthy(second, port, log)
        assert sign_in(port, "tto.manager@pujiang.example").status_code == 302
        stop_and_check_nothing_left(second, signal.SIGTERM)
    finally:
        second.kill()
    assert log.read_text().count("demo data loaded") == 1, "the second start must reuse the data"
