"""Position sizing: how many contracts a signal buys."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

MULTIPLIER = 100  # shares per standard equity option contract


@dataclass(frozen=True)
class Size:
    contracts: int
    reason: str


def contracts_for(
    *,
    budget: Decimal,
    premium: Decimal,
    max_contracts: int,
    requested: int | None = None,
    fee_per_contract: Decimal = Decimal(0),
) -> Size:
    """Contracts to buy.

    budget: dollars at risk per trade; premium: dollars per share, the worst price the fill can have (the
    ask plus slippage); fee_per_contract: commission and regulatory fees per contract, dollars. A bought
    option can lose its whole premium and its fees, so the budget buys
    floor(budget / (premium × 100 + fees)) contracts, capped by max_contracts.
    An explicit `requested` quantity wins when it fits both the cap and the budget.
    Zero contracts means the budget cannot afford one; the caller rejects the signal with `reason`.
    """
    if premium <= 0:
        return Size(0, f"no price to size against (premium ${premium})")
    per_contract = premium * MULTIPLIER + fee_per_contract
    affordable = int((budget / per_contract).to_integral_value(rounding=ROUND_FLOOR))
    if requested is not None:
        if requested > max_contracts:
            return Size(0, f"alert asks {requested} contracts; the limit is {max_contracts}")
        if requested > affordable:
            return Size(
                0,
                f"alert asks {requested} contracts at ${per_contract:,.2f} each; "
                f"the ${budget:,.2f} budget affords {affordable}",
            )
        return Size(
            requested, f"{_contracts(requested)} as the alert asked (${per_contract * requested:,.2f})"
        )
    if affordable < 1:
        return Size(0, f"the ${budget:,.2f} budget buys no contract at ${per_contract:,.2f}")
    n = min(affordable, max_contracts)
    capped = " (capped by max contracts per order)" if n < affordable else ""
    return Size(n, f"{_contracts(n)} at ${per_contract:,.2f} within a ${budget:,.2f} budget{capped}")


def _contracts(n: int) -> str:
    return f"{n} contract" + ("" if n == 1 else "s")
