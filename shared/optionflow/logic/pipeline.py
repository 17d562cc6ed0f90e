"""The pipeline's five stages as the workers run them, and on demand (POST /paper-trading, POST
/refresh-positions), recorded like any run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from optionflow.db import worker_controls
from optionflow.db.connection import run_statement
from optionflow.events import bus
from optionflow.logic.decide import process_pending
from optionflow.logic.execution import execute_pending
from optionflow.logic.exit_monitor import monitor
from optionflow.logic.marks import refresh_all
from optionflow.logic.orders import create_pending
from optionflow.logic.runs import position_scope, run_worker

MANUAL = {"source": "optionflow.api"}

# The schedules' sweeps in pipeline order: the order they run in when they fall at the same instant.
SWEEP = ("signal_processor", "order_creator", "paper_executor", "position_refresher", "exit_monitor")

# What each fast-path event wakes (the EventBridgeRule of each worker in template.yaml; a test holds the two
# in step).
FAST_PATH = {
    bus.SIGNAL_RECEIVED: "signal_processor",
    bus.SIGNAL_ACCEPTED: "order_creator",
    bus.POSITION_OPENED: "position_refresher",
    bus.ORDER_CREATED: "paper_executor",
    bus.POSITIONS_REFRESHED: "exit_monitor",
}


def work_for(worker: str, event: dict[str, Any]) -> Callable[[datetime], Any]:
    """What `worker`'s Lambda handler (functions/workers/) does with `event`: its stage, limited to the
    positions a fast-path event names."""
    scope = position_scope(event)
    stages: dict[str, Callable[[datetime], Any]] = {
        "signal_processor": process_pending,
        "order_creator": create_pending,
        "paper_executor": execute_pending,
        "position_refresher": lambda now: refresh_all(now, scope),
        "exit_monitor": lambda now: monitor(now, scope),
    }
    return stages[worker]


def _stage(name: str, work: Callable[[datetime], Any]) -> Any:
    """A stage of the chain, skipped while its worker is paused: running everything now is not an
    operator's trigger of that worker (`POST /workers/{name}/trigger` is), so a pause holds here too."""
    if run_statement(lambda cur: worker_controls.is_paused(cur, name)):
        return {"paused": True}
    return run_worker(name, MANUAL, work)["result"]


def run_chain() -> dict[str, Any]:
    """Decide, order and fill everything pending now, then mark and check exits (which may fill exits)."""
    stages = {
        "signal_processor": _stage("signal_processor", process_pending),
        "order_creator": _stage("order_creator", create_pending),
        "paper_executor": _stage("paper_executor", execute_pending),
        "position_refresher": _stage("position_refresher", refresh_all),
        "exit_monitor": _stage("exit_monitor", monitor),
    }
    if stages["exit_monitor"].get("exit_orders"):
        stages["paper_executor_exits"] = _stage("paper_executor", execute_pending)
    fills = [stages["paper_executor"], stages.get("paper_executor_exits", {})]
    executed = sum(s.get("opened", 0) + s.get("closed", 0) for s in fills)
    return {
        "success": True,
        "executed": executed,
        "errors": 0,
        "message": f"Executed {executed} paper orders",
        "stages": stages,
    }


def refresh_now() -> dict[str, Any]:
    result = run_worker("position_refresher", MANUAL, refresh_all)["result"]
    return {
        "success": True,
        "refreshed": result["refreshed"],
        "errors": result["stale"],
        "total_unrealized_pnl": result["total_unrealized_pnl"],
        "message": f"Refreshed {result['refreshed']} positions",
        **result,
    }
