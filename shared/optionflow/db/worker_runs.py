"""The last run of each worker (GET /health shows them)."""

from __future__ import annotations

from datetime import datetime

from psycopg2.extras import RealDictCursor


def record(
    cur: RealDictCursor,
    worker: str,
    trigger: str,
    started_at: datetime,
    finished_at: datetime,
    processed: int,
    error: str | None,
) -> None:
    """One statement per run, written when it ends: bookkeeping must not double the pipeline's commits."""
    cur.execute(
        """INSERT INTO worker_runs (worker, trigger, started_at, finished_at, processed, succeeded, error, runs_total)
           VALUES (%s, %s, %s, %s, %s, %s, %s, 1)
           ON CONFLICT (worker) DO UPDATE SET trigger = EXCLUDED.trigger, started_at = EXCLUDED.started_at,
               finished_at = EXCLUDED.finished_at, processed = EXCLUDED.processed,
               succeeded = EXCLUDED.succeeded, error = EXCLUDED.error, runs_total = worker_runs.runs_total + 1""",
        (worker, trigger, started_at, finished_at, processed, error is None, error),
    )
