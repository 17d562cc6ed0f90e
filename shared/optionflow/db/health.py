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
