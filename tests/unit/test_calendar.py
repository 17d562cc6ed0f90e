"""The NYSE calendar in New York time, checked against the exchange's published 2026–2027 schedule."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from optionflow.market.calendar import NyseCalendar

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
CAL = NyseCalendar()

CLOSED = [
    "2026-01-01",
    "2026-01-19",
    "2026-02-16",
    "2026-04-03",
    "2026-05-25",
    "2026-06-19",
    "2026-07-03",
    "2026-09-07",
    "2026-11-26",
    "2026-12-25",
    "2027-01-01",
    "2027-01-18",
    "2027-02-15",
    "2027-03-26",
    "2027-05-31",
    "2027-06-18",
    "2027-07-05",
    "2027-09-06",
    "2027-11-25",
    "2027-12-24",
]


@pytest.mark.parametrize("day", CLOSED)
def test_published_nyse_holidays_are_closed(day):
    assert not CAL.is_trading_day(date.fromisoformat(day))
    assert CAL.session(date.fromisoformat(day)) is None


@pytest.mark.parametrize("day", ["2026-11-27", "2026-12-24", "2027-11-26"])
def test_early_closes_end_at_one(day):
    session = CAL.session(date.fromisoformat(day))
    assert session is not None and session.close.time() == time(13, 0) and session.early_close


@pytest.mark.parametrize("day", ["2026-07-02", "2027-12-23", "2026-11-25", "2026-11-23"])
def test_ordinary_days_close_at_four(day):
    session = CAL.session(date.fromisoformat(day))
    assert session is not None and session.close.time() == time(16, 0)


def test_july_third_closes_early_when_the_fourth_is_a_weekday():
    assert CAL.is_early_close(date(2028, 7, 3))  # Independence Day on a Tuesday
    assert CAL.is_early_close(date(2025, 7, 3))  # ... on a Friday


def test_is_open_uses_new_york_time_across_daylight_saving():
    assert CAL.is_open(datetime(2026, 3, 9, 13, 30, tzinfo=UTC))  # 09:30 EDT
    assert not CAL.is_open(datetime(2026, 3, 6, 14, 0, tzinfo=UTC))  # 09:00 EST
    assert CAL.is_open(datetime(2026, 11, 2, 14, 30, tzinfo=UTC))  # 09:30 EST
    assert not CAL.is_open(datetime(2026, 11, 2, 21, 0, tzinfo=UTC))  # 16:00 EST


def test_session_boundaries_and_weekends():
    assert CAL.is_open(datetime(2026, 11, 23, 9, 30, tzinfo=NY))
    assert not CAL.is_open(datetime(2026, 11, 23, 16, 0, tzinfo=NY))
    assert not CAL.is_open(datetime(2026, 11, 27, 13, 0, tzinfo=NY))
    assert not CAL.is_open(datetime(2026, 11, 28, 11, 0, tzinfo=NY))


def test_next_and_previous_trading_days_skip_holidays_and_weekends():
    assert CAL.next_trading_day(date(2026, 11, 25)) == date(2026, 11, 27)
    assert CAL.previous_trading_day(date(2026, 12, 28)) == date(2026, 12, 24)
    assert CAL.trading_days_between(date(2026, 11, 20), date(2026, 11, 27)) == 4


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        CAL.is_open(datetime(2026, 11, 23, 10, 0))
