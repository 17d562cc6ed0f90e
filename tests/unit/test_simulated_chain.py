"""The simulator lists a chain on the exchange grid, with open interest and volume, and bars off its path."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from optionflow.calendar import NEW_YORK, NyseCalendar
from optionflow.market.simulated import SimulatedMarketData
from optionflow.pricing.contracts import listed_contract_problems
from optionflow.pricing.listings import listed_expiries, monthly_expiry

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=NEW_YORK)  # a Monday
CAL = NyseCalendar()


def test_listed_expiries_hold_weeklies_monthlies_and_leaps_on_trading_days():
    expiries = listed_expiries("AAPL", date(2026, 11, 23), CAL)
    assert expiries[0] == date(2026, 11, 27)  # Friday after Thanksgiving is a (half) trading day
    assert date(2026, 12, 18) in expiries  # December's third Friday
    assert date(2027, 1, 15) in expiries and date(2028, 1, 21) in expiries  # January LEAPS
    assert all(CAL.is_trading_day(e) for e in expiries)
    assert date(2026, 11, 24) not in expiries  # AAPL has no daily expiries


def test_spy_lists_a_daily_expiry_so_0dte_exists():
    assert date(2026, 11, 23) in listed_expiries("SPY", date(2026, 11, 23), CAL)


def test_a_monthly_expiry_on_a_holiday_moves_to_the_day_before():
    assert monthly_expiry(2025, 4, CAL) == date(2025, 4, 17)  # Good Friday 2025 was the third Friday


def test_todays_expiry_drops_out_of_the_list_at_its_close():
    market = SimulatedMarketData()
    at_close = datetime(2026, 11, 23, 16, 0, tzinfo=NEW_YORK)
    assert date(2026, 11, 23) in market.expirations("SPY", at_close - timedelta(minutes=1))
    assert date(2026, 11, 23) not in market.expirations("SPY", at_close)


def test_every_contract_of_the_chain_is_listed_and_quoted_as_option_quote_quotes_it():
    market = SimulatedMarketData()
    chain = market.option_chain("SPY", T0, date(2026, 11, 23), date(2026, 11, 27))
    assert chain.expiries == (date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27))
    strikes = chain.strikes(date(2026, 11, 27), "CALL")
    assert {s % 1 for s in strikes} == {0}  # SPY's $1 grid
    assert len(strikes) == 81
    for option in chain.listed(date(2026, 11, 27), "PUT")[::10]:
        assert not listed_contract_problems(
            "SPY", option.option_type, option.strike, option.expiry, T0.date(), chain.underlying, CAL
        )
        quote = market.option_quote("SPY", "PUT", option.strike, option.expiry, T0)
        assert (option.bid, option.ask, option.mid, option.as_of) == (quote.bid, quote.ask, quote.mid, T0)
        assert option.symbol.startswith("SPY261127P")


def test_open_interest_is_deterministic_and_highest_near_the_money():
    first = SimulatedMarketData(7).option_chain("QQQ", T0, date(2026, 11, 27), date(2026, 11, 27))
    again = SimulatedMarketData(7).option_chain("QQQ", T0, date(2026, 11, 27), date(2026, 11, 27))
    assert first == again
    calls = first.listed(date(2026, 11, 27), "CALL")
    near = [o for o in calls if abs(o.strike - first.underlying) < 5]
    far = [o for o in calls if abs(o.strike - first.underlying) > 30]
    assert min(o.open_interest for o in near) > max(o.open_interest for o in far)


def test_listed_strikes_stay_put_through_the_session():
    market = SimulatedMarketData()
    morning = market.option_chain("NVDA", T0, date(2026, 11, 27), date(2026, 11, 27))
    afternoon = market.option_chain("NVDA", T0 + timedelta(hours=5), date(2026, 11, 27), date(2026, 11, 27))
    assert morning.strikes(date(2026, 11, 27), "CALL") == afternoon.strikes(date(2026, 11, 27), "CALL")


def test_volume_grows_through_the_session():
    market = SimulatedMarketData()
    window = (date(2026, 11, 27), date(2026, 11, 27))
    early = market.option_chain("SPY", T0 - timedelta(minutes=29), *window)
    late = market.option_chain("SPY", T0 + timedelta(hours=5), *window)
    assert sum(o.volume for o in early.options) < sum(o.volume for o in late.options)


def test_minute_bars_follow_the_path_inside_the_session_only():
    market = SimulatedMarketData()
    start = datetime(2026, 11, 23, 9, 0, tzinfo=NEW_YORK)
    bars = market.bars("SPY", "5m", start, start + timedelta(hours=2))
    assert bars[0].start == datetime(2026, 11, 23, 9, 30, tzinfo=NEW_YORK)
    assert len(bars) == 18  # 09:30 to 11:00
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) and bar.high >= max(bar.open, bar.close)
        assert bar.open == market.underlying_price("SPY", bar.start)
        assert bar.volume > 0
    assert all(b.close == n.open for b, n in itertools.pairwise(bars))


def test_daily_bars_are_one_per_session_and_the_hourly_last_bar_is_cut_at_the_close():
    market = SimulatedMarketData()
    start = datetime(2026, 11, 23, tzinfo=NEW_YORK)
    daily = market.bars("SPY", "1d", start, start + timedelta(days=7))
    assert [b.start.date() for b in daily] == [date(2026, 11, d) for d in (23, 24, 25, 27)]
    hourly = market.bars("SPY", "1h", start, start + timedelta(days=1))
    assert len(hourly) == 7 and hourly[-1].start.time().isoformat() == "15:30:00"
    assert hourly[-1].close == market.underlying_price("SPY", datetime(2026, 11, 23, 16, tzinfo=NEW_YORK))
    assert daily[0].close == hourly[-1].close


def test_bars_refuse_an_unknown_timeframe():
    with pytest.raises(ValueError, match="timeframe '2m'"):
        SimulatedMarketData().bars("SPY", "2m", T0, T0 + timedelta(hours=1))


def test_strike_grid_for_a_stock_between_25_and_200_is_five_dollars():
    chain = SimulatedMarketData().option_chain("NVDA", T0, date(2026, 11, 27), date(2026, 11, 27))
    assert {s % 5 for s in chain.strikes(date(2026, 11, 27), "CALL")} == {Decimal(0)}
