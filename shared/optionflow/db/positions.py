"""Positions and their fills."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg2.extras import RealDictCursor, execute_values


def record_trades(
    cur: RealDictCursor, trades: list[tuple[dict[str, Any], Any, Decimal]], at: datetime
) -> None:
    """(order, position id, price per share) for each fill of a whole order."""
    execute_values(
        cur,
        """INSERT INTO trades (order_id, position_id, fill_seq, ticker, option_symbol, side, quantity, price,
                               mode, executed_at) VALUES %s""",
        [
            (
                str(order["id"]),
                str(position_id) if position_id else None,
                1,
                order["ticker"],
                order["option_symbol"],
                order["side"],
                order["quantity"],
                price,
                order["mode"],
                at,
            )
            for order, position_id, price in trades
        ],
        page_size=1000,
    )


def open_from_fills(
    cur: RealDictCursor, fills: list[tuple[dict[str, Any], Decimal]], at: datetime
) -> dict[Any, UUID]:
    """Open a position per filled entry order; returns {order id: position id}."""
    rows = execute_values(
        cur,
        """INSERT INTO positions (signal_id, entry_order_id, ticker, option_symbol, option_type, strike, expiry,
                                  quantity, entry_price, cost_basis, opened_at, mark, high_water_mark,
                                  unrealized_pnl, priced_at)
           VALUES %s RETURNING id, entry_order_id""",
        [
            (
                str(order["signal_id"]),
                str(order["id"]),
                order["ticker"],
                order["option_symbol"],
                order["option_type"],
                order["strike"],
                order["expiry"],
                order["quantity"],
                price,
                price * order["quantity"] * 100,
                at,
                price,
                price,
                0,
                at,
            )
            for order, price in fills
        ],
        page_size=1000,
        fetch=True,
    )
    return {row["entry_order_id"]: UUID(str(row["id"])) for row in rows}


def close_from_fill(
    cur: RealDictCursor, position_id: UUID, price: Decimal, reason: str | None, at: datetime
) -> Decimal:
    """Close at `price` per share; returns realized P&L in dollars (per-share move × quantity × multiplier)."""
    cur.execute(
        """UPDATE positions SET status = 'CLOSED', exit_price = %s, closed_at = %s, exit_reason = %s,
                  realized_pnl = round((%s - entry_price) * quantity * multiplier, 2),
                  unrealized_pnl = 0, updated_at = %s
           WHERE id = %s AND status IN ('OPEN', 'CLOSING')
           RETURNING realized_pnl""",
        (price, at, reason, price, at, str(position_id)),
    )
    row = cur.fetchone()
    if row is None:
        raise RuntimeError(f"position {position_id} is not open; an exit fill cannot close it twice")
    cur.execute(
        "UPDATE exit_signals SET status = 'RESOLVED', resolved_at = %s WHERE position_id = %s AND status = 'ACTIVE'",
        (at, str(position_id)),
    )
    return Decimal(row["realized_pnl"])


def set_status(cur: RealDictCursor, position_id: UUID, status: str, at: datetime) -> None:
    cur.execute(
        "UPDATE positions SET status = %s, updated_at = %s WHERE id = %s", (status, at, str(position_id))
    )


def claim_open(
    cur: RealDictCursor, limit: int, after: UUID | None, only: list[str] | None = None
) -> list[dict[str, Any]]:
    """A page of open positions (by id) locked for this run, optionally only those in `only`; rows
    another run holds are skipped. Only the columns the refresher and the exit monitor read: building a row
    costs per column, and a page of the whole book is 10,000 rows."""
    cur.execute(
        """SELECT id, signal_id, status, ticker, option_symbol, option_type, strike, expiry, quantity,
                  entry_price, mark, high_water_mark, price_stale, opened_at
           FROM positions
           WHERE status IN ('OPEN', 'CLOSING') AND (%(after)s::uuid IS NULL OR id > %(after)s::uuid)
             AND (%(only)s::uuid[] IS NULL OR id = ANY(%(only)s::uuid[]))
           ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
        {"after": str(after) if after else None, "only": only, "limit": limit},
    )
    return list(cur.fetchall())


def save_marks(cur: RealDictCursor, marks: list[dict[str, Any]]) -> None:
    execute_values(
        cur,
        """UPDATE positions AS p SET mark = v.mark, bid = v.bid, ask = v.ask, underlying_price = v.underlying,
                  implied_vol = v.iv, delta = v.delta, gamma = v.gamma, theta = v.theta, vega = v.vega,
                  unrealized_pnl = round((v.mark - p.entry_price) * p.quantity * p.multiplier, 2),
                  high_water_mark = GREATEST(p.high_water_mark, v.mark), priced_at = v.priced_at,
                  price_stale = false, updated_at = v.priced_at
           FROM (VALUES %s) AS v (id, mark, bid, ask, underlying, iv, delta, gamma, theta, vega, priced_at)
           WHERE p.id = v.id""",
        [
            (
                str(m["id"]),
                m["mark"],
                m["bid"],
                m["ask"],
                m["underlying"],
                m["iv"],
                m["delta"],
                m["gamma"],
                m["theta"],
                m["vega"],
                m["priced_at"],
            )
            for m in marks
        ],
        template="(%s::uuid, %s::numeric, %s::numeric, %s::numeric, %s::numeric, %s::numeric, %s::numeric,"
        " %s::numeric, %s::numeric, %s::numeric, %s::timestamptz)",
    )


def flag_stale(cur: RealDictCursor, position_ids: list[UUID], at: datetime) -> None:
    if position_ids:
        cur.execute(
            "UPDATE positions SET price_stale = true, updated_at = %s WHERE id = ANY(%s::uuid[])",
            (at, [str(p) for p in position_ids]),
        )


def totals(cur: RealDictCursor) -> dict[str, Any]:
    cur.execute(
        """SELECT count(*) AS open_positions, COALESCE(SUM(unrealized_pnl), 0) AS unrealized_pnl,
                  COALESCE(SUM(mark * quantity * multiplier), 0) AS market_value,
                  COALESCE(SUM(delta * quantity * multiplier), 0) AS delta_shares,
                  count(*) FILTER (WHERE price_stale) AS stale
           FROM positions WHERE status IN ('OPEN', 'CLOSING')"""
    )
    return dict(cur.fetchone() or {})
