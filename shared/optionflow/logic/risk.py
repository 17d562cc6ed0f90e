"""Risk checks on a signal: pure functions from (signal, book, limits, market state) to check results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from optionflow.calendar import NEW_YORK

if TYPE_CHECKING:
    from optionflow.db.rows import RiskLimits
    from optionflow.db.signals import ClaimedSignal


@dataclass(frozen=True)
class Check:
    """One line of a signal's decision trail."""

    name: str
    passed: bool
    detail: str
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Book:
    """What is already at risk: open positions plus accepted entries not yet filled."""

    open_total: int
    open_per_ticker: dict[str, int]
    realized_today: Decimal
    unrealized: Decimal


def market_session_check(is_open: bool, now_et: str, session: str | None) -> Check:
    if is_open:
        return Check(
            "market_open", True, f"NYSE open ({session}) at {now_et}", {"now_et": now_et, "session": session}
        )
    reason = f"market closed at {now_et} ET" + (
        f" (today's session {session})" if session else " (no session today)"
    )
    return Check("market_open", False, reason, {"now_et": now_et, "session": session})


def signal_shape_check(signal: ClaimedSignal, today: Any, max_contracts: int) -> Check:
    problems = []
    if signal.action == "BUY" and not signal.direction:
        problems.append("a BUY needs a direction")
    # an expiry in the past is the contract check's to say (`contract_listed`), with the rest of the contract
    # the per-order cap limits entries only: an exit is never blocked by an entry limit
    if signal.action == "BUY" and signal.quantity is not None and signal.quantity > max_contracts:
        problems.append(f"quantity {signal.quantity} exceeds max {max_contracts} contracts per order")
    inputs = {
        "action": signal.action,
        "direction": signal.direction,
        "expiry": signal.expiry,
        "quantity": signal.quantity,
    }
    if problems:
        return Check("signal_valid", False, "; ".join(problems), inputs)
    return Check("signal_valid", True, "ticker, action and direction are consistent", inputs)


def contract_check(signal: ClaimedSignal, now: datetime, calendar: Any, market: Any) -> Check:
    """An entry names a contract OCC lists: a ticker with an OCC root, and when the alert gives a strike
    or an expiry, a listed one (no weekend, holiday or past expiry, a strike on the listed grid). What the
    alert leaves out is what the order creator would choose: the strike nearest the money, this week's
    expiry."""
    from optionflow.pricing.contracts import listed_contract_problems
    from optionflow.pricing.expiry import weekly_expiry_on_or_after
    from optionflow.pricing.occ import occ_root
    from optionflow.pricing.strikes import atm_strike

    ticker = signal.ticker
    inputs: dict[str, Any] = {"ticker": ticker, "strike": signal.strike, "expiry": signal.expiry}
    try:
        root = occ_root(ticker)
    except ValueError as exc:
        return Check("contract_listed", False, str(exc), inputs)
    inputs["occ_root"] = root
    problems: list[str] = []
    if signal.strike is not None or signal.expiry is not None:
        today = now.astimezone(NEW_YORK).date()
        spot = market.underlying_price(ticker, now)
        inputs["underlying"] = spot
        problems = listed_contract_problems(
            ticker=ticker,
            option_type=signal.direction,
            strike=signal.strike if signal.strike is not None else atm_strike(ticker, spot),
            expiry=signal.expiry or weekly_expiry_on_or_after(today, calendar),
            today=today,
            spot=spot,
            calendar=calendar,
        )
    if problems:
        return Check("contract_listed", False, "; ".join(problems), inputs)
    return Check("contract_listed", True, f"OCC root {root}; the contract can be listed", inputs)


def entry_window_check(now: datetime, session_close: datetime, close_minutes: int | None) -> Check:
    """No entry inside the end-of-day window the time stop closes in (the last minute when it is 0):
    it would be closed again within minutes, paying the spread twice."""
    minutes_left = (session_close - now).total_seconds() / 60
    inputs = {"minutes_to_close": round(minutes_left, 1), "close_minutes_before_close": close_minutes}
    if close_minutes is None:
        return Check("entry_window", True, "no end-of-day time stop", inputs)
    window = max(close_minutes, 1)
    if minutes_left <= window:
        return Check(
            "entry_window",
            False,
            f"{minutes_left:.0f} minutes to the {session_close:%H:%M} close, inside the "
            f"{close_minutes}-minute end-of-day window",
            inputs,
        )
    return Check("entry_window", True, f"{minutes_left:.0f} minutes to the close", inputs)


def kill_switch_check(on: bool) -> Check:
    return Check(
        "kill_switch",
        not on,
        "kill switch is ON: no new entries" if on else "kill switch off",
        {"kill_switch": on},
    )


def entry_checks(ticker: str, book: Book, limits: RiskLimits) -> list[Check]:
    """The limits that gate a new entry. Exits are never blocked by them (nor by the kill switch)."""
    checks = [kill_switch_check(limits.kill_switch)]
    max_open = limits.max_open_positions
    checks.append(
        Check(
            "max_open_positions",
            book.open_total < max_open,
            f"{book.open_total} open or pending of max {max_open}",
            {"open": book.open_total, "max": max_open},
        )
    )
    per_ticker = book.open_per_ticker.get(ticker, 0)
    max_ticker = limits.max_positions_per_ticker
    checks.append(
        Check(
            "max_positions_per_ticker",
            per_ticker < max_ticker,
            f"{per_ticker} open or pending on {ticker} of max {max_ticker}",
            {"ticker": ticker, "open": per_ticker, "max": max_ticker},
        )
    )
    day = book.realized_today + book.unrealized
    max_loss = limits.max_daily_loss
    checks.append(
        Check(
            "max_daily_loss",
            day > -max_loss,
            f"today's P&L ${day:,.2f} (realized ${book.realized_today:,.2f}, unrealized ${book.unrealized:,.2f}) "
            f"against a ${max_loss:,.2f} loss limit",
            {"realized": book.realized_today, "unrealized": book.unrealized, "max_daily_loss": max_loss},
        )
    )
    return checks


def exit_target_check(open_count: int, ticker: str, direction: str | None) -> Check:
    what = f"{ticker} {direction or 'CALL or PUT'}"
    if open_count:
        return Check(
            "has_open_position", True, f"{open_count} open {what} position(s) to close", {"open": open_count}
        )
    return Check("has_open_position", False, f"no open {what} position to close", {"open": 0})
