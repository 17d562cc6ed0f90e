"""Orders: entry orders from accepted signals, exit orders from exit rules and SELL/CLOSE alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import ORDER_COLUMNS, CancelledEntry, CancelledExit, WorkingOrder
from optionflow.states import OrderStatus


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


# the SQL type of each orders column an insert may name (the rest are text), for the column arrays
_ORDER_TYPES = {
    "signal_id": "uuid",
    "position_id": "uuid",
    "strike": "numeric",
    "limit_price": "numeric",
    "expiry": "date",
    "quantity": "int",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}


def insert_many(cur: RealDictCursor, orders: list[dict[str, Any]]) -> int:
    """Insert orders of one shape in one statement; those the unique rules forbid are skipped.
    Returns how many were inserted."""
    if not orders:
        return 0
    columns = list(orders[0])
    cur.execute(
        # one array per column (psycopg2 adapts a list in one call, where a VALUES row was one call a row)
        f"""INSERT INTO orders ({", ".join(columns)})
            SELECT * FROM unnest({", ".join(f"%s::{_ORDER_TYPES.get(c, 'text')}[]" for c in columns)})
            ON CONFLICT DO NOTHING""",
        [[_adapted(order[c]) for order in orders] for c in columns],
    )
    return int(cur.rowcount)


def _adapted(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value


def claim_working(
    cur: RealDictCursor, mode: str, limit: int, skip: list[Any] | None = None
) -> list[WorkingOrder]:
    """Working orders (except those in `skip`: already seen by this run), each with its signal's arrival time (`signal_received_at`, for the alert-to-fill
    latency) and, for exits, the signal that opened the position (`entry_signal_id`, the correlation id of
    its log lines); only the orders are locked, and only the columns the paper executor reads are read."""
    # The page is locked first and joined after: joined before the LIMIT, every working order of a burst
    # was joined to its signal to keep two hundred (the planner cannot tell a burst from a quiet book).
    # The joined columns come from the locked rows themselves, as FOR UPDATE returned them.
    # Plain tuples: the dataclass is the row.
    with cur.connection.cursor() as plain:
        plain.execute(
            """WITH page AS (
                   SELECT id, purpose, signal_id, position_id, ticker, option_symbol, option_type, strike, expiry,
                          side, quantity, mode, reason, created_at
                   FROM orders
                   WHERE status = 'PENDING' AND mode = %s AND NOT (id = ANY(%s::uuid[]))
                   ORDER BY created_at, id LIMIT %s FOR UPDATE SKIP LOCKED)
               SELECT o.id, o.purpose, o.signal_id, o.position_id, o.ticker, o.option_symbol, o.option_type,
                      o.strike, o.expiry, o.side, o.quantity, o.mode, o.reason, o.created_at,
                      s.received_at AS signal_received_at, p.signal_id AS entry_signal_id
               FROM page o LEFT JOIN signals s ON s.id = o.signal_id
                           LEFT JOIN positions p ON p.id = o.position_id
               ORDER BY o.created_at, o.id""",
            (mode, [str(i) for i in skip or []], limit),
        )
        rows = plain.fetchall()
    return [WorkingOrder(*row) for row in rows]


def mark_filled_many(
    cur: RealDictCursor,
    fills: list[tuple[Any, Any, int]],
    at: datetime,
    positions: dict[Any, Any] | None = None,
) -> None:
    """(order id, price per share, quantity) for each order filled; every one must still be working.
    `positions` ({order id: position id}) points entry orders at the positions their fills opened, in the
    same statement."""
    if not fills:
        return
    positions = positions or {}
    ids = [str(order_id) for order_id, _, _ in fills]
    cur.execute(
        # by primary key, and "working" spelled as the final states' complement: see signals.set_statuses
        """UPDATE orders AS o SET status = 'FILLED', filled_quantity = v.qty, avg_fill_price = v.price,
                  filled_at = %(at)s, submitted_at = COALESCE(o.submitted_at, %(at)s), updated_at = %(at)s,
                  position_id = COALESCE(v.pid, o.position_id)
           FROM unnest(%(ids)s::uuid[], %(prices)s::numeric[], %(qtys)s::int[], %(pids)s::uuid[])
                AS v (id, price, qty, pid)
           WHERE o.id = v.id AND o.id = ANY(%(ids)s::uuid[])
             AND o.status <> ALL('{FILLED,CANCELLED,REJECTED,EXPIRED}'::text[])""",
        {
            "at": at,
            "ids": ids,
            "prices": [price for _, price, _ in fills],
            "qtys": [quantity for _, _, quantity in fills],
            "pids": [_adapted(positions.get(order_id)) for order_id, _, _ in fills],
        },
    )
    if cur.rowcount != len(fills):
        raise RuntimeError(f"{len(fills) - cur.rowcount} order(s) were no longer working when they filled")


def mark_ended(cur: RealDictCursor, order_id: UUID, status: str, reason: str, at: datetime) -> None:
    cur.execute(
        "UPDATE orders SET status = %s, reason = %s, updated_at = %s WHERE id = %s",
        (status, reason, at, str(order_id)),
    )


_WORKING = "('PENDING', 'SUBMITTING', 'SUBMITTED', 'PARTIALLY_FILLED')"


def cancel_working_entries(
    cur: RealDictCursor, signal_ids: list[Any], reason: str, at: datetime
) -> list[CancelledEntry]:
    """Cancel the still-working entry orders of these signals; returns those cancelled, with what of each
    had filled. Waits for (never skips) an order the executor holds: once it commits, a filled order is
    no longer working and stays filled."""
    if not signal_ids:
        return []
    cur.execute(
        """SELECT id FROM orders WHERE purpose = 'ENTRY' AND signal_id = ANY(%s::uuid[])
           ORDER BY id FOR UPDATE""",
        ([str(s) for s in signal_ids],),
    )
    cur.execute(
        f"""UPDATE orders SET status = 'CANCELLED', reason = %s, updated_at = %s
           WHERE purpose = 'ENTRY' AND signal_id = ANY(%s::uuid[]) AND status IN {_WORKING}
           RETURNING id AS order_id, signal_id, filled_quantity AS filled, quantity""",
        (reason, at, [str(s) for s in signal_ids]),
    )
    return [CancelledEntry(**row) for row in cur.fetchall()]


def cancel_entries_at_broker(
    cur: RealDictCursor, mode: str, reason: str, at: datetime
) -> list[CancelledEntry]:
    """Cancel every entry order of `mode` sent to a broker and still working there (its submit unanswered,
    or placed, or partly filled); returns them with what each had filled. Waits for an order another run
    holds. The router's last pass cancels them at the broker, which still holds them (`broker_open`)."""
    sent = "('SUBMITTING', 'SUBMITTED', 'PARTIALLY_FILLED')"
    cur.execute(
        f"""SELECT id FROM orders WHERE purpose = 'ENTRY' AND mode = %s AND status IN {sent}
           ORDER BY id FOR UPDATE""",
        (mode,),
    )
    if not cur.fetchall():
        return []
    cur.execute(
        f"""UPDATE orders SET status = 'CANCELLED', reason = %s, updated_at = %s
           WHERE purpose = 'ENTRY' AND mode = %s AND status IN {sent}
           RETURNING id AS order_id, signal_id, filled_quantity AS filled, quantity""",
        (reason, at, mode),
    )
    return [CancelledEntry(**row) for row in cur.fetchall()]


def cancel_rest_of_entry(
    cur: RealDictCursor, signal_id: UUID, reason: str, at: datetime
) -> CancelledEntry | bool:
    """Cancel what is still working of a held position's entry order (the rest of a partial fill), unless
    another worker holds that order now. Returns the cancelled entry; False when nothing of it was working;
    True when it is working but held (the caller tries again on its next run).

    The exit monitor calls this with the position already locked. The executor locks an order before its
    position, so this must not wait for the order: SKIP LOCKED, never a circle of waits."""
    cur.execute(
        f"""UPDATE orders SET status = 'CANCELLED', reason = %(reason)s, updated_at = %(at)s
           WHERE id = (SELECT id FROM orders WHERE purpose = 'ENTRY' AND signal_id = %(s)s
                          AND status IN {_WORKING} FOR UPDATE SKIP LOCKED)
           RETURNING id AS order_id, signal_id, filled_quantity AS filled, quantity""",
        {"reason": reason, "at": at, "s": str(signal_id)},
    )
    row = cur.fetchone()
    if row:
        return CancelledEntry(**row)
    cur.execute(
        f"SELECT EXISTS (SELECT 1 FROM orders WHERE purpose = 'ENTRY' AND signal_id = %s AND status IN {_WORKING})",
        (str(signal_id),),
    )
    working = cur.fetchone()
    return bool(working and working["exists"])


def cancel_working_exit(
    cur: RealDictCursor, position_id: Any, reason: str, at: datetime
) -> CancelledExit | None:
    """Cancel a position's working exit order, if it has one (an expiry settles the position instead);
    returns it, with what of it had sold. Its own reason is kept in the result, the new one is stored."""
    cur.execute(
        f"""WITH working AS (
               SELECT id, reason FROM orders
               WHERE purpose = 'EXIT' AND position_id = %s AND status IN {_WORKING} FOR UPDATE)
           UPDATE orders AS o SET status = 'CANCELLED', reason = %s, updated_at = %s
           FROM working WHERE o.id = working.id
           RETURNING o.signal_id, o.filled_quantity AS filled, o.quantity, o.avg_fill_price, working.reason""",
        (str(position_id), reason, at),
    )
    row = cur.fetchone()
    return CancelledExit(**row) if row else None


def insert_filled(cur: RealDictCursor, order: dict[str, Any], price: Any, at: datetime) -> WorkingOrder:
    """Record an order that is filled the moment it exists (an expiry's settlement); returns it as stored."""
    row = dict(
        order,
        status=OrderStatus.FILLED.value,
        filled_quantity=order["quantity"],
        avg_fill_price=price,
        submitted_at=at,
        filled_at=at,
    )
    columns = list(row)
    cur.execute(
        f"""INSERT INTO orders ({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})
            RETURNING {ORDER_COLUMNS}""",
        [row[c] for c in columns],
    )
    found = cur.fetchone()
    assert found is not None
    return WorkingOrder(**found)
