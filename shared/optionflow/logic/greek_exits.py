"""Greeks exits and the exit rules a position was bought under: pure, like logic/exits.py.

Each rule carries a priority (CRITICAL cuts a loser, HIGH takes a profit or stops a bleed) and its alert
names the numbers it compared. They run, like the price rules, only in a session and on a current mark.

- DELTA_ITM (HIGH, closes): |delta| at or above `exit_delta_itm`: deep in the money, take the profit.
- DELTA_OTM (CRITICAL, closes): |delta| at or below `exit_delta_otm`: far out of the money, cut it.
- THETA_DECAY (HIGH, closes): a day's theta is `exit_theta_pct` % of the mark or more.
- IV_CRUSH (HIGH, closes): implied volatility has fallen `exit_iv_crush_pct` % or more below its entry IV.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from optionflow.db.rows import EntryTerms, ExitRules, StrategySettings
from optionflow.logic.exits import CRITICAL, HIGH, ExitAlert

# The plan keys that stand in for an exit rule of the same meaning.
_PLAN_RULES = {
    "profit_target_pct": "profit_target_pct",
    "stop_loss_pct": "stop_loss_pct",
    "trailing_stop_pct": "trailing_stop_pct",
    "time_stop_minutes": "close_minutes_before_close",
    "min_dte": "min_dte",
}


def rules_in_force(
    rules: ExitRules, plan: dict[str, Any] | None, ticker: StrategySettings | None = None
) -> ExitRules:
    """The exit rules for a position: the exit fields its alert's plan set (kept with the position at entry,
    so no later settings change rewrites what that trade was told to do), else its ticker's own exit rules,
    else the global exit rules (an operator's audited change to either applies to the book)."""
    changes: dict[str, Any] = {}
    if ticker is not None:
        for key, field in _PLAN_RULES.items():
            value = getattr(ticker, key, None)
            if value is not None:
                changes[field] = value
    from_alert = set((plan or {}).get("from_alert") or ())
    for key, field in _PLAN_RULES.items():
        if plan and key in from_alert and key in plan:
            value = plan[key]
            if value is not None and field not in ("close_minutes_before_close", "min_dte"):
                value = Decimal(str(value))
            changes[field] = value
    return dataclasses.replace(rules, **changes) if changes else rules


def _alert(rule: str, priority: str, details: str, action: str, metrics: dict[str, Any]) -> ExitAlert:
    return ExitAlert(
        rule, priority, details, action, "IMMEDIATE" if priority == CRITICAL else "HIGH", True, metrics
    )


def greek_exits(terms: EntryTerms, settings: StrategySettings) -> list[ExitAlert]:
    """The Greeks rules that fire for a position's latest mark, Greeks and IV (none when switched off)."""
    s = settings
    if not s.greek_exits_on:
        return []
    alerts: list[ExitAlert] = []
    if terms.delta is not None:
        delta = abs(terms.delta)
        m: dict[str, Any] = {"delta": round(terms.delta, 4), "entry_delta": terms.entry_delta}
        if s.exit_delta_itm is not None and delta >= float(s.exit_delta_itm):
            alerts.append(
                _alert(
                    "DELTA_ITM",
                    HIGH,
                    f"|delta| {delta:.3f} reached the deep-in-the-money threshold {s.exit_delta_itm}",
                    "TAKE_PROFIT",
                    {**m, "threshold": s.exit_delta_itm},
                )
            )
        if s.exit_delta_otm is not None and delta <= float(s.exit_delta_otm):
            alerts.append(
                _alert(
                    "DELTA_OTM",
                    CRITICAL,
                    f"|delta| {delta:.3f} fell to the far-out-of-the-money threshold {s.exit_delta_otm}",
                    "CLOSE_POSITION_IMMEDIATELY",
                    {**m, "threshold": s.exit_delta_otm},
                )
            )
    if s.exit_theta_pct is not None and terms.theta is not None and terms.mark is not None and terms.mark > 0:
        decay_pct = round(
            -terms.theta / float(terms.mark) * 100, 9
        )  # 9 places: no float noise at the threshold
        if decay_pct >= float(s.exit_theta_pct):
            alerts.append(
                _alert(
                    "THETA_DECAY",
                    HIGH,
                    f"theta ${-terms.theta:.4f} a day is {decay_pct:.1f}% of the ${terms.mark} mark "
                    f"(threshold {s.exit_theta_pct}%)",
                    "CLOSE_POSITION",
                    {
                        "theta": round(terms.theta, 6),
                        "mark": terms.mark,
                        "decay_pct": round(decay_pct, 2),
                        "threshold_pct": s.exit_theta_pct,
                    },
                )
            )
    if s.exit_iv_crush_pct is not None and terms.iv is not None and terms.entry_iv:
        drop_pct = round((terms.entry_iv - terms.iv) / terms.entry_iv * 100, 9)
        if drop_pct >= float(s.exit_iv_crush_pct):
            alerts.append(
                _alert(
                    "IV_CRUSH",
                    HIGH,
                    f"IV {terms.iv:.1%} is {drop_pct:.1f}% below its {terms.entry_iv:.1%} at entry "
                    f"(threshold {s.exit_iv_crush_pct}%)",
                    "CLOSE_POSITION",
                    {
                        "iv": round(terms.iv, 5),
                        "entry_iv": round(terms.entry_iv, 5),
                        "drop_pct": round(drop_pct, 2),
                        "threshold_pct": s.exit_iv_crush_pct,
                    },
                )
            )
    return alerts
