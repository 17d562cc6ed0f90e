"""Position refresher: re-price every open position (mark, Greeks, unrealized P&L) and total the book.

Marks follow the market's hours: in a session a position is priced now; outside one it keeps the price of
the last close (no overnight or weekend drift moves its mark or its high-water mark). An expired contract
has no quote and is left to the exit monitor, which settles it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from optionflow import observability
from optionflow.calendar import NEW_YORK, NyseCalendar
from optionflow.db import positions as positions_db
from optionflow.db.connection import is_transient
from optionflow.db.rows import PricedPosition
from optionflow.events import names as events
from optionflow.logic.results import MarksResult
from optionflow.market.ports import ContractExpired, MarketData, MarketDataError, usable_quote
from optionflow.observability import logger

if TYPE_CHECKING:
    from optionflow.composition import Dependencies

PAGE = 1000


def pricing_instant(now: datetime, calendar: NyseCalendar) -> datetime:
    """When marks are taken at `now`: now in a session, else the close of the last session before now."""
    if calendar.is_open(now):
        return now
    day = now.astimezone(NEW_YORK).date()
    session = calendar.session(day)
    if session is not None and now >= session.close:
        return session.close
    last = calendar.session(calendar.previous_trading_day(day))
    assert last is not None
    return last.close


def previous_close(now: datetime, calendar: NyseCalendar) -> datetime:
    """The close of the last session that ended before today (New York) began: day P&L counts from it."""
    day = now.astimezone(NEW_YORK).date()
    last = calendar.session(calendar.previous_trading_day(day))
    assert last is not None
    return last.close


def _mark(
    market: MarketData,
    position: PricedPosition,
    at: datetime,
    prev_close: datetime,
    max_quote_age: float,
    source: str = "simulated",
) -> dict[str, Any]:
    args = (position.ticker, position.option_type, position.strike, position.expiry)
    quote = usable_quote(market.option_quote(*args, at), at, max_quote_age, source)
    g = quote.greeks
    mark = {
        "id": position.id,
        "mark": quote.mid,
        "bid": quote.bid,
        "ask": quote.ask,
        "underlying": quote.underlying,
        "iv": round(quote.iv, 5),
        "delta": round(g.delta, 6),
        "gamma": round(g.gamma, 6),
        "theta": round(g.theta_per_day, 6),
        "vega": round(g.vega_per_point, 6),
        "priced_at": at,
    }
    if position.opened_at < prev_close and position.prev_close_at != prev_close:
        # carried over a close: its mark there is where today's P&L starts
        try:
            mark["prev_close_mark"] = market.option_quote(*args, prev_close).mid
            mark["prev_close_at"] = prev_close
        except MarketDataError:
            pass  # a real provider serves only the latest quote: day P&L then counts from the entry
    return mark


def refresh_all(deps: Dependencies, now: datetime, only: list[str] | None = None) -> MarksResult:
    """Re-price open positions page by page (or just the positions in `only`). A position whose quote fails
    is flagged stale, keeping its last mark visible as such; its price is never silently reused as fresh."""
    calendar = deps.calendar
    at = pricing_instant(now, calendar)
    prev_close = previous_close(now, calendar)
    max_quote_age = deps.settings.max_quote_age_seconds
    refreshed = stale = expired = 0
    priced: list[str] = []
    after: UUID | None = None
    while True:
        with deps.db.transaction() as cur:
            page = positions_db.claim_open(cur, PAGE, after, only)
            if not page:
                break
            marks, failed = [], []
            for position in page:
                try:
                    marks.append(
                        _mark(deps.market, position, at, prev_close, max_quote_age, deps.settings.market_data)
                    )
                except ContractExpired:
                    expired += 1  # settled by the exit monitor at its expiry's close
                except MarketDataError as refused:
                    # a refused quote (stale, crossed) or a provider that could not answer: said without a
                    # traceback, as outside a session a real provider has no quote for the last close
                    logger.warning(
                        "no usable quote; position flagged stale",
                        extra={"position_id": str(position.id), "reason": str(refused)},
                    )
                    failed.append(position.id)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    logger.exception(
                        "quote failed; position flagged stale", extra={"position_id": str(position.id)}
                    )
                    failed.append(position.id)
            if marks:
                positions_db.save_marks(cur, marks)
            positions_db.flag_stale(cur, failed, now)
            refreshed += len(marks)
            priced += [str(m["id"]) for m in marks]
            stale += len(failed)
            after = page[-1].id
        if len(page) < PAGE:  # the last page: asking again would only find nothing
            break
    # The book's totals read every open position: a sweep reports them, a run scoped to the positions an
    # event names (one per fast-path burst) does not pay a read of the whole book for them.
    totals = None if only is not None else deps.db.run_statement(positions_db.totals)
    observability.count(observability.QUOTES_FAILED, stale)
    if refreshed:
        deps.publish(
            events.POSITIONS_REFRESHED, {"count": refreshed, "position_ids": priced if only else None}
        )
    return MarksResult(
        refreshed=refreshed,
        stale=stale,
        expired=expired,
        priced_as_of=at.isoformat(),
        open_positions=totals.open_positions if totals else None,
        total_unrealized_pnl=totals.unrealized_pnl if totals else None,
        market_value=totals.market_value if totals else None,
        delta_shares=totals.delta_shares if totals else None,
    )
