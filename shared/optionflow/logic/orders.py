"""Order creator: contract choice and sizing for accepted entries; exit orders for SELL/CLOSE alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from optionflow import observability
from optionflow.config import get_settings
from optionflow.db import book as book_db
from optionflow.db import orders as orders_db
from optionflow.db import positions as positions_db
from optionflow.db import signals as signals_db
from optionflow.db.connection import transaction
from optionflow.events import bus
from optionflow.logic.risk import Check, kill_switch_check
from optionflow.logic.runs import drain
from optionflow.logic.sizing import contracts_for
from optionflow.market.calendar import NEW_YORK
from optionflow.market.provider import get_calendar, get_market_data
from optionflow.pricing.expiry import choose_expiry
from optionflow.pricing.occ import occ_symbol
from optionflow.pricing.strikes import atm_strike

BATCH = 200


def choose_contract(signal: dict[str, Any], now: datetime, min_dte: int) -> tuple[Decimal, Any, Decimal]:
    """(strike, expiry, underlying price): the alert's strike/expiry when given, else ATM and the nearest
    weekly expiry outside the DTE time-stop window."""
    market = get_market_data()
    spot = market.underlying_price(signal["ticker"], now)
    strike = Decimal(signal["strike"]) if signal["strike"] is not None else atm_strike(signal["ticker"], spot)
    expiry = signal["expiry"] or choose_expiry(now.astimezone(NEW_YORK).date(), min_dte, get_calendar())
    return strike, expiry, spot


def exit_order(
    position: dict[str, Any], mode: str, reason: str, at: datetime, signal_id: UUID | None = None
) -> dict[str, Any]:
    return {
        "created_at": at,
        "updated_at": at,
        "signal_id": str(signal_id) if signal_id else None,
        "position_id": str(position["id"]),
        "purpose": "EXIT",
        "ticker": position["ticker"],
        "option_symbol": position["option_symbol"],
        "option_type": position["option_type"],
        "strike": position["strike"],
        "expiry": position["expiry"],
        "side": "SELL_TO_CLOSE",
        "quantity": position["quantity"],
        "mode": mode,
        "reason": reason,
    }


def plan_entry(
    signal: dict[str, Any], now: datetime, limits: dict[str, Any], min_dte: int, mode: str
) -> tuple[Check, dict[str, Any] | None]:
    """The sizing decision for one accepted BUY and, when it affords a contract, its entry order."""
    strike, expiry, spot = choose_contract(signal, now, min_dte)
    quote = get_market_data().option_quote(signal["ticker"], signal["direction"], strike, expiry, now)
    size = contracts_for(
        budget=Decimal(limits["risk_per_trade"]),
        premium=quote.ask,
        max_contracts=int(limits["max_contracts_per_order"]),
        requested=signal["quantity"],
    )
    symbol = occ_symbol(signal["ticker"], expiry, signal["direction"], strike)
    inputs = {
        "underlying": spot,
        "strike": strike,
        "expiry": expiry,
        "option_symbol": symbol,
        "bid": quote.bid,
        "ask": quote.ask,
        "budget": limits["risk_per_trade"],
        "contracts": size.contracts,
    }
    check = Check("sizing", size.contracts > 0, size.reason, inputs)
    if size.contracts == 0:
        return check, None
    return check, {
        "signal_id": str(signal["id"]),
        "purpose": "ENTRY",
        "ticker": signal["ticker"],
        "option_symbol": symbol,
        "option_type": signal["direction"],
        "strike": strike,
        "expiry": expiry,
        "side": "BUY_TO_OPEN",
        "quantity": size.contracts,
        "mode": mode,
        "reason": f"{signal['action']} {signal['direction']} alert",
        "created_at": now,
        "updated_at": now,
    }


def _exits(cur: Any, signal: dict[str, Any], now: datetime, mode: str) -> bool:
    created = False
    for position in book_db.open_positions_for(cur, signal["ticker"], signal["direction"]):
        reason = f"{signal['action']} alert"
        if orders_db.insert(cur, exit_order(position, mode, reason, now, signal["id"])):
            positions_db.set_status(cur, position["id"], "CLOSING", now)
            created = True
    if created:
        signals_db.set_status(cur, signal["id"], "ORDERED", at=now)
    else:
        reason = f"no open {signal['ticker']} position left to close"
        signals_db.set_status(cur, signal["id"], "REJECTED", reasons=[reason], at=now)
    return created


def create_pending(now: datetime) -> int:
    """Turn every accepted signal into orders, a batch per transaction; returns how many were handled."""
    return drain(lambda batch: _order_batch(now, batch), BATCH)


def _order_batch(now: datetime, batch: int) -> int:
    mode = get_settings().app_mode
    with transaction() as cur:
        signals = signals_db.claim(cur, "ACCEPTED", batch)
        if not signals:
            return 0
        limits = book_db.risk_limits(cur)
        min_dte = int(book_db.exit_rules(cur)["min_dte"] or 0)
        created = 0
        trail: list[tuple[Any, Check]] = []
        outcomes: list[tuple[Any, str, list[str] | None]] = []
        entries: list[dict[str, Any]] = []
        for signal in signals:
            if signal["action"] != "BUY":
                created += int(_exits(cur, signal, now, mode))
                continue
            if limits["kill_switch"]:
                # Switched on after this entry was accepted: it still means no new entries, so the entry
                # stops here, and this line replaces the passed kill_switch line in its trail.
                check = kill_switch_check(True)
                trail.append((signal["id"], check))
                outcomes.append((signal["id"], "REJECTED", [check.detail]))
                continue
            check, order = plan_entry(signal, now, limits, min_dte, mode)
            trail.append((signal["id"], check))
            if order is None:
                outcomes.append((signal["id"], "REJECTED", [check.detail]))
            else:
                entries.append(order)
                outcomes.append((signal["id"], "ORDERED", None))
        # the whole batch's entries in three statements, not three per signal
        signals_db.record_decisions(cur, trail, now)
        created += orders_db.insert_many(cur, entries)
        signals_db.set_statuses(cur, outcomes, now)
    observability.signal_lines(
        "entry order created",
        [(o["signal_id"], {"option_symbol": o["option_symbol"], "quantity": o["quantity"]}) for o in entries],
    )
    observability.signal_lines(
        "signal rejected at sizing",
        [(sid, {"reasons": reasons}) for sid, status, reasons in outcomes if status == "REJECTED"],
    )
    observability.count(observability.ORDERS_CREATED, created)
    if created:
        bus.publish(bus.ORDER_CREATED, {"count": created})
    return len(signals)
