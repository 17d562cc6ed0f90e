"""Position refresher: re-price every open position (mark, Greeks, unrealized P&L) and total the book."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from optionflow.db import positions as positions_db
from optionflow.db.connection import run_in_transaction, transaction
from optionflow.events import bus
from optionflow.market.provider import get_market_data
from optionflow.observability import logger

PAGE = 1000


def _mark(position: dict[str, Any], now: datetime) -> dict[str, Any]:
    quote = get_market_data().option_quote(
        position["ticker"], position["option_type"], position["strike"], position["expiry"], now
    )
    g = quote.greeks
    return {
        "id": position["id"],
        "mark": quote.mid,
        "bid": quote.bid,
        "ask": quote.ask,
        "underlying": quote.underlying,
        "iv": round(quote.iv, 5),
        "delta": round(g.delta, 6),
        "gamma": round(g.gamma, 6),
        "theta": round(g.theta_per_day, 6),
        "vega": round(g.vega_per_point, 6),
        "priced_at": now,
    }


def refresh_all(now: datetime, only: list[str] | None = None) -> dict[str, Any]:
    """Re-price open positions page by page (or just the positions in `only`). A position whose quote fails is flagged stale, keeping its
    last mark visible as such; its price is never silently reused as fresh."""
    refreshed = stale = 0
    priced: list[str] = []
    after: UUID | None = None
    while True:
        with transaction() as cur:
            page = positions_db.claim_open(cur, PAGE, after, only)
            if not page:
                break
            marks, failed = [], []
            for position in page:
                try:
                    marks.append(_mark(position, now))
                except Exception:
                    logger.exception(
                        "quote failed; position flagged stale", extra={"position_id": str(position["id"])}
                    )
                    failed.append(position["id"])
            if marks:
                positions_db.save_marks(cur, marks)
            positions_db.flag_stale(cur, failed, now)
            refreshed += len(marks)
            priced += [str(m["id"]) for m in marks]
            stale += len(failed)
            after = page[-1]["id"]
    totals = run_in_transaction(positions_db.totals)
    if refreshed:
        bus.publish(bus.POSITIONS_REFRESHED, {"count": refreshed, "position_ids": priced if only else None})
    return {
        "refreshed": refreshed,
        "stale": stale,
        "open_positions": int(totals.get("open_positions", 0)),
        "total_unrealized_pnl": Decimal(totals.get("unrealized_pnl", 0)),
        "market_value": Decimal(totals.get("market_value", 0)),
        "delta_shares": Decimal(totals.get("delta_shares", 0)),
    }
