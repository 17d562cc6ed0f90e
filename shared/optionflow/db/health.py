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


def stale_marks(cur: RealDictCursor) -> int:
    """Held positions with an active STALE_MARK alert: their price rules are waiting for a fresh mark."""
    cur.execute(
        """SELECT count(DISTINCT e.position_id) AS n FROM exit_signals e JOIN positions p ON p.id = e.position_id
           WHERE e.rule = 'STALE_MARK' AND e.status = 'ACTIVE' AND p.status <> 'CLOSED'"""
    )
    row = cur.fetchone()
    return int(row["n"]) if row else 0
