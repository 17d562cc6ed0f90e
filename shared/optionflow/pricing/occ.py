"""OCC / OSI option symbols: root + YYMMDD + C/P + strike × 1000 as 8 digits (e.g. SPY261218C00500000)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

_PATTERN = re.compile(r"^(?P<root>[A-Z0-9.]{1,6}) *(?P<date>\d{6})(?P<type>[CP])(?P<strike>\d{8})$")


@dataclass(frozen=True)
class OccContract:
    root: str
    expiry: date
    option_type: str  # CALL or PUT
    strike: Decimal  # dollars per share


def occ_symbol(root: str, expiry: date, option_type: str, strike: Decimal) -> str:
    """The unpadded symbol brokers use. Raises ValueError naming the bad part."""
    if not re.fullmatch(r"[A-Z0-9.]{1,6}", root):
        raise ValueError(f"root {root!r}: 1-6 upper-case letters or digits")
    if option_type not in ("CALL", "PUT"):
        raise ValueError(f"option_type {option_type!r}: use CALL or PUT")
    thousandths = Decimal(strike) * 1000
    if thousandths <= 0 or thousandths != thousandths.to_integral_value() or thousandths >= 10**8:
        raise ValueError(f"strike {strike}: positive, below 100000, at most 3 decimals")
    return f"{root}{expiry:%y%m%d}{option_type[0]}{int(thousandths):08d}"


def parse_occ_symbol(symbol: str) -> OccContract:
    """Read a padded (root padded to 6 with spaces) or unpadded OCC symbol."""
    match = _PATTERN.match(symbol.strip().upper())
    if not match:
        raise ValueError(f"{symbol!r} is not an OCC symbol like SPY261218C00500000")
    raw = match.group("date")
    try:
        expiry = date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:]))
    except ValueError:
        raise ValueError(f"{symbol!r}: {raw} is not a date") from None
    return OccContract(
        match.group("root"),
        expiry,
        "CALL" if match.group("type") == "C" else "PUT",
        Decimal(int(match.group("strike"))) / 1000,
    )
