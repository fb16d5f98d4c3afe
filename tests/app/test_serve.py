"""`marketplace serve`, the production command: the app on several Granian processes, none of them
running the background jobs, stopped cleanly by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

from marketplace.config import Settings
from marketplace.embedded.postgres import free_port

MARKETPLACE = Path(sys.executable).parent / "marketplace"


def test_serve_runs_the_app_on_several_processes_and_stops_on_sigterm(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEILI_URL": settings.meili_url,
        "MEILI_MASTER_KEY": settings.meili_master_key,
        "MEILI_INDEX_PREFIX": settings.meili_index_prefix,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "serve-test",
        "RUN_WORKER_IN_APP": "true",  # serve turns it off: jobs belong to `marketplace worker`
    }
    command = [str(MARKETPLACE), "serve", "--port", str(port), "--workers", "2"]
    with subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT) as server:
        try:
            deadline = time.monotonic() + 120
            while True:
                assert server.poll() is None, log.read_text()[-3000:]
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.3)
            processes = psutil.Process(server.pid).children(recursive=True)
            assert len([p for p in processes if "python" in p.name().lower() or "marketplace" in " ".join(p.cmdline())]) >= 2
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda _: httpx.get(f"http://127.0.0.1:{port}/", timeout=10), range(40)))
            assert {answer.status_code for answer in answers} == {200}
            # Whichever process answers the scrape counts the requests all of them served.
            for _ in range(4):
                figures = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
                served = [
                    line for line in figures.splitlines() if line.startswith("marketplace_requests_total") and 'path="/"' in line
                ]
                assert sum(float(line.split()[-1]) for line in served) == 40, served
            assert "worker started" not in log.read_text()  # no app process runs the jobs
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=60)
    assert code == 0, log.read_text()[-3000:]
    assert not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
