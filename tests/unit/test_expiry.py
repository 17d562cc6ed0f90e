"""Weekly expiry choice (Friday, or Thursday when Friday is an exchange holiday, outside the DTE window),
when an expiring contract stops trading, and what it settles at."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.calendar import NEW_YORK, NyseCalendar
from optionflow.pricing.expiry import choose_expiry, expiry_close, settlement_value, weekly_expiry_on_or_after

CAL = NyseCalendar()


def test_from_monday_before_thanksgiving_with_min_one_day_the_friday_is_chosen():
    assert choose_expiry(date(2026, 11, 23), 1, CAL) == date(2026, 11, 27)


def test_christmas_week_expires_on_thursday_december_24():
    assert weekly_expiry_on_or_after(date(2026, 12, 21), CAL) == date(2026, 12, 24)
    assert choose_expiry(date(2026, 12, 21), 1, CAL) == date(2026, 12, 24)


def test_good_friday_week_expires_on_thursday_april_2():
    assert weekly_expiry_on_or_after(date(2026, 3, 30), CAL) == date(2026, 4, 2)
    assert choose_expiry(date(2026, 3, 30), 2, CAL) == date(2026, 4, 2)


@pytest.mark.parametrize(
    ("friday_holiday", "thursday"),
    [(date(2026, 6, 19), date(2026, 6, 18)), (date(2026, 7, 3), date(2026, 7, 2))],
)
def test_other_friday_holidays_move_the_expiry_to_thursday(friday_holiday, thursday):
    assert weekly_expiry_on_or_after(friday_holiday - timedelta(days=4), CAL) == thursday


def test_expiry_already_past_in_the_week_rolls_to_the_next_week():
    assert weekly_expiry_on_or_after(date(2026, 11, 28), CAL) == date(2026, 12, 4)  # Saturday
    assert weekly_expiry_on_or_after(date(2026, 4, 3), CAL) == date(2026, 4, 10)  # Good Friday itself


def test_an_expiry_inside_the_dte_window_is_skipped():
    assert choose_expiry(date(2026, 11, 26), 1, CAL) == date(2026, 12, 4)  # Fri 27th is only 1 day away
    assert choose_expiry(date(2026, 11, 27), 0, CAL) == date(2026, 12, 4)  # same day is 0 days away
    assert choose_expiry(date(2026, 11, 23), 4, CAL) == date(2026, 12, 4)


def test_negative_minimum_days_is_refused():
    with pytest.raises(ValueError, match="min_days_to_expiry"):
        choose_expiry(date(2026, 11, 23), -1, CAL)


@given(
    today=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    min_dte=st.integers(0, 30),
)
def test_chosen_expiry_is_the_first_weekly_trading_day_beyond_min_dte(today, min_dte):
    expiry = choose_expiry(today, min_dte, CAL)
    assert CAL.is_trading_day(expiry)
    assert (expiry - today).days > min_dte
    assert expiry.weekday() in (3, 4)  # Thursday only when that Friday is closed
    assert expiry.weekday() == 4 or not CAL.is_trading_day(expiry + timedelta(days=1))
    # nearest: no earlier weekly expiry (each Friday, or the trading day before a closed one) qualifies
    fridays = (today + timedelta(days=(4 - today.weekday()) % 7 + 7 * w) for w in range(-1, 8))
    weeklies = [f if CAL.is_trading_day(f) else CAL.previous_trading_day(f) for f in fridays]
    assert expiry == min(e for e in weeklies if (e - today).days > min_dte)


def test_a_regular_expiry_closes_at_four_pm_new_york_time():
    assert expiry_close(date(2026, 12, 18), CAL) == datetime(2026, 12, 18, 16, 0, tzinfo=NEW_YORK)


@pytest.mark.parametrize("early", [date(2026, 11, 27), date(2026, 12, 24)])
def test_an_expiry_on_an_early_close_day_closes_at_one_pm(early):
    assert expiry_close(early, CAL) == datetime(early.year, early.month, early.day, 13, 0, tzinfo=NEW_YORK)


def test_the_close_is_in_real_time_across_daylight_saving():
    assert expiry_close(date(2026, 11, 2), CAL).utcoffset() == timedelta(hours=-5)
    assert expiry_close(date(2026, 10, 30), CAL).utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize(
    ("closed_day", "last_session"),
    [
        (date(2026, 12, 19), date(2026, 12, 18)),  # a Saturday, as monthlies were dated before 2015
        (date(2026, 4, 3), date(2026, 4, 2)),  # Good Friday
        (date(2026, 12, 25), date(2026, 12, 24)),  # Christmas: the day before is itself an early close
    ],
)
def test_an_expiry_on_a_closed_day_ends_at_the_previous_sessions_close(closed_day, last_session):
    assert expiry_close(closed_day, CAL) == expiry_close(last_session, CAL)
    assert expiry_close(date(2026, 12, 25), CAL).hour == 13


@pytest.mark.parametrize(
    ("kind", "strike", "close", "value"),
    [
        ("CALL", "600", "612.34", "12.34"),
        ("PUT", "600", "587.50", "12.50"),
        ("CALL", "600", "600.01", "0.01"),  # in the money by a cent: exercised
        ("CALL", "600", "600.00", "0"),
        ("PUT", "600", "612.34", "0"),  # out of the money
        ("CALL", "12.125", "12.13", "0"),  # in the money by half a cent: not exercised
        ("PUT", "12.125", "12.11", "0.015"),
    ],
)
def test_an_expired_contract_settles_at_intrinsic_value_when_in_the_money_by_a_cent(
    kind, strike, close, value
):
    assert settlement_value(kind, Decimal(strike), Decimal(close)) == Decimal(value)


def test_settlement_refuses_nonsense_naming_the_field():
    with pytest.raises(ValueError, match="option_type"):
        settlement_value("STRADDLE", Decimal(600), Decimal(610))
    with pytest.raises(ValueError, match="strike"):
        settlement_value("CALL", Decimal(0), Decimal(610))
    with pytest.raises(ValueError, match="underlying_close"):
        settlement_value("CALL", Decimal(600), Decimal("NaN"))
