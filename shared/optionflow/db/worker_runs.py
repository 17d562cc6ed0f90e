"""The last run of each worker (GET /health shows them)."""

from __future__ import annotations

from datetime import datetime

from psycopg2.extras import RealDictCursor


def started(cur: RealDictCursor, worker: str, trigger: str, at: datetime) -> None:
    cur.execute(
        """INSERT INTO worker_runs (worker, trigger, started_at, finished_at, processed, succeeded, error, runs_total)
           VALUES (%s, %s, %s, NULL, 0, NULL, NULL, 1)
           ON CONFLICT (worker) DO UPDATE SET trigger = EXCLUDED.trigger, started_at = EXCLUDED.started_at,
               finished_at = NULL, processed = 0, succeeded = NULL, error = NULL,
               runs_total = worker_runs.runs_total + 1""",
        (worker, trigger, at),
    )


def finished(cur: RealDictCursor, worker: str, processed: int, error: str | None, at: datetime) -> None:
    cur.execute(
        """UPDATE worker_runs SET finished_at = %s, processed = %s, succeeded = %s, error = %s
           WHERE worker = %s""",
        (at, processed, error is None, error, worker),
    )
