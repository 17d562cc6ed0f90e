"""The API Lambda in several processes on one port, as in AWS where concurrent requests reach several
instances of the function, each serving one request at a time with its own database connection.

The parent binds and listens; every API process accepts from that one socket when it is free to, so eight
clients are not queued behind one interpreter (one process serves one request at a time: the Powertools
resolver keeps the current event on itself, and one process would hold the GIL besides).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from optionflow.config import Settings
from optionflow.local.worker_process import Handoff

_SPAWN = multiprocessing.get_context("spawn")  # no fork: threads and connections must not be copied
READY_TIMEOUT_SECONDS = 60.0


class ApiProcesses:
    """`count` API processes serving `host`:`settings.port` (0: any free port, then `server_address` tells
    it). Binding happens here, so a port in use raises OSError before anything starts."""

    def __init__(self, settings: Settings, root: Path, count: int, handoff: Handoff, host: str) -> None:
        self.socket = socket.create_server((host, settings.port), backlog=256)
        # Every process polls the socket and the first free one accepts; the others get EAGAIN, not a
        # blocked accept.
        self.socket.setblocking(False)
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self._stop = _SPAWN.Event()
        ready: Any = _SPAWN.Queue()
        self._processes = [
            _SPAWN.Process(
                target=_serve,
                args=(settings, str(root), self.socket, handoff, ready, self._stop),
                name=f"optionflow-api-{i + 1}",
                daemon=True,
            )
            for i in range(count)
        ]
        for process in self._processes:
            process.start()
        try:
            self._wait_until_ready(ready)
        except BaseException:
            self.stop()
            raise

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def _wait_until_ready(self, ready: Any) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        waiting = len(self._processes)
        while waiting:
            try:
                ready.get(timeout=0.2)
                waiting -= 1
            except queue.Empty:
                dead = [p for p in self._processes if p.exitcode is not None]
                if dead:
                    raise RuntimeError(f"API process {dead[0].name} exited with {dead[0].exitcode}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("the API processes did not start in time") from None

    def stop(self, timeout: float = 10.0) -> None:
        """Each process stops accepting and exits; one that has not within `timeout` is ended."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for process in self._processes:
            process.join(max(0.1, deadline - time.monotonic()))
        for process in self._processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
        self.socket.close()


def _serve(
    settings: Settings, root: str, listening: socket.socket, handoff: Handoff, ready: Any, stop: Any
) -> None:
    # Ctrl-C reaches the whole process group; the parent decides when the API stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.path.insert(0, str(Path(root) / "functions"))
    from optionflow import clock, config, observability
    from optionflow.db import connection
    from optionflow.events.bus import InProcessBus, set_bus
    from optionflow.events.worker_invoker import CallbackInvoker, set_invoker
    from optionflow.local.http_bridge import make_server

    observability.keep_metrics(False)
    config.use_settings(settings)
    clock.set_clock(None)
    connection.set_database_url(settings.database_url)
    connection.one_connection_per_process()  # requests run one at a time here, as in one Lambda instance
    set_bus(InProcessBus(handoff.dispatch))
    set_invoker(CallbackInvoker(handoff.run))
    from api.app import lambda_handler

    with contextlib.suppress(Exception):  # warm, as a Lambda's init would; a failure is the first request's
        connection.get_connection()
    server = make_server("", 0, lambda_handler, listening=listening)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    ready.put(True)
    stop.wait()
    server.shutdown()
    server.server_close()
    connection.close_connection()
