"""The NYSE calendar in New York time, checked against the exchange's published 2026-2027 schedule
(domain notes §2.1) and the early-close rules."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.calendar import NEW_YORK, NyseCalendar, trading_date

UTC = ZoneInfo("UTC")
TOKYO = ZoneInfo("Asia/Tokyo")
CAL = NyseCalendar()

PUBLISHED_CLOSURES = {
    2026: ["01-01", "01-19", "02-16", "04-03", "05-25", "06-19", "07-03", "09-07", "11-26", "12-25"],
    2027: ["01-01", "01-18", "02-15", "03-26", "05-31", "06-18", "07-05", "09-06", "11-25", "12-24"],
}
CLOSED = [date.fromisoformat(f"{year}-{md}") for year, days in PUBLISHED_CLOSURES.items() for md in days]


@pytest.mark.parametrize("day", CLOSED, ids=str)
def test_every_published_2026_and_2027_holiday_is_closed(day):
    assert not CAL.is_trading_day(day)
    assert CAL.session(day) is None


def test_the_published_holidays_are_the_only_weekday_closures_of_2026_and_2027():
    weekdays = [date(2026, 1, 1) + timedelta(days=i) for i in range(730)]
    closed = [d for d in weekdays if d.weekday() < 5 and not CAL.is_trading_day(d)]
    assert closed == CLOSED


def test_holidays_have_their_names_and_trading_days_none():
    assert CAL.holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert CAL.holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    assert CAL.holiday_name(date(2026, 11, 27)) is None  # an early close, not a closure
    assert CAL.holiday_name(date(2026, 11, 28)) is None  # a Saturday, not a holiday


def test_thanksgiving_and_christmas_2026_are_closed():
    assert CAL.session(date(2026, 11, 26)) is None
    assert CAL.session(date(2026, 12, 25)) is None


@pytest.mark.parametrize("day", [date(2026, 11, 27), date(2026, 12, 24), date(2027, 11, 26)], ids=str)
def test_published_early_closes_end_at_one_pm_new_york(day):
    session = CAL.session(day)
    assert session is not None
    assert session.open == datetime.combine(day, time(9, 30), NEW_YORK)
    assert session.close == datetime.combine(day, time(13, 0), NEW_YORK)
    assert session.early_close and CAL.is_early_close(day)


@pytest.mark.parametrize("day", [date(2026, 7, 2), date(2027, 12, 23), date(2027, 7, 2)], ids=str)
def test_no_early_close_before_a_holiday_observed_on_a_friday_or_monday(day):
    session = CAL.session(day)
    assert session is not None and session.close.time() == time(16, 0) and not session.early_close


def test_early_closes_follow_the_nyse_rules_in_other_years():
    # July 3 when Independence Day falls Tuesday-Friday; the day after Thanksgiving; Christmas Eve on a weekday
    for year in range(2024, 2036):
        july_fourth = date(year, 7, 4)
        thanksgiving = max(date(year, 11, d) for d in range(22, 29) if date(year, 11, d).weekday() == 3)
        christmas_eve = date(year, 12, 24)
        expected = {thanksgiving + timedelta(days=1)}
        if july_fourth.weekday() in (1, 2, 3, 4):
            expected.add(date(year, 7, 3))
        if CAL.is_trading_day(christmas_eve):
            expected.add(christmas_eve)
        days = (date(year, 1, 1) + timedelta(days=i) for i in range(365))
        assert {d for d in days if CAL.is_early_close(d)} == expected, year  # Dec 31 is never one


def test_a_normal_day_is_open_from_nine_thirty_to_four():
    day = date(2026, 11, 23)
    session = CAL.session(day)
    assert session is not None
    assert (session.open, session.close) == (
        datetime(2026, 11, 23, 9, 30, tzinfo=NEW_YORK),
        datetime(2026, 11, 23, 16, 0, tzinfo=NEW_YORK),
    )
    assert not CAL.is_open(datetime(2026, 11, 23, 9, 29, 59, tzinfo=NEW_YORK))
    assert CAL.is_open(datetime(2026, 11, 23, 9, 30, tzinfo=NEW_YORK))
    assert CAL.is_open(datetime(2026, 11, 23, 15, 59, 59, tzinfo=NEW_YORK))
    assert not CAL.is_open(datetime(2026, 11, 23, 16, 0, tzinfo=NEW_YORK))


def test_early_close_day_is_shut_from_one_pm():
    assert CAL.is_open(datetime(2026, 11, 27, 12, 59, tzinfo=NEW_YORK))
    assert not CAL.is_open(datetime(2026, 11, 27, 13, 0, tzinfo=NEW_YORK))


def test_weekends_are_closed():
    assert not CAL.is_trading_day(date(2026, 11, 28))
    assert not CAL.is_trading_day(date(2026, 11, 29))
    assert CAL.session(date(2026, 11, 28)) is None
    assert not CAL.is_open(datetime(2026, 11, 28, 11, 0, tzinfo=NEW_YORK))


def test_is_open_uses_new_york_time_across_the_march_change_to_daylight_time():
    # 2026-03-08: clocks go forward; the open moves from 14:30 UTC to 13:30 UTC
    assert not CAL.is_open(datetime(2026, 3, 6, 14, 0, tzinfo=UTC))  # 09:00 EST
    assert CAL.is_open(datetime(2026, 3, 6, 14, 30, tzinfo=UTC))  # 09:30 EST
    assert CAL.is_open(datetime(2026, 3, 9, 13, 30, tzinfo=UTC))  # 09:30 EDT
    assert not CAL.is_open(datetime(2026, 3, 9, 20, 0, tzinfo=UTC))  # 16:00 EDT


def test_is_open_uses_new_york_time_across_the_november_change_to_standard_time():
    # 2026-11-01: clocks go back; the close moves from 20:00 UTC to 21:00 UTC
    assert not CAL.is_open(datetime(2026, 10, 30, 20, 0, tzinfo=UTC))  # 16:00 EDT
    assert CAL.is_open(datetime(2026, 11, 2, 14, 30, tzinfo=UTC))  # 09:30 EST
    assert CAL.is_open(datetime(2026, 11, 2, 20, 30, tzinfo=UTC))  # 15:30 EST
    assert not CAL.is_open(datetime(2026, 11, 2, 21, 0, tzinfo=UTC))  # 16:00 EST
    assert CAL.session(date(2026, 11, 2)).open.utcoffset() == timedelta(hours=-5)
    assert CAL.session(date(2026, 10, 30)).open.utcoffset() == timedelta(hours=-4)


def test_is_open_accepts_any_time_zone():
    # 23:30 Tokyo on Monday is 09:30 New York on Monday
    assert CAL.is_open(datetime(2026, 11, 23, 23, 30, tzinfo=TOKYO))


def test_trading_date_is_the_new_york_calendar_date():
    assert trading_date(datetime(2026, 11, 24, 3, 0, tzinfo=UTC)) == date(2026, 11, 23)  # 22:00 ET Monday
    assert trading_date(datetime(2026, 11, 24, 5, 0, tzinfo=UTC)) == date(2026, 11, 24)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        CAL.is_open(datetime(2026, 11, 23, 10, 0))
    with pytest.raises(ValueError, match="naive"):
        trading_date(datetime(2026, 11, 23, 10, 0))


def test_next_and_previous_trading_days_skip_holidays_and_weekends():
    assert CAL.next_trading_day(date(2026, 11, 25)) == date(2026, 11, 27)
    assert CAL.next_trading_day(date(2026, 11, 27)) == date(2026, 11, 30)
    assert CAL.previous_trading_day(date(2026, 12, 28)) == date(2026, 12, 24)
    assert CAL.previous_trading_day(date(2026, 4, 6)) == date(2026, 4, 2)  # over Good Friday


def test_trading_days_between_counts_after_the_start_up_to_and_including_the_end():
    assert CAL.trading_days_between(date(2026, 11, 20), date(2026, 11, 27)) == 4  # Thanksgiving skipped
    assert CAL.trading_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0
    assert CAL.trading_days_between(date(2026, 11, 27), date(2026, 11, 20)) == -4
    assert CAL.trading_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 251


@given(
    a=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
    b=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
    c=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
)
def test_trading_day_counts_chain(a, b, c):
    assert CAL.trading_days_between(a, b) + CAL.trading_days_between(b, c) == CAL.trading_days_between(a, c)


@given(d=st.dates(date(2025, 1, 1), date(2028, 12, 31)))
def test_next_and_previous_trading_days_are_adjacent_trading_days(d):
    after, before = CAL.next_trading_day(d), CAL.previous_trading_day(d)
    assert CAL.is_trading_day(after) and CAL.is_trading_day(before)
    assert before < d < after
    assert CAL.trading_days_between(d, after) == 1
    assert CAL.trading_days_between(before, d) == (1 if CAL.is_trading_day(d) else 0)
