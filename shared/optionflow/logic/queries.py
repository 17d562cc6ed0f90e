"""Read models for the query API."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from optionflow.db import exit_signals as exit_db
from optionflow.db import health as health_db
from optionflow.db import listing
from optionflow.db import signals as signals_db
from optionflow.db.connection import DatabaseUnavailable, run_in_transaction
from optionflow.models.entities import Page, SignalDetail

M = TypeVar("M", bound=BaseModel)


def list_page(name: str, model: type[M], filters: listing.Filters) -> Page[M]:
    rows, next_cursor = run_in_transaction(lambda cur: listing.page(cur, name, filters))
    items = [model.model_validate(row) for row in rows]
    return Page[model](items=items, count=len(items), next_cursor=next_cursor)  # type: ignore[valid-type]


def signal_detail(signal_id: UUID) -> SignalDetail | None:
    def read(cur: Any) -> SignalDetail | None:
        row = signals_db.get(cur, signal_id)
        if row is None:
            return None
        return SignalDetail.model_validate({**row, "decisions": signals_db.decisions(cur, signal_id)})

    return run_in_transaction(read)


def health() -> tuple[bool, dict[str, Any]]:
    """(healthy, report): the database answers, and when each worker last ran."""
    try:
        db_now, runs = run_in_transaction(
            lambda cur: (health_db.database_time(cur), health_db.worker_runs(cur))
        )
    except DatabaseUnavailable as exc:
        return False, {
            "status": "unavailable",
            "database": {"reachable": False, "error": str(exc)},
            "workers": {},
        }
    workers = {
        run["worker"]: {
            "last_trigger": run["trigger"],
            "last_started_at": run["started_at"].isoformat(),
            "last_finished_at": run["finished_at"].isoformat() if run["finished_at"] else None,
            "last_processed": run["processed"],
            "last_succeeded": run["succeeded"],
            "last_error": run["error"],
            "runs_total": run["runs_total"],
        }
        for run in runs
    }
    return True, {
        "status": "ok",
        "database": {"reachable": True, "time": db_now.isoformat()},
        "workers": workers,
    }


def exit_signals_report(now: Any) -> dict[str, Any]:
    """The seed's /exit-signals shape: active alerts plus a summary."""
    import time

    started = time.perf_counter()
    alerts, open_count = run_in_transaction(
        lambda cur: (exit_db.active_exit_alerts(cur), exit_db.open_position_count(cur))
    )
    by_priority = {p: sum(1 for a in alerts if a["priority"] == p) for p in ("CRITICAL", "HIGH", "MEDIUM")}
    return {
        "alerts": [
            {
                "id": str(a["id"]),
                "position_id": str(a["position_id"]),
                "symbol": a["ticker"],
                "option_symbol": a["option_symbol"],
                "priority": a["priority"],
                "reason": a["rule"],
                "details": a["details"],
                "recommended_action": a["recommended_action"],
                "urgency": a["urgency"],
                "metrics": a["metrics"],
                "exit_order_id": str(a["exit_order_id"]) if a["exit_order_id"] else None,
                "first_seen_at": a["first_seen_at"].isoformat(),
                "last_seen_at": a["last_seen_at"].isoformat(),
            }
            for a in alerts
        ],
        "summary": {
            "total_positions": open_count,
            "positions_with_alerts": len({a["position_id"] for a in alerts}),
            "critical_alerts": by_priority["CRITICAL"],
            "high_alerts": by_priority["HIGH"],
            "medium_alerts": by_priority["MEDIUM"],
        },
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "timestamp": now.isoformat(),
    }
