"""OCC / OSI option symbols: root + YYMMDD + C/P + strike × 1000 as 8 digits.

The full OSI form pads the root with spaces to 6 characters (`AAPL  260918C00260000`, 21 characters);
brokers (Alpaca, Tradier) send and expect it without the spaces (`SPY261218C00500000`). Strikes are
Decimal throughout: strike × 1000 in binary floating point can land one thousandth off.

The root is usually the ticker, but not always: class shares drop the dot (BRK.B → BRKB), and contracts
adjusted for a corporate action get a new root with a digit (BRKB1) that only the broker's chain knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

_ROOT = re.compile(r"[A-Z0-9]{1,6}")
# A ticker as alerts carry it: upper-case letters and digits, with a dot before a share class (BRK.B).
_TICKER = re.compile(r"[A-Z][A-Z0-9]*(\.[A-Z0-9]+)?")
_TAIL_LENGTH = 15  # YYMMDD + C/P + 8 strike digits
_PADDED_LENGTH = 6 + _TAIL_LENGTH


@dataclass(frozen=True)
class OccContract:
    root: str  # OCC root, e.g. SPY or SPXW (not always the underlying's ticker)
    expiry: date
    option_type: str  # CALL or PUT
    strike: Decimal  # dollars per share


def occ_root(ticker: str) -> str:
    """The standard OCC root of an equity or ETF ticker, as OCC lists it: the ticker itself, or for a
    share class the ticker without its dot (BRK.B → BRKB, BF.B → BFB).

    Raises ValueError saying why for a ticker that has no such root: not upper-case letters and digits
    with at most one dot before a class, or longer than the 6 characters a root may have.
    """
    if not isinstance(ticker, str) or not _TICKER.fullmatch(ticker):
        raise ValueError(
            f"ticker {ticker!r}: expected upper-case letters and digits, with a dot before a share class "
            "(e.g. SPY or BRK.B)"
        )
    root = ticker.replace(".", "")
    if len(root) > 6:
        raise ValueError(
            f"ticker {ticker!r}: OCC option roots are at most 6 characters and {root!r} has {len(root)}; "
            "take the root from the broker's option chain"
        )
    return root


def occ_symbol(root: str, expiry: date, option_type: str, strike: Decimal) -> str:
    """The unpadded OCC symbol, e.g. SPY 2026-12-18 CALL 500 → `SPY261218C00500000`.

    `strike` is dollars per share with at most 3 decimals, below 100 000. Raises ValueError naming the bad part.
    """
    if not _ROOT.fullmatch(root):
        raise ValueError(f"root {root!r}: must be 1-6 upper-case letters or digits")
    if not 2000 <= expiry.year <= 2099:
        raise ValueError(f"expiry {expiry}: OCC symbols carry a two-digit year, so 2000-2099 only")
    if option_type not in ("CALL", "PUT"):
        raise ValueError(f"option_type {option_type!r}: use CALL or PUT")
    try:
        thousandths = Decimal(strike) * 1000
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"strike {strike!r}: not a number") from None
    if not thousandths.is_finite() or thousandths <= 0:
        raise ValueError(f"strike {strike}: must be a positive number of dollars")
    if thousandths != thousandths.to_integral_value():
        raise ValueError(f"strike {strike}: at most 3 decimals fit an OCC symbol")
    if thousandths >= 10**8:
        raise ValueError(f"strike {strike}: must be below 100000 to fit 8 digits")
    return f"{root}{expiry:%y%m%d}{option_type[0]}{int(thousandths):08d}"


def parse_occ_symbol(symbol: str) -> OccContract:
    """Read an OCC symbol, padded (root padded to 6 with spaces, 21 characters) or unpadded.

    Raises ValueError naming what is wrong: length, root, date, type letter or strike digits.
    """
    if not isinstance(symbol, str):
        raise ValueError(f"OCC symbol {symbol!r}: must be a string")
    if len(symbol) <= _TAIL_LENGTH:
        raise ValueError(f"OCC symbol {symbol!r}: too short; expected like SPY261218C00500000")
    head, tail = symbol[:-_TAIL_LENGTH], symbol[-_TAIL_LENGTH:]
    root = head.rstrip(" ")
    # Spaces are only legal as the padding of the full 21-character form.
    if root != head and len(symbol) != _PADDED_LENGTH:
        raise ValueError(f"OCC symbol {symbol!r}: a padded root must make the symbol exactly 21 characters")
    if not _ROOT.fullmatch(root):
        raise ValueError(f"OCC symbol {symbol!r}: root {root!r} must be 1-6 upper-case letters or digits")
    raw_date, kind, raw_strike = tail[:6], tail[6], tail[7:]
    if not (raw_date.isascii() and raw_date.isdigit()):
        raise ValueError(f"OCC symbol {symbol!r}: expiry {raw_date!r} must be 6 digits YYMMDD")
    try:
        expiry = date(2000 + int(raw_date[:2]), int(raw_date[2:4]), int(raw_date[4:]))
    except ValueError:
        raise ValueError(f"OCC symbol {symbol!r}: expiry {raw_date} is not a calendar date") from None
    if kind not in ("C", "P"):
        raise ValueError(f"OCC symbol {symbol!r}: type letter {kind!r} must be C or P")
    if not (raw_strike.isascii() and raw_strike.isdigit()):
        raise ValueError(f"OCC symbol {symbol!r}: strike {raw_strike!r} must be 8 digits (dollars × 1000)")
    strike = Decimal(int(raw_strike)) / 1000
    if strike == 0:
        raise ValueError(f"OCC symbol {symbol!r}: strike is zero")
    return OccContract(root, expiry, "CALL" if kind == "C" else "PUT", strike)
