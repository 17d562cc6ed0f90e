"""Runs the worker Lambdas in-process: on their schedules (the worker registry's), and at once on fast-path
events.

A wake-up for a worker that is already running is coalesced into one more run after the current one: each
run sweeps everything pending, so a burst of 150 alerts costs a handful of runs, not 150.
"""

from __future__ import annotations

import importlib
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from optionflow.local.lambda_context import LocalContext
from optionflow.local.template import WorkerSpec, next_tick
from optionflow.logic.runs import trigger_of
from optionflow.observability import logger
from optionflow.workers import WORKERS


def registry_specs(stage: str = "local") -> list[WorkerSpec]:
    """The registry's workers as the runner runs them: the handler modules, schedules and fast-path routes
    they have in AWS (a test holds the registry and template.yaml in step)."""
    return [
        WorkerSpec(
            name=worker.name,
            logical_id=worker.function_id,
            module=worker.handler_module,
            rate_seconds=worker.rate_seconds,
            schedule_input=worker.schedule_input,
            detail_types=worker.events,
            schedule_name=worker.schedule_name(stage),
        )
        for worker in WORKERS
    ]


# How long a worker woken again while it ran waits before that run (see `_run_until_idle`).
BURST_WAIT_SECONDS = 0.005


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = False
        self.pending: dict[str, Any] | None = None


class WorkerRunner:
    """`clock` tells the application's time, `pace` how many of its seconds pass per wall second (0 while a
    simulated clock is paused), and `swept_to` up to when the schedules' ticks need no sweep (an advance ran
    them, or a set jumped over them): the schedules fire on that clock (see `_tick`). `before_run(name)` is
    called just before each run of a worker starts."""

    def __init__(
        self,
        specs: list[WorkerSpec],
        *,
        clock: Callable[[], datetime] | None = None,
        pace: Callable[[], float] | None = None,
        swept_to: Callable[[], datetime] | None = None,
        max_threads: int = 5,
        poll_seconds: float = 1.0,
        burst_wait_seconds: float = BURST_WAIT_SECONDS,
        before_run: Callable[[str], None] | None = None,
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self._routes = {dt: spec.name for spec in specs for dt in spec.detail_types}
        self._state = {spec.name: _State() for spec in specs}
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="worker")
        self._stop = threading.Event()
        self._now = clock or (lambda: datetime.now(UTC))
        self._pace = pace or (lambda: 1.0)
        self._swept_to = swept_to or (lambda: datetime.min.replace(tzinfo=UTC))
        self._poll = poll_seconds
        self._burst_wait = burst_wait_seconds
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._before_run = before_run or (lambda name: None)

    def _require(self, name: str) -> None:
        if name not in self.specs:
            raise KeyError(f"unknown worker {name!r}; known: {', '.join(sorted(self.specs))}")

    # -- triggers --------------------------------------------------------------------------------
    def schedule_event(self, name: str) -> dict[str, Any]:
        """The Input the EventBridge Scheduler would send, placeholders filled."""
        return self.specs[name].schedule_event(self._now(), str(uuid.uuid4()))

    def dispatch(self, detail_type: str, detail: dict[str, Any]) -> None:
        """The in-process event bus: route a published event to the worker whose rule matches it."""
        name = self._routes.get(detail_type)
        if name is None:
            return
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": "optionflow",
            "account": "000000000000",
            "time": self._now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "local",
            "resources": [],
            "detail": detail,
        }
        self.trigger(name, event)

    def trigger(self, name: str, event: dict[str, Any] | None = None) -> None:
        self._require(name)
        if self._stop.is_set():
            return
        state = self._state[name]
        with state.lock:
            if state.running:
                # A pending manual run must not become a scheduled one: that would be skipped while paused.
                if state.pending is None or trigger_of(state.pending) != "manual":
                    state.pending = event or self.schedule_event(name)
                return
            state.running = True
        self._pool.submit(self._run_until_idle, name, event or self.schedule_event(name))

    def _run_until_idle(self, name: str, event: dict[str, Any]) -> None:
        state = self._state[name]
        while True:
            self._before_run(name)  # e.g. the handoff's wake-up flags: this run reads what they announced
            self.invoke(name, event)
            with state.lock:
                if state.pending is None or self._stop.is_set():
                    state.running = False
                    state.pending = None
                    return
            # Woken while it ran: a burst is arriving. Waiting a moment lets the next run take more of it in
            # one batch (each run costs a dozen round trips whatever its size); a lone alert never waits.
            if self._stop.wait(self._burst_wait):
                with state.lock:
                    state.running = False
                    state.pending = None
                return
            with state.lock:
                event, state.pending = state.pending, None

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Call the worker's lambda_handler synchronously, as Lambda would."""
        handler = self._handlers.get(name)
        if handler is None:
            handler = importlib.import_module(self.specs[name].module).lambda_handler
            self._handlers[name] = handler
        try:
            return handler(event, LocalContext(self.specs[name].logical_id))
        except Exception:
            # Lambda would log the error and send the event to the DLQ; the next sweep retries the rows.
            logger.exception("worker run failed", extra={"worker": name})
            return None

    # -- schedules -------------------------------------------------------------------------------
    def start_schedules(self) -> None:
        for spec in self.specs.values():
            threading.Thread(
                target=self._tick, args=(spec,), name=f"schedule-{spec.name}", daemon=True
            ).start()

    def _tick(self, spec: WorkerSpec) -> None:
        """Fire at each tick of the schedule on the application clock (`next_tick`: whole minutes for
        rate(1 minute), where an advance sweeps too). On a simulated clock that follows its speed and waits
        while it is paused. A tick an advance has swept, or a set jumped over, does not fire again, so a
        paused clock stepped by `optionflow clock advance` sees no sweep but the advance's own."""
        due: datetime | None = None
        while True:
            wait = self._poll
            try:
                now, pace = self._now(), self._pace()
                if due is None:
                    due = next_tick(now, spec.rate_seconds)
                elif now >= due:
                    if due > self._swept_to():
                        self.trigger(spec.name)
                    due = next_tick(now, spec.rate_seconds)  # ticks a stalled machine missed fire once
                if pace > 0:
                    wait = min(self._poll, (due - now).total_seconds() / pace)
            except Exception:  # a simulated clock lives in the database: the schedule waits a failure out
                logger.exception("schedule cannot read the clock", extra={"worker": spec.name})
            if self._stop.wait(wait):
                return

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
