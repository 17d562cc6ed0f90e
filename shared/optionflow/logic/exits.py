"""Exit rules: pure evaluation of one position against the rules at one instant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

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


@dataclass(frozen=True)
class Rules:
    profit_target_pct: Decimal | None
    stop_loss_pct: Decimal | None
    trailing_stop_pct: Decimal | None
    min_dte: int | None
    max_hold_days: int | None
    close_minutes_before_close: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Rules:
        return cls(
            row["profit_target_pct"],
            row["stop_loss_pct"],
            row["trailing_stop_pct"],
            row["min_dte"],
            row["max_hold_days"],
            row["close_minutes_before_close"],
        )


def _close(rule: str, priority: str, details: str, metrics: dict[str, Any]) -> ExitAlert:
    return ExitAlert(rule, priority, details, "CLOSE_POSITION_IMMEDIATELY", "IMMEDIATE", True, metrics)


def evaluate(
    p: PositionView, rules: Rules, *, today: date, now: datetime, session_close: datetime | None
) -> list[ExitAlert]:
    """Every rule that fires now. Price rules are skipped on a stale or missing mark: a stop must never
    trip on a price that is not current."""
    alerts: list[ExitAlert] = []
    if p.mark is not None and not p.price_stale and p.entry_price > 0:
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
        hwm = p.high_water_mark
        if rules.trailing_stop_pct is not None and hwm is not None and hwm > p.entry_price:
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
        if 0 <= minutes_left <= rules.close_minutes_before_close:
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
