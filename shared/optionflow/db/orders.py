"""Orders: entry orders from accepted signals, exit orders from exit rules and SELL/CLOSE alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg2.extras import RealDictCursor, execute_values


def insert(cur: RealDictCursor, order: dict[str, Any]) -> UUID | None:
    """Insert unless the unique rules forbid it (a second entry for a signal, a second live exit for a
    position); returns the new id or None."""
    columns = list(order)
    cur.execute(
        f"""INSERT INTO orders ({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})
            ON CONFLICT DO NOTHING RETURNING id""",
        [order[c] for c in columns],
    )
    row = cur.fetchone()
    return row["id"] if row else None


def insert_many(cur: RealDictCursor, orders: list[dict[str, Any]]) -> int:
    """Insert orders of one shape in one statement; those the unique rules forbid are skipped.
    Returns how many were inserted."""
    if not orders:
        return 0
    columns = list(orders[0])
    rows = execute_values(
        cur,
        f"""INSERT INTO orders ({", ".join(columns)}) VALUES %s ON CONFLICT DO NOTHING RETURNING id""",
        [[order[c] for c in columns] for order in orders],
        page_size=1000,
        fetch=True,
    )
    return len(rows)


def claim_working(cur: RealDictCursor, mode: str, limit: int) -> list[dict[str, Any]]:
    """Working orders, each with its signal's arrival time (`signal_received_at`, for the alert-to-fill
    latency) and, for exits, the signal that opened the position (`entry_signal_id`, the correlation id of
    its log lines); only the orders are locked, and only the columns the paper executor reads are read."""
    cur.execute(
        """SELECT o.id, o.purpose, o.signal_id, o.position_id, o.ticker, o.option_symbol, o.option_type,
                  o.strike, o.expiry, o.side, o.quantity, o.mode, o.reason, o.created_at,
                  s.received_at AS signal_received_at, p.signal_id AS entry_signal_id
           FROM orders o LEFT JOIN signals s ON s.id = o.signal_id
                         LEFT JOIN positions p ON p.id = o.position_id
           WHERE o.status = 'PENDING' AND o.mode = %s
           ORDER BY o.created_at, o.id LIMIT %s FOR UPDATE OF o SKIP LOCKED""",
        (mode, limit),
    )
    return list(cur.fetchall())


def mark_filled_many(cur: RealDictCursor, fills: list[tuple[Any, Any, int]], at: datetime) -> None:
    """(order id, price per share, quantity) for each order filled; every one must still be working."""
    rows = execute_values(
        cur,
        """UPDATE orders AS o SET status = 'FILLED', filled_quantity = v.qty, avg_fill_price = v.price,
                  filled_at = v.at, submitted_at = COALESCE(o.submitted_at, v.at), updated_at = v.at
           FROM (VALUES %s) AS v (id, price, qty, at)
           WHERE o.id = v.id AND o.status IN ('PENDING', 'SUBMITTED')
           RETURNING o.id""",
        [(str(order_id), price, quantity, at) for order_id, price, quantity in fills],
        template="(%s::uuid, %s::numeric, %s::int, %s::timestamptz)",
        page_size=1000,
        fetch=True,
    )
    if len(rows) != len(fills):
        raise RuntimeError(f"{len(fills) - len(rows)} order(s) were no longer working when they filled")


def mark_ended(cur: RealDictCursor, order_id: UUID, status: str, reason: str, at: datetime) -> None:
    cur.execute(
        "UPDATE orders SET status = %s, reason = %s, updated_at = %s WHERE id = %s",
        (status, reason, at, str(order_id)),
    )
