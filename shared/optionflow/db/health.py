"""Liveness facts for GET /health."""

from __future__ import annotations

from typing import Any

from psycopg2.extras import RealDictCursor


def worker_runs(cur: RealDictCursor) -> list[dict[str, Any]]:
    cur.execute("SELECT * FROM worker_runs ORDER BY worker")
    return list(cur.fetchall())


def database_time(cur: RealDictCursor) -> Any:
    cur.execute("SELECT now() AS now")
    row = cur.fetchone()
    return row["now"] if row else None


def active_exit_alerts(cur: RealDictCursor) -> list[dict[str, Any]]:
    cur.execute(
        """SELECT e.id, e.position_id, p.ticker, p.option_symbol, e.rule, e.priority, e.details,
                  e.recommended_action, e.urgency, e.metrics, e.exit_order_id, e.first_seen_at, e.last_seen_at
           FROM exit_signals e JOIN positions p ON p.id = e.position_id
           WHERE e.status = 'ACTIVE'
           ORDER BY CASE e.priority WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 ELSE 2 END, e.last_seen_at DESC"""
    )
    return list(cur.fetchall())


def open_position_count(cur: RealDictCursor) -> int:
    cur.execute("SELECT count(*) AS n FROM positions WHERE status IN ('OPEN', 'CLOSING')")
    row = cur.fetchone()
    return int(row["n"]) if row else 0
