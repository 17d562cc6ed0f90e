"""The strategy engine at order time, without a database: whatever the settings and the order of entries,
a refused entry leaves the book as it was, an admitted one adds exactly itself, and no admitted entry takes
the book past a cap or spends past the per-trade budget."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from optionflow.db.rows import RiskLimits, StrategySettings
from optionflow.logic.entry_strategy import EntryStrategy
from optionflow.logic.portfolio import BookExposure, totals
from optionflow.logic.sizing import MULTIPLIER
from optionflow.market.ports import OptionQuote
from optionflow.pricing.black_scholes import Greeks

from tests.fakes import fake_dependencies
from tests.unit.test_use_cases_with_fakes import MONDAY_10AM, signal

D = Decimal
EXPIRY = date(2026, 11, 27)
EQUITY = D("20000")

entry = st.tuples(
    st.sampled_from(["SPY", "QQQ"]),
    st.sampled_from(["CALL", "PUT"]),
    st.decimals(D("0.05"), D("12"), places=2),  # ask
    st.floats(0.02, 0.98),  # |delta|
    st.none() | st.integers(1, 20),  # the alert's quantity
)


@settings(max_examples=60, deadline=None)
@given(
    entries=st.lists(entry, min_size=1, max_size=15),
    method=st.sampled_from(["FIXED", "DOLLAR_RISK", "EQUITY_FRACTION"]),
    heat=st.decimals(D("0"), D("15"), places=2),
    delta_cap=st.decimals(D("0"), D("600"), places=2),
    risk_per_trade=st.decimals(D("50"), D("3000"), places=2),
)
def test_refused_entries_leave_the_book_and_admitted_ones_keep_it_within_every_cap(
    entries, method, heat, delta_cap, risk_per_trade
):
    deps = fake_dependencies(MONDAY_10AM)
    chosen = StrategySettings(
        sizing_method=method,
        fixed_contracts=3,
        equity_fraction_pct=D("2"),
        account_equity=EQUITY,
        max_heat_pct=heat,
        max_ticker_delta_shares=delta_cap,
    )
    strategy = EntryStrategy({"SPY": chosen, "QQQ": chosen}, BookExposure(), {})
    limits = RiskLimits(1000, D("100000"), 1000, 10, risk_per_trade, False)
    for ticker, direction, ask, delta, quantity in entries:
        sig = signal(id=uuid.uuid4(), ticker=ticker, direction=direction, quantity=quantity)
        signed = delta if direction == "CALL" else -delta
        quote = OptionQuote(
            ask - D("0.05") if ask > D("0.05") else D(0),
            ask,
            ask,
            D("600"),
            0.25,
            Greeks(signed, 0.01, -0.03, 0.1, 0.01),
            MONDAY_10AM,
        )
        before = list(strategy.exposure.lines)
        worst = deps.broker.fill_price(side="BUY_TO_OPEN", bid=quote.bid, ask=quote.ask)
        checks, contracts = strategy.size(
            deps, sig, quote=quote, worst=worst, expiry=EXPIRY, limits=limits, now=MONDAY_10AM
        )
        if contracts == 0:
            assert strategy.exposure.lines == before
            assert not all(c.passed for c in checks)
            continue
        assert all(c.passed for c in checks)
        assert strategy.exposure.lines[:-1] == before and strategy.exposure.lines[-1].quantity == contracts
        assert contracts <= limits.max_contracts_per_order
        assert contracts * (worst * MULTIPLIER + deps.broker.fee_per_contract) <= risk_per_trade
        assert totals(strategy.exposure.lines).premium / EQUITY * 100 <= heat
        for t in ("SPY", "QQQ"):
            mine = [line for line in strategy.exposure.lines if line.ticker == t]
            mine_before = [line for line in before if line.ticker == t]
            now_delta, was = abs(totals(mine).delta_shares), abs(totals(mine_before).delta_shares)
            assert now_delta <= float(delta_cap) + 1e-6 or now_delta < was or t != ticker
