"""OCC symbols, listed strikes and weekly expiries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.market.calendar import NyseCalendar
from optionflow.pricing.expiry import choose_expiry, weekly_expiry_on_or_after
from optionflow.pricing.occ import OccContract, occ_symbol, parse_occ_symbol
from optionflow.pricing.strikes import atm_strike, strike_increment

CAL = NyseCalendar()


def test_occ_symbol_examples():
    assert occ_symbol("SPY", date(2026, 12, 18), "CALL", Decimal(500)) == "SPY261218C00500000"
    assert occ_symbol("SPXW", date(2026, 11, 24), "PUT", Decimal("5712.5")) == "SPXW261124P05712500"


def test_padded_and_unpadded_symbols_parse_alike():
    expected = OccContract("AAPL", date(2026, 9, 18), "CALL", Decimal(260))
    assert parse_occ_symbol("AAPL  260918C00260000") == expected
    assert parse_occ_symbol("AAPL260918C00260000") == expected


@pytest.mark.parametrize(
    "bad", ["", "SPY", "SPY261318C00500000", "SPY261218X00500000", "TOOLONGROOT261218C00500000"]
)
def test_malformed_symbols_are_refused(bad):
    with pytest.raises(ValueError):
        parse_occ_symbol(bad)


@given(
    root=st.from_regex(r"[A-Z]{1,5}", fullmatch=True),
    days=st.integers(0, 3000),
    kind=st.sampled_from(["CALL", "PUT"]),
    milli=st.integers(1, 99_999_999),
)
def test_symbols_round_trip(root, days, kind, milli):
    expiry = date.fromordinal(date(2026, 1, 1).toordinal() + days)
    strike = Decimal(milli) / 1000
    assert parse_occ_symbol(occ_symbol(root, expiry, kind, strike)) == OccContract(root, expiry, kind, strike)


def test_strike_increments_follow_the_listing_rules():
    assert strike_increment("SPY", Decimal(600)) == 1
    assert strike_increment("XYZ", Decimal(20)) == Decimal("2.5")
    assert strike_increment("XYZ", Decimal(120)) == 5
    assert strike_increment("XYZ", Decimal(450)) == 10


def test_atm_strike_rounds_to_the_nearest_listed_strike():
    assert atm_strike("SPY", Decimal("601.49")) == 601
    assert atm_strike("SPY", Decimal("601.50")) == 602
    assert atm_strike("XYZ", Decimal("123.40")) == 125
    assert atm_strike("XYZ", Decimal("1.00")) == Decimal("2.5")


@given(spot=st.decimals(min_value=Decimal(1), max_value=Decimal(5000), places=2))
def test_atm_strike_is_within_half_an_increment(spot):
    for ticker in ("SPY", "XYZ"):
        step = strike_increment(ticker, spot)
        strike = atm_strike(ticker, spot)
        assert strike % step == 0
        assert abs(strike - spot) <= step / 2 or strike == step


def test_weekly_expiry_is_friday_or_thursday_in_a_holiday_week():
    assert weekly_expiry_on_or_after(date(2026, 11, 23), CAL) == date(2026, 11, 27)
    assert weekly_expiry_on_or_after(date(2026, 12, 21), CAL) == date(2026, 12, 24)  # Dec 25 closed
    assert weekly_expiry_on_or_after(date(2026, 3, 30), CAL) == date(2026, 4, 2)  # Good Friday


def test_chosen_expiry_is_outside_the_dte_window():
    assert choose_expiry(date(2026, 11, 23), 1, CAL) == date(2026, 11, 27)
    assert choose_expiry(date(2026, 11, 26), 1, CAL) == date(2026, 12, 4)  # Fri 27th is only 1 day away
    assert choose_expiry(date(2026, 11, 27), 1, CAL) == date(2026, 12, 4)


@given(days=st.integers(0, 800), min_dte=st.integers(0, 10))
def test_chosen_expiry_is_a_trading_day_beyond_min_dte(days, min_dte):
    today = date.fromordinal(date(2026, 1, 1).toordinal() + days)
    expiry = choose_expiry(today, min_dte, CAL)
    assert CAL.is_trading_day(expiry)
    assert (expiry - today).days > min_dte
    assert expiry.weekday() in (3, 4)
