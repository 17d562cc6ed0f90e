"""Liveness facts for GET /health."""

from __future__ import annotations

from datetime import datetime

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import WorkerRun, columns


def worker_runs(cur: RealDictCursor) -> list[WorkerRun]:
    cur.execute(f"SELECT {columns(WorkerRun)} FROM worker_runs ORDER BY worker")
    return [WorkerRun(**row) for row in cur.fetchall()]


def database_time(cur: RealDictCursor) -> datetime:
    cur.execute("SELECT now() AS now")
    row = cur.fetchone()
    assert row is not None  # a SELECT without FROM returns its one row
    now: datetime = row["now"]
    return now


def stale_marks(cur: RealDictCursor) -> int:
    """Held positions with an active STALE_MARK alert: their price rules are waiting for a fresh mark."""
    cur.execute(
        """SELECT count(DISTINCT e.position_id) AS n FROM exit_signals e JOIN positions p ON p.id = e.position_id
           WHERE e.rule = 'STALE_MARK' AND e.status = 'ACTIVE' AND p.status <> 'CLOSED'"""
    )
    row = cur.fetchone()
    return int(row["n"]) if row else 0
