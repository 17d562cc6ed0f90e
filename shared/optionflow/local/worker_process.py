"""The worker Lambdas in a process of their own, as in AWS where each function has its own runtime.

Running them beside the HTTP server in one interpreter made every webhook wait for the GIL while the
pipeline worked; a separate process keeps the webhook's latency its own. The API process hands fast-path
events, and manual triggers (POST /workers/{name}/trigger), over a queue; the worker process routes them,
and its own stage-to-stage events, in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path
from queue import Empty
from typing import Any

from optionflow.config import Settings

_SPAWN = multiprocessing.get_context("spawn")  # no fork: threads and connections must not be copied


def _coalesced_events() -> tuple[str, ...]:
    """The events whose worker sweeps everything pending whatever the event says (not scoped to the
    positions it names): for those, one wake-up stands for any number."""
    from optionflow.workers import FAST_PATH

    return tuple(event for worker in FAST_PATH if not worker.scoped for event in worker.events)


class Handoff:
    """The way into the worker process, which every API process holds: fast-path events and manual runs,
    over one queue. `fast_path` (shared by all processes) can turn the events off, leaving the schedules.

    An event that wakes a worker sweeping everything pending (the webhook's signal.received) is a wake-up,
    not a message: while one is on its way, another would only start a run that finds nothing more. So it
    is sent only when its flag is down; the flag goes up with it (holding when, on the machine's monotonic
    clock) and down again just before that worker's next run starts (`woken`). A row committed before the
    flag was seen up is read by that run. A flag up for longer than WAKE_UP_EXPIRY is ignored, so a wake-up
    lost on its way (an API process killed before its queue was flushed) delays the fast path by that long,
    never until the next sweep. Under eight clients this spares the queue (pickling, a pipe write, the
    worker's read) for most alerts.
    """

    WAKE_UP_EXPIRY = 1.0  # seconds

    def __init__(self) -> None:
        self.queue: Any = _SPAWN.Queue()
        self.fast_path: Any = _SPAWN.RawValue("b", 1)
        self._waking: dict[str, Any] = {event: _SPAWN.RawValue("d", 0.0) for event in _coalesced_events()}

    def dispatch(self, detail_type: str, detail: dict[str, Any]) -> None:
        """An API process's event bus: hand the event to the worker process (never blocks)."""
        if not self.fast_path.value:
            return
        waking = self._waking.get(detail_type)
        if waking is not None:
            now, raised = time.monotonic(), waking.value
            if raised and now - raised < self.WAKE_UP_EXPIRY:
                return  # a wake-up is on its way: the run it starts reads this row too
            waking.value = now  # two processes may both send one: a spare run, never a missed one
        self.queue.put_nowait(("event", detail_type, detail))

    def woken(self, detail_types: tuple[str, ...]) -> None:
        """The worker process, just before a run of the worker these events wake: the next event sends a
        wake-up again (the run about to start reads every row committed before now)."""
        for detail_type in detail_types:
            waking = self._waking.get(detail_type)
            if waking is not None:
                waking.value = 0.0

    def run(self, worker: str, event: dict[str, Any]) -> None:
        """An API process's worker invoker: run `worker` now with `event` there (never blocks)."""
        self.queue.put_nowait(("run", worker, event))


class WorkerProcess:
    def __init__(self, settings: Settings, root: Path, *, schedules: bool) -> None:
        self.handoff = Handoff()
        self._queue = self.handoff.queue
        self._process = _SPAWN.Process(
            target=_serve,
            args=(settings, str(root), schedules, self.handoff),
            name="optionflow-workers",
            daemon=True,
        )
        self._process.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def dispatch(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.handoff.dispatch(detail_type, detail)

    def run(self, worker: str, event: dict[str, Any]) -> None:
        self.handoff.run(worker, event)

    def stop(self, timeout: float = 15.0) -> None:
        if self._process.is_alive():
            self._queue.put(None)
            self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()  # it ignores SIGTERM (see _serve)
            self._process.join(5)


_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def yield_to_the_api(niceness: int) -> None:
    """Lower this process's CPU priority, and its Postgres sessions' where the server lets us (the same
    user, or root): when the pipeline and the webhook compete for the cores, the webhook goes first, as in
    AWS, where the workers run on machines of their own. A busy pipeline still gets every idle cycle."""
    if niceness <= 0:
        return
    os.nice(niceness)

    def lower_backend(conn: Any) -> None:
        pid = conn.info.backend_pid
        # Only a server on this machine, and only a process that is one of its backends: a pid from a
        # remote server or a container's namespace names some other process here.
        if conn.info.host not in _LOCAL_HOSTS and not conn.info.host.startswith("/"):
            return
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                return
            os.setpriority(os.PRIO_PROCESS, pid, niceness)
        except OSError:  # another user's server, or no /proc: our process alone yields
            pass

    from optionflow.db.connection import after_connect

    after_connect(lower_backend)


def _serve(settings: Settings, root: str, schedules: bool, handoff: Handoff) -> None:
    # Ctrl-C, and a SIGTERM sent to the whole process group, reach every process; the parent decides when
    # the workers stop, after the run under way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.path.insert(0, str(Path(root) / "functions"))
    from optionflow import clock, config, observability
    from optionflow.db.connection import set_database_url

    yield_to_the_api(settings.local_worker_nice)
    from optionflow.events.bus import InProcessBus, set_bus
    from optionflow.local.runner import WorkerRunner, registry_specs

    observability.keep_metrics(False)
    config.use_settings(settings)
    clock.set_clock(None)  # from the settings: the simulated clock reads the state the API process keeps
    set_database_url(settings.database_url)
    app_clock = clock.get_clock()
    simulated = app_clock if isinstance(app_clock, clock.SimulatedClock) else None
    specs = registry_specs()
    events_of = {spec.name: spec.detail_types for spec in specs}
    runner = WorkerRunner(
        specs,
        clock=app_clock.now,
        pace=simulated.pace if simulated else None,
        swept_to=simulated.swept_to if simulated else None,
        before_run=lambda name: handoff.woken(events_of[name]),
    )
    queue = handoff.queue
    set_bus(InProcessBus(runner.dispatch))
    if schedules:
        runner.start_schedules()
        for name in runner.specs:  # one sweep at start-up picks up anything left from the last run
            runner.trigger(name)
    parent = multiprocessing.parent_process()
    while True:
        try:
            item = queue.get(timeout=1.0)
        except Empty:
            if parent is not None and not parent.is_alive():  # killed outright: do not outlive it
                break
            continue
        if item is None:
            break
        kind, target, payload = item
        if kind == "run":
            runner.trigger(target, payload)
        else:
            runner.dispatch(target, payload)
    runner.stop()
