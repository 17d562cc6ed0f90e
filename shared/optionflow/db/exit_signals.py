"""Exit alerts: one active row per (position, rule), refreshed on every exit-monitor run."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import ActiveExitAlert


def upsert_active(cur: RealDictCursor, position_id: UUID, alert: Any, at: datetime) -> UUID:
    cur.execute(
        """INSERT INTO exit_signals (position_id, rule, priority, details, recommended_action, urgency, metrics,
                                     first_seen_at, last_seen_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (position_id, rule) WHERE status = 'ACTIVE' DO UPDATE
           SET priority = EXCLUDED.priority, details = EXCLUDED.details, metrics = EXCLUDED.metrics,
               recommended_action = EXCLUDED.recommended_action, urgency = EXCLUDED.urgency,
               last_seen_at = EXCLUDED.last_seen_at
           RETURNING id""",
        (
            str(position_id),
            alert.rule,
            alert.priority,
            alert.details,
            alert.recommended_action,
            alert.urgency,
            json.dumps(alert.metrics, default=str),
            at,
            at,
        ),
    )
    row = cur.fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def resolve_not_firing(
    cur: RealDictCursor, position_ids: list[Any], firing: list[tuple[Any, str]], at: datetime
) -> None:
    """Resolve the active alerts of these positions whose rule no longer fires (one statement per page),
    so the list shows what is true now."""
    cur.execute(
        """UPDATE exit_signals SET status = 'RESOLVED', resolved_at = %s
           WHERE status = 'ACTIVE' AND position_id = ANY(%s::uuid[])
             AND position_id::text || '|' || rule <> ALL(%s::text[])""",
        (at, [str(p) for p in position_ids], [f"{p}|{rule}" for p, rule in firing]),
    )


def attach_order(cur: RealDictCursor, exit_signal_id: UUID, order_id: UUID) -> None:
    cur.execute(
        "UPDATE exit_signals SET exit_order_id = %s WHERE id = %s", (str(order_id), str(exit_signal_id))
    )


def active_exit_alerts(cur: RealDictCursor) -> list[ActiveExitAlert]:
    cur.execute(
        """SELECT e.id, e.position_id, p.ticker, p.option_symbol, e.rule, e.priority, e.details,
                  e.recommended_action, e.urgency, e.metrics, e.exit_order_id, e.first_seen_at, e.last_seen_at
           FROM exit_signals e JOIN positions p ON p.id = e.position_id
           WHERE e.status = 'ACTIVE'
           ORDER BY CASE e.priority WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 ELSE 2 END, e.last_seen_at DESC"""
    )
    return [ActiveExitAlert(**row) for row in cur.fetchall()]


def open_position_count(cur: RealDictCursor) -> int:
    cur.execute("SELECT count(*) AS n FROM positions WHERE status IN ('OPEN', 'CLOSING')")
    row = cur.fetchone()
    return int(row["n"]) if row else 0
