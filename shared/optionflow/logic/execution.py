"""The executor: fill working paper orders; a buy opens a position, a sell closes one with realized P&L.

Order, trade, position and signal all change in one transaction per batch, so a crash leaves either
all of a fill or none of it.

With BROKER=alpaca|tradier the same worker routes the orders to the broker instead and polls their fills
(`logic/routing.py`); BROKER=paper (simulated, or paper on real quotes) takes the paper path below.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from optionflow import observability
from optionflow.calendar import NEW_YORK, NyseCalendar
from optionflow.db import book as book_db
from optionflow.db import notifications as notifications_db
from optionflow.db import orders as orders_db
from optionflow.db import positions as positions_db
from optionflow.db import signals as signals_db
from optionflow.db.connection import is_transient, savepoint
from optionflow.db.rows import WorkingOrder
from optionflow.events import names as events
from optionflow.logic.results import ExecutionResult, RoutingResult
from optionflow.logic.runs import drain
from optionflow.market.ports import usable_quote
from optionflow.observability import logger
from optionflow.states import OrderStatus, PositionStatus, SignalStatus

if TYPE_CHECKING:
    from optionflow.composition import Dependencies

BATCH = 500


def session_close_for(created_at: datetime, calendar: NyseCalendar) -> datetime:
    """When a DAY order placed at `created_at` stops working: the close of the session it was placed in,
    or of the next session when it was placed after the close or on a closed day."""
    day = created_at.astimezone(NEW_YORK).date()
    session = calendar.session(day)
    if session is None or created_at >= session.close:
        session = calendar.session(calendar.next_trading_day(day))
    assert session is not None
    return session.close


def _expire(cur: Any, order: WorkingOrder, now: datetime) -> None:
    reason = "DAY order not filled by the close"
    orders_db.mark_ended(cur, order.id, OrderStatus.EXPIRED, reason, now)
    notifications_db.orders_ended(cur, [order.id], now)
    if order.purpose == "ENTRY":
        signals_db.set_status(cur, order.for_signal, SignalStatus.FAILED, reasons=[reason], at=now)
    else:  # the position stays open; the exit monitor will ask again next session
        positions_db.set_status(cur, order.for_position, PositionStatus.OPEN, now)
        if order.signal_id:
            # the trader's SELL/CLOSE did not happen: say so rather than leave it looking ordered
            why = "its exit order was not filled by the close; the position is still open"
            signals_db.set_status(cur, order.signal_id, SignalStatus.FAILED, reasons=[why], at=now)


def _cancel_entry(cur: Any, order: WorkingOrder, reason: str, now: datetime) -> None:
    orders_db.mark_ended(cur, order.id, OrderStatus.CANCELLED, reason, now)
    notifications_db.orders_ended(cur, [order.id], now)
    signals_db.set_status(cur, order.for_signal, SignalStatus.CANCELLED, reasons=[reason], at=now)


def _price(deps: Dependencies, order: WorkingOrder, now: datetime) -> Any:
    quote = deps.market.option_quote(order.ticker, order.option_type, order.strike, order.expiry, now)
    # a crossed, ask-less or stale quote raises QuoteRefused: the order waits for a usable one
    usable_quote(quote, now, deps.settings.max_quote_age_seconds, deps.settings.market_data)
    return deps.broker.fill_price(side=order.side, bid=quote.bid, ask=quote.ask)


def _open_all(
    cur: Any, fills: list[tuple[WorkingOrder, Any]], now: datetime, fee_per_contract: Decimal
) -> list[str]:
    """Entry fills of a batch: orders filled, positions opened, trades recorded, signals executed —
    a handful of statements for the whole batch."""
    if not fills:
        return []
    # the positions first, so one UPDATE fills each order and points it at its position (a second UPDATE
    # of the rows just updated wrote every order twice and re-checked its foreign keys)
    position_ids = positions_db.open_positions(cur, fills, now, fee_per_contract)
    orders_db.mark_filled_many(
        cur, [(order.id, price, order.quantity) for order, price in fills], now, positions=position_ids
    )
    notifications_db.entries_filled(cur, list(position_ids.values()), now)
    positions_db.record_trades(
        cur, [(order, position_ids[order.id], price) for order, price in fills], now, fee_per_contract
    )
    signals_db.set_statuses(cur, [(order.for_signal, SignalStatus.EXECUTED, None) for order, _ in fills], now)
    return [str(position_ids[order.id]) for order, _ in fills]


def _close(cur: Any, order: WorkingOrder, price: Any, now: datetime, deps: Dependencies) -> Decimal:
    """Fill an exit order; returns the position's realized P&L in dollars, net of fees."""
    orders_db.mark_filled_many(cur, [(order.id, price, order.quantity)], now)
    positions_db.record_trades(cur, [(order, order.for_position, price)], now, deps.broker.fee_per_contract)
    pnl = positions_db.close_from_fill(
        cur, order.for_position, price, order.reason, now, deps.broker.fees(order.quantity)
    )
    notifications_db.positions_closed(cur, [order.for_position], now)
    if order.signal_id:
        signals_db.set_status(cur, order.signal_id, SignalStatus.EXECUTED, at=now)
    return pnl


def _observe_fills(
    entries: list[tuple[WorkingOrder, Any]],
    opened: list[str],
    closes: list[tuple[WorkingOrder, Decimal]],
    now: datetime,
) -> None:
    """Log lines (correlated by signal id) and metrics for a batch's fills, after it committed."""
    observability.signal_lines(
        "entry filled, position opened",
        [
            (
                order.signal_id,
                {"position_id": pid, "option_symbol": order.option_symbol, "price": price},
            )
            for (order, price), pid in zip(entries, opened, strict=True)
        ],
    )
    for order, pnl in closes:
        # correlated with the alert that opened the trade; a closing alert's own id is logged beside it
        logger.info(
            "exit filled, position closed",
            extra={
                "correlation_id": str(order.entry_signal_id or order.position_id),
                "closing_signal_id": str(order.signal_id) if order.signal_id else None,
                "position_id": str(order.position_id),
                "reason": order.reason,
                "realized_pnl": float(pnl),
            },
        )
    observability.count(observability.ORDERS_FILLED, len(opened) + len(closes))
    observability.milliseconds(
        observability.ALERT_TO_FILL,
        [
            (now - order.signal_received_at).total_seconds() * 1000
            for order, _ in entries
            if order.signal_received_at is not None
        ],
    )


def execute_pending(deps: Dependencies, now: datetime) -> ExecutionResult | RoutingResult:
    """Fill (or expire) every working paper order, a batch per transaction. Outside the session orders
    wait, unless their DAY has ended. An order whose quote fails waits for the next run; the others fill.
    In a broker mode, route the orders to the broker and poll their fills instead."""
    if deps.order_broker is not None:
        from optionflow.logic.routing import route_pending

        return route_pending(deps, now)
    outcome = {"opened": 0, "closed": 0, "expired": 0, "cancelled": 0, "waiting": 0, "failed_quotes": 0}
    seen: set[Any] = set()

    def step(batch: int) -> int:
        moved = _execute_batch(deps, now, batch, seen)
        for key, value in moved.items():
            outcome[key] += value
        return (
            moved["opened"] + moved["closed"] + moved["expired"] + moved["cancelled"] + moved["failed_quotes"]
        )

    drain(step, BATCH)
    return ExecutionResult(**outcome)


def _execute_batch(deps: Dependencies, now: datetime, batch: int, seen: set[Any]) -> dict[str, int]:
    calendar = deps.calendar
    fee = deps.broker.fee_per_contract
    outcome = {"opened": 0, "closed": 0, "expired": 0, "cancelled": 0, "waiting": 0, "failed_quotes": 0}
    market_open = calendar.is_open(now)
    entries: list[tuple[WorkingOrder, Any]] = []
    closes: list[tuple[WorkingOrder, Decimal]] = []
    with deps.db.transaction() as cur:
        kill_switch = book_db.risk_limits(cur).kill_switch
        # only orders this run left working are skipped on its later pages: a short list, not every order
        for order in orders_db.claim_working(cur, "PAPER", batch, skip=list(seen)):
            if now >= session_close_for(order.created_at, calendar):
                _expire(cur, order, now)
                outcome["expired"] += 1
            elif order.purpose == "ENTRY" and kill_switch:
                _cancel_entry(cur, order, "kill switch is ON: no new entries", now)
                outcome["cancelled"] += 1
            elif not market_open:
                outcome["waiting"] += 1
            else:
                try:
                    price = _price(deps, order, now)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    # ContractExpired included: the exit monitor settles an expired position
                    logger.warning(
                        "quote failed; the order waits for the next run",
                        extra={"order_id": str(order.id), "error": f"{type(exc).__name__}: {exc}"},
                    )
                    outcome["failed_quotes"] += 1
                    seen.add(order.id)
                    continue
                if order.purpose == "ENTRY":
                    entries.append((order, price))
                    continue
                try:
                    with savepoint(cur):
                        closes.append((order, _close(cur, order, price, now, deps)))
                    outcome["closed"] += 1
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    logger.exception("exit fill failed; the order waits", extra={"order_id": str(order.id)})
                    outcome["failed_quotes"] += 1
                    seen.add(order.id)
        opened = _open_all(cur, entries, now, fee)
        outcome["opened"] = len(opened)
    _observe_fills(entries, opened, closes, now)
    observability.count(observability.QUOTES_FAILED, outcome["failed_quotes"])
    if outcome["opened"] + outcome["closed"] + outcome["expired"] + outcome["cancelled"]:
        deps.publish(events.NOTICES_QUEUED, {})  # each of them wrote a notification
    if opened:
        # the refresher prices just these at once; its minute sweep covers the whole book
        deps.publish(events.POSITION_OPENED, {"count": len(opened), "position_ids": opened})
    return outcome
