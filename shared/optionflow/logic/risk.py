"""Risk checks on a signal: pure functions from (signal, book, limits, market state) to check results."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


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


def signal_shape_check(signal: dict[str, Any], today: Any, max_contracts: int) -> Check:
    problems = []
    if signal["action"] == "BUY" and not signal["direction"]:
        problems.append("a BUY needs a direction")
    if signal["expiry"] is not None and signal["expiry"] < today:
        problems.append(f"expiry {signal['expiry']} is in the past")
    if signal["quantity"] is not None and signal["quantity"] > max_contracts:
        problems.append(f"quantity {signal['quantity']} exceeds max {max_contracts} contracts per order")
    inputs = {
        "action": signal["action"],
        "direction": signal["direction"],
        "expiry": signal["expiry"],
        "quantity": signal["quantity"],
    }
    if problems:
        return Check("signal_valid", False, "; ".join(problems), inputs)
    return Check("signal_valid", True, "ticker, action and direction are consistent", inputs)


def kill_switch_check(on: bool) -> Check:
    return Check(
        "kill_switch",
        not on,
        "kill switch is ON: no new entries" if on else "kill switch off",
        {"kill_switch": on},
    )


def entry_checks(ticker: str, book: Book, limits: dict[str, Any]) -> list[Check]:
    """The limits that gate a new entry. Exits are never blocked by them (nor by the kill switch)."""
    checks = [kill_switch_check(bool(limits["kill_switch"]))]
    max_open = int(limits["max_open_positions"])
    checks.append(
        Check(
            "max_open_positions",
            book.open_total < max_open,
            f"{book.open_total} open or pending of max {max_open}",
            {"open": book.open_total, "max": max_open},
        )
    )
    per_ticker = book.open_per_ticker.get(ticker, 0)
    max_ticker = int(limits["max_positions_per_ticker"])
    checks.append(
        Check(
            "max_positions_per_ticker",
            per_ticker < max_ticker,
            f"{per_ticker} open or pending on {ticker} of max {max_ticker}",
            {"ticker": ticker, "open": per_ticker, "max": max_ticker},
        )
    )
    day = book.realized_today + book.unrealized
    max_loss = Decimal(limits["max_daily_loss"])
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
