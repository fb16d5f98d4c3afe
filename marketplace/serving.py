"""`marketplace serve`: the app on several Granian processes, stopped in two phases.

On SIGTERM the command first drains: every process's /ready answers 503, so a load balancer takes this
server out of rotation, while the processes keep accepting and answering for DRAIN_SECONDS, covering the
time the balancer needs to notice. Only then does Granian stop its processes: each closes its listener
and finishes the requests it has accepted, within SHUTDOWN_GRACE_SECONDS. Closing the listeners at once
would reset the connections still queued in the kernel, which the balancer had every right to send.

The processes learn of the drain through a file (its path in MARKETPLACE_DRAIN_FILE): it works across
processes whatever Granian's start method, and a stat per probe costs nothing.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from marketplace.config import Settings

log = logging.getLogger("marketplace.serving")
DRAIN_FILE_VARIABLE = "MARKETPLACE_DRAIN_FILE"


def draining() -> bool:
    """True once the `serve` process this one belongs to has begun to drain (False outside `serve`)."""
    path = os.environ.get(DRAIN_FILE_VARIABLE)
    return path is not None and os.path.exists(path)


class Drain:
    """The first SIGTERM starts the drain, then stops Granian DRAIN_SECONDS later; a second SIGTERM,
    or SIGINT (Ctrl-C, which the terminal also sends to every process), stops it at once."""

    def __init__(self, server, seconds: float, flag: Path) -> None:
        self.server, self.seconds, self.flag = server, seconds, flag
        self.started = threading.Event()
        # Daemon, and cancelled by an earlier stop: it never holds the process after Granian is done.
        self.timer = threading.Timer(seconds, self.stop)
        self.timer.daemon = True

    def install(self) -> None:
        """Runs as Granian's start-up hook, after Granian has set its own handlers, and replaces the SIGTERM one."""
        self.flag.unlink(missing_ok=True)
        self.pid = os.getpid()
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, *_) -> None:
        if os.getpid() != self.pid:
            # An app process forked with this handler that has not yet set its own (it is still loading
            # the app, so it has accepted nothing): it just exits.
            sys.exit(0)
        if self.started.is_set() or self.seconds <= 0:
            self.stop()
            return
        self.started.set()
        self.flag.touch()
        log.info("SIGTERM: draining for %s s (/ready answers 503), then stopping", self.seconds)
        self.timer.start()

    def stop(self) -> None:
        self.timer.cancel()
        log.info("stopping: no new connections; accepted requests finish")
        self.server.signal_handler_interrupt()

    def remove_flag(self) -> None:
        self.flag.unlink(missing_ok=True)


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Run the app on `workers` Granian processes until stopped (see the module's docstring)."""
    from granian import Granian
    from granian.constants import Interfaces

    # One flag per `serve` process: two servers sharing a DATA_DIR drain on their own.
    flag = settings.data_dir / f"serve-{os.getpid()}.draining"
    os.environ[DRAIN_FILE_VARIABLE] = str(flag)  # read by the processes Granian starts
    server = Granian(
        "marketplace.app:app_from_environment",
        factory=True,
        interface=Interfaces.ASGI,
        address=host,
        port=port,
        workers=workers,
        # Logging is marketplace.logs' in each process, which logs each request itself.
        log_enabled=False,
        # A process that has not finished its accepted requests by then is stopped.
        workers_kill_timeout=settings.shutdown_grace_seconds,
        respawn_failed_workers=True,
    )
    drain = Drain(server, settings.drain_seconds, flag)
    server.on_startup(drain.install)
    server.on_shutdown(drain.remove_flag)
    server.serve()
