"""Listed-contract screening: an alert's strike and expiry are refused, in a trader's words, only when no
standard chain could list them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from optionflow.calendar import NyseCalendar
from optionflow.pricing.contracts import listed_contract_problems

CAL = NyseCalendar()
MONDAY = date(2026, 11, 23)
DECEMBER = date(2026, 12, 18)


def problems(
    strike: str = "600",
    expiry: date = DECEMBER,
    ticker: str = "SPY",
    spot: str = "600.12",
    option_type: str = "CALL",
    today: date = MONDAY,
) -> list[str]:
    return listed_contract_problems(ticker, option_type, Decimal(strike), expiry, today, Decimal(spot), CAL)


def test_a_monthly_spy_call_at_the_money_is_listed():
    assert problems() == []


def test_a_class_share_contract_is_listed():
    assert problems(ticker="BRK.B", strike="470", spot="472.30") == []


def test_a_weekend_expiry_names_the_friday_before():
    assert problems(expiry=date(2026, 11, 28)) == [
        "expiry 2026-11-28 is a Saturday: options expire on trading days, and that week's expire on "
        "Friday 2026-11-27"
    ]


def test_a_good_friday_expiry_names_the_holiday_and_the_thursday_before():
    assert problems(expiry=date(2026, 4, 3), today=date(2026, 3, 23)) == [
        "expiry 2026-04-03 is an exchange holiday (Good Friday): options expire on trading days, and that "
        "week's expire on Thursday 2026-04-02"
    ]


def test_any_trading_day_can_be_an_expiry():
    # dailies and Monday/Wednesday series exist; only the broker knows which names have them
    assert problems(expiry=date(2026, 11, 25)) == []
    assert problems(expiry=MONDAY) == []  # today itself: whether it has closed is a matter of the hour


def test_an_expiry_in_the_past_is_refused_once():
    assert problems(expiry=date(2026, 11, 21)) == ["expiry 2026-11-21 has passed (today is 2026-11-23)"]


def test_an_expiry_more_than_three_years_out_is_not_listed():
    assert problems(expiry=date(2029, 11, 16)) == []
    assert problems(expiry=date(2029, 11, 30)) == [
        "expiry 2029-11-30 is more than 3 years out: the longest-dated equity options (LEAPS) are listed "
        "to about 2029"
    ]


@pytest.mark.parametrize(
    ("strike", "message"),
    [
        ("0", "strike 0 must be a positive price in dollars"),
        ("-5", "strike -5 must be a positive price in dollars"),
        ("100000", "strike 100000 is too large for an option symbol, which holds strikes below 100,000"),
        ("600.0005", "strike 600.0005 has more than 3 decimals, finer than any option symbol can carry"),
    ],
)
def test_strikes_an_option_symbol_cannot_carry_are_refused(strike, message):
    assert problems(strike=strike) == [message]


def test_a_strike_off_every_grid_is_refused_with_its_neighbours():
    assert problems(strike="600.37") == [
        "strike 600.37 is not listed: strikes of $100 and more are whole dollars or multiples of $2.50 "
        "(nearest 600 and 601)"
    ]
    assert problems(ticker="F", strike="12.25", spot="12.10") == [
        "strike 12.25 is not listed: strikes below $100 are multiples of $0.50 at the finest (nearest 12 and 12.5)"
    ]


def test_spy_near_the_money_lists_only_whole_dollars():
    assert problems(strike="602.5") == [
        "strike 602.5 is not listed: SPY strikes near the money (spot 600.12) are in $1 steps "
        "(nearest 602 and 603)"
    ]
    assert problems(strike="601") == []


def test_far_from_the_money_a_common_grid_is_enough():
    assert problems(strike="452.5") == []  # 25 % below the spot: SPY's far strikes are not known here


@pytest.mark.parametrize("strike", ["232.5", "231", "235", "240"])
def test_single_stock_strikes_on_the_dollar_or_two_fifty_grid_are_listed(strike):
    # the classic $10 increment above $200 is a default for choosing, not a rule to refuse by
    assert problems(ticker="AAPL", strike=strike, spot="230.40") == []


@pytest.mark.parametrize("strike", ["7.5", "12", "12.5", "99.5"])
def test_low_strikes_on_the_fifty_cent_grid_are_listed(strike):
    assert problems(ticker="F", strike=strike, spot="12.10") == []


def test_every_problem_is_reported_at_once():
    found = problems(ticker="brk.b", option_type="call", strike="600.37", expiry=date(2026, 11, 28))
    assert len(found) == 4
    assert found[0].startswith("ticker 'brk.b'")
    assert found[1] == "option type 'call' is neither CALL nor PUT"


def test_a_spot_that_is_not_a_price_is_a_caller_error():
    with pytest.raises(ValueError, match="spot"):
        listed_contract_problems("SPY", "CALL", Decimal(600), DECEMBER, MONDAY, Decimal(0), CAL)
