"""Technical indicators: pure functions over bar columns (floats, oldest first).

Each returns one value per input bar, None until the indicator has enough bars (its warm-up). The
conventions are TA-Lib's (the reference the tests hold them to, to 1e-8), so a trader who checks a value
against a charting package that uses TA-Lib sees the same number:

- EMA is seeded with the simple average of its first `period` values, then smoothed with 2 / (period + 1).
- RSI and ATR are Wilder's: seeded with the plain average of the first `period` changes (true ranges), then
  smoothed with 1 / period. The first value is at index `period` (the first change needs two bars).
- VWAP is anchored at each session's first bar: the running sum of typical price ((H + L + C) / 3) times
  volume over the running volume, starting again when the session changes.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

Series = list[float | None]


def _check_period(period: int) -> None:
    if period < 1:
        raise ValueError(f"an indicator period must be at least 1, not {period}")


def ema(values: Sequence[float], period: int) -> Series:
    """Exponential moving average of `values` (any unit; the result has the same unit)."""
    _check_period(period)
    out: Series = [None] * len(values)
    if len(values) < period:
        return out
    k = 2.0 / (period + 1)
    current = sum(values[:period]) / period
    out[period - 1] = current
    for i in range(period, len(values)):
        current = (values[i] - current) * k + current
        out[i] = current
    return out


def rsi(closes: Sequence[float], period: int = 14) -> Series:
    """Wilder's relative strength index of closing prices, 0-100 (0 when the price never moved)."""
    _check_period(period)
    out: Series = [None] * len(closes)
    if len(closes) <= period:
        return out
    gains = losses = 0.0
    for i in range(1, period + 1):
        change = closes[i] - closes[i - 1]
        if change > 0:
            gains += change
        else:
            losses -= change
    avg_gain, avg_loss = gains / period, losses / period
    out[period] = _rsi_value(avg_gain, avg_loss)
    for i in range(period + 1, len(closes)):
        change = closes[i] - closes[i - 1]
        avg_gain = (avg_gain * (period - 1) + max(change, 0.0)) / period
        avg_loss = (avg_loss * (period - 1) + max(-change, 0.0)) / period
        out[i] = _rsi_value(avg_gain, avg_loss)
    return out


def _rsi_value(avg_gain: float, avg_loss: float) -> float:
    total = avg_gain + avg_loss
    return 0.0 if total == 0 else 100.0 * avg_gain / total


def true_range(highs: Sequence[float], lows: Sequence[float], closes: Sequence[float]) -> Series:
    """The largest of high - low and the gaps from the previous close; None for the first bar."""
    _same_length(highs, lows, closes)
    out: Series = [None] * len(closes)
    for i in range(1, len(closes)):
        prev = closes[i - 1]
        out[i] = max(highs[i] - lows[i], abs(highs[i] - prev), abs(lows[i] - prev))
    return out


def atr(highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int = 14) -> Series:
    """Wilder's average true range, in the prices' unit (dollars per share for an underlying)."""
    _check_period(period)
    ranges = true_range(highs, lows, closes)
    out: Series = [None] * len(closes)
    if len(closes) <= period:
        return out
    current = sum(r for r in ranges[1 : period + 1] if r is not None) / period
    out[period] = current
    for i in range(period + 1, len(closes)):
        tr = ranges[i]
        assert tr is not None  # every bar after the first has a true range
        current = (current * (period - 1) + tr) / period
        out[i] = current
    return out


def vwap(
    highs: Sequence[float],
    lows: Sequence[float],
    closes: Sequence[float],
    volumes: Sequence[float],
    sessions: Sequence[Hashable],
) -> Series:
    """Session-anchored volume-weighted average price. `sessions` names each bar's session (its New York
    date); the average starts again at a new one. None while a session has traded no volume yet."""
    _same_length(highs, lows, closes, volumes, sessions)
    out: Series = [None] * len(closes)
    session: Hashable = object()
    pv = vol = 0.0
    for i in range(len(closes)):
        if sessions[i] != session:
            session, pv, vol = sessions[i], 0.0, 0.0
        pv += (highs[i] + lows[i] + closes[i]) / 3.0 * volumes[i]
        vol += volumes[i]
        out[i] = pv / vol if vol > 0 else None
    return out


def _same_length(*columns: Sequence[object]) -> None:
    if len({len(c) for c in columns}) > 1:
        raise ValueError(f"bar columns differ in length: {[len(c) for c in columns]}")
