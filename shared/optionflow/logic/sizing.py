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


METHODS = ("FIXED", "DOLLAR_RISK", "VOLATILITY", "EQUITY_FRACTION")


@dataclass(frozen=True)
class SizingPlan:
    """What a sizing method needs. Dollars for money; `premium` is dollars per share (the worst fill).

    `risk_per_trade` and `max_contracts` are the risk limits' caps: whatever the method, an entry never
    buys more contracts than `max_contracts` nor spends more than `risk_per_trade` with fees. `volatility_pct`
    is the underlying's current measure (ATR as % of its price, or the contract's IV in %) and
    `vol_target_pct` the level that gets the whole base budget."""

    method: str
    premium: Decimal
    max_contracts: int
    risk_per_trade: Decimal
    fee_per_contract: Decimal = Decimal(0)
    requested: int | None = None
    fixed_contracts: int | None = None
    dollar_risk: Decimal | None = None
    vol_measure: str | None = None
    volatility_pct: Decimal | None = None
    vol_target_pct: Decimal | None = None
    equity_fraction_pct: Decimal | None = None
    account_equity: Decimal | None = None


@dataclass(frozen=True)
class SizedEntry:
    contracts: int
    reason: str
    inputs: dict[str, object]


def size_entry(plan: SizingPlan) -> SizedEntry:
    """Contracts for one entry by `plan.method`, every input and the result in `inputs` for the trail.

    FIXED buys `fixed_contracts`; DOLLAR_RISK spends `dollar_risk` (default: risk_per_trade);
    VOLATILITY spends that base budget × vol_target_pct / volatility_pct (less when the underlying is
    wilder than the target, more when calmer); EQUITY_FRACTION spends equity_fraction_pct of account_equity.
    Each budget is then capped by `risk_per_trade`, and the count by `max_contracts`. An alert's own
    quantity (`requested`) wins when it fits both caps, as before."""
    if plan.method not in METHODS:
        raise ValueError(f"unknown sizing method {plan.method!r}; one of {', '.join(METHODS)}")
    cap = plan.risk_per_trade
    base = min(plan.dollar_risk, cap) if plan.dollar_risk is not None else cap
    inputs: dict[str, object] = {
        "method": plan.method,
        "premium": plan.premium,
        "fee_per_contract": plan.fee_per_contract,
        "risk_per_trade": cap,
        "max_contracts": plan.max_contracts,
    }
    why = ""
    if plan.requested is not None:
        budget, why = cap, "alert quantity"
    elif plan.method == "FIXED":
        budget = cap
        inputs["fixed_contracts"] = plan.fixed_contracts
    elif plan.method == "DOLLAR_RISK":
        budget = base
        inputs["dollar_risk"] = plan.dollar_risk
        why = f"${base:,.2f} dollar risk"
    elif plan.method == "VOLATILITY":
        inputs |= {
            "vol_measure": plan.vol_measure,
            "volatility_pct": plan.volatility_pct,
            "vol_target_pct": plan.vol_target_pct,
            "base_budget": base,
        }
        if not plan.volatility_pct or plan.volatility_pct <= 0 or not plan.vol_target_pct:
            return SizedEntry(0, f"no {plan.vol_measure or 'volatility'} to scale the budget by", inputs)
        scale = plan.vol_target_pct / plan.volatility_pct
        budget = min(round(base * scale, 2), cap)
        inputs["scale"] = round(scale, 4)
        why = (
            f"${base:,.2f} × target {plan.vol_target_pct}% / {plan.vol_measure} {plan.volatility_pct:.2f}%"
            + (" (capped by risk_per_trade)" if budget == cap and base * scale > cap else "")
        )
    else:
        inputs |= {"equity_fraction_pct": plan.equity_fraction_pct, "account_equity": plan.account_equity}
        if plan.equity_fraction_pct is None or plan.account_equity is None:
            return SizedEntry(
                0, "equity-fraction sizing needs account_equity and equity_fraction_pct", inputs
            )
        raw = round(plan.account_equity * plan.equity_fraction_pct / 100, 2)
        budget = min(raw, cap)
        why = f"{plan.equity_fraction_pct}% of ${plan.account_equity:,.2f} equity" + (
            " (capped by risk_per_trade)" if raw > cap else ""
        )
    inputs["budget"] = budget
    requested = plan.requested
    if requested is None and plan.method == "FIXED":
        if plan.fixed_contracts is None:
            return SizedEntry(0, "fixed sizing needs fixed_contracts", inputs)
        fitting = min(
            plan.fixed_contracts, plan.max_contracts, _affordable(cap, plan.premium, plan.fee_per_contract)
        )
        # when not even one fits, the budget's own refusal below says why
        if fitting >= 1:
            requested, why = (
                fitting,
                f"fixed {plan.fixed_contracts}" + (" (capped)" if fitting < plan.fixed_contracts else ""),
            )
    size = contracts_for(
        budget=budget,
        premium=plan.premium,
        max_contracts=plan.max_contracts,
        requested=requested,
        fee_per_contract=plan.fee_per_contract,
    )
    inputs["contracts"] = size.contracts
    reason = f"{size.reason}; {why}" if why and size.contracts else size.reason
    return SizedEntry(size.contracts, reason, inputs)


def _affordable(budget: Decimal, premium: Decimal, fee: Decimal) -> int:
    if premium <= 0:
        return 0
    return int((budget / (premium * MULTIPLIER + fee)).to_integral_value(rounding=ROUND_FLOOR))
