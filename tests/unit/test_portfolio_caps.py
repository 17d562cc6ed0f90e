"""Portfolio caps at, just under and just over each cap, on the book after the fill; and (hypothesis)
admitting entries one by one never takes the book past a cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.db.rows import BookLine, StrategySettings
from optionflow.logic.portfolio import portfolio_checks, totals

D = Decimal
FRI = date(2026, 11, 27)
NEXT = date(2026, 12, 4)


def line(
    ticker: str = "SPY",
    *,
    premium: str = "2.00",
    quantity: int = 1,
    delta: float = 0.5,
    expiry: date = FRI,
    theta: float = -0.05,
    vega: float = 0.1,
    gamma: float = 0.02,
) -> BookLine:
    return BookLine(ticker, expiry, quantity, 100, D(premium), D("600"), delta, gamma, theta, vega)


def caps(**kw: object) -> StrategySettings:
    return StrategySettings(sizing_method="DOLLAR_RISK", account_equity=D("10000"), **kw)  # type: ignore[arg-type]


def by_name(checks):
    return {c.name: c for c in checks}


@pytest.mark.parametrize(("cap", "passed"), [(D("5.99"), False), (D("6.00"), True), (D("6.01"), True)])
def test_heat_is_premium_at_risk_after_the_fill_as_a_share_of_equity(cap, passed):
    # $400 held + $200 entry = $600 of $10,000 = 6 %
    check = by_name(portfolio_checks([line(quantity=2)], line(), caps(max_heat_pct=cap)))["portfolio_heat"]
    assert check.passed is passed
    assert check.inputs["pct_after"] == D("6") and check.inputs["pct_before"] == D("4")


@pytest.mark.parametrize(("cap", "passed"), [(D("149.99"), False), (D("150"), True), (D("150.01"), True)])
def test_net_delta_in_shares(cap, passed):
    check = by_name(portfolio_checks([line(quantity=2)], line(), caps(max_delta_shares=cap)))[
        "portfolio_delta_shares"
    ]
    assert check.passed is passed
    assert (check.inputs["before"], check.inputs["after"]) == (100.0, 150.0)


@pytest.mark.parametrize(("cap", "passed"), [(D("89999.99"), False), (D("90000"), True)])
def test_net_delta_in_dollars(cap, passed):
    assert (
        by_name(portfolio_checks([line(quantity=2)], line(), caps(max_delta_dollars=cap)))[
            "portfolio_delta_dollars"
        ].passed
        is passed
    )


@pytest.mark.parametrize(
    ("name", "setting", "cap", "passed"),
    [
        ("portfolio_theta", "max_theta", D("14.99"), False),  # 3 contracts x $0.05 x 100 = $15 a day
        ("portfolio_theta", "max_theta", D("15"), True),
        ("portfolio_vega", "max_vega", D("29.99"), False),
        ("portfolio_vega", "max_vega", D("30"), True),
        ("portfolio_gamma", "max_gamma", D("5.9999"), False),
        ("portfolio_gamma", "max_gamma", D("6"), True),
    ],
)
def test_theta_vega_and_gamma_caps(name, setting, cap, passed):
    assert (
        by_name(portfolio_checks([line(quantity=2)], line(), caps(**{setting: cap})))[name].passed is passed
    )


def test_per_underlying_caps_count_only_that_underlying():
    book = [line("QQQ", quantity=5), line("SPY")]
    checks = by_name(
        portfolio_checks(book, line(), caps(max_ticker_delta_shares=D("100"), max_delta_shares=D("1000")))
    )
    assert checks["ticker_delta_shares"].passed and checks["ticker_delta_shares"].inputs["after"] == 100.0
    assert checks["portfolio_delta_shares"].inputs["after"] == 350.0


@pytest.mark.parametrize(("cap", "passed"), [(D("3.99"), False), (D("4"), True)])
def test_concentration_per_underlying_and_per_expiry(cap, passed):
    book = [line(), line("QQQ", expiry=NEXT, quantity=3)]
    checks = by_name(
        portfolio_checks(book, line(), caps(max_ticker_premium_pct=cap, max_expiry_premium_pct=cap))
    )
    assert checks["ticker_concentration"].passed is passed  # SPY: $400 of $10,000
    assert checks["expiry_concentration"].passed is passed  # Nov 27: the same $400


def test_a_hedge_passes_a_cap_the_book_is_already_over():
    checks = by_name(portfolio_checks([line(quantity=3)], line(delta=-0.4), caps(max_delta_shares=D("100"))))
    assert checks["portfolio_delta_shares"].passed
    assert "reduces it" in checks["portfolio_delta_shares"].detail


def test_no_caps_configured_no_checks_and_heat_without_equity_refuses():
    assert portfolio_checks([line()], line(), StrategySettings(sizing_method="FIXED")) == []
    (check,) = portfolio_checks([], line(), StrategySettings(sizing_method="FIXED", max_heat_pct=D("5")))
    assert not check.passed and "account_equity" in check.detail


entries = st.lists(
    st.builds(
        line,
        ticker=st.sampled_from(["SPY", "QQQ"]),
        premium=st.sampled_from(["0.50", "1.25", "3.00"]),
        quantity=st.integers(1, 5),
        delta=st.floats(-0.95, 0.95),
        expiry=st.sampled_from([FRI, NEXT]),
    ),
    max_size=25,
)


@given(
    entries=entries,
    heat=st.decimals(D("0"), D("20"), places=2),
    delta_cap=st.decimals(D("0"), D("800"), places=2),
)
def test_admitting_entries_one_by_one_never_takes_the_book_past_a_cap_it_was_within(entries, heat, delta_cap):
    settings = caps(max_heat_pct=heat, max_ticker_premium_pct=heat)
    book: list[BookLine] = []
    for entry in entries:
        checks = portfolio_checks(book, entry, settings)
        if all(c.passed for c in checks):
            book.append(entry)
        assert totals(book).premium / D(10000) * 100 <= heat
    delta_settings = caps(max_delta_shares=delta_cap)
    book = []
    for entry in entries:
        before = abs(totals(book).delta_shares)
        if all(c.passed for c in portfolio_checks(book, entry, delta_settings)):
            book.append(entry)
        after = abs(totals(book).delta_shares)
        # within the cap, or closer to flat than before (a hedge)
        assert after <= float(delta_cap) + 1e-6 or after < before
