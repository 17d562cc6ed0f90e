"""Entry filters at the decision step: multi-timeframe trend alignment and market context.

Each filter is one check in the signal's decision trail with its inputs (an MTF rejection shows every
timeframe's EMAs, RSI and VWAP). Indicators are computed on completed bars only: a bar still open at the
decision would read prices from after it.

- `mtf_alignment`: a CALL needs the fast EMA above the slow EMA on every configured timeframe, a PUT below.
- `spread`: the at-the-money contract's bid-ask spread, % of its mid, at most `max_spread_pct`.
- `price_moved`: the underlying at most `max_price_move_pct` % from the alert's `price`.
- `time_to_close`: at least `min_minutes_to_close` minutes left in the session.
- `volatility_regime`: realized volatility (20 daily log returns, annualised) and the at-the-money IV
  inside their configured bands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from optionflow.calendar import NEW_YORK
from optionflow.logic.risk import Check
from optionflow.market.ports import TIMEFRAMES, Bar
from optionflow.strategy.indicators import ema, rsi, vwap

if TYPE_CHECKING:
    from optionflow.calendar import NyseCalendar
    from optionflow.db.rows import StrategySettings
    from optionflow.db.signals import ClaimedSignal
    from optionflow.market.ports import MarketData, OptionQuote

RSI_PERIOD = 14
REALIZED_VOL_DAYS = 20
SESSION_SECONDS = 390 * 60


@dataclass
class MarketView:
    """The market as one decision batch sees it: bars and quotes fetched once per ticker and timeframe."""

    market: MarketData
    calendar: NyseCalendar
    now: datetime
    _bars: dict[tuple[str, str, int], list[Bar]] = field(default_factory=dict)
    _quotes: dict[tuple[str, str], OptionQuote] = field(default_factory=dict)

    def completed_bars(self, ticker: str, timeframe: str, count: int) -> list[Bar]:
        """At least the last `count` bars of `timeframe` that have closed by now (fewer when the market has
        not made that many), oldest first."""
        key = (ticker, timeframe, count)
        if key not in self._bars:
            seconds = TIMEFRAMES[timeframe]
            per_session = max(SESSION_SECONDS // seconds, 1)
            sessions = count // per_session + 2
            # calendar days holding that many sessions, across weekends and holidays
            days = sessions * 7 // 5 + 5
            bars = self.market.bars(ticker, timeframe, self.now - timedelta(days=days), self.now)
            self._bars[key] = [b for b in bars if _closes(b, seconds, self.calendar) <= self.now]
        return self._bars[key]

    def atm_quote(self, ticker: str, direction: str) -> OptionQuote:
        """The quote of the contract the order creator would buy by default: at the money, this week."""
        from optionflow.pricing.expiry import weekly_expiry_on_or_after
        from optionflow.pricing.strikes import atm_strike

        key = (ticker, direction)
        if key not in self._quotes:
            spot = self.market.underlying_price(ticker, self.now)
            expiry = weekly_expiry_on_or_after(self.now.astimezone(NEW_YORK).date(), self.calendar)
            self._quotes[key] = self.market.option_quote(
                ticker, direction, atm_strike(ticker, spot), expiry, self.now
            )
        return self._quotes[key]


def _closes(bar: Bar, seconds: int, calendar: NyseCalendar) -> datetime:
    session = calendar.session(bar.start.astimezone(NEW_YORK).date())
    end = bar.start + timedelta(seconds=seconds)
    if session is not None and (seconds >= 86400 or end > session.close):
        return session.close
    return end


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def trend_on(bars: list[Bar], fast: int, slow: int) -> dict[str, Any]:
    """The trend of one timeframe's completed bars: UP when the fast EMA is above the slow, DOWN below, None
    without enough bars; with the indicator values that decided it."""
    closes = [float(b.close) for b in bars]
    fast_ema, slow_ema = ema(closes, fast), ema(closes, slow)
    strength = rsi(closes, RSI_PERIOD)
    sessions = [b.start.astimezone(NEW_YORK).date() for b in bars]
    average = vwap(
        [float(b.high) for b in bars],
        [float(b.low) for b in bars],
        [float(b.close) for b in bars],
        [float(b.volume) for b in bars],
        sessions,
    )
    f = fast_ema[-1] if bars else None
    s = slow_ema[-1] if bars else None
    trend = None if f is None or s is None else ("UP" if f > s else "DOWN" if f < s else "FLAT")
    return {
        "bars": len(bars),
        "close": closes[-1] if closes else None,
        "ema_fast": _r(f),
        "ema_slow": _r(s),
        "rsi": _r(strength[-1]) if bars else None,
        "vwap": _r(average[-1]) if bars else None,
        "trend": trend,
    }


def mtf_check(direction: str, trends: dict[str, dict[str, Any]], fast: int, slow: int) -> Check:
    wanted = "UP" if direction == "CALL" else "DOWN"
    inputs: dict[str, Any] = {
        "direction": direction,
        "wants": wanted,
        "ema_fast": fast,
        "ema_slow": slow,
        **trends,
    }
    against = [tf for tf, t in trends.items() if t["trend"] != wanted]
    if not against:
        return Check(
            "mtf_alignment",
            True,
            f"{direction} agrees with the {wanted} trend on {', '.join(trends)}",
            inputs,
        )
    words = []
    for tf in against:
        t = trends[tf]
        if t["trend"] is None:
            words.append(f"{tf}: {t['bars']} bars, too few for EMA({slow})")
        else:
            words.append(f"{tf}: EMA({fast}) {t['ema_fast']} vs EMA({slow}) {t['ema_slow']} is {t['trend']}")
    return Check("mtf_alignment", False, f"{direction} against the trend ({'; '.join(words)})", inputs)


def spread_check(quote: OptionQuote, max_pct: Decimal) -> Check:
    pct = (quote.ask - quote.bid) / quote.mid * 100 if quote.mid > 0 else Decimal("Infinity")
    inputs = {"bid": quote.bid, "ask": quote.ask, "spread_pct": round(pct, 2), "max_spread_pct": max_pct}
    passed = pct <= max_pct
    detail = f"at-the-money spread {pct:.2f}% of the mid {'within' if passed else 'wider than'} {max_pct}%"
    return Check("spread", passed, detail, inputs)


def price_moved_check(alert_price: Decimal | None, spot: Decimal, max_pct: Decimal) -> Check:
    inputs: dict[str, Any] = {"alert_price": alert_price, "underlying": spot, "max_price_move_pct": max_pct}
    if alert_price is None:
        return Check("price_moved", True, "the alert gave no price to compare with", inputs)
    pct = abs(spot - alert_price) / alert_price * 100
    inputs["moved_pct"] = round(pct, 4)
    passed = pct <= max_pct
    return Check(
        "price_moved",
        passed,
        f"underlying ${spot} is {pct:.2f}% from the alert's ${alert_price} ({'within' if passed else 'over'} {max_pct}%)",
        inputs,
    )


def time_to_close_check(minutes_left: float, minimum: int) -> Check:
    passed = minutes_left >= minimum
    return Check(
        "time_to_close",
        passed,
        f"{minutes_left:.0f} minutes to the close ({'at least' if passed else 'fewer than'} {minimum})",
        {"minutes_to_close": round(minutes_left, 1), "min_minutes_to_close": minimum},
    )


def realized_vol_pct(bars: list[Bar]) -> float | None:
    """Annualised standard deviation of daily log returns, percent; None with fewer than 3 closes."""
    closes = [float(b.close) for b in bars][-(REALIZED_VOL_DAYS + 1) :]
    if len(closes) < 3:
        return None
    returns = [math.log(b / a) for a, b in pairwise(closes)]
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    return math.sqrt(variance) * math.sqrt(252) * 100


def band_check(name: str, what: str, value: float | None, low: Decimal | None, high: Decimal | None) -> Check:
    inputs = {what: _r(value), "min": low, "max": high}
    if value is None:
        return Check(name, False, f"no {what} to compare with its band", inputs)
    if low is not None and value < float(low):
        return Check(name, False, f"{what} {value:.2f}% below the band's {low}%", inputs)
    if high is not None and value > float(high):
        return Check(name, False, f"{what} {value:.2f}% above the band's {high}%", inputs)
    return Check(
        name,
        True,
        f"{what} {value:.2f}% within [{low if low is not None else '-'}, {high if high is not None else '-'}]%",
        inputs,
    )


def entry_filters(
    view: MarketView, signal: ClaimedSignal, settings: StrategySettings, session_close: datetime | None
) -> list[Check]:
    """The configured filters for one BUY, in order; none when all are switched off."""
    s = settings
    direction = signal.direction or "CALL"
    checks: list[Check] = []
    if s.mtf_on and s.mtf_timeframes:
        fast, slow = s.mtf_ema_fast or 9, s.mtf_ema_slow or 21
        need = max(slow, RSI_PERIOD + 1)
        trends = {
            tf: trend_on(view.completed_bars(signal.ticker, tf, need), fast, slow) for tf in s.mtf_timeframes
        }
        checks.append(mtf_check(direction, trends, fast, slow))
    if not s.context_on:
        return checks
    if s.max_spread_pct is not None:
        quote = _atm_quote(view, signal.ticker, direction, "spread")
        checks.append(quote if isinstance(quote, Check) else spread_check(quote, s.max_spread_pct))
    if s.max_price_move_pct is not None:
        spot = view.market.underlying_price(signal.ticker, view.now)
        checks.append(price_moved_check(signal.price, spot, s.max_price_move_pct))
    if s.min_minutes_to_close is not None and session_close is not None:
        checks.append(
            time_to_close_check((session_close - view.now).total_seconds() / 60, s.min_minutes_to_close)
        )
    if s.min_realized_vol_pct is not None or s.max_realized_vol_pct is not None:
        daily = view.completed_bars(signal.ticker, "1d", REALIZED_VOL_DAYS + 1)
        checks.append(
            band_check(
                "realized_vol",
                "realized_vol_pct",
                realized_vol_pct(daily),
                s.min_realized_vol_pct,
                s.max_realized_vol_pct,
            )
        )
    if s.min_iv_pct is not None or s.max_iv_pct is not None:
        quote = _atm_quote(view, signal.ticker, direction, "implied_vol")
        if isinstance(quote, Check):
            checks.append(quote)
        else:
            checks.append(band_check("implied_vol", "iv_pct", quote.iv * 100, s.min_iv_pct, s.max_iv_pct))
    return checks


def _atm_quote(view: MarketView, ticker: str, direction: str, check: str) -> OptionQuote | Check:
    """The at-the-money quote, or the failed check saying why there is none (a provider that does not list
    the grid's strike, an expired weekly): a filter that cannot see its input refuses, it does not guess."""
    from optionflow.market.ports import ContractExpired, MarketDataError

    try:
        return view.atm_quote(ticker, direction)
    except (ContractExpired, MarketDataError, ValueError) as exc:
        return Check(
            check, False, f"no at-the-money {direction} quote for {ticker}: {exc}", {"ticker": ticker}
        )
