"""The order router and fill poller of the broker modes (BROKER=alpaca|tradier): the executor's work when
a real broker fills the orders.

Each run, in four passes:

1. **Send.** PENDING orders (DAY limits priced from the quote: `logic/order_pricing.py`) are first
   recorded as SUBMITTING with their client id, and that is committed *before* the broker is called. Then,
   holding the order's row lock, the broker is called and its answer recorded. A crash or a timeout between
   the two leaves a SUBMITTING order and exactly one broker order (or none).
2. **Resolve.** A SUBMITTING order nobody holds is looked up by its client id: adopted when the broker has
   it, sent again only when the broker says it has none.
3. **Poll.** Working broker orders are read back: fills update the book by what filled (a partial entry
   opens a smaller position, and grows it as more fills come), a reject is final with the broker's reason
   in the signal's trail, and an order still unfilled after `reprice_after_seconds` climbs the re-price
   ladder (`max_reprices` rungs of `reprice_step`), then is cancelled; a partly filled order is not
   re-priced, its rest is cancelled after the same wait.
4. **Cancel what we ended.** An order we ended while the broker could still fill it (a later CLOSE, the
   kill switch) is cancelled at the broker; contracts it filled first are recorded as a reconciliation
   difference, never silently added to the book.

In LIVE, entries are capped per order and per day (`live_max_order_notional`, `live_max_daily_notional`)
on top of the risk limits; exits are never blocked.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from optionflow import observability
from optionflow.brokers.ports import BrokerError, BrokerOrder, BrokerOrderStatus, BrokerRejected, OrderRequest
from optionflow.calendar import NEW_YORK
from optionflow.db import book as book_db
from optionflow.db import broker_orders as routed_db
from optionflow.db import notifications as notifications_db
from optionflow.db import orders as orders_db
from optionflow.db import positions as positions_db
from optionflow.db import reconciliation as reconciliation_db
from optionflow.db import signals as signals_db
from optionflow.db.connection import is_transient, savepoint
from optionflow.db.rows import RoutedOrder
from optionflow.events import names as events
from optionflow.logic.order_pricing import TickRule, next_limit, opening_limit
from optionflow.logic.orders import settle_cancelled_entries
from optionflow.logic.results import RoutingResult
from optionflow.logic.risk import Check
from optionflow.observability import logger
from optionflow.pricing.ticks import tick_size
from optionflow.states import DifferenceKind, OrderStatus, PositionStatus, SignalStatus, require

if TYPE_CHECKING:
    from optionflow.brokers.ports import OrderBroker
    from optionflow.composition import Dependencies

BATCH = 50  # each order costs a broker call: small batches keep row locks short
# A run stops sending and polling new orders after this long (the rest wait for the next run), so a slow
# broker cannot push a run past the function's timeout: each call may take `broker_timeout_seconds`.
BUDGET_SECONDS = 30.0
PRICE_PLACES = Decimal("0.0001")
WORKING = [OrderStatus.SUBMITTED.value, OrderStatus.PARTIALLY_FILLED.value]
# what we end while the broker may still fill it: a cancel at the broker follows (4. below)
ENDED = [
    s.value for s in (OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED, OrderStatus.FILLED)
]


def _outcome() -> dict[str, int]:
    return {
        "submitted": 0,
        "adopted": 0,
        "resubmitted": 0,
        "unresolved": 0,
        "fills": 0,
        "filled": 0,
        "partially_filled": 0,
        "rejected": 0,
        "cancelled": 0,
        "expired": 0,
        "repriced": 0,
        "waiting": 0,
        "capped": 0,
        "errors": 0,
    }


def route_pending(deps: Dependencies, now: datetime) -> RoutingResult:
    """One router run: send, resolve, poll, cancel what we ended. Returns what moved."""
    broker = deps.order_broker
    assert broker is not None, "route_pending runs only in broker modes"
    outcome = _outcome()
    opened: list[str] = []
    _send_pending(deps, broker, now, outcome)
    _stop_entries_on_kill_switch(deps, now, outcome)
    _resolve_submitting(deps, broker, now, outcome, opened)
    _poll_working(deps, broker, now, outcome, opened)
    _cancel_ended(deps, broker, now, outcome)
    observability.count(observability.ORDERS_FILLED, outcome["filled"])
    if opened:
        deps.publish(events.POSITION_OPENED, {"count": len(opened), "position_ids": opened})
    return RoutingResult(**outcome)


def catch_up(deps: Dependencies, now: datetime) -> dict[str, int]:
    """Adopt SUBMITTING orders the broker has and bring working ones up to date, placing and re-pricing
    nothing: what the reconciler does before it compares books."""
    broker = deps.order_broker
    assert broker is not None
    outcome = _outcome()
    opened: list[str] = []
    _resolve_submitting(deps, broker, now, outcome, opened, resubmit=False)
    _poll_working(deps, broker, now, outcome, opened, ladder=False)
    if opened:
        deps.publish(events.POSITION_OPENED, {"count": len(opened), "position_ids": opened})
    return outcome


# ------------------------------------------------------------------ 1. send


def _session_close(deps: Dependencies, order: RoutedOrder) -> datetime:
    from optionflow.logic.execution import session_close_for

    return session_close_for(order.created_at, deps.calendar)


def _end_unsent(
    cur: Any,
    order: RoutedOrder,
    status: OrderStatus,
    reason: str,
    now: datetime,
    signal_status: SignalStatus = SignalStatus.FAILED,
) -> None:
    """End an order the broker never saw; its signal fails (an entry) or its position stays open (an exit)."""
    require("order", order.status, status)
    routed_db.record(cur, order.id, status=status, reason=reason, at=now)
    _after_unfilled_end(cur, order, reason, now, signal_status)
    notifications_db.orders_ended(cur, [order.id], now)


def _after_unfilled_end(
    cur: Any,
    order: RoutedOrder,
    reason: str,
    now: datetime,
    signal_status: SignalStatus = SignalStatus.FAILED,
) -> None:
    if order.purpose == "ENTRY":
        signals_db.set_status(cur, order.for_signal, signal_status, reasons=[reason], at=now)
        signals_db.record_decisions(cur, [(order.for_signal, Check("broker_order", False, reason))], now)
    else:
        positions_db.set_status(cur, order.for_position, PositionStatus.OPEN, now)
        if order.signal_id:
            why = f"its exit order ended unfilled ({reason}); the position is still open"
            signals_db.set_status(cur, order.signal_id, SignalStatus.FAILED, reasons=[why], at=now)


def _live_cap(deps: Dependencies, cur: Any, order: RoutedOrder, limit: Decimal, now: datetime) -> str | None:
    """Why a LIVE entry may not be sent (the per-order or per-day notional cap), or None."""
    settings = deps.settings
    if settings.app_mode != "LIVE" or order.purpose != "ENTRY":
        return None
    notional = limit * order.quantity * 100
    if notional > settings.live_max_order_notional:
        return (
            f"LIVE per-order cap: ${notional:,.2f} of premium ({order.quantity} × ${limit} × 100) is over "
            f"LIVE_MAX_ORDER_NOTIONAL ${settings.live_max_order_notional:,.2f}"
        )
    day = now.astimezone(NEW_YORK).replace(hour=0, minute=0, second=0, microsecond=0)
    spent = routed_db.entry_notional_since(cur, settings.app_mode, day)
    if spent + notional > settings.live_max_daily_notional:
        return (
            f"LIVE per-day cap: ${spent:,.2f} already committed today plus ${notional:,.2f} is over "
            f"LIVE_MAX_DAILY_NOTIONAL ${settings.live_max_daily_notional:,.2f}"
        )
    return None


def _send_pending(deps: Dependencies, broker: OrderBroker, now: datetime, outcome: dict[str, int]) -> None:
    seen: list[Any] = []
    deadline = time.monotonic() + BUDGET_SECONDS
    while True:
        to_send: list[Any] = []
        with deps.db.transaction() as cur:
            claimed = routed_db.claim(cur, [OrderStatus.PENDING.value], deps.settings.app_mode, BATCH, seen)
            if not claimed:
                return
            kill_switch = book_db.risk_limits(cur).kill_switch
            market_open = deps.calendar.is_open(now)
            for order in claimed:
                seen.append(order.id)
                with savepoint(cur):
                    if now >= _session_close(deps, order):
                        _end_unsent(cur, order, OrderStatus.EXPIRED, "DAY order not sent by the close", now)
                        outcome["expired"] += 1
                    elif order.purpose == "ENTRY" and kill_switch:
                        reason = "kill switch is ON: no new entries"
                        _end_unsent(cur, order, OrderStatus.CANCELLED, reason, now, SignalStatus.CANCELLED)
                        outcome["cancelled"] += 1
                    elif not market_open or time.monotonic() > deadline:
                        outcome["waiting"] += 1
                    else:
                        limit = _opening_limit(deps, order, now)
                        if limit is None:
                            outcome["waiting"] += 1
                            continue
                        capped = _live_cap(deps, cur, order, limit, now)
                        if capped:
                            _end_unsent(cur, order, OrderStatus.REJECTED, capped, now)
                            outcome["capped"] += 1
                            continue
                        require("order", order.status, OrderStatus.SUBMITTING)
                        routed_db.mark_submitting(cur, order.id, str(order.id), broker.name, limit, now)
                        to_send.append(order.id)
        # the intents are committed: now the broker, one order at a time, each under its row lock
        for order_id in to_send:
            _send_one(deps, broker, order_id, now, outcome)
        if len(claimed) < BATCH:
            return


def _stop_entries_on_kill_switch(deps: Dependencies, now: datetime, outcome: dict[str, int]) -> None:
    """With the kill switch on, entries already at the broker stop too, not only those not yet sent: each is
    cancelled here (its signal CANCELLED, or EXECUTED with what had filled) and at the broker by the last
    pass, where a fill that beat the cancel becomes a reconciliation difference."""
    with deps.db.transaction() as cur:
        if not book_db.risk_limits(cur).kill_switch:
            return
        reason = "cancelled by the kill switch (no new entries)"
        stopped = orders_db.cancel_entries_at_broker(cur, deps.settings.app_mode, reason, now)
        settle_cancelled_entries(cur, stopped, reason, now)
        notifications_db.orders_ended(cur, [e.order_id for e in stopped if e.filled == 0], now)
    outcome["cancelled"] += len(stopped)


def _opening_limit(deps: Dependencies, order: RoutedOrder, now: datetime) -> Decimal | None:
    settings = deps.settings
    try:
        quote = deps.market.option_quote(order.ticker, order.option_type, order.strike, order.expiry, now)
        return opening_limit(
            order.side,
            quote.bid,
            quote.ask,
            settings.order_price,
            settings.order_price_step,
            tick=_ticks(deps, order),
        )
    except Exception as exc:
        if is_transient(exc):
            raise
        logger.warning(
            "no usable quote; the order waits for the next run",
            extra={"order_id": str(order.id), "error": f"{type(exc).__name__}: {exc}"},
        )
        observability.count(observability.QUOTES_FAILED)
        return None


def _ticks(deps: Dependencies, order: RoutedOrder) -> TickRule:
    settings = deps.settings
    return functools.partial(
        tick_size,
        order.ticker,
        penny_everywhere=settings.penny_everywhere_tickers,
        nickel_dime=settings.non_penny_tickers,
    )


def _request(order: RoutedOrder, client_id: str, limit: Decimal) -> OrderRequest:
    return OrderRequest(
        client_id=client_id,
        underlying=order.ticker,
        option_symbol=order.option_symbol,
        side=order.side,
        quantity=order.quantity,
        limit_price=limit,
    )


def _send_one(
    deps: Dependencies, broker: OrderBroker, order_id: Any, now: datetime, outcome: dict[str, int]
) -> None:
    with deps.db.transaction() as cur:
        order = routed_db.lock(cur, order_id)
        if order is None or order.status != OrderStatus.SUBMITTING or order.broker_order_id:
            return  # another run resolved it while we waited for its lock
        _place(deps, broker, cur, order, now, outcome, "submitted", [])


def _place(
    deps: Dependencies,
    broker: OrderBroker,
    cur: Any,
    order: RoutedOrder,
    now: datetime,
    outcome: dict[str, int],
    counter: str,
    opened: list[str],
) -> None:
    """Call the broker for a SUBMITTING order we hold, and record its answer in this transaction."""
    assert order.client_order_id and order.limit_price is not None
    try:
        answer = broker.submit(_request(order, order.client_order_id, order.limit_price))
    except BrokerRejected as exc:
        reason = f"rejected by {broker.name}: {exc}".replace(f"{broker.name}: ", "", 1)
        _reject(cur, order, reason, now)
        outcome["rejected"] += 1
        return
    except BrokerError as exc:
        if exc.definite:
            # the broker answered that it did not take the order (a refused key, rate limits): send again
            require("order", order.status, OrderStatus.PENDING)
            routed_db.record(cur, order.id, status=OrderStatus.PENDING, broker_open=False, at=now)
            logger.warning(
                "broker refused the submit; the order waits",
                extra={"order_id": str(order.id), "error": str(exc)},
            )
        else:
            logger.warning(
                "no definite answer to a submit; the next run looks the order up by client id",
                extra={"order_id": str(order.id), "error": str(exc)},
            )
            outcome["unresolved"] += 1
        outcome["errors"] += 1
        return
    _apply(deps, cur, order, answer, now, outcome, opened)
    outcome[counter] += 1


# ------------------------------------------------------------------ 2. resolve


def _resolve_submitting(
    deps: Dependencies,
    broker: OrderBroker,
    now: datetime,
    outcome: dict[str, int],
    opened: list[str],
    *,
    resubmit: bool = True,
) -> None:
    """Adopt the SUBMITTING orders the broker has (by client id); send the others again when `resubmit`
    (the router), or leave them to the router (the reconciler, which never places an order)."""
    mode = deps.settings.app_mode

    def resolve(cur: Any, order: RoutedOrder) -> None:
        assert order.client_order_id is not None
        found = broker.find(order.client_order_id)
        if found is not None:
            _apply(deps, cur, order, found, now, outcome, opened)
            outcome["adopted"] += 1
        elif now >= _session_close(deps, order):
            # the broker never got it and its DAY is over: never send a day order after its day
            reason = "DAY order not placed by the close (its submit was never answered)"
            _end_unsent(cur, order, OrderStatus.EXPIRED, reason, now)
            routed_db.record(cur, order.id, status=OrderStatus.EXPIRED, broker_open=False, at=now)
            outcome["expired"] += 1
        elif resubmit:
            _place(deps, broker, cur, order, now, outcome, "resubmitted", opened)

    _each_under_its_lock(
        deps,
        lambda cur, seen: routed_db.claim(cur, [OrderStatus.SUBMITTING.value], mode, BATCH, seen),
        lambda order: order.status == OrderStatus.SUBMITTING,
        resolve,
        outcome,
        "lookup by client id",
    )


def _each_under_its_lock(
    deps: Dependencies,
    pick: Callable[[Any, list[Any]], list[RoutedOrder]],
    still_due: Callable[[RoutedOrder], bool],
    work: Callable[[Any, RoutedOrder], None],
    outcome: dict[str, int],
    what: str,
) -> None:
    """`work` on every order `pick` finds (given the ids already seen), a batch at a time, each order in its
    own transaction under its own row lock: a broker call holds one order, never a batch, so a CLOSE that
    must cancel an entry waits for one call at most. An order another run holds is skipped, and one that
    run moved on meanwhile is left alone. A BrokerError undoes that order's writes and leaves it to the
    next run; the run goes on with the others."""
    seen: list[Any] = []
    deadline = time.monotonic() + BUDGET_SECONDS
    while True:
        with deps.db.transaction() as cur:
            batch = [order.id for order in pick(cur, seen)]
        for order_id in batch:
            if time.monotonic() > deadline:
                return  # the rest wait for the next run
            seen.append(order_id)
            try:
                with deps.db.transaction() as cur:
                    order = routed_db.lock_if_free(cur, order_id)
                    if order is not None and still_due(order):
                        work(cur, order)
            except BrokerError as exc:
                logger.warning(f"{what} failed", extra={"order_id": str(order_id), "error": str(exc)})
                outcome["errors"] += 1
        if len(batch) < BATCH:
            return


# ------------------------------------------------------------------ 3. poll


def _poll_working(
    deps: Dependencies,
    broker: OrderBroker,
    now: datetime,
    outcome: dict[str, int],
    opened: list[str],
    *,
    ladder: bool = True,
) -> None:
    """Bring every working broker order up to date; climb the re-price ladder when `ladder`."""
    mode = deps.settings.app_mode

    def poll(cur: Any, order: RoutedOrder) -> None:
        assert order.broker_order_id is not None
        current = broker.get(order.broker_order_id)
        order = _apply(deps, cur, order, current, now, outcome, opened)
        if ladder and (current.live or current.status is BrokerOrderStatus.REPLACED):
            _ladder(deps, broker, cur, order, now, outcome)

    _each_under_its_lock(
        deps,
        lambda cur, seen: routed_db.claim(cur, WORKING, mode, BATCH, seen),
        lambda order: order.status in WORKING and order.broker_order_id is not None,
        poll,
        outcome,
        "broker poll",
    )


def _ladder(
    deps: Dependencies,
    broker: OrderBroker,
    cur: Any,
    order: RoutedOrder,
    now: datetime,
    outcome: dict[str, int],
) -> None:
    """Re-price an order unfilled for `reprice_after_seconds`; past the last rung, cancel it."""
    settings = deps.settings
    if order.status not in WORKING or order.cancel_requested_at is not None or order.broker_order_id is None:
        return
    if not deps.calendar.is_open(now):
        return  # outside the session the broker ends DAY orders itself; nothing to re-price against
    if order.priced_at is not None and now - order.priced_at < timedelta(
        seconds=settings.reprice_after_seconds
    ):
        return
    current = broker.get(order.broker_order_id)
    if not current.live:
        return
    rung = None
    # A partly filled order is not re-priced (a replace would restart its fills at the broker): once its
    # wait is over, the rest is cancelled and the position keeps what filled.
    if (
        order.filled_quantity == 0
        and order.reprices < settings.max_reprices
        and order.limit_price is not None
    ):
        try:
            quote = deps.market.option_quote(order.ticker, order.option_type, order.strike, order.expiry, now)
        except Exception as exc:
            if is_transient(exc):
                raise
            # a stale, crossed or missing quote is no price to climb to: the order keeps its price a run
            logger.warning(
                "no usable quote to re-price; the order keeps its price",
                extra={"order_id": str(order.id), "error": f"{type(exc).__name__}: {exc}"},
            )
            return
        rung = next_limit(
            order.side,
            order.limit_price,
            quote.bid,
            quote.ask,
            settings.reprice_step,
            tick=_ticks(deps, order),
        )
    if rung is None:
        broker.cancel(current.broker_id)
        routed_db.record(cur, order.id, status=order.status, at=now, cancel_requested=True)
        return
    client_id = f"{order.id}-r{order.reprices + 1}"
    replaced = broker.replace(current, client_id, rung)
    routed_db.record(
        cur,
        order.id,
        status=order.status,
        at=now,
        broker_order_id=replaced.broker_id,
        client_order_id=replaced.client_id,
        limit_price=rung,
        reprices=order.reprices + 1,
        broker_open=True,
    )
    outcome["repriced"] += 1


# ------------------------------------------------------------------ applying the broker's answer


def _fill_price(order: RoutedOrder, seen: BrokerOrder) -> Decimal:
    """Dollars per share of the contracts filled since we last looked, from the broker's averages."""
    assert seen.avg_fill_price is not None
    delta = seen.filled_quantity - order.filled_quantity
    before = (order.avg_fill_price or Decimal(0)) * order.filled_quantity
    return ((seen.avg_fill_price * seen.filled_quantity - before) / delta).quantize(PRICE_PLACES)


def _apply(
    deps: Dependencies,
    cur: Any,
    order: RoutedOrder,
    seen: BrokerOrder,
    now: datetime,
    outcome: dict[str, int],
    opened: list[str],
) -> RoutedOrder:
    """Bring our order (and the book) to what the broker says about it; returns the order as now stored."""
    if seen.status is BrokerOrderStatus.REPLACED:
        if not seen.replaced_by:
            raise BrokerError("broker", f"order {seen.broker_id} was replaced by an order it does not name")
        assert deps.order_broker is not None
        seen = deps.order_broker.get(seen.replaced_by)
    delta = seen.filled_quantity - order.filled_quantity
    position_id = order.position_id
    if delta > 0 and seen.avg_fill_price is not None:
        price = _fill_price(order, seen)
        fees = deps.broker.fees(delta)
        if order.purpose == "ENTRY":
            position_id = _entry_fill(deps, cur, order, seen, delta, price, now, opened)
        routed_db.record_fill(cur, order, position_id, delta, price, fees, now)
        outcome["fills"] += 1
    if seen.status is BrokerOrderStatus.FILLED:
        status = OrderStatus.FILLED
    elif seen.status is BrokerOrderStatus.OPEN:
        status = OrderStatus.PARTIALLY_FILLED if seen.filled_quantity else OrderStatus.SUBMITTED
    elif seen.status is BrokerOrderStatus.REJECTED:
        status = OrderStatus.REJECTED if not seen.filled_quantity else OrderStatus.CANCELLED
    elif seen.status is BrokerOrderStatus.EXPIRED:
        status = OrderStatus.EXPIRED
    else:
        status = OrderStatus.CANCELLED
    if status != order.status:
        require("order", order.status, status)
    routed_db.record(
        cur,
        order.id,
        status=status,
        at=now,
        broker_order_id=seen.broker_id,
        client_order_id=seen.client_id,
        filled_quantity=seen.filled_quantity,
        avg_fill_price=seen.avg_fill_price,
        broker_open=seen.live,
        reason=seen.reject_reason if status == OrderStatus.REJECTED else None,
    )
    stored = dataclasses.replace(
        order,
        status=status.value,
        broker_order_id=seen.broker_id,
        client_order_id=seen.client_id or order.client_order_id,
        filled_quantity=seen.filled_quantity,
        avg_fill_price=seen.avg_fill_price,
        position_id=position_id,
    )
    if status == order.status:
        return stored
    if status == OrderStatus.FILLED:
        _filled(deps, cur, stored, now)
        outcome["filled"] += 1
    elif status == OrderStatus.PARTIALLY_FILLED:
        outcome["partially_filled"] += 1
    elif status == OrderStatus.REJECTED:
        _after_reject(cur, stored, seen.reject_reason or "rejected by the broker", now)
        notifications_db.orders_ended(cur, [order.id], now)
        outcome["rejected"] += 1
    elif status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        _ended(deps, cur, stored, status, now)
        outcome["expired" if status == OrderStatus.EXPIRED else "cancelled"] += 1
    return stored


def _entry_fill(
    deps: Dependencies,
    cur: Any,
    order: RoutedOrder,
    seen: BrokerOrder,
    delta: int,
    price: Decimal,
    now: datetime,
    opened: list[str],
) -> Any:
    """An entry filled `delta` more contracts: the first fill opens its position (with what filled), later
    ones grow it to the broker's filled quantity at its average price."""
    fee = deps.broker.fee_per_contract
    if order.filled_quantity == 0 or order.position_id is None:
        first = dataclasses.replace(order, quantity=seen.filled_quantity)
        assert seen.avg_fill_price is not None
        ids = positions_db.open_from_fills(cur, [(first, seen.avg_fill_price)], now, fee)
        position_id = ids[order.id]
        opened.append(str(position_id))
        notifications_db.entries_filled(cur, [position_id], now)
        return position_id
    assert seen.avg_fill_price is not None
    if not routed_db.grow_entry(
        cur, order.position_id, seen.filled_quantity, seen.avg_fill_price, fee * delta, now
    ):
        difference = reconciliation_db.record(
            cur,
            order_broker_name(deps),
            DifferenceKind.FILLED_AFTER_CANCEL,
            order.option_symbol,
            detail=f"entry {order.id} filled {delta} more contract(s) at ${price} after its position was closed",
            broker_quantity=seen.filled_quantity,
            book_quantity=order.filled_quantity,
            order_id=order.id,
            broker_order_id=seen.broker_id,
            at=now,
        )
        notifications_db.differences_appeared(
            cur, [difference], now
        )  # a person must decide, as the reconciler's
    return order.position_id


def order_broker_name(deps: Dependencies) -> str:
    return deps.order_broker.name if deps.order_broker is not None else deps.settings.broker


def _filled(deps: Dependencies, cur: Any, order: RoutedOrder, now: datetime) -> None:
    assert order.avg_fill_price is not None
    if order.purpose == "ENTRY":
        signals_db.set_status(cur, order.for_signal, SignalStatus.EXECUTED, at=now)
        return
    pnl_fees = deps.broker.fees(order.filled_quantity)
    positions_db.close_from_fill(cur, order.for_position, order.avg_fill_price, order.reason, now, pnl_fees)
    notifications_db.positions_closed(cur, [order.for_position], now)
    if order.signal_id:
        signals_db.set_status(cur, order.signal_id, SignalStatus.EXECUTED, at=now)


def _reject(cur: Any, order: RoutedOrder, reason: str, now: datetime) -> None:
    require("order", order.status, OrderStatus.REJECTED)
    routed_db.record(cur, order.id, status=OrderStatus.REJECTED, reason=reason, broker_open=False, at=now)
    _after_reject(cur, order, reason, now)
    notifications_db.orders_ended(cur, [order.id], now)


def _after_reject(cur: Any, order: RoutedOrder, reason: str, now: datetime) -> None:
    """A broker reject is final: the signal fails with the broker's reason in its trail."""
    if order.purpose == "ENTRY":
        signals_db.set_status(cur, order.for_signal, SignalStatus.FAILED, reasons=[reason], at=now)
        signals_db.record_decisions(cur, [(order.for_signal, Check("broker_order", False, reason))], now)
    else:
        positions_db.set_status(cur, order.for_position, PositionStatus.OPEN, now)
        if order.signal_id:
            why = f"its exit order was rejected ({reason}); the position is still open"
            signals_db.set_status(cur, order.signal_id, SignalStatus.FAILED, reasons=[why], at=now)


def _ended(deps: Dependencies, cur: Any, order: RoutedOrder, status: OrderStatus, now: datetime) -> None:
    """A broker order ended (cancelled, expired) with `order.filled_quantity` contracts filled."""
    filled = order.filled_quantity
    what = "expired at the close" if status == OrderStatus.EXPIRED else "was cancelled"
    if filled == 0:
        reason = f"the broker order {what} unfilled"
        routed_db.record(cur, order.id, status=status, reason=reason, at=now)
        _after_unfilled_end(cur, order, reason, now)
        notifications_db.orders_ended(cur, [order.id], now)
        return
    reason = f"partially filled: {filled} of {order.quantity} contracts, then the rest {what}"
    routed_db.record(cur, order.id, status=status, reason=reason, at=now)
    if order.purpose == "ENTRY":
        signals_db.set_status(cur, order.for_signal, SignalStatus.EXECUTED, at=now)
        signals_db.record_decisions(cur, [(order.for_signal, Check("broker_order", True, reason))], now)
        return
    # an exit that closed part of its position: that part closes as a lot of its own, the rest stays open
    assert order.avg_fill_price is not None
    position = routed_db.held_position(cur, order.for_position)
    if position is None:
        return
    positions_db.set_status(cur, position.id, PositionStatus.OPEN, now)
    target = position.id
    if filled < position.quantity:
        held = dataclasses.replace(position, status=PositionStatus.OPEN)
        target = positions_db.split(cur, held, filled, now)
    positions_db.close_from_fill(
        cur, target, order.avg_fill_price, order.reason, now, deps.broker.fees(filled)
    )
    notifications_db.positions_closed(cur, [target], now)
    if order.signal_id:
        signals_db.set_status(cur, order.signal_id, SignalStatus.EXECUTED, reasons=[reason], at=now)


# ------------------------------------------------------------------ 4. cancel what we ended


def _cancel_ended(deps: Dependencies, broker: OrderBroker, now: datetime, outcome: dict[str, int]) -> None:
    def cancel(cur: Any, order: RoutedOrder) -> None:
        if order.broker_order_id is None:
            # ended while its submit was unanswered: does the broker have it after all?
            assert order.client_order_id is not None
            found = broker.find(order.client_order_id)
            if found is None:
                routed_db.record(cur, order.id, status=order.status, broker_open=False, at=now)
                return
            order = dataclasses.replace(order, broker_order_id=found.broker_id)
        assert order.broker_order_id is not None
        broker.cancel(order.broker_order_id)
        current = broker.get(order.broker_order_id)
        if current.filled_quantity > order.filled_quantity:
            difference = reconciliation_db.record(
                cur,
                broker.name,
                DifferenceKind.FILLED_AFTER_CANCEL,
                order.option_symbol,
                detail=(
                    f"order {order.id} was {order.status} here but {broker.name} filled "
                    f"{current.filled_quantity} of {order.quantity} contracts"
                ),
                broker_quantity=current.filled_quantity,
                book_quantity=order.filled_quantity,
                order_id=order.id,
                broker_order_id=current.broker_id,
                at=now,
            )
            notifications_db.differences_appeared(cur, [difference], now)
        routed_db.record(
            cur,
            order.id,
            status=order.status,
            broker_order_id=current.broker_id,
            broker_open=current.live,
            at=now,
        )
        outcome["cancelled"] += 0 if current.live else 1

    _each_under_its_lock(
        deps,
        lambda cur, seen: routed_db.claim_ended_but_open(cur, BATCH, seen),
        lambda order: order.broker_open and order.status in ENDED,
        cancel,
        outcome,
        "cancel at the broker",
    )
