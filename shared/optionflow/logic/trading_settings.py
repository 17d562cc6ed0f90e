"""Reading and changing the risk limits, exit rules and kill switch; every change is recorded with who and why.

A change locks the row, checks the result as a whole, updates it and records the change in one transaction:
two operators changing different fields at once both land, and the record always matches what was applied.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from optionflow.db import notifications as notifications_db
from optionflow.db import trading_settings as settings_db
from optionflow.errors import FieldError
from optionflow.events import names as events
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
        deps.db.run_in_transaction(lambda cur: settings_db.read(cur, "risk_limits"))
    )


def exit_rules(deps: Dependencies) -> ExitRules:
    return ExitRules.model_validate(
        deps.db.run_in_transaction(lambda cur: settings_db.read(cur, "exit_rules"))
    )


def change_risk_limits(deps: Dependencies, patch: RiskLimitsPatch, *, actor: str) -> RiskLimits:
    return RiskLimits.model_validate(
        _apply(deps, "risk_limits", patch.changes(), actor=actor, reason=patch.reason)
    )


def change_exit_rules(deps: Dependencies, patch: ExitRulesPatch, *, actor: str) -> ExitRules:
    return ExitRules.model_validate(
        _apply(deps, "exit_rules", patch.changes(), actor=actor, reason=patch.reason)
    )


def set_kill_switch(deps: Dependencies, on: bool, *, reason: str | None, actor: str) -> RiskLimits:
    """On: the signal processor rejects every new entry (reason `kill_switch`); exits are never blocked."""
    return RiskLimits.model_validate(
        _apply(deps, "risk_limits", {"kill_switch": on}, actor=actor, reason=reason)
    )


def history(deps: Dependencies, *, limit: int, what: What | None = None) -> list[SettingsChange]:
    rows = deps.db.run_in_transaction(lambda cur: settings_db.changes(cur, limit=limit, what=what))
    return [SettingsChange.model_validate(row) for row in rows]


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
    deps: Dependencies, what: What, values: dict[str, Any], *, actor: str, reason: str | None
) -> dict[str, Any]:
    now = deps.clock.now()

    def work(cur: Any) -> dict[str, Any]:
        current = settings_db.read(cur, what, lock=True)
        sanity_check(what, {**current, **values}, set(values))
        changed = {k: v for k, v in values.items() if current[k] != v}
        # Asking for what is already set changes nothing, so nothing is recorded. This also makes a retry
        # after a lost commit harmless: the second attempt finds the values in place.
        if not changed:
            return current
        row = settings_db.update(cur, what, changed, at=now)
        settings_db.record_change(
            cur,
            what,
            before={k: current[k] for k in changed},
            after={k: row[k] for k in changed},
            actor=actor,
            reason=reason,
            at=now,
        )
        if "kill_switch" in changed:
            notifications_db.kill_switch_changed(cur, bool(changed["kill_switch"]), actor, reason, now)
        return row

    row = deps.db.run_in_transaction(work)
    if values.keys() == {"kill_switch"}:
        deps.publish(events.NOTICES_QUEUED, {})  # a wake-up too many (no change) costs one empty run
    return row
