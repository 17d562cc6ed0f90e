"""How every worker run starts and ends: which trigger fired it, and a row in worker_runs for /health."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from optionflow import observability
from optionflow.clock import steady
from optionflow.db import notifications as notifications_db
from optionflow.db import worker_controls, worker_runs
from optionflow.events import names as events
from optionflow.logic.results import StageResult
from optionflow.observability import logger, tracer

if TYPE_CHECKING:
    from optionflow.composition import Dependencies

# `optionflow workers trigger --stack` sends a schedule's own Input with the execution id filled in with
# this prefix: the worker gets exactly what its schedule sends, and still knows an operator asked.
MANUAL_EXECUTION_PREFIX = "manual-"


def fast_path_events(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The EventBridge events a run was woken by: the event itself (a rule invoking the function), each
    message of an SQS batch (a rule's queue: each body is an EventBridge event), or none (a schedule or
    a manual run). A body that is not an EventBridge event counts as a wake-up that names nothing."""
    if "detail-type" in event:
        return [event]
    records = event.get("Records")
    if not isinstance(records, list):
        return []
    woken = []
    for record in records:
        if not isinstance(record, dict) or record.get("eventSource") != "aws:sqs":
            continue
        try:
            body = json.loads(str(record.get("body", "")))
        except ValueError:
            body = None
        woken.append(body if isinstance(body, dict) and "detail-type" in body else {"detail-type": "unknown"})
    return woken


def trigger_of(event: dict[str, Any]) -> str:
    """'schedule', 'event:<detail-type>' (fast path; a batch of several kinds lists them) or 'manual'."""
    woken = fast_path_events(event)
    if woken:
        return "event:" + ",".join(sorted({str(e["detail-type"]) for e in woken}))
    if event.get("source") == "optionflow.schedule":
        if str(event.get("execution_id", "")).startswith(MANUAL_EXECUTION_PREFIX):
            return "manual"
        return "schedule"
    return "manual"


def position_scope(event: dict[str, Any]) -> list[str] | None:
    """The positions the fast-path events name, together; None (the whole book) for schedules, manual
    runs, and a batch in which any event names no positions."""
    woken = fast_path_events(event)
    if not woken:
        return None
    scope: dict[str, None] = {}  # in order, once each
    for one in woken:
        detail = one.get("detail")
        ids = detail.get("position_ids") if isinstance(detail, dict) else None
        if not isinstance(ids, list):
            return None
        scope.update(dict.fromkeys(str(i) for i in ids))
    return list(scope)


def _processed(result: StageResult | Any) -> int:
    """What the run worked on, as its stage's result says (work that is not a stage processed nothing)."""
    return result.processed if isinstance(result, StageResult) else 0


def _shown(result: StageResult | Any) -> Any:
    return result.as_json() if isinstance(result, StageResult) else result


def run_worker(
    deps: Dependencies, name: str, event: dict[str, Any], work: Callable[[datetime], StageResult | Any]
) -> dict[str, Any]:
    """Run one worker pass at the application clock's now, and record it.

    A paused worker's scheduled and fast-path runs do nothing and are not recorded (its last real run stays
    in worker_runs); a manual run goes ahead, since running it by hand is what an operator triggers for.
    """
    trigger = trigger_of(event)
    # per thread: the local stack runs several workers at once in one process (Lambda runs one)
    logger.thread_safe_append_keys(worker=name, trigger=trigger)
    tracer.annotate(worker=name, trigger=trigger)
    if trigger != "manual" and deps.db.run_statement(lambda cur: worker_controls.is_paused(cur, name)):
        logger.debug("worker paused; run skipped")
        return {"worker": name, "trigger": trigger, "paused": True, "result": None}
    # on the simulated clock, no change to the clock lands while the run works at `now`
    with steady(deps.clock):
        now = deps.clock.now()
        try:
            result = work(now)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            observability.count(observability.WORKER_ERRORS)
            deps.db.run_in_transaction(lambda cur: _record_failure(cur, name, trigger, now, deps, error))
            deps.publish(events.NOTICES_QUEUED, {})
            raise
        processed = _processed(result)
        # one statement: autocommit spares the BEGIN and COMMIT round trips of a transaction
        deps.db.run_statement(
            lambda cur: worker_runs.record(cur, name, trigger, now, deps.clock.now(), processed, None)
        )
    summary: dict[str, Any] = json.loads(
        json.dumps({"worker": name, "trigger": trigger, "result": _shown(result)}, default=_num)
    )
    # idle sweeps every minute are not news; runs that moved rows are
    (logger.info if processed else logger.debug)("worker run finished", extra=summary)
    return summary


def _record_failure(cur: Any, name: str, trigger: str, now: datetime, deps: Dependencies, error: str) -> None:
    # the notice first: it tells a worker that starts failing from one that already was
    notifications_db.worker_failed(cur, name, trigger, error, now)
    worker_runs.record(cur, name, trigger, now, deps.clock.now(), 0, error)


def _num(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else str(value)


def drain(step: Callable[[int], int], batch: int, budget_seconds: float = 30.0) -> int:
    """Call `step(batch)` until it moves fewer rows than a full batch, or the time budget is spent.

    Each step is its own short transaction (locks held briefly, progress committed), and one run still
    clears a backlog instead of leaving it for the next minute. The budget keeps a Lambda inside its timeout.
    """
    total = 0
    deadline = time.monotonic() + budget_seconds
    while True:
        moved = step(batch)
        total += moved
        if moved < batch or time.monotonic() > deadline:
            return total
