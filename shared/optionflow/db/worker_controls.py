"""Paused workers: one row per worker an operator has paused or resumed (no row: running)."""

from __future__ import annotations

from datetime import datetime

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import WorkerControl, columns


def is_paused(cur: RealDictCursor, worker: str) -> bool:
    cur.execute("SELECT paused FROM worker_controls WHERE worker = %s", (worker,))
    row = cur.fetchone()
    return bool(row and row["paused"])


def all_controls(cur: RealDictCursor) -> dict[str, WorkerControl]:
    """Every recorded control by worker: paused, changed_at, changed_by, reason."""
    cur.execute(f"SELECT {columns(WorkerControl)} FROM worker_controls")
    return {row["worker"]: WorkerControl(**row) for row in cur.fetchall()}


def set_paused(
    cur: RealDictCursor, worker: str, paused: bool, changed_at: datetime, changed_by: str, reason: str | None
) -> tuple[bool, WorkerControl]:
    """Pause or resume `worker`; returns (changed, the control now in force).

    One upsert that writes only when the state changes, so two operators racing get one change and one
    "already" even for a worker with no row yet (a SELECT ... FOR UPDATE has nothing to lock then: both
    would insert, and the second would overwrite who paused it and why). Asking for the state a worker is
    already in leaves its row untouched; resuming a worker never paused writes no row.
    """
    cur.execute(
        """INSERT INTO worker_controls (worker, paused, changed_at, changed_by, reason)
           SELECT %(worker)s, %(paused)s, %(at)s, %(by)s, %(reason)s
           WHERE %(paused)s OR EXISTS (SELECT 1 FROM worker_controls WHERE worker = %(worker)s)
           ON CONFLICT (worker) DO UPDATE SET paused = EXCLUDED.paused, changed_at = EXCLUDED.changed_at,
               changed_by = EXCLUDED.changed_by, reason = EXCLUDED.reason
           WHERE worker_controls.paused IS DISTINCT FROM EXCLUDED.paused
           RETURNING worker, paused, changed_at, changed_by, reason""",
        {"worker": worker, "paused": paused, "at": changed_at, "by": changed_by, "reason": reason},
    )
    row = cur.fetchone()
    if row is not None:
        return True, WorkerControl(**row)
    cur.execute(f"SELECT {columns(WorkerControl)} FROM worker_controls WHERE worker = %s", (worker,))
    current = cur.fetchone()
    return False, WorkerControl(**current) if current else WorkerControl.never_paused(worker)
