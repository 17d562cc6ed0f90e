"""Whether an alert's strike and expiry name a contract that can be listed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from optionflow.pricing.strikes import strike_increment

MAX_YEARS_OUT = 3  # LEAPS are listed about three years out


def listed_contract_problems(
    *,
    ticker: str,
    option_type: str | None,
    strike: Decimal | None,
    expiry: date | None,
    today: date,
    spot: Decimal | None,
    calendar: Any,
) -> list[str]:
    problems: list[str] = []
    if expiry is not None:
        if expiry < today:
            problems.append(f"expiry {expiry} is in the past")
        elif expiry > today + timedelta(days=366 * MAX_YEARS_OUT):
            problems.append(
                f"expiry {expiry} is more than {MAX_YEARS_OUT} years out; no such contract is listed"
            )
        elif not calendar.is_trading_day(expiry):
            problems.append(f"expiry {expiry} is not a trading day (weekend or exchange holiday)")
    if strike is not None:
        if strike <= 0 or strike >= 100_000 or strike != strike.quantize(Decimal("0.001")):
            problems.append(f"strike {strike} cannot be an OCC strike (positive, below 100,000, 3 decimals)")
        elif strike % Decimal("0.5") != 0 and (spot is None or strike % strike_increment(ticker, spot) != 0):
            problems.append(f"strike {strike} is not on the listed strike grid")
    return problems
