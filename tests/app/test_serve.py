"""`marketplace serve`, the production command: the app on several Granian processes, none of them
running the background jobs, stopped cleanly by SIGTERM: a drain, then the accepted requests finish."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from marketplace.config import Settings
from marketplace.embedded.postgres import free_port

MARKETPLACE = Path(sys.executable).parent / "marketplace"


@contextmanager
def serving(settings: Settings, tmp_path: Path, **variables: str) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    """`marketplace serve --workers 2` on the session's database, once /ready says 200; SIGTERM on the way
    out if the test has not stopped it."""
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
        **variables,
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
            yield server, f"http://127.0.0.1:{port}", log
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=90)


def test_serve_runs_the_app_on_several_processes_and_stops_on_sigterm(settings: Settings, tmp_path: Path) -> None:
    with serving(settings, tmp_path, DRAIN_SECONDS="0") as (server, url, log):
        processes = psutil.Process(server.pid).children(recursive=True)
        assert len([p for p in processes if "python" in p.name().lower() or "marketplace" in " ".join(p.cmdline())]) >= 2
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: httpx.get(f"{url}/", timeout=10), range(40)))
        assert {answer.status_code for answer in answers} == {200}
        # Whichever process answers the scrape counts the requests all of them served.
        for _ in range(4):
            figures = httpx.get(f"{url}/metrics", timeout=10).text
            served = [
                line for line in figures.splitlines() if line.startswith("marketplace_requests_total") and 'path="/"' in line
            ]
            assert sum(float(line.split()[-1]) for line in served) == 40, served
        assert "worker started" not in log.read_text()  # no app process runs the jobs
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    assert code == 0, log.read_text()[-3000:]
    assert not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


DRAIN_SECONDS = 6
GRACE_SECONDS = 30


class LoadBalancer:
    """What a load balancer does: probe /ready on a new connection every half second and take the server
    out of rotation after two failed probes in a row; until then, keep sending requests, on new
    connections and on kept-alive ones."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.out = threading.Event()
        self.probes: list[int | str] = []
        self.answers: list[tuple[str, int | str]] = []  # (how it was sent, status or error)
        self.lock = threading.Lock()

    def probe(self) -> None:
        failed = 0
        while failed < 2:
            try:
                answer = httpx.get(f"{self.url}/ready", timeout=30)
                outcome: int | str = answer.status_code
                if answer.status_code == 503:
                    assert answer.json()["status"] == "draining", answer.text
            except httpx.HTTPError as error:
                outcome = repr(error)
            self.probes.append(outcome)
            failed = failed + 1 if outcome != 200 else 0
            time.sleep(0.5)
        self.out.set()

    def send(self, path: str, keep_alive: bool) -> None:
        with httpx.Client(timeout=30) as kept:
            while not self.out.is_set():
                try:
                    answer = kept.get(f"{self.url}{path}") if keep_alive else httpx.get(f"{self.url}{path}", timeout=30)
                    outcome: int | str = answer.status_code  # the whole body was read: the answer is complete
                except httpx.HTTPError as error:
                    outcome = repr(error)
                    time.sleep(0.05)  # a refused client does not spin
                with self.lock:
                    self.answers.append(("kept-alive" if keep_alive else "new connection", outcome))


def refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_drains_then_stops_and_loses_no_accepted_request(settings: Settings, tmp_path: Path) -> None:
    variables = {"DRAIN_SECONDS": str(DRAIN_SECONDS), "SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS)}
    with serving(settings, tmp_path, **variables) as (server, url, log):
        balancer = LoadBalancer(url)
        listener_closed = threading.Event()
        slow_started = threading.Event()
        slow: list[httpx.Response | Exception] = []

        def slow_upload():
            """A client on a slow link: its request's body arrives in pieces, the last one after the
            listener has closed. The token endpoint reads the whole form before it answers."""
            yield b"grant_type=client_credentials&client_id=nobody"
            slow_started.set()
            listener_closed.wait(timeout=DRAIN_SECONDS + 30)
            yield b"&client_secret=wrong"

        def send_slowly() -> None:
            try:
                slow.append(
                    httpx.post(
                        f"{url}/oauth/token",
                        content=slow_upload(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                        timeout=GRACE_SECONDS + DRAIN_SECONDS + 30,
                    )
                )
            except httpx.HTTPError as error:
                slow.append(error)

        senders = [
            threading.Thread(target=balancer.send, args=(path, keep_alive))
            for path in ("/", "/health")
            for keep_alive in (True, False)
        ] + [threading.Thread(target=send_slowly)]
        for sender in senders:
            sender.start()
        prober = threading.Thread(target=balancer.probe)
        try:
            assert slow_started.wait(timeout=30)
            deadline = time.monotonic() + 60
            while len({how for how, _ in balancer.answers}) < 2 or len(balancer.answers) < 20:  # steady load
                assert time.monotonic() < deadline, balancer.answers
                time.sleep(0.1)
            time.sleep(0.5)
            server.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            prober.start()
            prober.join(timeout=DRAIN_SECONDS + 60)
            assert balancer.out.is_set(), balancer.probes
            for sender in senders[:-1]:
                sender.join(timeout=60)
            # The drain is over a few seconds later: the port then refuses connections (it does not take
            # them into a queue and reset them), while the slow request is still being answered.
            deadline = time.monotonic() + DRAIN_SECONDS + 30
            while not refuses_connections(url):
                assert time.monotonic() < deadline, "the listener never closed"
                time.sleep(0.1)
            assert server.poll() is None, "the server stopped before finishing the slow request"
            try:
                httpx.get(f"{url}/health", timeout=5)
                raise AssertionError("a request after the listener closed was answered")
            except httpx.ConnectError:
                pass
        finally:
            listener_closed.set()
            senders[-1].join(timeout=GRACE_SECONDS + DRAIN_SECONDS + 30)
        code = server.wait(timeout=GRACE_SECONDS + DRAIN_SECONDS + 30)
        stopped_after = time.monotonic() - stopping

    assert code == 0, log.read_text()[-3000:]
    assert stopped_after < DRAIN_SECONDS + GRACE_SECONDS
    # Every request the server accepted (a connection made, the request sent) was answered in full, on new
    # connections and on kept-alive ones: none reset, none cut short.
    failed = [answer for answer in balancer.answers if answer[1] != 200]
    assert not [answer for answer in failed if "ConnectError" not in str(answer[1])], Counter(failed)
    # And none was refused: the server kept listening until the balancer had noticed the drain.
    assert not failed, Counter(failed)
    # The balancer took the server out because /ready answered 503 (it was still answering), not because
    # it had stopped answering.
    assert balancer.probes[-2:] == [503, 503], balancer.probes
    assert {how for how, _ in balancer.answers} == {"kept-alive", "new connection"}
    assert len(balancer.answers) > 20, len(balancer.answers)
    (answer,) = slow
    assert isinstance(answer, httpx.Response), repr(answer)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_client", answer.text
