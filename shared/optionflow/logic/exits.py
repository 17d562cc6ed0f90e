"""Exit rules: pure evaluation of one position against the rules at one instant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from optionflow.db.rows import ExitRules

# The seed's priorities: CRITICAL closes automatically, HIGH and MEDIUM are advice.
CRITICAL, HIGH, MEDIUM = "CRITICAL", "HIGH", "MEDIUM"


@dataclass(frozen=True)
class ExitAlert:
    rule: str
    priority: str
    details: str
    recommended_action: str
    urgency: str
    closes: bool
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PositionView:
    entry_price: Decimal  # dollars per share
    mark: Decimal | None  # dollars per share; None when never priced
    high_water_mark: Decimal | None
    price_stale: bool
    expiry: date
    opened_at: datetime
    priced_at: datetime | None = None


# The rules as the exit_rules table holds them (optionflow.db.rows.ExitRules), under the name they are
# evaluated by here.
Rules = ExitRules


def _close(rule: str, priority: str, details: str, metrics: dict[str, Any]) -> ExitAlert:
    return ExitAlert(rule, priority, details, "CLOSE_POSITION_IMMEDIATELY", "IMMEDIATE", True, metrics)


def stale_mark(p: PositionView, now: datetime, max_age_seconds: int) -> ExitAlert | None:
    """In a session, a mark that failed to refresh or is older than its allowed age is stale."""
    age = None if p.priced_at is None else (now - p.priced_at).total_seconds()
    if not p.price_stale and age is not None and age <= max_age_seconds:
        return None
    why = (
        "its last quote failed"
        if p.price_stale
        else ("it was never priced" if age is None else f"it is {age / 60:.0f} minutes old")
    )
    return ExitAlert(
        "STALE_MARK",
        HIGH,
        f"Mark is stale ({why}; allowed {max_age_seconds // 60} minutes): price rules wait for a fresh one",
        "CHECK_MARKET_DATA",
        "HIGH",
        False,
        {"mark_age_seconds": None if age is None else round(age), "max_age_seconds": max_age_seconds},
    )


def evaluate(
    p: PositionView,
    rules: Rules,
    *,
    today: date,
    now: datetime,
    session_close: datetime | None,
    market_open: bool = True,
    max_mark_age_seconds: int | None = None,
) -> list[ExitAlert]:
    """Every rule that fires now. Price rules run only in a session and on a current mark: a stop must never
    trip on a price that is not current, and outside a session the mark stays at the last close."""
    alerts: list[ExitAlert] = []
    stale = stale_mark(p, now, max_mark_age_seconds) if market_open and max_mark_age_seconds else None
    if stale is not None:
        alerts.append(stale)
    if market_open and stale is None and p.mark is not None and not p.price_stale and p.entry_price > 0:
        pnl_pct = (p.mark - p.entry_price) / p.entry_price * 100
        m = {"entry": p.entry_price, "mark": p.mark, "pnl_pct": round(pnl_pct, 2)}
        if rules.stop_loss_pct is not None and pnl_pct <= -rules.stop_loss_pct:
            alerts.append(
                _close(
                    "STOP_LOSS",
                    CRITICAL,
                    f"Position down {-pnl_pct:.1f}%, stop loss is {rules.stop_loss_pct}%",
                    m,
                )
            )
        if rules.profit_target_pct is not None and pnl_pct >= rules.profit_target_pct:
            # The seed marked this HIGH and left it open; a target that is hit but not taken does
            # nothing for the trader, so OptionFlow closes on it (priority kept for display).
            alerts.append(
                ExitAlert(
                    "PROFIT_TARGET",
                    HIGH,
                    f"Position up {pnl_pct:.1f}%, profit target is {rules.profit_target_pct}%",
                    "TAKE_PROFIT",
                    "HIGH",
                    True,
                    m,
                )
            )
        # the high since entry starts at the entry price: a position that only falls still trails from it
        hwm = max(p.high_water_mark or p.entry_price, p.entry_price)
        if rules.trailing_stop_pct is not None:
            floor = hwm * (1 - rules.trailing_stop_pct / 100)
            if p.mark <= floor:
                alerts.append(
                    _close(
                        "TRAILING_STOP",
                        CRITICAL,
                        f"Mark {p.mark} fell {rules.trailing_stop_pct}% below its high {hwm}",
                        {**m, "high_water_mark": hwm, "floor": round(floor, 4)},
                    )
                )
    dte = (p.expiry - today).days
    if rules.min_dte is not None and dte <= rules.min_dte:
        when = "today" if dte <= 0 else "tomorrow" if dte == 1 else f"in {dte} days"
        alerts.append(
            _close(
                "EXPIRATION", CRITICAL, f"Option expires {when} (DTE {dte} <= {rules.min_dte})", {"dte": dte}
            )
        )
    if rules.close_minutes_before_close is not None and session_close is not None:
        minutes_left = (session_close - now).total_seconds() / 60
        # 0 means the session's last minute: the last moment an exit order can still fill today
        if 0 <= minutes_left <= max(rules.close_minutes_before_close, 1):
            alerts.append(
                _close(
                    "TIME_STOP",
                    CRITICAL,
                    f"{minutes_left:.0f} minutes to the {session_close:%H:%M} close",
                    {"minutes_to_close": round(minutes_left, 1)},
                )
            )
    held_days = (now - p.opened_at).total_seconds() / 86400
    if rules.max_hold_days is not None and held_days >= rules.max_hold_days:
        alerts.append(
            ExitAlert(
                "MAX_HOLD",
                MEDIUM,
                f"Held {held_days:.1f} days, max hold is {rules.max_hold_days}",
                "REVIEW_POSITION",
                "NORMAL",
                False,
                {"held_days": round(held_days, 2)},
            )
        )
    return alerts
