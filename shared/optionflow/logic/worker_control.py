"""Pausing, resuming and triggering the five pipeline workers (GET /workers, POST /workers/{name}/...).

A pause is a row in worker_controls that `run_worker` reads before every scheduled or fast-path run, so it
works the same on the local stack and in AWS, whatever wakes the worker. In AWS, `optionflow workers
pause --stack` also disables the worker's schedule and fast-path rule (see `optionflow.cli.stack_workers`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from optionflow.db import health, worker_controls
from optionflow.db.rows import WorkerControl, WorkerRun
from optionflow.logic.runs import MANUAL_EXECUTION_PREFIX
from optionflow.observability import logger
from optionflow.workers import BY_NAME
from optionflow.workers import NAMES as WORKERS  # in pipeline order, as `optionflow workers list` shows them
from optionflow.workers import UnknownWorker as UnknownWorker
from optionflow.workers import canonical as _worker_called

if TYPE_CHECKING:
    from optionflow.composition import Dependencies


def canonical(name: str) -> str:
    """`exit_monitor` for `exit_monitor`, `exit-monitor` or `Exit-Monitor`; UnknownWorker otherwise."""
    return _worker_called(name).name


def schedule_name(worker: str, stage: str) -> str:
    """The worker's EventBridge schedule, and its fast-path rule: `optionflow-<stage>-<worker-with-dashes>`."""
    return BY_NAME[worker].schedule_name(stage)


def _control_view(control: WorkerControl) -> dict[str, Any]:
    return {
        "paused": bool(control.paused),
        "changed_at": control.changed_at,
        "changed_by": control.changed_by,
        "reason": control.reason,
    }


def _last_run(run: WorkerRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "trigger": run.trigger,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "processed": run.processed,
        "succeeded": run.succeeded,
        "error": run.error,
    }


def status(deps: Dependencies) -> list[dict[str, Any]]:
    """Every worker in pipeline order: paused (and by whom, when, why), its last run and schedule name."""

    def read(cur: Any) -> tuple[dict[str, WorkerControl], dict[str, WorkerRun]]:
        runs = {run.worker: run for run in health.worker_runs(cur)}
        return worker_controls.all_controls(cur), runs

    controls, runs = deps.db.run_in_transaction(read)
    stage = deps.settings.stage
    return [
        {
            "worker": worker,
            **_control_view(controls.get(worker) or WorkerControl.never_paused(worker)),
            "schedule": schedule_name(worker, stage),
            "last_run": _last_run(runs.get(worker)),
        }
        for worker in WORKERS
    ]


def set_paused(
    deps: Dependencies, name: str, paused: bool, *, by: str, reason: str | None = None
) -> dict[str, Any]:
    """Pause or resume a worker. Idempotent: `changed` is False when it already was in that state, and then
    the recorded who/when/why of the earlier change is kept."""
    worker = canonical(name)
    now = deps.clock.now()
    changed, control = deps.db.run_in_transaction(
        lambda cur: worker_controls.set_paused(cur, worker, paused, now, by, reason if paused else None)
    )
    if changed:
        logger.info(
            "worker paused" if paused else "worker resumed",
            extra={"worker": worker, "changed_by": by, "reason": reason},
        )
    return {"worker": worker, "changed": changed, **_control_view(control)}


def manual_event(deps: Dependencies, worker: str, requested_by: str) -> dict[str, Any]:
    """What a manual trigger sends the worker (events/workers/manual_trigger.json): run_worker sees
    'manual' and runs it even while paused."""
    return {
        "source": "optionflow.manual",
        "worker": worker,
        "requested_by": requested_by,
        "requested_at": deps.clock.now().isoformat(),
        "execution_id": f"{MANUAL_EXECUTION_PREFIX}{uuid.uuid4()}",
    }


def trigger(deps: Dependencies, name: str, *, by: str) -> dict[str, Any]:
    """Wake the worker now, asynchronously, wherever it runs; the run itself is not awaited."""
    worker = canonical(name)
    event = manual_event(deps, worker, by)
    deps.invoker.invoke(worker, event)
    paused = deps.db.run_in_transaction(lambda cur: worker_controls.is_paused(cur, worker))
    logger.info("worker triggered", extra={"worker": worker, "requested_by": by})
    return {"worker": worker, "triggered": True, "paused": paused, "event": event}
