"""Expiry: when a contract stops trading, and what it settles for."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from optionflow.market.calendar import NyseCalendar

CENT = Decimal("0.01")


def expiry_close(expiry: date, calendar: NyseCalendar) -> datetime:
    """The instant a contract expiring on `expiry` stops trading: that session's close (13:00 New York on
    an early close). An expiry that is not a trading day expires at the close of the trading day before."""
    day = expiry if calendar.is_trading_day(expiry) else calendar.previous_trading_day(expiry)
    session = calendar.session(day)
    assert session is not None
    return session.close


def settlement_value(option_type: str, strike: Decimal, underlying_close: Decimal) -> Decimal:
    """Dollars per share at expiry: intrinsic value when in the money by $0.01 or more (OCC's exercise
    threshold), otherwise 0."""
    intrinsic = underlying_close - strike if option_type == "CALL" else strike - underlying_close
    intrinsic = Decimal(intrinsic).quantize(CENT)
    return intrinsic if intrinsic >= CENT else Decimal(0)
