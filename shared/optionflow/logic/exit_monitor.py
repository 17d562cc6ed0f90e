"""Exit monitor: settle expired contracts, evaluate open positions, keep the exit alerts current, and place
exit orders once.

Expiry holds whatever the exit rules say: at the expiry session's close (13:00 New York on an early close)
every held contract of that expiry settles, in the money by $0.01 or more at intrinsic value from the
underlying's closing price (paper: cash-settled), otherwise worthless.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from optionflow import observability
from optionflow.calendar import NEW_YORK, NyseCalendar
from optionflow.db import book as book_db
from optionflow.db import exit_signals as exit_db
from optionflow.db import notifications as notifications_db
from optionflow.db import orders as orders_db
from optionflow.db import positions as positions_db
from optionflow.db import signals as signals_db
from optionflow.db import strategy as strategy_db
from optionflow.db.rows import CancelledExit, HeldPosition, PricedPosition
from optionflow.events import names as events
from optionflow.logic.exits import PositionView, evaluate
from optionflow.logic.greek_exits import greek_exits, rules_in_force
from optionflow.logic.orders import exit_order, settle_cancelled_entries
from optionflow.logic.results import ExitsResult
from optionflow.logic.runs import drain
from optionflow.observability import logger
from optionflow.pricing.expiry import expiry_close, settlement_value
from optionflow.states import PositionStatus, SignalStatus, require

if TYPE_CHECKING:
    from optionflow.composition import Dependencies

PAGE = 1000
EXPIRED = "EXPIRED"


def settle_expired(deps: Dependencies, now: datetime, calendar: NyseCalendar) -> int:
    """Settle every held position whose expiry session has closed by `now`, a page per transaction;
    returns how many."""
    return drain(lambda limit: _settle_page(deps, now, calendar, limit), PAGE)


def _settle_page(deps: Dependencies, now: datetime, calendar: NyseCalendar, limit: int) -> int:
    mode = deps.settings.app_mode
    market = deps.market
    today = now.astimezone(NEW_YORK).date()
    settled: list[tuple[HeldPosition, Decimal, Decimal, Decimal]] = []
    # Most runs find nothing due: that look is one autocommit read, and only a settlement opens a transaction
    # (which claims the expired positions itself).
    held = deps.db.run_statement(lambda cur: positions_db.expiries_held(cur, today))
    due = [e for e in held if now >= expiry_close(e, calendar)]
    if not due:
        return 0
    with deps.db.transaction() as cur:
        closes: dict[tuple[str, date], Decimal] = {}
        page = positions_db.expired(cur, due, limit)
        for position in page:
            key = (position.ticker, position.expiry)
            if key not in closes:
                closes[key] = market.underlying_price(
                    position.ticker, expiry_close(position.expiry, calendar)
                )
            underlying = closes[key]
            value = settlement_value(position.option_type, position.strike, underlying)
            at = expiry_close(position.expiry, calendar)
            stopped = orders_db.cancel_working_exit(cur, position.id, "the contract expired", now)
            if stopped is not None:
                position = _close_what_the_exit_sold(deps, cur, position, stopped, value, at)
                if position.quantity == 0:
                    continue
            reason = EXPIRED
            order = exit_order(position, mode, reason, at)
            filled = orders_db.insert_filled(cur, order, value, at)
            positions_db.record_trades(cur, [(filled, position.id, value)], at)
            pnl = positions_db.close_from_fill(cur, position.id, value, reason, at)
            settled.append((position, underlying, value, pnl))
        notifications_db.positions_closed(cur, [p.id for p, _, _, _ in settled], now)
    for position, underlying, value, pnl in settled:
        logger.info(
            "expired, position settled",
            extra={
                "correlation_id": str(position.signal_id or position.id),
                "position_id": str(position.id),
                "option_symbol": position.option_symbol,
                "underlying_close": float(underlying),
                "settlement": float(value),
                "realized_pnl": float(pnl),
            },
        )
    observability.count(observability.EXPIRIES_SETTLED, len(settled))
    if page:
        deps.publish(events.NOTICES_QUEUED, {})
    return len(page)  # every one ended: settled, or sold in full by its exit


def _close_what_the_exit_sold(
    deps: Dependencies,
    cur: Any,
    position: HeldPosition,
    stopped: CancelledExit,
    settlement: Decimal,
    at: datetime,
) -> HeldPosition:
    """A position expired while its exit order was working. What that order had sold closes at its fill
    price as a lot of its own (as when a broker ends a partly filled exit); returns the position that is
    left to settle, with no contracts when the exit had sold them all. The SELL/CLOSE alert the exit
    carried out is final now, with what became of each part."""
    sold = min(stopped.filled, position.quantity)
    if sold:
        assert stopped.avg_fill_price is not None
        positions_db.set_status(cur, position.id, PositionStatus.OPEN, at)
        lot = position.id
        if sold < position.quantity:
            lot = positions_db.split(cur, dataclasses.replace(position, status=PositionStatus.OPEN), sold, at)
        positions_db.close_from_fill(
            cur, lot, stopped.avg_fill_price, stopped.reason, at, deps.broker.fees(sold)
        )
        notifications_db.positions_closed(cur, [lot], at)
    left = position.quantity - sold
    if stopped.signal_id is not None:
        what = (
            f"{sold} of {stopped.quantity} contracts sold at ${stopped.avg_fill_price:.2f}"
            if sold
            else "nothing sold"
        )
        settled = f", {left} settled at ${settlement:.2f} when the contract expired" if left else ""
        signals_db.set_statuses(cur, [(stopped.signal_id, SignalStatus.EXECUTED, [f"{what}{settled}"])], at)
    return dataclasses.replace(position, quantity=left)


def _rest_of_entry_cancelled(cur: Any, position: HeldPosition, rule: str, now: datetime) -> bool:
    """Before a position is exited, what is still working of its entry (the rest of a partial fill at a
    broker) is cancelled: filled later, it would grow a position already being sold, and the exit would
    close in the book contracts the broker still holds. False when the executor holds that order right now
    (the exit is placed on the next run)."""
    if position.signal_id is None:
        return True
    why = f"cancelled when its position's {rule} exit fired"
    rest = orders_db.cancel_rest_of_entry(cur, position.signal_id, why, now)
    if rest is True:
        return False
    if rest is not False:
        settle_cancelled_entries(cur, [rest], why, now)
    return True


def monitor(deps: Dependencies, now: datetime, only: list[str] | None = None) -> ExitsResult:
    """Settle expiries, then evaluate every open position (or just those in `only`, after a fast-path
    refresh)."""
    calendar = deps.calendar
    today = now.astimezone(NEW_YORK).date()
    session = calendar.session(today)
    market_open = calendar.is_open(now)
    settings = deps.settings
    counts = {
        "evaluated": 0,
        "alerts": 0,
        "exit_orders": 0,
        "exit_orders_deferred": 0,
        "settled": settle_expired(deps, now, calendar),
        "stale": 0,
    }
    stale_notices = 0
    after: UUID | None = None
    placed: list[tuple[PricedPosition, Any, str]] = []
    while True:
        with deps.db.transaction() as cur:
            rules = book_db.exit_rules(cur)
            page = positions_db.claim_open(cur, PAGE, after, only)
            if not page:
                break
            firing: list[tuple[Any, str]] = []
            # each position's stored plan and Greeks, and its ticker's Greeks-exit settings (logic/greek_exits)
            strategy = strategy_db.settings_for(cur, {p.ticker for p in page})
            greeks_on = any(s.greek_exits_on for s in strategy.values())
            terms = strategy_db.entry_terms(cur, [p.id for p in page], all_of_them=greeks_on)
            for position in page:
                own = terms.get(position.id)
                view = PositionView(
                    position.entry_price,
                    position.mark,
                    position.high_water_mark,
                    position.price_stale,
                    position.expiry,
                    position.opened_at,
                    position.priced_at,
                )
                alerts = evaluate(
                    view,
                    rules_in_force(rules, own.plan if own else None, strategy[position.ticker]),
                    today=today,
                    now=now,
                    session_close=session.close if session else None,
                    market_open=market_open,
                    max_mark_age_seconds=settings.mark_max_age_seconds,
                )
                current = not position.price_stale and position.mark is not None
                if (
                    own is not None
                    and market_open
                    and current
                    and not any(a.rule == "STALE_MARK" for a in alerts)
                ):
                    alerts += greek_exits(own, strategy[position.ticker])
                firing += [(position.id, a.rule) for a in alerts]
                counts["stale"] += sum(a.rule == "STALE_MARK" for a in alerts)
                closing = None
                for alert in alerts:
                    alert_id = exit_db.upsert_active(cur, position.id, alert, now)
                    if alert.closes and closing is None:
                        closing = (alert, alert_id)
                counts["alerts"] += len(alerts)
                # Exit orders only while the market is open (a DAY order placed after the close would
                # just expire); the unique index allows one live exit order per position.
                if closing and market_open and position.status == PositionStatus.OPEN:
                    alert, alert_id = closing
                    # every closing rule that fired is named, e.g. PROFIT_TARGET+TRAILING_STOP
                    reason = "+".join(a.rule for a in alerts if a.closes)
                    if not _rest_of_entry_cancelled(cur, position, reason, now):
                        counts["exit_orders_deferred"] += 1
                        continue
                    order_id = orders_db.insert(cur, exit_order(position, settings.app_mode, reason, now))
                    if order_id:
                        require("position", position.status, PositionStatus.CLOSING)
                        positions_db.set_status(cur, position.id, PositionStatus.CLOSING, now)
                        exit_db.attach_order(cur, alert_id, order_id)
                        counts["exit_orders"] += 1
                        placed.append((position, alert, reason))
            exit_db.resolve_not_firing(cur, [p.id for p in page], firing, now)
            stale_notices += notifications_db.stale_marks_appeared(cur, [p.id for p in page], now)
            counts["evaluated"] += len(page)
            after = page[-1].id
        if len(page) < PAGE:  # the last page: asking again would only find nothing
            break
    observability.signal_lines(
        "exit rule fired, exit order placed",
        [
            (p.signal_id or p.id, {"position_id": str(p.id), "rule": reason, "details": a.details})
            for p, a, reason in placed
        ],
    )
    observability.count_by(observability.EXITS, "Rule", [a.rule for _, a, _ in placed])
    observability.count(observability.STALE_MARKS, counts["stale"])
    if stale_notices:
        deps.publish(events.NOTICES_QUEUED, {})
    if counts["exit_orders"]:
        deps.publish(events.ORDER_CREATED, {"count": counts["exit_orders"]})
    return ExitsResult(**counts)
