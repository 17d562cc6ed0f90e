"""Whether a quote may be used for a fill, a mark or a price rule, said with its numbers.

A quote is refused when it is crossed (bid above ask: one side is wrong, or the market is locked in
transition), has no ask (nothing to buy, and no mid to mark), or is older than the allowed age at the
instant it is used for (by the provider's own timestamp). A refused quote is never used: the order waits,
the mark is not updated (and shows as stale), the entry is not sized on it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

# A provider's clock may run a little ahead of ours; beyond this a quote "from the future" is suspect.
CLOCK_SKEW_SECONDS = 5.0


def quote_problem(
    bid: Decimal, ask: Decimal, as_of: datetime, at: datetime, max_age_seconds: float
) -> str | None:
    """Why the quote `bid`/`ask` (dollars per share) taken at `as_of` cannot be used at `at`; None when it
    can. Both instants are aware."""
    if ask <= 0:
        return f"no ask (ask {ask}, bid {bid}): nothing to buy and no mid to mark"
    if bid > ask:
        return f"crossed quote: bid {bid} is above ask {ask}"
    age = (at - as_of).total_seconds()
    if age > max_age_seconds:
        return f"stale quote: taken at {as_of.isoformat()}, {age:.0f} s before {at.isoformat()}, over the {max_age_seconds:g} s limit"
    if age < -CLOCK_SKEW_SECONDS:
        return f"quote time {as_of.isoformat()} is {-age:.0f} s after {at.isoformat()}: the provider's clock is off"
    return None
