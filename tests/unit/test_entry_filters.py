"""Entry filters at, just under and just over each threshold, and the trend they read from bars."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from optionflow.calendar import NEW_YORK
from optionflow.logic.filters import (
    band_check,
    mtf_check,
    price_moved_check,
    realized_vol_pct,
    spread_check,
    time_to_close_check,
    trend_on,
)
from optionflow.market.ports import Bar, OptionQuote
from optionflow.pricing.black_scholes import Greeks

D = Decimal
START = datetime(2026, 11, 20, 9, 30, tzinfo=NEW_YORK)


def bars(closes: list[float]) -> list[Bar]:
    return [
        Bar(START + timedelta(minutes=5 * i), D(str(c)), D(str(c + 0.1)), D(str(c - 0.1)), D(str(c)), 1000)
        for i, c in enumerate(closes)
    ]


def test_rising_bars_trend_up_and_falling_bars_down_with_the_indicator_values():
    up = trend_on(bars([100 + i * 0.5 for i in range(40)]), 9, 21)
    down = trend_on(bars([100 - i * 0.5 for i in range(40)]), 9, 21)
    assert up["trend"] == "UP" and down["trend"] == "DOWN"
    assert up["ema_fast"] > up["ema_slow"] and up["rsi"] == 100.0
    assert up["vwap"] is not None and up["bars"] == 40 and up["close"] == 119.5


def test_too_few_bars_for_the_slow_ema_is_no_trend():
    assert trend_on(bars([100.0] * 20), 9, 21)["trend"] is None


def trends(*values: str | None) -> dict:
    return {
        tf: {"trend": t, "ema_fast": 1.0, "ema_slow": 2.0, "bars": 30}
        for tf, t in zip(["15m", "1h"], values, strict=False)
    }


@pytest.mark.parametrize(
    ("direction", "trend", "passed"),
    [
        ("CALL", ("UP", "UP"), True),
        ("CALL", ("UP", "DOWN"), False),
        ("PUT", ("DOWN", "DOWN"), True),
        ("PUT", ("DOWN", "FLAT"), False),
        ("CALL", ("UP", None), False),
    ],
)
def test_mtf_alignment_needs_every_timeframe_to_agree(direction, trend, passed):
    check = mtf_check(direction, trends(*trend), 9, 21)
    assert check.passed is passed
    assert check.inputs["15m"]["ema_fast"] == 1.0
    if not passed:
        assert "1h" in check.detail


def quote(bid: str, ask: str) -> OptionQuote:
    b, a = D(bid), D(ask)
    return OptionQuote(b, a, (b + a) / 2, D(100), 0.2, Greeks(0.5, 0.01, -0.05, 0.1, 0.01), START)


@pytest.mark.parametrize(
    ("bid", "ask", "passed"), [("0.95", "1.05", True), ("0.9499", "1.0501", False), ("0.96", "1.04", True)]
)
def test_spread_at_under_and_over_ten_percent_of_the_mid(bid, ask, passed):
    assert spread_check(quote(bid, ask), D("10")).passed is passed


@pytest.mark.parametrize(
    ("spot", "passed"), [("101.00", True), ("101.01", False), ("99.00", True), ("98.99", False)]
)
def test_price_moved_from_the_alert_price(spot, passed):
    assert price_moved_check(D("100"), D(spot), D("1")).passed is passed


def test_an_alert_without_a_price_passes_the_price_filter_saying_so():
    check = price_moved_check(None, D("100"), D("1"))
    assert check.passed and "no price" in check.detail


@pytest.mark.parametrize(("minutes", "passed"), [(29.9, False), (30.0, True), (30.1, True)])
def test_too_close_to_the_close(minutes, passed):
    assert time_to_close_check(minutes, 30).passed is passed


@pytest.mark.parametrize(
    ("value", "passed"), [(9.99, False), (10.0, True), (40.0, True), (40.01, False), (None, False)]
)
def test_volatility_band(value, passed):
    assert band_check("realized_vol", "realized_vol_pct", value, D("10"), D("40")).passed is passed


def test_realized_volatility_of_a_steady_drift_is_zero_and_of_a_zigzag_positive():
    drift = bars([100 * 1.01**i for i in range(21)])
    assert realized_vol_pct(drift) == pytest.approx(0, abs=1e-6)
    assert realized_vol_pct(bars([100, 101, 100, 101, 100, 101])) > 0
    assert realized_vol_pct(bars([100, 101])) is None
