"""Weekly expiry choice: Friday, or Thursday when Friday is an exchange holiday, outside the DTE window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.market.calendar import NyseCalendar
from optionflow.pricing.expiry import choose_expiry, weekly_expiry_on_or_after

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
