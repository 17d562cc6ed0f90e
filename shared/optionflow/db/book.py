"""The trading book as the risk checks and exit rules see it: limits, rules, exposure, P&L."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg2.extras import RealDictCursor


def risk_limits(cur: RealDictCursor, *, lock: bool = False) -> dict[str, Any]:
    """The active limits. With lock=True the row is held until commit, so concurrent signal processors
    take their risk decisions one after another and cannot both fill the last open slot."""
    cur.execute("SELECT * FROM risk_limits WHERE name = 'default'" + (" FOR UPDATE" if lock else ""))
    row = cur.fetchone()
    if row is None:
        raise LookupError("risk_limits has no 'default' row; run `optionflow db migrate`")
    return dict(row)


def exit_rules(cur: RealDictCursor) -> dict[str, Any]:
    cur.execute("SELECT * FROM exit_rules WHERE name = 'default'")
    row = cur.fetchone()
    if row is None:
        raise LookupError("exit_rules has no 'default' row; run `optionflow db migrate`")
    return dict(row)


def exposure(cur: RealDictCursor) -> dict[str, Any]:
    """Open positions plus accepted entries not yet filled, in total and per ticker."""
    cur.execute(
        """SELECT ticker, count(*) AS n FROM (
               SELECT ticker FROM positions WHERE status IN ('OPEN', 'CLOSING')
               UNION ALL
               SELECT ticker FROM signals WHERE action = 'BUY' AND status IN ('ACCEPTED', 'ORDERED')
           ) AS book GROUP BY ticker"""
    )
    per_ticker = {row["ticker"]: int(row["n"]) for row in cur.fetchall()}
    return {"total": sum(per_ticker.values()), "per_ticker": per_ticker}


def day_pnl(cur: RealDictCursor, day_start: datetime) -> dict[str, Decimal]:
    """Realized P&L of positions closed since `day_start` and unrealized P&L of open ones, in dollars."""
    cur.execute(
        """SELECT
             COALESCE(SUM(realized_pnl) FILTER (WHERE status = 'CLOSED' AND closed_at >= %s), 0) AS realized,
             COALESCE(SUM(unrealized_pnl) FILTER (WHERE status IN ('OPEN', 'CLOSING')), 0) AS unrealized
           FROM positions
           WHERE status IN ('OPEN', 'CLOSING') OR closed_at >= %s""",
        (day_start, day_start),
    )
    row = cur.fetchone() or {"realized": Decimal(0), "unrealized": Decimal(0)}
    return {"realized": Decimal(row["realized"]), "unrealized": Decimal(row["unrealized"])}


def open_positions_for(cur: RealDictCursor, ticker: str, direction: str | None) -> list[dict[str, Any]]:
    cur.execute(
        """SELECT * FROM positions WHERE ticker = %s AND status = 'OPEN' AND (%s::text IS NULL OR option_type = %s)
           ORDER BY opened_at FOR UPDATE SKIP LOCKED""",
        (ticker, direction, direction),
    )
    return list(cur.fetchall())


def open_count_for(cur: RealDictCursor, ticker: str, direction: str | None) -> int:
    cur.execute(
        """SELECT count(*) AS n FROM positions WHERE ticker = %s AND status = 'OPEN'
           AND (%s::text IS NULL OR option_type = %s)""",
        (ticker, direction, direction),
    )
    row = cur.fetchone()
    return int(row["n"]) if row else 0
