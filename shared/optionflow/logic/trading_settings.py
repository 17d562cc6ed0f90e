"""Reading and changing the risk limits, exit rules and kill switch; every change is recorded with who and why.

A change locks the row, checks the result as a whole, updates it and records the change in one transaction:
two operators changing different fields at once both land, and the record always matches what was applied.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from optionflow.db import notifications as notifications_db
from optionflow.db import trading_settings as settings_db
from optionflow.db.rows import StoredStrategySettings
from optionflow.errors import FieldError, NotFound
from optionflow.events import names as events
from optionflow.models.strategy_settings import (
    OVERALL_ONLY,
    TICKER_ONLY,
    StrategySettingsPatch,
    StrategySettingsRow,
)
from optionflow.models.trading_settings import (
    ExitRules,
    ExitRulesPatch,
    RiskLimits,
    RiskLimitsPatch,
    SettingsChange,
    What,
)

if TYPE_CHECKING:
    from optionflow.composition import Dependencies


class SettingsRejected(FieldError):
    """A change each field of which is valid, but whose result a trader would not want; names the field (422)."""


def risk_limits(deps: Dependencies) -> RiskLimits:
    return RiskLimits.model_validate(
        deps.db.run_in_transaction(lambda cur: settings_db.read(cur, "risk_limits")), from_attributes=True
    )


def exit_rules(deps: Dependencies) -> ExitRules:
    return ExitRules.model_validate(
        deps.db.run_in_transaction(lambda cur: settings_db.read(cur, "exit_rules")), from_attributes=True
    )


def change_risk_limits(deps: Dependencies, patch: RiskLimitsPatch, *, actor: str) -> RiskLimits:
    return RiskLimits.model_validate(
        _apply(deps, "risk_limits", patch.changes(), actor=actor, reason=patch.reason), from_attributes=True
    )


def change_exit_rules(deps: Dependencies, patch: ExitRulesPatch, *, actor: str) -> ExitRules:
    return ExitRules.model_validate(
        _apply(deps, "exit_rules", patch.changes(), actor=actor, reason=patch.reason), from_attributes=True
    )


def set_kill_switch(deps: Dependencies, on: bool, *, reason: str | None, actor: str) -> RiskLimits:
    """On: the signal processor rejects every new entry (reason `kill_switch`); exits are never blocked."""
    return RiskLimits.model_validate(
        _apply(deps, "risk_limits", {"kill_switch": on}, actor=actor, reason=reason), from_attributes=True
    )


def history(deps: Dependencies, *, limit: int, what: What | None = None) -> list[SettingsChange]:
    rows = deps.db.run_in_transaction(lambda cur: settings_db.changes(cur, limit=limit, what=what))
    return [SettingsChange.model_validate(row, from_attributes=True) for row in rows]


def sanity_check(what: What, proposed: dict[str, Any], named: set[str]) -> None:
    """Refuse a combination of valid values that defeats its purpose; `named` are the fields the change
    sets: only a change to the fields involved is checked (the kill switch must never be refused because of
    some other value), and the refusal names the field the operator just typed."""
    if what == "risk_limits" and named & {"risk_per_trade", "max_daily_loss"}:
        budget, day_limit = Decimal(proposed["risk_per_trade"]), Decimal(proposed["max_daily_loss"])
        # A long option can lose its whole premium, and the daily loss check only runs before an entry:
        # a per-trade budget above the daily limit lets one losing trade overshoot it. (0 as the daily
        # limit stops all entries, which is what the kill switch is for.)
        if budget > day_limit:
            field = "risk_per_trade" if "risk_per_trade" in named else "max_daily_loss"
            raise SettingsRejected(
                field,
                f"a ${budget:,.2f} budget per trade (risk_per_trade) is above the ${day_limit:,.2f} daily loss "
                "limit (max_daily_loss): one losing trade could lose more than the day allows; to stop "
                "entries use the kill switch",
            )


def _apply(
    deps: Dependencies,
    what: What,
    values: dict[str, Any],
    *,
    actor: str,
    reason: str | None,
    name: str = "default",
) -> settings_db.Stored:
    now = deps.clock.now()

    def work(cur: Any) -> settings_db.Stored:
        if name != "default":
            settings_db.ensure_row(cur, what, name, at=now)
        stored = settings_db.read(cur, what, name, lock=True)
        current = asdict(stored)
        sanity_check(what, {**current, **values}, set(values))
        if what == "strategy_settings":
            strategy_sanity_check(name, {**current, **values}, set(values))
        changed = {k: v for k, v in values.items() if current[k] != v}
        # Asking for what is already set changes nothing, so nothing is recorded. This also makes a retry
        # after a lost commit harmless: the second attempt finds the values in place.
        if not changed:
            return stored
        row = settings_db.update(cur, what, changed, at=now, name=name)
        settings_db.record_change(
            cur,
            what,
            before={k: current[k] for k in changed},
            after={k: getattr(row, k) for k in changed},
            actor=actor,
            reason=reason,
            at=now,
            name=name,
        )
        if "kill_switch" in changed:
            notifications_db.kill_switch_changed(cur, bool(changed["kill_switch"]), actor, reason, now)
        return row

    row = deps.db.run_in_transaction(work)
    if values.keys() == {"kill_switch"}:
        deps.publish(events.NOTICES_QUEUED, {})  # a wake-up too many (no change) costs one empty run
    return row


# --- strategy settings: global (`default`) and per ticker ---------------------------------------------------

_TICKER = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")


def _row_name(name: str) -> str:
    if name != "default" and not _TICKER.match(name):
        raise FieldError("name", f"{name!r} is neither `default` nor a ticker such as SPY")
    return name


def strategy_settings(deps: Dependencies) -> list[StrategySettingsRow]:
    """Every row: the default first, then each ticker's overrides."""
    rows = deps.db.run_in_transaction(settings_db.strategy_rows)
    return [StrategySettingsRow.model_validate(row, from_attributes=True) for row in rows]


def strategy_settings_row(deps: Dependencies, name: str) -> StrategySettingsRow:
    name = _row_name(name)

    def work(cur: Any) -> StoredStrategySettings:
        try:
            return settings_db.read(cur, "strategy_settings", name)
        except LookupError:
            raise NotFound(
                "name", f"{name} has no strategy settings of its own; it uses the default"
            ) from None

    return StrategySettingsRow.model_validate(deps.db.run_in_transaction(work), from_attributes=True)


def change_strategy_settings(
    deps: Dependencies, name: str, patch: StrategySettingsPatch, *, actor: str
) -> StrategySettingsRow:
    """Change some settings of `name` (`default` or a ticker, whose row is made on its first change)."""
    values = patch.changes()
    name = _row_name(name)
    return StrategySettingsRow.model_validate(
        _apply(deps, "strategy_settings", values, actor=actor, reason=patch.reason, name=name),
        from_attributes=True,
    )


def strategy_sanity_check(name: str, proposed: dict[str, Any], named: set[str]) -> None:
    """Refuse strategy settings that contradict each other or a ticker setting an overall cap; the refusal
    names a field the change set."""

    def field(*candidates: str) -> str:
        return next((c for c in candidates if c in named), candidates[0])

    if name != "default":
        for key in OVERALL_ONLY:
            if key in named and proposed.get(key) is not None:
                raise SettingsRejected(key, "is an overall cap on the whole book: set it on `default`")
    if name == "default":
        for key in TICKER_ONLY:
            if key in named and proposed.get(key) is not None:
                raise SettingsRejected(
                    key, "is a ticker's own exit rule: the global one is set with PATCH /exit-rules"
                )
    if name == "default" and "sizing_method" in named and proposed.get("sizing_method") is None:
        raise SettingsRejected("sizing_method", "the default row needs a sizing method")
    if proposed.get("plan_strike_delta") is not None and proposed.get("plan_strike_steps") is not None:
        raise SettingsRejected(
            field("plan_strike_delta", "plan_strike_steps"),
            "choose the strike by delta or by steps, not both",
        )
    pairs = (
        ("mtf_ema_fast", "mtf_ema_slow", "the fast EMA must be shorter than the slow one"),
        ("min_realized_vol_pct", "max_realized_vol_pct", "the band's minimum must be below its maximum"),
        ("min_iv_pct", "max_iv_pct", "the band's minimum must be below its maximum"),
        (
            "exit_delta_otm",
            "exit_delta_itm",
            "the far-out-of-the-money delta must be below the deep-in-the-money one",
        ),
    )
    for low, high, message in pairs:
        both = proposed.get(low) is not None and proposed.get(high) is not None
        if named & {low, high} and both and Decimal(proposed[low]) >= Decimal(proposed[high]):
            raise SettingsRejected(field(low, high), message)
