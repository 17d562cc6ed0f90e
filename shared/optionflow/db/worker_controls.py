"""Paused workers: one row per worker an operator has paused or resumed (no row: running)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg2.extras import RealDictCursor


def is_paused(cur: RealDictCursor, worker: str) -> bool:
    cur.execute("SELECT paused FROM worker_controls WHERE worker = %s", (worker,))
    row = cur.fetchone()
    return bool(row and row["paused"])


def all_controls(cur: RealDictCursor) -> dict[str, dict[str, Any]]:
    """Every recorded control by worker: paused, changed_at, changed_by, reason."""
    cur.execute("SELECT worker, paused, changed_at, changed_by, reason FROM worker_controls")
    return {row["worker"]: dict(row) for row in cur.fetchall()}


def set_paused(
    cur: RealDictCursor, worker: str, paused: bool, changed_at: datetime, changed_by: str, reason: str | None
) -> tuple[bool, dict[str, Any]]:
    """Pause or resume `worker`; returns (changed, the control now in force).

    The row is locked first so two operators racing get one change and one "already"; asking for the
    state a worker is already in leaves its row (who paused it, and why) untouched.
    """
    cur.execute(
        "SELECT worker, paused, changed_at, changed_by, reason FROM worker_controls WHERE worker = %s FOR UPDATE",
        (worker,),
    )
    current = cur.fetchone()
    if bool(current and current["paused"]) == paused:
        return False, dict(current) if current else never_paused(worker)
    cur.execute(
        """INSERT INTO worker_controls (worker, paused, changed_at, changed_by, reason)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (worker) DO UPDATE SET paused = EXCLUDED.paused, changed_at = EXCLUDED.changed_at,
               changed_by = EXCLUDED.changed_by, reason = EXCLUDED.reason
           RETURNING worker, paused, changed_at, changed_by, reason""",
        (worker, paused, changed_at, changed_by, reason),
    )
    row = cur.fetchone()
    assert row is not None  # an upsert with RETURNING always returns its row
    return True, dict(row)


def never_paused(worker: str) -> dict[str, Any]:
    return {"worker": worker, "paused": False, "changed_at": None, "changed_by": None, "reason": None}
