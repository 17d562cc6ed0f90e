"""Run the pipeline on demand (POST /paper-trading, POST /refresh-positions), recorded like any run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optionflow.db import worker_controls
from optionflow.logic.runs import run_worker
from optionflow.workers import EXIT_MONITOR, PAPER_EXECUTOR, POSITION_REFRESHER, WORKERS, Worker

if TYPE_CHECKING:
    from optionflow.composition import Dependencies

MANUAL = {"source": "optionflow.api"}


def _stage(deps: Dependencies, worker: Worker) -> Any:
    """A stage of the chain, skipped while its worker is paused: running everything now is not an
    operator's trigger of that worker (`POST /workers/{name}/trigger` is), so a pause holds here too."""
    if deps.db.run_statement(lambda cur: worker_controls.is_paused(cur, worker.name)):
        return {"paused": True}
    stage = worker.stage()
    return run_worker(deps, worker.name, MANUAL, lambda now: stage(deps, now, None))["result"]


def run_chain(deps: Dependencies) -> dict[str, Any]:
    """Decide, order and fill everything pending now, then mark and check exits (which may fill exits)."""
    stages = {worker.name: _stage(deps, worker) for worker in WORKERS}
    exit_fills = f"{PAPER_EXECUTOR.name}_exits"
    if stages[EXIT_MONITOR.name].get("exit_orders"):
        stages[exit_fills] = _stage(deps, PAPER_EXECUTOR)
    fills = [stages[PAPER_EXECUTOR.name], stages.get(exit_fills, {})]
    executed = sum(s.get("opened", 0) + s.get("closed", 0) for s in fills)
    return {
        "success": True,
        "executed": executed,
        "errors": 0,
        "message": f"Executed {executed} paper orders",
        "stages": stages,
    }


def refresh_now(deps: Dependencies) -> dict[str, Any]:
    refresh = POSITION_REFRESHER.stage()
    result = run_worker(deps, POSITION_REFRESHER.name, MANUAL, lambda now: refresh(deps, now, None))["result"]
    return {
        "success": True,
        "refreshed": result["refreshed"],
        "errors": result["stale"],
        "total_unrealized_pnl": result["total_unrealized_pnl"],
        "message": f"Refreshed {result['refreshed']} positions",
        **result,
    }
