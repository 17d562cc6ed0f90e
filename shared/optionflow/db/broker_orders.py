"""Broker orders: the router's intent (SUBMITTING before the broker is called), the broker's answers, and
the fills they bring. The paper executor's orders are in db/orders.py."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import HELD_COLUMNS, HeldPosition, RoutedOrder
from optionflow.states import PositionStatus

_ROUTED = """SELECT o.id, o.purpose, o.signal_id, o.position_id, o.ticker, o.option_symbol, o.option_type,
                    o.strike, o.expiry, o.side, o.quantity, o.mode, o.reason, o.created_at, o.status,
                    o.client_order_id, o.broker_order_id, o.filled_quantity, o.avg_fill_price, o.limit_price,
                    o.reprices, o.priced_at, o.cancel_requested_at, o.broker_open,
                    s.received_at AS signal_received_at, p.signal_id AS entry_signal_id
             FROM orders o LEFT JOIN signals s ON s.id = o.signal_id
                           LEFT JOIN positions p ON p.id = o.position_id"""


def _rows(cur: RealDictCursor) -> list[RoutedOrder]:
    return [RoutedOrder(**row) for row in cur.fetchall()]


def claim(
    cur: RealDictCursor, statuses: list[str], mode: str, limit: int, skip: list[Any] | None = None
) -> list[RoutedOrder]:
    """Orders of `mode` in `statuses`, oldest first, locked; rows another run holds are skipped."""
    cur.execute(
        _ROUTED
        + """ WHERE o.status = ANY(%s) AND o.mode = %s AND NOT (o.id = ANY(%s::uuid[]))
              ORDER BY o.created_at, o.id LIMIT %s FOR UPDATE OF o SKIP LOCKED""",
        (statuses, mode, [str(i) for i in skip or []], limit),
    )
    return _rows(cur)


def claim_ended_but_open(cur: RealDictCursor, limit: int, skip: list[Any] | None = None) -> list[RoutedOrder]:
    """Orders we ended (a later CLOSE, the close of the day) that the broker last said could still fill."""
    cur.execute(
        _ROUTED
        + """ WHERE o.broker_open AND o.status IN ('CANCELLED', 'EXPIRED', 'REJECTED', 'FILLED')
                AND NOT (o.id = ANY(%s::uuid[]))
              ORDER BY o.updated_at, o.id LIMIT %s FOR UPDATE OF o SKIP LOCKED""",
        ([str(i) for i in skip or []], limit),
    )
    return _rows(cur)


def lock_if_free(cur: RealDictCursor, order_id: UUID) -> RoutedOrder | None:
    """The order, locked, or None when another run holds it (that run is working on it)."""
    cur.execute(_ROUTED + " WHERE o.id = %s FOR UPDATE OF o SKIP LOCKED", (str(order_id),))
    found = _rows(cur)
    return found[0] if found else None


def lock(cur: RealDictCursor, order_id: UUID) -> RoutedOrder | None:
    """The order, locked, waiting for a run that holds it."""
    cur.execute(_ROUTED + " WHERE o.id = %s FOR UPDATE OF o", (str(order_id),))
    found = _rows(cur)
    return found[0] if found else None


def mark_submitting(
    cur: RealDictCursor, order_id: UUID, client_id: str, broker: str, limit_price: Decimal, at: datetime
) -> None:
    """Record the intent to send: from here a crash leaves an order the next run looks up by client id."""
    cur.execute(
        # broker_open: from here the broker may hold it, until an answer says otherwise
        """UPDATE orders SET status = 'SUBMITTING', client_order_id = %s, broker = %s, order_type = 'LIMIT',
                  broker_open = true,
                  limit_price = %s, time_in_force = 'DAY', priced_at = %s, submitted_at = %s, updated_at = %s
           WHERE id = %s AND status = 'PENDING'""",
        (client_id, broker, limit_price, at, at, at, str(order_id)),
    )
    if cur.rowcount != 1:
        raise RuntimeError(f"order {order_id} was no longer PENDING when it was submitted")


def record(
    cur: RealDictCursor,
    order_id: UUID,
    *,
    status: str,
    at: datetime,
    broker_order_id: str | None = None,
    client_order_id: str | None = None,
    filled_quantity: int | None = None,
    avg_fill_price: Decimal | None = None,
    broker_open: bool | None = None,
    reason: str | None = None,
    limit_price: Decimal | None = None,
    reprices: int | None = None,
    cancel_requested: bool = False,
) -> None:
    """What the broker said about an order; None keeps a column as it is."""
    cur.execute(
        """UPDATE orders SET status = %(status)s,
                  broker_order_id = COALESCE(%(bid)s, broker_order_id),
                  client_order_id = COALESCE(%(cid)s, client_order_id),
                  filled_quantity = COALESCE(%(filled)s, filled_quantity),
                  avg_fill_price = COALESCE(%(avg)s, avg_fill_price),
                  broker_open = COALESCE(%(open)s, broker_open),
                  reason = COALESCE(%(reason)s, reason),
                  limit_price = COALESCE(%(limit)s, limit_price),
                  priced_at = CASE WHEN %(limit)s::numeric IS NULL THEN priced_at ELSE %(at)s END,
                  reprices = COALESCE(%(reprices)s, reprices),
                  cancel_requested_at = CASE WHEN %(cancel)s THEN %(at)s ELSE cancel_requested_at END,
                  filled_at = CASE WHEN %(status)s = 'FILLED' THEN %(at)s ELSE filled_at END,
                  updated_at = %(at)s
           WHERE id = %(id)s""",
        {
            "status": status,
            "bid": broker_order_id,
            "cid": client_order_id,
            "filled": filled_quantity,
            "avg": avg_fill_price,
            "open": broker_open,
            "reason": reason,
            "limit": limit_price,
            "reprices": reprices,
            "cancel": cancel_requested,
            "at": at,
            "id": str(order_id),
        },
    )


def record_fill(
    cur: RealDictCursor,
    order: RoutedOrder,
    position_id: UUID | None,
    quantity: int,
    price: Decimal,
    fees: Decimal,
    at: datetime,
) -> None:
    """One trade for the `quantity` contracts a broker order filled since we last looked, at `price`."""
    cur.execute(
        """INSERT INTO trades (order_id, position_id, fill_seq, ticker, option_symbol, side, quantity, price,
                               fees, mode, executed_at)
           SELECT %s, %s, COALESCE(MAX(fill_seq), 0) + 1, %s, %s, %s, %s, %s, %s, %s, %s
           FROM trades WHERE order_id = %s""",
        (
            str(order.id),
            str(position_id) if position_id else None,
            order.ticker,
            order.option_symbol,
            order.side,
            quantity,
            price,
            fees,
            order.mode,
            at,
            str(order.id),
        ),
    )


def grow_entry(
    cur: RealDictCursor, position_id: UUID, quantity: int, avg_price: Decimal, fees: Decimal, at: datetime
) -> bool:
    """An entry filled more: its position now holds `quantity` contracts at `avg_price` (the broker's
    average over every fill). False when the position is no longer held."""
    cur.execute(
        """UPDATE positions SET quantity = %(q)s, entry_price = %(avg)s,
                  cost_basis = round(%(avg)s * %(q)s * multiplier, 2), fees = fees + %(fees)s,
                  unrealized_pnl = round((COALESCE(mark, %(avg)s) - %(avg)s) * %(q)s * multiplier, 2),
                  high_water_mark = GREATEST(COALESCE(high_water_mark, %(avg)s), %(avg)s), updated_at = %(at)s
           WHERE id = %(id)s AND status IN ('OPEN', 'CLOSING')""",
        {"q": quantity, "avg": avg_price, "fees": fees, "at": at, "id": str(position_id)},
    )
    return cur.rowcount == 1


def held_position(cur: RealDictCursor, position_id: UUID) -> HeldPosition | None:
    cur.execute(
        f"SELECT {HELD_COLUMNS} FROM positions WHERE id = %s AND status IN ('OPEN', 'CLOSING')",
        (str(position_id),),
    )
    row = cur.fetchone()
    return HeldPosition(**(row | {"status": PositionStatus(row["status"])})) if row else None


def entry_notional_since(cur: RealDictCursor, mode: str, since: datetime) -> Decimal:
    """Dollars of premium our entries sent to the broker since `since` have committed: what filled, at its
    price, plus what is still working, at its limit (a working order may yet fill in full)."""
    cur.execute(
        """SELECT COALESCE(SUM(CASE WHEN status IN ('SUBMITTING', 'SUBMITTED', 'PARTIALLY_FILLED')
                                    THEN limit_price * quantity * 100
                                    ELSE COALESCE(avg_fill_price, 0) * filled_quantity * 100 END), 0) AS n
           FROM orders
           WHERE purpose = 'ENTRY' AND mode = %s AND client_order_id IS NOT NULL AND submitted_at >= %s""",
        (mode, since),
    )
    row = cur.fetchone()
    return Decimal(row["n"]) if row else Decimal(0)
