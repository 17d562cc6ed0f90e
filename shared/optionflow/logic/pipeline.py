"""Run the pipeline on demand (POST /paper-trading, POST /refresh-positions), recorded like any run."""

from __future__ import annotations

from typing import Any

from optionflow.logic.decide import process_pending
from optionflow.logic.execution import execute_pending
from optionflow.logic.exit_monitor import monitor
from optionflow.logic.marks import refresh_all
from optionflow.logic.orders import create_pending
from optionflow.logic.runs import run_worker

MANUAL = {"source": "optionflow.api"}


def run_chain() -> dict[str, Any]:
    """Decide, order and fill everything pending now, then mark and check exits (which may fill exits)."""
    stages = {
        "signal_processor": run_worker("signal_processor", MANUAL, process_pending)["result"],
        "order_creator": run_worker("order_creator", MANUAL, create_pending)["result"],
        "paper_executor": run_worker("paper_executor", MANUAL, execute_pending)["result"],
        "position_refresher": run_worker("position_refresher", MANUAL, refresh_all)["result"],
        "exit_monitor": run_worker("exit_monitor", MANUAL, monitor)["result"],
    }
    if stages["exit_monitor"]["exit_orders"]:
        stages["paper_executor_exits"] = run_worker("paper_executor", MANUAL, execute_pending)["result"]
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
