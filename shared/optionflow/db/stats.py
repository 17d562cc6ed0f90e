"""What the trading statistics read: closed positions in a window, and the open book."""

from __future__ import annotations

from datetime import datetime

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import ClosedPosition, OpenGroup


def closed_positions(
    cur: RealDictCursor, since: datetime | None, until: datetime | None
) -> list[ClosedPosition]:
    """Positions closed in [since, until) (either bound may be open), oldest close first.

    Each row: ticker, direction (CALL/PUT), exit_reason, opened_at, closed_at, realized_pnl and cost_basis
    (dollars, whole position).
    """
    cur.execute(
        """SELECT ticker, option_type AS direction, exit_reason, opened_at, closed_at, realized_pnl, cost_basis, fees
           FROM positions
           WHERE status = 'CLOSED'
             AND (%(since)s::timestamptz IS NULL OR closed_at >= %(since)s::timestamptz)
             AND (%(until)s::timestamptz IS NULL OR closed_at < %(until)s::timestamptz)
           ORDER BY closed_at, id""",
        {"since": since, "until": until},
    )
    return [ClosedPosition(**row) for row in cur.fetchall()]


def open_book(cur: RealDictCursor) -> list[OpenGroup]:
    """Open (and closing) positions per ticker and direction: their count and unrealized P&L in dollars
    (whole positions; a position not yet priced counts as 0)."""
    cur.execute(
        """SELECT ticker, option_type AS direction, count(*)::int AS positions,
                  coalesce(sum(unrealized_pnl), 0) AS unrealized_pnl
           FROM positions
           WHERE status IN ('OPEN', 'CLOSING')
           GROUP BY ticker, option_type
           ORDER BY ticker, option_type"""
    )
    return [OpenGroup(**row) for row in cur.fetchall()]
