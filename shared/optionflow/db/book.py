"""The trading book as the risk checks and exit rules see it: limits, rules, exposure, P&L."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import (
    EXIT_RULES_COLUMNS,
    HELD_COLUMNS,
    RISK_LIMITS_COLUMNS,
    DayPnl,
    ExitRules,
    Exposure,
    HeldPosition,
    RiskLimits,
    UnfinishedEntry,
)
from optionflow.states import PositionStatus, SignalStatus


def risk_limits(cur: RealDictCursor, *, lock: bool = False) -> RiskLimits:
    """The active limits. With lock=True the row is held until commit, so concurrent signal processors
    take their risk decisions one after another and cannot both fill the last open slot."""
    cur.execute(
        f"SELECT {RISK_LIMITS_COLUMNS} FROM risk_limits WHERE name = 'default'"
        + (" FOR UPDATE" if lock else "")
    )
    row = cur.fetchone()
    if row is None:
        raise LookupError("risk_limits has no 'default' row; run `optionflow db migrate`")
    return RiskLimits(**row)


def exit_rules(cur: RealDictCursor) -> ExitRules:
    cur.execute(f"SELECT {EXIT_RULES_COLUMNS} FROM exit_rules WHERE name = 'default'")
    row = cur.fetchone()
    if row is None:
        raise LookupError("exit_rules has no 'default' row; run `optionflow db migrate`")
    return ExitRules(**row)


def exposure(cur: RealDictCursor) -> Exposure:
    """Open positions plus accepted entries not yet filled, in total and per ticker."""
    cur.execute(
        """SELECT ticker, count(*) AS n FROM (
               SELECT ticker FROM positions WHERE status IN ('OPEN', 'CLOSING')
               UNION ALL
               SELECT ticker FROM signals WHERE action = 'BUY' AND status IN ('ACCEPTED', 'ORDERED')
           ) AS book GROUP BY ticker"""
    )
    per_ticker = {row["ticker"]: int(row["n"]) for row in cur.fetchall()}
    return Exposure(sum(per_ticker.values()), per_ticker)


def day_pnl(cur: RealDictCursor, day_start: datetime) -> DayPnl:
    """Today's P&L as a broker reports it, in dollars: realized P&L of positions closed since `day_start`
    (net of fees), and for held positions the move since the previous close (carried positions) or since
    entry (today's entries). A carried position not yet given its previous close counts from entry."""
    cur.execute(
        """SELECT
             COALESCE(SUM(realized_pnl) FILTER (WHERE status = 'CLOSED' AND closed_at >= %(start)s), 0) AS realized,
             COALESCE(SUM(
                 (mark - CASE WHEN opened_at < %(start)s AND prev_close_mark IS NOT NULL
                              THEN prev_close_mark ELSE entry_price END) * quantity * multiplier
             ) FILTER (WHERE status IN ('OPEN', 'CLOSING') AND mark IS NOT NULL), 0) AS unrealized
           FROM positions
           WHERE status IN ('OPEN', 'CLOSING') OR closed_at >= %(start)s""",
        {"start": day_start},
    )
    row = cur.fetchone() or {"realized": Decimal(0), "unrealized": Decimal(0)}
    return DayPnl(realized=Decimal(row["realized"]), unrealized=round(Decimal(row["unrealized"]), 2))


def lock_unfinished_before(
    cur: RealDictCursor, ticker: str, direction: str | None, before_seq: int
) -> list[UnfinishedEntry]:
    """The BUY signals of `ticker` (and `direction`, when given) that arrived before `before_seq` and are not
    final yet, locked. No SKIP LOCKED: a CLOSE waits for another worker to finish with them rather than
    miss them.

    Their entry orders are locked first, then the signals: the paper executor locks an order before its
    signal, and taking them in the same order means the two never wait on each other in a circle. A signal
    whose entry filled meanwhile is EXECUTED by then, and is left out (its position is closed instead)."""
    where = """ticker = %(t)s AND seq < %(seq)s AND status IN ('PENDING', 'ACCEPTED', 'ORDERED')
               AND action = 'BUY' AND (%(d)s::text IS NULL OR direction = %(d)s)"""
    args = {"t": ticker, "seq": before_seq, "d": direction}
    cur.execute(
        f"""SELECT id FROM orders WHERE purpose = 'ENTRY' AND signal_id IN (SELECT id FROM signals WHERE {where})
            ORDER BY id FOR UPDATE""",
        args,
    )
    cur.execute(
        f"SELECT id, action, direction, status FROM signals WHERE {where} ORDER BY seq FOR UPDATE", args
    )
    return [UnfinishedEntry(**(row | {"status": SignalStatus(row["status"])})) for row in cur.fetchall()]


def held_positions_for(cur: RealDictCursor, ticker: str, direction: str | None) -> list[HeldPosition]:
    """The OPEN positions of a ticker (and direction), oldest first, locked. No SKIP LOCKED: a row the
    refresher or exit monitor is pricing is waited for, never skipped, so a CLOSE cannot miss it."""
    cur.execute(
        f"""SELECT {HELD_COLUMNS} FROM positions p
           WHERE ticker = %s AND status = 'OPEN' AND (%s::text IS NULL OR option_type = %s)
           -- oldest first: by fill, then by the arrival of the alert that opened it
           ORDER BY opened_at, (SELECT seq FROM signals s WHERE s.id = p.signal_id), id FOR UPDATE""",
        (ticker, direction, direction),
    )
    return [HeldPosition(**(row | {"status": PositionStatus(row["status"])})) for row in cur.fetchall()]


def closable_count_for(cur: RealDictCursor, ticker: str, direction: str | None, before_seq: int) -> int:
    """What a CLOSE for `ticker` would act on: open positions plus earlier entries not yet filled."""
    cur.execute(
        """SELECT (SELECT count(*) FROM positions WHERE ticker = %(t)s AND status = 'OPEN'
                     AND (%(d)s::text IS NULL OR option_type = %(d)s))
                + (SELECT count(*) FROM signals WHERE ticker = %(t)s AND seq < %(seq)s AND action = 'BUY'
                     AND status IN ('PENDING', 'ACCEPTED', 'ORDERED')
                     AND (%(d)s::text IS NULL OR direction = %(d)s)) AS n""",
        {"t": ticker, "d": direction, "seq": before_seq},
    )
    row = cur.fetchone()
    return int(row["n"]) if row else 0
