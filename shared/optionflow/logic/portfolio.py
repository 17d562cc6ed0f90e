"""Portfolio limits on entries: heat, net Greeks and concentration of the book as it will be after the fill.

Pure: the book (held positions and working entries, `db.strategy.book_lines`) and one candidate entry in,
one check per configured cap out. Only entries are checked; exits are never blocked by these caps. An entry
that moves a capped total towards zero (a hedge) passes even when the book is already over the cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from optionflow.db.rows import BookLine, StrategySettings
from optionflow.logic.risk import Check

# Every cap portfolio_checks knows; with none set it checks nothing (and costs nothing).
CAPS = (
    "max_heat_pct",
    "max_delta_shares",
    "max_delta_dollars",
    "max_gamma",
    "max_vega",
    "max_theta",
    "max_ticker_delta_shares",
    "max_ticker_delta_dollars",
    "max_ticker_gamma",
    "max_ticker_vega",
    "max_ticker_theta",
    "max_ticker_premium_pct",
    "max_expiry_premium_pct",
)


@dataclass(frozen=True)
class Totals:
    """Sums over book lines. Premium in dollars; delta in shares and dollars; gamma in shares per dollar;
    vega in dollars per IV point; theta in dollars per day (negative: a long option loses value daily)."""

    premium: Decimal = Decimal(0)
    delta_shares: float = 0.0
    delta_dollars: float = 0.0
    gamma: float = 0.0
    vega: float = 0.0
    theta: float = 0.0
    unpriced: int = 0


def totals(lines: Iterable[BookLine]) -> Totals:
    premium = Decimal(0)
    delta_shares = delta_dollars = gamma = vega = theta = 0.0
    unpriced = 0
    for line in lines:
        size = line.quantity * line.multiplier
        premium += line.premium * size
        if line.delta is None:
            unpriced += 1
            continue
        delta_shares += line.delta * size
        delta_dollars += line.delta * size * float(line.underlying or 0)
        gamma += (line.gamma or 0.0) * size
        vega += (line.vega or 0.0) * size
        theta += (line.theta or 0.0) * size
    return Totals(premium, delta_shares, delta_dollars, gamma, vega, theta, unpriced)


def plus(a: Totals, b: Totals) -> Totals:
    return Totals(
        a.premium + b.premium,
        a.delta_shares + b.delta_shares,
        a.delta_dollars + b.delta_dollars,
        a.gamma + b.gamma,
        a.vega + b.vega,
        a.theta + b.theta,
        a.unpriced + b.unpriced,
    )


class BookExposure:
    """The book's totals overall, per underlying and per expiry, kept as lines are added, so checking an
    entry costs the same whatever the size of the book."""

    def __init__(self, lines: Iterable[BookLine] = ()) -> None:
        self.lines: list[BookLine] = []
        self._totals: dict[tuple[str, object], Totals] = {}
        for line in lines:
            self.add(line)

    def add(self, line: BookLine) -> None:
        self.lines.append(line)
        own = totals([line])
        for key in (("all", None), ("ticker", line.ticker), ("expiry", line.expiry)):
            self._totals[key] = plus(self._totals.get(key, Totals()), own)

    def of(self, kind: str, key: object = None) -> Totals:
        return self._totals.get((kind, key), Totals())


def _measures(t: Totals) -> dict[str, float]:
    """The capped quantities, as magnitudes (theta: dollars lost per day)."""
    return {
        "delta_shares": abs(t.delta_shares),
        "delta_dollars": abs(t.delta_dollars),
        "gamma": abs(t.gamma),
        "vega": abs(t.vega),
        "theta": max(-t.theta, 0.0),
    }


_UNITS = {
    "delta_shares": ("net delta", " shares"),
    "delta_dollars": ("net delta", " dollars"),
    "gamma": ("net gamma", " shares/$"),
    "vega": ("net vega", " $/IV pt"),
    "theta": ("theta", " $/day"),
}


def _greek_check(name: str, scope: str, measure: str, before: float, after: float, cap: Decimal) -> Check:
    label, unit = _UNITS[measure]
    limit = float(cap)
    passed = after <= limit + 1e-9 or after < before
    how = "within" if after <= limit + 1e-9 else ("reduces it towards" if passed else "over")
    return Check(
        name,
        passed,
        f"{scope} {label} after the fill {after:,.2f}{unit} (now {before:,.2f}) {how} the cap {limit:,.2f}{unit}",
        {"before": round(before, 4), "after": round(after, 4), "cap": cap, "scope": scope},
    )


def _share_check(
    name: str, scope: str, before: Decimal, after: Decimal, equity: Decimal | None, cap_pct: Decimal
) -> Check:
    inputs: dict[str, object] = {"scope": scope, "premium_after": after, "equity": equity, "cap_pct": cap_pct}
    if equity is None or equity <= 0:
        return Check(name, False, f"{scope}: no account_equity set to take a share of", inputs)
    pct_before, pct_after = before / equity * 100, after / equity * 100
    inputs |= {"pct_before": round(pct_before, 4), "pct_after": round(pct_after, 4)}
    passed = pct_after <= cap_pct
    return Check(
        name,
        passed,
        f"{scope} premium at risk after the fill ${after:,.2f} = {pct_after:.2f}% of ${equity:,.2f} equity "
        f"(now {pct_before:.2f}%) {'within' if passed else 'over'} the {cap_pct}% cap",
        inputs,
    )


def portfolio_checks(
    book: list[BookLine] | BookExposure, entry: BookLine, settings: StrategySettings
) -> list[Check]:
    """One check per configured cap for `entry` joining `book`; none when no cap is set."""
    s = settings
    if not any(getattr(s, cap) is not None for cap in CAPS):
        return []
    exposure = book if isinstance(book, BookExposure) else BookExposure(book)
    checks: list[Check] = []
    own = totals([entry])
    all_before = exposure.of("all")
    all_after = plus(all_before, own)
    tick_before = exposure.of("ticker", entry.ticker)
    tick_after = plus(tick_before, own)
    exp_before = exposure.of("expiry", entry.expiry)
    exp_after = plus(exp_before, own)
    equity = s.account_equity

    if s.max_heat_pct is not None:
        checks.append(
            _share_check(
                "portfolio_heat", "book", all_before.premium, all_after.premium, equity, s.max_heat_pct
            )
        )
    overall = {
        "delta_shares": s.max_delta_shares,
        "delta_dollars": s.max_delta_dollars,
        "gamma": s.max_gamma,
        "vega": s.max_vega,
        "theta": s.max_theta,
    }
    per_ticker = {
        "delta_shares": s.max_ticker_delta_shares,
        "delta_dollars": s.max_ticker_delta_dollars,
        "gamma": s.max_ticker_gamma,
        "vega": s.max_ticker_vega,
        "theta": s.max_ticker_theta,
    }
    before, after = _measures(all_before), _measures(all_after)
    for measure, cap in overall.items():
        if cap is not None:
            checks.append(
                _greek_check(f"portfolio_{measure}", "book", measure, before[measure], after[measure], cap)
            )
    before, after = _measures(tick_before), _measures(tick_after)
    for measure, cap in per_ticker.items():
        if cap is not None:
            checks.append(
                _greek_check(f"ticker_{measure}", entry.ticker, measure, before[measure], after[measure], cap)
            )
    if s.max_ticker_premium_pct is not None:
        checks.append(
            _share_check(
                "ticker_concentration",
                entry.ticker,
                tick_before.premium,
                tick_after.premium,
                equity,
                s.max_ticker_premium_pct,
            )
        )
    if s.max_expiry_premium_pct is not None:
        checks.append(
            _share_check(
                "expiry_concentration",
                f"expiry {entry.expiry.isoformat()}",
                exp_before.premium,
                exp_after.premium,
                equity,
                s.max_expiry_premium_pct,
            )
        )
    if all_after.unpriced:
        for i, check in enumerate(checks):
            checks[i] = Check(
                check.name, check.passed, check.detail, {**check.inputs, "unpriced_lines": all_after.unpriced}
            )
    return checks
