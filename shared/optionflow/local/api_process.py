"""The API Lambda in several processes on one port, as in AWS where concurrent requests reach several
instances of the function, each serving one request at a time with its own database connection.

The parent binds and listens; every API process accepts from that one socket, so eight clients are not
queued behind one interpreter (one process serves one request at a time: the Powertools resolver keeps the
current event on itself, and one process would hold the GIL besides). A client keeps its connection, so the
connections are shared out evenly: a process holding more open connections than another lets that one
accept first (`FairShare`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from optionflow.config import Settings
from optionflow.local.http_bridge import BridgeServer, make_server
from optionflow.local.worker_process import Handoff

_SPAWN = multiprocessing.get_context("spawn")  # no fork: threads and connections must not be copied
READY_TIMEOUT_SECONDS = 60.0
# How long a busier process steps back (1 ms at a time) before it accepts a waiting connection anyway.
_DEFER_SECONDS = 0.05


class FairShare(BridgeServer):
    """A server that accepts a new connection only when no other API process holds fewer open ones: the
    first to wake would otherwise take them all, and its clients would queue while the others idle."""

    open_connections_shared: Any = None  # a shared array: open connections per process
    index = 0
    _deferring_since = 0.0

    def accepting(self) -> bool:
        counts = self.open_connections_shared
        if counts is None or counts[self.index] <= min(counts):
            self._deferring_since = 0.0
            return True
        now = time.monotonic()
        if not self._deferring_since:
            self._deferring_since = now
        if now - self._deferring_since < _DEFER_SECONDS:
            return False  # step back: a less busy process may take it
        self._deferring_since = 0.0
        return True

    def opened(self) -> None:
        self._count()

    def closed(self) -> None:
        self._count()

    def _count(self) -> None:
        if self.open_connections_shared is not None:
            self.open_connections_shared[self.index] = self.open_connections


class ApiProcesses:
    """`count` API processes serving `host`:`settings.port` (0: any free port, then `server_address` tells
    it). Binding happens here, so a port in use raises OSError before anything starts."""

    def __init__(self, settings: Settings, root: Path, count: int, handoff: Handoff, host: str) -> None:
        self.socket = socket.create_server((host, settings.port), backlog=256)
        # Every process polls the socket and the first free one accepts; the others get EAGAIN, not a
        # blocked accept.
        self.socket.setblocking(False)
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        # A flag the processes poll, not an Event: Event.set() waits for every process sleeping on it to
        # wake, so one that died meanwhile (a SIGKILL) would hang the stop forever.
        self._stop: Any = _SPAWN.RawValue("b", 0)
        ready: Any = _SPAWN.Queue()
        # each process writes only its own count, and every process reads them all
        self._open_connections = open_connections = _SPAWN.RawArray("i", count)
        self._processes = [
            _SPAWN.Process(
                target=_serve,
                args=(settings, str(root), self.socket, handoff, ready, self._stop, open_connections, i),
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

    def open_connections(self) -> list[int]:
        """The client connections each process holds open now."""
        counts = self._open_connections
        return [int(counts[i]) for i in range(len(counts))]

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
        self._stop.value = 1
        deadline = time.monotonic() + timeout
        for process in self._processes:
            process.join(max(0.1, deadline - time.monotonic()))
        for process in self._processes:
            if process.is_alive():
                process.kill()  # it ignores SIGTERM (see _serve)
                process.join(5)
        self.socket.close()


def _serve(
    settings: Settings,
    root: str,
    listening: socket.socket,
    handoff: Handoff,
    ready: Any,
    stop: Any,
    open_connections: Any,
    index: int,
) -> None:
    # Ctrl-C, and a SIGTERM sent to the whole process group (a supervisor stopping the stack), reach every
    # process; the parent decides when the API stops, after the request under way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.path.insert(0, str(Path(root) / "functions"))
    from optionflow import clock, config, observability
    from optionflow.db import connection, signals
    from optionflow.events.bus import InProcessBus, set_bus
    from optionflow.events.worker_invoker import CallbackInvoker, set_invoker

    observability.keep_metrics(False)
    config.use_settings(settings)
    clock.set_clock(None)
    connection.set_database_url(settings.database_url)
    connection.one_connection_per_process()  # requests run one at a time here, as in one Lambda instance
    signals.prepare_inserts()  # on that one connection of its own, no pooler between: see prepare_inserts
    set_bus(InProcessBus(handoff.dispatch))
    set_invoker(CallbackInvoker(handoff.run))
    from api.app import lambda_handler

    with contextlib.suppress(Exception):  # warm, as a Lambda's init would; a failure is the first request's
        connection.get_connection()
    FairShare.open_connections_shared, FairShare.index = open_connections, index
    server = make_server("", 0, lambda_handler, listening=listening, server_class=FairShare)
    ready.put(True)
    parent = multiprocessing.parent_process()
    # One thread serves every connection (see BridgeServer), until told to stop, or the process that
    # started us is gone (killed outright): an orphan would hold the port against the next start.
    server.serve_forever(
        poll_interval=0.2, until=lambda: bool(stop.value) or (parent is not None and not parent.is_alive())
    )
    server.server_close()
    connection.close_connection()
