"""Order creator: contract choice and sizing for accepted entries; exits for SELL/CLOSE alerts.

Signals for one ticker take effect in arrival order. A SELL or CLOSE closes the ticker's open positions
(oldest first; `quantity` contracts when the alert names a quantity) and cancels the entries of earlier
signals that have not filled, waiting for a row another worker holds rather than skipping it. Each signal is
handled on its own: one that raises is FAILED with the error in its trail, and the batch goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from optionflow import observability
from optionflow.calendar import NEW_YORK
from optionflow.db import book as book_db
from optionflow.db import notifications as notifications_db
from optionflow.db import orders as orders_db
from optionflow.db import positions as positions_db
from optionflow.db import signals as signals_db
from optionflow.db.connection import is_transient, savepoint
from optionflow.db.rows import CancelledEntry, ExitRules, HeldPosition, RiskLimits
from optionflow.db.signals import ClaimedSignal
from optionflow.events import names as events
from optionflow.logic.entry_strategy import EntryStrategy, plan_contract_settings
from optionflow.logic.results import OrdersResult
from optionflow.logic.risk import Check, kill_switch_check
from optionflow.logic.runs import drain
from optionflow.logic.sizing import contracts_for
from optionflow.market.memo import AnswersOnce
from optionflow.market.ports import ListedOption, OptionQuote
from optionflow.observability import logger
from optionflow.pricing.contract_choice import (
    DELTA,
    STEPS,
    choose_expiry_in_window,
    days_to_expiry,
    liquidity_problems,
    nearest_strike,
    strike_by_delta,
    strike_by_steps,
)
from optionflow.pricing.expiry import choose_expiry
from optionflow.pricing.occ import occ_root, occ_symbol
from optionflow.pricing.quote_checks import quote_problem
from optionflow.pricing.strikes import atm_strike
from optionflow.states import PositionStatus, SignalStatus, require

if TYPE_CHECKING:
    from optionflow.composition import Dependencies

BATCH = 500


def choose_contract(
    deps: Dependencies, signal: ClaimedSignal, now: datetime, min_dte: int
) -> tuple[Decimal, Any, Decimal]:
    """(strike, expiry, underlying price): the alert's strike/expiry when given, else ATM and the nearest
    weekly expiry outside the DTE time-stop window, on the standard grid (no chain asked for)."""
    spot = deps.market.underlying_price(signal.ticker, now)
    strike = Decimal(signal.strike) if signal.strike is not None else atm_strike(signal.ticker, spot)
    expiry = signal.expiry or choose_expiry(now.astimezone(NEW_YORK).date(), min_dte, deps.calendar)
    return strike, expiry, spot


def choose_listed_contract(
    deps: Dependencies, signal: ClaimedSignal, now: datetime, exit_min_dte: int | None
) -> tuple[Check, ListedOption | None, Decimal]:
    """(check, contract, underlying price) from the provider's listed chain: the alert's expiry, else the
    nearest listed one in the DTE window (its lower end raised past the exit rules' DTE time stop); the
    alert's strike, else the strike the settings ask for (ATM, target delta, or steps from ATM); then the
    liquidity guards. A failed check carries the numbers and no contract."""
    settings, ticker, direction = deps.settings, signal.ticker, signal.direction
    assert direction is not None
    today = now.astimezone(NEW_YORK).date()
    low = max(settings.contract_min_dte, exit_min_dte + 1 if exit_min_dte is not None else 0)
    high = settings.contract_max_dte
    listed = deps.market.expirations(ticker, now)
    inputs: dict[str, Any] = {"dte_window": f"{low}-{high}", "method": settings.strike_selection}
    if signal.expiry is not None:
        if signal.expiry not in listed:
            return _refused(f"expiry {signal.expiry} is not listed for {ticker}", inputs), None, Decimal(0)
        expiry = signal.expiry
    else:
        chosen = choose_expiry_in_window(listed, today, low, high)
        if chosen is None:
            detail = (
                f"no {ticker} expiry listed {low} to {high} days out "
                f"(listed: {', '.join(e.isoformat() for e in listed[:8]) or 'none'})"
            )
            return _refused(detail, inputs), None, Decimal(0)
        expiry = chosen
    chain = deps.market.option_chain(ticker, now, expiry, expiry)
    spot = chain.underlying
    options = chain.listed(expiry, direction)
    inputs.update(underlying=spot, expiry=expiry, dte=days_to_expiry(expiry, today))
    if not options:
        return _refused(f"the {ticker} {expiry} chain lists no {direction}s", inputs), None, spot
    strikes = [o.strike for o in options]
    strike: Decimal | None
    if signal.strike is not None:
        strike = Decimal(signal.strike)
        if strike not in strikes:
            near = nearest_strike(strikes, strike)
            detail = (
                f"strike {strike.normalize():f} is not listed for {ticker} {expiry} {direction}s "
                f"(nearest listed {near.normalize():f})"
            )
            return _refused(detail, inputs), None, spot
    elif settings.strike_selection == DELTA:
        strike = strike_by_delta(
            [(o.strike, o.greeks.delta if o.greeks else None) for o in options], settings.target_delta
        )
        inputs["target_delta"] = settings.target_delta
        if strike is None:
            return _refused(f"the {ticker} {expiry} chain gives no deltas", inputs), None, spot
    elif settings.strike_selection == STEPS:
        strike = strike_by_steps(strikes, spot, direction, settings.strike_steps)
        inputs["strike_steps"] = settings.strike_steps
        if strike is None:
            detail = f"{settings.strike_steps} steps from the money is past the listed strikes"
            return _refused(detail, inputs), None, spot
    else:
        strike = nearest_strike(strikes, spot)
    option = next(o for o in options if o.strike == strike)
    inputs.update(
        strike=strike,
        bid=option.bid,
        ask=option.ask,
        open_interest=option.open_interest,
        delta=option.greeks.delta if option.greeks else None,
        max_spread_share=settings.max_spread_share,
        min_open_interest=settings.min_open_interest,
    )
    problems = liquidity_problems(
        option.bid, option.ask, option.open_interest, settings.max_spread_share, settings.min_open_interest
    )
    if problems:
        return _refused(f"{option.symbol}: " + "; ".join(problems), inputs), None, spot
    detail = f"{option.symbol} listed, {inputs['dte']} DTE, chosen by {settings.strike_selection}"
    return Check("contract", True, detail, inputs), option, spot


def _refused(detail: str, inputs: dict[str, Any]) -> Check:
    return Check("contract", False, detail, inputs)


def exit_order(
    position: HeldPosition,
    mode: str,
    reason: str,
    at: datetime,
    signal_id: UUID | None = None,
    quantity: int | None = None,
    position_id: UUID | None = None,
) -> dict[str, Any]:
    return {
        "created_at": at,
        "updated_at": at,
        "signal_id": str(signal_id) if signal_id else None,
        "position_id": str(position_id or position.id),
        "purpose": "EXIT",
        "ticker": position.ticker,
        "option_symbol": position.option_symbol,
        "option_type": position.option_type,
        "strike": position.strike,
        "expiry": position.expiry,
        "side": "SELL_TO_CLOSE",
        "quantity": quantity or position.quantity,
        "mode": mode,
        "reason": reason,
    }


@dataclass(frozen=True)
class PricedContract:
    """The contract an entry would buy and its usable quote; prices in dollars per share."""

    strike: Decimal
    expiry: date
    spot: Decimal
    symbol: str
    quote: OptionQuote
    worst: Decimal  # the worst fill: the ask plus the configured slippage
    contract: Check | None  # the chain choice's check, when the contract came from the listed chain


def price_contract(
    deps: Dependencies, signal: ClaimedSignal, now: datetime, min_dte: int | None, *, from_chain: bool
) -> tuple[Check | None, PricedContract | None]:
    """(a failed check, None) when no usable contract or quote, else (None, the contract and its quote):
    from the listed chain (choose_listed_contract) or the standard grid (choose_contract). A quote that may
    not be used (crossed, no ask, stale) is a failed check, not an order."""
    direction = signal.direction
    if direction is None:  # signal_shape_check refuses a BUY without one: an accepted entry has it
        raise ValueError("an entry needs a direction (CALL or PUT)")
    contract: Check | None = None
    if from_chain:
        contract, listed, spot = choose_listed_contract(deps, signal, now, min_dte)
        if listed is None:
            return contract, None
        strike, expiry = listed.strike, listed.expiry
    else:
        strike, expiry, spot = choose_contract(deps, signal, now, min_dte or 0)
    symbol = occ_symbol(occ_root(signal.ticker), expiry, direction, strike)
    quote = deps.market.option_quote(signal.ticker, direction, strike, expiry, now)
    problem = quote_problem(quote.bid, quote.ask, quote.as_of, now, deps.settings.max_quote_age_seconds)
    if problem:
        quoted = {"option_symbol": symbol, "bid": quote.bid, "ask": quote.ask, "quoted_at": quote.as_of}
        return Check("quote", False, f"{symbol}: {problem}", quoted), None
    worst = deps.broker.fill_price(side="BUY_TO_OPEN", bid=quote.bid, ask=quote.ask)
    return None, PricedContract(strike, expiry, spot, symbol, quote, worst, contract)


def plan_entry(
    deps: Dependencies,
    signal: ClaimedSignal,
    now: datetime,
    limits: RiskLimits,
    min_dte: int | None,
    mode: str,
) -> tuple[Check, dict[str, Any] | None]:
    """The sizing decision for one accepted BUY and, when it affords a contract, its entry order.
    `min_dte` is the exit rules' DTE time stop (None: off).

    The budget is spent against the worst price the fill can have (the ask plus the configured slippage)
    and the fees, so a filled entry never costs more than `risk_per_trade`. A contract the listed chain
    refuses, or a quote that may not be used (crossed, no ask, stale), is a failed check, not an order."""
    failed, priced = price_contract(deps, signal, now, min_dte, from_chain=deps.settings.contract_from_chain)
    if priced is None:
        assert failed is not None
        return failed, None
    size = contracts_for(
        budget=limits.risk_per_trade,
        premium=priced.worst,
        max_contracts=limits.max_contracts_per_order,
        requested=signal.quantity,
        fee_per_contract=deps.broker.fee_per_contract,
    )
    inputs = {
        "underlying": priced.spot,
        "strike": priced.strike,
        "expiry": priced.expiry,
        "option_symbol": priced.symbol,
        "bid": priced.quote.bid,
        "ask": priced.quote.ask,
        "worst_fill": priced.worst,
        "fee_per_contract": deps.broker.fee_per_contract,
        "budget": limits.risk_per_trade,
        "contracts": size.contracts,
    }
    if priced.contract is not None:
        inputs["contract"] = priced.contract.detail
    check = Check("sizing", size.contracts > 0, size.reason, inputs)
    if size.contracts == 0:
        return check, None
    return check, _entry_order(signal, priced, size.contracts, mode, now)


def plan_strategy_entry(
    deps: Dependencies,
    signal: ClaimedSignal,
    now: datetime,
    limits: RiskLimits,
    rules: ExitRules,
    mode: str,
    strategy: EntryStrategy,
    priced_before: dict[tuple[Any, ...], tuple[Check | None, PricedContract | None]] | None = None,
) -> tuple[list[Check], dict[str, Any] | None]:
    """As plan_entry, by the strategy engine (logic/entry_strategy.py): the alert's plan may choose the
    contract (by delta, steps or DTE, from the listed chain), the sizing method in force sizes it, and every
    configured portfolio cap must hold on the book after the fill.

    `priced_before` (a batch's, at `now`) remembers the contract and quote of each contract question asked
    on the configured settings, so the batch's entries for one contract price it once."""
    window = strategy.time_stop_window(signal, now, deps.calendar)
    if window is not None and not window.passed:
        return [window], None
    plan = strategy.contract_plan(signal)
    contract_deps, exit_min_dte, chosen = plan_contract_settings(deps, plan, rules.min_dte)
    from_chain = deps.settings.contract_from_chain or plan.chooses_contract
    if priced_before is None or contract_deps is not deps:  # a plan's own settings: priced on its own
        failed, priced = price_contract(contract_deps, signal, now, exit_min_dte, from_chain=from_chain)
    else:
        # every input of price_contract but the signal's contract fields is the batch's own
        key = (signal.ticker, signal.direction, signal.strike, signal.expiry, exit_min_dte, from_chain)
        if key not in priced_before:  # one that raises is not remembered
            priced_before[key] = price_contract(deps, signal, now, exit_min_dte, from_chain=from_chain)
        failed, priced = priced_before[key]
    if priced is None:
        assert failed is not None
        return [failed], None
    checks = [priced.contract] if priced.contract is not None else []
    if priced.contract is not None:
        chosen["dte"] = priced.contract.inputs.get("dte")
    sized, contracts = strategy.size(
        deps, signal, quote=priced.quote, worst=priced.worst, expiry=priced.expiry, limits=limits, now=now
    )
    first = sized[0]
    where = {"strike": priced.strike, "expiry": priced.expiry, "option_symbol": priced.symbol}
    sized[0] = Check(
        first.name, first.passed, first.detail, {**where, "worst_fill": priced.worst, **first.inputs}
    )
    checks += sized
    if contracts == 0:
        return checks, None
    strategy.keep(
        signal,
        contracts=contracts,
        worst=priced.worst,
        quote=priced.quote,
        rules=rules,
        chosen={**chosen, "strike": str(priced.strike), "expiry": priced.expiry.isoformat()},
        now=now,
    )
    return checks, _entry_order(signal, priced, contracts, mode, now)


def _entry_order(
    signal: ClaimedSignal, priced: PricedContract, contracts: int, mode: str, now: datetime
) -> dict[str, Any]:
    return {
        "signal_id": str(signal.id),
        "purpose": "ENTRY",
        "ticker": signal.ticker,
        "option_symbol": priced.symbol,
        "option_type": signal.direction,
        "strike": priced.strike,
        "expiry": priced.expiry,
        "side": "BUY_TO_OPEN",
        "quantity": contracts,
        "mode": mode,
        "reason": f"{signal.action} {signal.direction} alert",
        "created_at": now,
        "updated_at": now,
    }


def _exits(cur: Any, signal: ClaimedSignal, now: datetime, mode: str) -> tuple[str, list[str]]:
    """Carry out a SELL/CLOSE; returns the signal's new status and what it did, in words."""
    ticker, direction = signal.ticker, signal.direction
    what: list[str] = []
    # 1. Earlier entries that have not filled are cancelled (waiting for any worker holding them).
    earlier = book_db.lock_unfinished_before(cur, ticker, direction, signal.seq)
    reason = f"cancelled by a later {signal.action} alert ({signal.id})"
    unordered = [s.id for s in earlier if s.status in (SignalStatus.PENDING, SignalStatus.ACCEPTED)]
    ordered = [s.id for s in earlier if s.status == SignalStatus.ORDERED]
    stopped = orders_db.cancel_working_entries(cur, ordered, reason, now)
    settle_cancelled_entries(cur, stopped, reason, now)
    signals_db.set_statuses(cur, [(sid, SignalStatus.CANCELLED, [reason]) for sid in unordered], now)
    cancelled = unordered + [e.signal_id for e in stopped]
    if cancelled:
        what.append(f"cancelled {len(cancelled)} unfilled entr{'y' if len(cancelled) == 1 else 'ies'}")
    # 2. Open positions close, oldest first; a quantity closes that many contracts and splits a lot.
    remaining = signal.quantity
    closing = 0
    for position in book_db.held_positions_for(cur, ticker, direction):
        if remaining is not None and remaining <= 0:
            break
        take = position.quantity if remaining is None else min(remaining, position.quantity)
        target = position.id
        if take < position.quantity:
            target = positions_db.split(cur, position, take, now)
        order = exit_order(position, mode, f"{signal.action} alert", now, signal.id, take, target)
        if orders_db.insert(cur, order):
            require("position", position.status, PositionStatus.CLOSING)
            positions_db.set_status(cur, target, PositionStatus.CLOSING, now)
            closing += take
            if remaining is not None:
                remaining -= take
    if closing:
        what.append(f"closing {closing} contract{'' if closing == 1 else 's'}")
        if remaining:
            what.append(f"the alert asked for {signal.quantity}; only {closing} were open")
        return SignalStatus.ORDERED, what
    if cancelled:
        return SignalStatus.EXECUTED, what
    return SignalStatus.REJECTED, [f"no open {ticker} position left to close"]


def settle_cancelled_entries(cur: Any, entries: list[CancelledEntry], reason: str, now: datetime) -> None:
    """The signals of entry orders cancelled while working: CANCELLED when nothing had filled; EXECUTED
    when part had (its position holds what filled), with how much in its reasons."""
    signals_db.set_statuses(
        cur,
        [
            (e.signal_id, SignalStatus.CANCELLED, [reason])
            if e.filled == 0
            else (
                e.signal_id,
                SignalStatus.EXECUTED,
                [f"partially filled: {e.filled} of {e.quantity} contracts, then the rest was {reason}"],
            )
            for e in entries
        ],
        now,
    )


def create_pending(deps: Dependencies, now: datetime) -> OrdersResult:
    """Turn every accepted signal into orders, a batch per transaction; returns how many were handled."""
    return OrdersResult(drain(lambda batch: _order_batch(deps, now, batch), BATCH))


class _Batch:
    """What a batch has decided but not yet written: entries go in one statement, not three per signal."""

    def __init__(self, strategy: EntryStrategy | None = None) -> None:
        self.strategy = strategy
        self.trail: list[tuple[Any, Check]] = []
        self.outcomes: list[tuple[Any, str, list[str] | None]] = []
        self.entries: list[dict[str, Any]] = []
        self.created = 0
        self.written: list[dict[str, Any]] = []
        self.final: list[tuple[Any, str, list[str] | None]] = []

    def flush(self, cur: Any, now: datetime) -> None:
        signals_db.record_decisions(cur, self.trail, now)
        self.created += orders_db.insert_many(cur, self.entries)
        if self.strategy is not None:
            self.strategy.flush(cur)  # each entry's Greeks and plan, beside its order
        signals_db.set_statuses(cur, self.outcomes, now)
        self.written += self.entries
        self.final += self.outcomes
        self.trail, self.outcomes, self.entries = [], [], []


def _order_batch(deps: Dependencies, now: datetime, batch: int) -> int:
    # the batch's entries are priced at one instant: each quote, spot and chain is asked for once
    deps = deps.replace(market=AnswersOnce(deps.market))
    mode = deps.settings.app_mode
    market_open = deps.calendar.is_open(now)
    failures: list[UUID] = []
    with deps.db.transaction() as cur:
        signals = signals_db.claim(cur, SignalStatus.ACCEPTED, batch)
        if not signals:
            return 0
        limits = book_db.risk_limits(cur)
        rules = book_db.exit_rules(cur)
        # locks the book for the portfolio caps until this transaction commits
        strategy = EntryStrategy.open(cur, signals)
        pending = _Batch(strategy)
        priced_before: dict[tuple[Any, ...], tuple[Check | None, PricedContract | None]] = {}
        for signal in signals:
            try:
                if signal.action != "BUY":
                    # earlier entries of this batch are written first, so the CLOSE sees (and cancels) them
                    pending.flush(cur, now)
                    with savepoint(cur):
                        status, what = _exits(cur, signal, now, mode)
                    if status == SignalStatus.ORDERED:
                        pending.created += 1
                    pending.trail.append(
                        (signal.id, Check("exit", status != SignalStatus.REJECTED, "; ".join(what)))
                    )
                    pending.outcomes.append(
                        (signal.id, status, what if status == SignalStatus.REJECTED else None)
                    )
                    continue
                if limits.kill_switch:
                    # Switched on after this entry was accepted: it still means no new entries, so the entry
                    # stops here, and this line replaces the passed kill_switch line in its trail.
                    check = kill_switch_check(True)
                    pending.trail.append((signal.id, check))
                    pending.outcomes.append((signal.id, SignalStatus.REJECTED, [check.detail]))
                    continue
                if not market_open:
                    # Entries are DAY orders: none is placed outside a session to fill at the next open.
                    detail = "market closed before the entry could be ordered (entries are DAY orders)"
                    pending.trail.append((signal.id, Check("market_open_at_order", False, detail)))
                    pending.outcomes.append((signal.id, SignalStatus.REJECTED, [detail]))
                    continue
                checks, order = plan_strategy_entry(
                    deps, signal, now, limits, rules, mode, strategy, priced_before
                )
            except Exception as exc:
                if is_transient(exc):
                    raise
                logger.exception("signal could not be ordered", extra={"correlation_id": str(signal.id)})
                error = Check("order", False, f"could not be ordered: {type(exc).__name__}: {exc}")
                pending.trail.append((signal.id, error))
                pending.outcomes.append((signal.id, SignalStatus.FAILED, [error.detail]))
                failures.append(signal.id)
                continue
            pending.trail += [(signal.id, check) for check in checks]
            if order is None:
                failed = [check.detail for check in checks if not check.passed]
                pending.outcomes.append((signal.id, SignalStatus.REJECTED, failed))
            else:
                pending.entries.append(order)
                pending.outcomes.append((signal.id, SignalStatus.ORDERED, None))
        pending.flush(cur, now)
        rejected = notifications_db.signals_rejected(
            cur, [s for s, st, _ in pending.final if st != SignalStatus.ORDERED], now
        )
    observability.signal_lines(
        "entry order created",
        [
            (o["signal_id"], {"option_symbol": o["option_symbol"], "quantity": o["quantity"]})
            for o in pending.written
        ],
    )
    observability.signal_lines(
        "signal rejected at sizing",
        [
            (sid, {"status": status, "reasons": reasons})
            for sid, status, reasons in pending.final
            if status in (SignalStatus.REJECTED, SignalStatus.FAILED)
        ],
    )
    observability.count(observability.ORDERS_CREATED, pending.created)
    observability.count(observability.SIGNALS_FAILED, len(failures))
    if rejected:
        deps.publish(events.NOTICES_QUEUED, {"count": rejected})
    if pending.created:
        deps.publish(events.ORDER_CREATED, {"count": pending.created})
    return len(signals)
