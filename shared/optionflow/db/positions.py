"""Positions and their fills."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import (
    HELD_COLUMNS,
    PRICED_COLUMNS,
    BookTotals,
    HeldPosition,
    PricedPosition,
    WorkingOrder,
)
from optionflow.states import PositionStatus


def record_trades(
    cur: RealDictCursor,
    trades: list[tuple[WorkingOrder, Any, Decimal]],
    at: datetime,
    fee_per_contract: Decimal = Decimal(0),
) -> None:
    """(order, position id, price per share) for each fill of a whole order; fees per contract filled."""
    if not trades:
        return
    cur.execute(
        # one array per column: psycopg2 adapts a list in one call, where a VALUES row was one call a row
        """INSERT INTO trades (order_id, position_id, fill_seq, ticker, option_symbol, side, quantity, price,
                               fees, mode, executed_at)
           SELECT v.order_id, v.position_id, 1, v.ticker, v.option_symbol, v.side, v.quantity, v.price, v.fees,
                  v.mode, %(at)s
           FROM unnest(%(orders)s::uuid[], %(positions)s::uuid[], %(tickers)s::text[], %(symbols)s::text[],
                       %(sides)s::text[], %(quantities)s::int[], %(prices)s::numeric[], %(fees)s::numeric[],
                       %(modes)s::text[])
                AS v (order_id, position_id, ticker, option_symbol, side, quantity, price, fees, mode)""",
        {
            "at": at,
            "orders": [str(order.id) for order, _, _ in trades],
            "positions": [str(position_id) if position_id else None for _, position_id, _ in trades],
            "tickers": [order.ticker for order, _, _ in trades],
            "symbols": [order.option_symbol for order, _, _ in trades],
            "sides": [order.side for order, _, _ in trades],
            "quantities": [order.quantity for order, _, _ in trades],
            "prices": [price for _, _, price in trades],
            "fees": [fee_per_contract * order.quantity for order, _, _ in trades],
            "modes": [order.mode for order, _, _ in trades],
        },
    )


def open_positions(
    cur: RealDictCursor,
    fills: list[tuple[WorkingOrder, Decimal]],
    at: datetime,
    fee_per_contract: Decimal = Decimal(0),
) -> dict[UUID, UUID]:
    """Open a position per filled entry order (its entry fees recorded on it); returns {order id: position
    id}. The orders are not touched: `orders.mark_filled_many(positions=...)` points them at their positions."""
    if not fills:
        return {}
    with cur.connection.cursor() as plain:
        plain.execute(
            # one array per column, and what is the same for every row (the instant) once
            """INSERT INTO positions (signal_id, entry_order_id, ticker, option_symbol, option_type, strike,
                                      expiry, quantity, entry_price, cost_basis, opened_at, mark, high_water_mark,
                                      unrealized_pnl, priced_at, fees)
               SELECT v.signal_id, v.order_id, v.ticker, v.option_symbol, v.option_type, v.strike, v.expiry,
                      v.quantity, v.price, v.cost_basis, %(at)s, v.price, v.price, 0, %(at)s, v.fees
               FROM unnest(%(signals)s::uuid[], %(orders)s::uuid[], %(tickers)s::text[], %(symbols)s::text[],
                           %(types)s::text[], %(strikes)s::numeric[], %(expiries)s::date[], %(quantities)s::int[],
                           %(prices)s::numeric[], %(costs)s::numeric[], %(fees)s::numeric[])
                    AS v (signal_id, order_id, ticker, option_symbol, option_type, strike, expiry, quantity,
                          price, cost_basis, fees)
               RETURNING id, entry_order_id""",
            {
                "at": at,
                "signals": [str(order.signal_id) for order, _ in fills],
                "orders": [str(order.id) for order, _ in fills],
                "tickers": [order.ticker for order, _ in fills],
                "symbols": [order.option_symbol for order, _ in fills],
                "types": [order.option_type for order, _ in fills],
                "strikes": [order.strike for order, _ in fills],
                "expiries": [order.expiry for order, _ in fills],
                "quantities": [order.quantity for order, _ in fills],
                "prices": [price for _, price in fills],
                "costs": [price * order.quantity * 100 for order, price in fills],
                "fees": [fee_per_contract * order.quantity for order, _ in fills],
            },
        )
        rows = plain.fetchall()
    return {order_id: UUID(str(position_id)) for position_id, order_id in rows}


def open_from_fills(
    cur: RealDictCursor,
    fills: list[tuple[WorkingOrder, Decimal]],
    at: datetime,
    fee_per_contract: Decimal = Decimal(0),
) -> dict[UUID, UUID]:
    """Open a position per filled entry order (its entry fees recorded on it); returns {order id: position
    id}, and points each entry order at its position."""
    opened = open_positions(cur, fills, at, fee_per_contract)
    if opened:
        cur.execute(
            """UPDATE orders AS o SET position_id = v.pid
               FROM unnest(%(oids)s::uuid[], %(pids)s::uuid[]) AS v (oid, pid)
               WHERE o.id = v.oid AND o.id = ANY(%(oids)s::uuid[])""",
            {"oids": [str(oid) for oid in opened], "pids": [str(pid) for pid in opened.values()]},
        )
    return opened


def close_from_fill(
    cur: RealDictCursor,
    position_id: UUID,
    price: Decimal,
    reason: str | None,
    at: datetime,
    exit_fees: Decimal = Decimal(0),
) -> Decimal:
    """Close at `price` per share; returns realized P&L in dollars, net of the entry and exit fees
    ((exit − entry) × quantity × multiplier − fees). The mark becomes the exit price: a closed position
    shows what it was closed at, not a live quote."""
    cur.execute(
        """UPDATE positions SET status = 'CLOSED', exit_price = %(price)s, closed_at = %(at)s,
                  exit_reason = %(reason)s, fees = fees + %(fees)s,
                  realized_pnl = round((%(price)s - entry_price) * quantity * multiplier - fees - %(fees)s, 2),
                  unrealized_pnl = 0, mark = %(price)s, bid = NULL, ask = NULL, delta = NULL, gamma = NULL,
                  theta = NULL, vega = NULL, implied_vol = NULL, price_stale = false, updated_at = %(at)s
           WHERE id = %(id)s AND status IN ('OPEN', 'CLOSING')
           RETURNING realized_pnl""",
        {"price": price, "at": at, "reason": reason, "fees": exit_fees, "id": str(position_id)},
    )
    row = cur.fetchone()
    if row is None:
        raise RuntimeError(f"position {position_id} is not open; an exit fill cannot close it twice")
    cur.execute(
        "UPDATE exit_signals SET status = 'RESOLVED', resolved_at = %s WHERE position_id = %s AND status = 'ACTIVE'",
        (at, str(position_id)),
    )
    return Decimal(row["realized_pnl"])


def split(cur: RealDictCursor, position: HeldPosition, quantity: int, at: datetime) -> UUID:
    """Split `quantity` contracts off an OPEN position into a lot of its own (same entry, a share of the
    cost basis and entry fees) and return the new lot's id; the original keeps the rest."""
    keep = position.quantity - quantity
    if not 0 < quantity < position.quantity:
        raise ValueError(f"cannot split {quantity} of {position.quantity} contracts")
    cur.execute(
        """INSERT INTO positions (signal_id, entry_order_id, parent_position_id, ticker, option_symbol,
                                  option_type, strike, expiry, quantity, multiplier, entry_price, cost_basis,
                                  fees, status, opened_at, mark, bid, ask, underlying_price, implied_vol, delta,
                                  gamma, theta, vega, unrealized_pnl, high_water_mark, priced_at, price_stale,
                                  prev_close_mark, prev_close_at, updated_at)
           SELECT signal_id, entry_order_id, id, ticker, option_symbol, option_type, strike, expiry, %(q)s,
                  multiplier, entry_price, round(cost_basis * %(q)s / quantity, 2),
                  round(fees * %(q)s / quantity, 2), 'OPEN', opened_at, mark, bid, ask, underlying_price,
                  implied_vol, delta, gamma, theta, vega, round(unrealized_pnl * %(q)s / quantity, 2),
                  high_water_mark, priced_at, price_stale, prev_close_mark, prev_close_at, %(at)s
           FROM positions WHERE id = %(id)s AND status = 'OPEN'
           RETURNING id""",
        {"q": quantity, "id": str(position.id), "at": at},
    )
    row = cur.fetchone()
    if row is None:
        raise RuntimeError(f"position {position.id} is not open; it cannot be split")
    cur.execute(
        """UPDATE positions SET quantity = %(keep)s,
                  cost_basis = cost_basis - round(cost_basis * %(q)s / quantity, 2),
                  fees = fees - round(fees * %(q)s / quantity, 2),
                  unrealized_pnl = unrealized_pnl - round(unrealized_pnl * %(q)s / quantity, 2),
                  updated_at = %(at)s
           WHERE id = %(id)s""",
        {"keep": keep, "q": quantity, "id": str(position.id), "at": at},
    )
    return UUID(str(row["id"]))


def set_status(cur: RealDictCursor, position_id: UUID, status: str, at: datetime) -> None:
    cur.execute(
        "UPDATE positions SET status = %s, updated_at = %s WHERE id = %s", (status, at, str(position_id))
    )


def claim_open(
    cur: RealDictCursor, limit: int, after: UUID | None, only: list[str] | None = None
) -> list[PricedPosition]:
    """A page of open positions (by id) locked for this run, optionally only those in `only`; rows
    another run holds are skipped. Only the columns the refresher and the exit monitor read: building a row
    costs per column, and a page of the whole book is 10,000 rows."""
    # plain tuples, not dict rows: the dataclass is the row, and a dict per row cost as much again
    with cur.connection.cursor() as plain:
        plain.execute(
            f"""SELECT {PRICED_COLUMNS}
               FROM positions
               WHERE status IN ('OPEN', 'CLOSING') AND (%(after)s::uuid IS NULL OR id > %(after)s::uuid)
                 AND (%(only)s::uuid[] IS NULL OR id = ANY(%(only)s::uuid[]))
               ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
            {"after": str(after) if after else None, "only": only, "limit": limit},
        )
        names = [column.name for column in plain.description or ()]
        rows = plain.fetchall()
    status = names.index("status")
    return [
        PricedPosition(
            **dict(zip(names, (*row[:status], PositionStatus(row[status]), *row[status + 1 :]), strict=True))
        )
        for row in rows
    ]


def _array(values: Iterable[Any]) -> str:
    """A Postgres array literal of numbers, ids or instants (none of which needs quoting), NULL for None:
    one parameter per column instead of one per value, which psycopg2 would quote one by one."""
    return (
        "{"
        + ",".join(
            "NULL" if v is None else v.isoformat() if isinstance(v, datetime) else str(v) for v in values
        )
        + "}"
    )


def save_marks(cur: RealDictCursor, marks: list[dict[str, Any]]) -> None:
    """Store marks (dollars per share) taken at `priced_at`. The high-water mark only rises; a mark's
    `prev_close_mark` (None: keep the stored one) is the previous session's closing mark for day P&L.

    Each column goes as one array (unnest): a page of 1,000 marks is 13 parameters, not 13,000 values
    adapted, quoted and then parsed one by one."""
    if not marks:
        return
    columns = ("id", "mark", "bid", "ask", "underlying", "iv", "delta", "gamma", "theta", "vega", "priced_at")
    arrays = [_array(m[c] for m in marks) for c in columns]
    arrays += [_array(m.get(c) for m in marks) for c in ("prev_close_mark", "prev_close_at")]
    cur.execute(
        """UPDATE positions AS p SET mark = v.mark, bid = v.bid, ask = v.ask, underlying_price = v.underlying,
                  implied_vol = v.iv, delta = v.delta, gamma = v.gamma, theta = v.theta, vega = v.vega,
                  unrealized_pnl = round((v.mark - p.entry_price) * p.quantity * p.multiplier, 2),
                  high_water_mark = GREATEST(p.high_water_mark, p.entry_price, v.mark), priced_at = v.priced_at,
                  prev_close_mark = COALESCE(v.prev_close_mark, p.prev_close_mark),
                  prev_close_at = COALESCE(v.prev_close_at, p.prev_close_at),
                  price_stale = false, updated_at = v.priced_at
           FROM unnest(%s::uuid[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[],
                       %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], %s::timestamptz[],
                       %s::numeric[], %s::timestamptz[])
                AS v (id, mark, bid, ask, underlying, iv, delta, gamma, theta, vega, priced_at,
                      prev_close_mark, prev_close_at)
           WHERE p.id = v.id""",
        arrays,
    )


def expired(cur: RealDictCursor, expiries: list[Any], limit: int) -> list[HeldPosition]:
    """Held positions whose expiry is one of `expiries` (dates whose session has closed), locked; a
    position another run holds is waited for, since it must settle whatever that run is doing."""
    cur.execute(
        f"""SELECT {HELD_COLUMNS}
           FROM positions
           WHERE status IN ('OPEN', 'CLOSING') AND expiry = ANY(%s::date[])
           ORDER BY id LIMIT %s FOR UPDATE""",
        (list(expiries), limit),
    )
    return [HeldPosition(**(row | {"status": PositionStatus(row["status"])})) for row in cur.fetchall()]


def expiries_held(cur: RealDictCursor, through: date) -> list[date]:
    """The distinct expiry dates of held positions up to and including `through`."""
    cur.execute(
        "SELECT DISTINCT expiry FROM positions WHERE status IN ('OPEN', 'CLOSING') AND expiry <= %s ORDER BY 1",
        (through,),
    )
    return [row["expiry"] for row in cur.fetchall()]


def flag_stale(cur: RealDictCursor, position_ids: list[UUID], at: datetime) -> None:
    if position_ids:
        cur.execute(
            "UPDATE positions SET price_stale = true, updated_at = %s WHERE id = ANY(%s::uuid[])",
            (at, [str(p) for p in position_ids]),
        )


def totals(cur: RealDictCursor) -> BookTotals:
    cur.execute(
        """SELECT count(*) AS open_positions, COALESCE(SUM(unrealized_pnl), 0) AS unrealized_pnl,
                  COALESCE(SUM(mark * quantity * multiplier), 0) AS market_value,
                  COALESCE(SUM(delta * quantity * multiplier), 0) AS delta_shares,
                  count(*) FILTER (WHERE price_stale) AS stale
           FROM positions WHERE status IN ('OPEN', 'CLOSING')"""
    )
    row = cur.fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns its one row
    return BookTotals(
        int(row["open_positions"]),
        Decimal(row["unrealized_pnl"]),
        Decimal(row["market_value"]),
        Decimal(row["delta_shares"]),
        int(row["stale"]),
    )
