"""Indicators against TA-Lib (the reference implementation) on a stored series of 5-minute bars, to 1e-8;
VWAP (which TA-Lib lacks) against its definition computed per session in one pass of exact fractions."""

from __future__ import annotations

import json
import math
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import talib
from optionflow.calendar import NEW_YORK
from optionflow.strategy import indicators

BARS = json.loads((Path(__file__).parents[1] / "fixtures/bars/spy_5m.json").read_text())["bars"]
HIGH = [float(b["high"]) for b in BARS]
LOW = [float(b["low"]) for b in BARS]
CLOSE = [float(b["close"]) for b in BARS]
VOLUME = [float(b["volume"]) for b in BARS]
SESSION = [datetime.fromisoformat(b["start"]).astimezone(NEW_YORK).date() for b in BARS]


def assert_matches(ours: list[float | None], reference: np.ndarray) -> None:
    assert len(ours) == len(reference)
    for i, (mine, theirs) in enumerate(zip(ours, reference, strict=True)):
        if math.isnan(theirs):
            assert mine is None, f"bar {i}: TA-Lib has no value yet, we have {mine}"
        else:
            assert mine is not None and abs(mine - theirs) <= 1e-8, f"bar {i}: {mine} vs {theirs}"


@pytest.mark.parametrize("period", [1, 2, 9, 21, 50])
def test_ema_matches_ta_lib(period: int) -> None:
    assert_matches(indicators.ema(CLOSE, period), talib.EMA(np.array(CLOSE), timeperiod=period))


@pytest.mark.parametrize("period", [2, 7, 14, 30])
def test_rsi_matches_ta_lib_wilder(period: int) -> None:
    assert_matches(indicators.rsi(CLOSE, period), talib.RSI(np.array(CLOSE), timeperiod=period))


@pytest.mark.parametrize("period", [2, 14, 20])
def test_atr_matches_ta_lib_wilder(period: int) -> None:
    reference = talib.ATR(np.array(HIGH), np.array(LOW), np.array(CLOSE), timeperiod=period)
    assert_matches(indicators.atr(HIGH, LOW, CLOSE, period), reference)


def test_true_range_matches_ta_lib() -> None:
    assert_matches(
        indicators.true_range(HIGH, LOW, CLOSE), talib.TRANGE(np.array(HIGH), np.array(LOW), np.array(CLOSE))
    )


def test_vwap_restarts_each_session_and_matches_its_definition() -> None:
    ours = indicators.vwap(HIGH, LOW, CLOSE, VOLUME, SESSION)
    for i in range(len(BARS)):
        first = SESSION.index(SESSION[i])
        window = range(first, i + 1)
        volume = sum(Fraction(VOLUME[j]) for j in window)
        if volume == 0:
            assert ours[i] is None
            continue
        typical = sum(
            (Fraction(HIGH[j]) + Fraction(LOW[j]) + Fraction(CLOSE[j])) / 3 * Fraction(VOLUME[j])
            for j in window
        )
        value = ours[i]
        assert value is not None and abs(value - float(typical / volume)) <= 1e-8
    # the anchor: a session's first bar's VWAP is its own typical price
    first_of_second = SESSION.index(SESSION[-1])
    assert ours[first_of_second] == pytest.approx(
        (HIGH[first_of_second] + LOW[first_of_second] + CLOSE[first_of_second]) / 3
    )


def test_rsi_of_a_flat_series_is_zero_like_ta_lib() -> None:
    flat = [100.0] * 20
    assert_matches(indicators.rsi(flat, 14), talib.RSI(np.array(flat), timeperiod=14))


def test_too_few_bars_give_no_value_and_a_bad_period_is_refused() -> None:
    assert indicators.ema([1.0, 2.0], 3) == [None, None]
    assert indicators.atr([1.0], [1.0], [1.0], 14) == [None]
    with pytest.raises(ValueError, match="at least 1"):
        indicators.rsi(CLOSE, 0)
    with pytest.raises(ValueError, match="differ in length"):
        indicators.true_range(HIGH, LOW[:-1], CLOSE)
