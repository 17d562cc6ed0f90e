"""Risk limits, exit rules and the kill switch: read with a read token, changed with an admin token, and
every change recorded with the token's subject."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from optionflow.composition import for_process
from optionflow.logic import trading_settings
from optionflow.models.strategy_settings import StrategySettingsPatch, StrategySettingsRow
from optionflow.models.trading_settings import (
    ExitRules,
    ExitRulesPatch,
    KillSwitchRequest,
    RiskLimits,
    RiskLimitsPatch,
    SettingsChange,
    What,
)

from api.routes.queries import Limit
from api.security import ADMIN, BEARER, READ, current_principal

router = APIGatewayHttpRouter()


def _actor() -> str:
    return current_principal(router).subject


@router.get("/risk-limits", middlewares=READ, security=BEARER, summary="The risk limits and the kill switch")
def get_risk_limits() -> RiskLimits:
    return trading_settings.risk_limits(for_process())


@router.patch(
    "/risk-limits",
    middlewares=ADMIN,
    security=BEARER,
    summary="Change some risk limits (the kill switch has its own route); the change is recorded",
)
def patch_risk_limits(patch: RiskLimitsPatch) -> RiskLimits:
    return trading_settings.change_risk_limits(for_process(), patch, actor=_actor())


@router.get("/exit-rules", middlewares=READ, security=BEARER, summary="The exit rules; null means off")
def get_exit_rules() -> ExitRules:
    return trading_settings.exit_rules(for_process())


@router.patch(
    "/exit-rules",
    middlewares=ADMIN,
    security=BEARER,
    summary="Change some exit rules (null turns one off); the change is recorded",
)
def patch_exit_rules(patch: ExitRulesPatch) -> ExitRules:
    return trading_settings.change_exit_rules(for_process(), patch, actor=_actor())


@router.post(
    "/kill-switch",
    middlewares=ADMIN,
    security=BEARER,
    summary="Stop (or resume) new entries; exits always run. Turning it on needs a reason",
)
def kill_switch(request: KillSwitchRequest) -> RiskLimits:
    return trading_settings.set_kill_switch(for_process(), request.on, reason=request.reason, actor=_actor())


@router.get(
    "/strategy-settings",
    middlewares=READ,
    security=BEARER,
    summary="Strategy settings (sizing, portfolio caps, Greeks exits, filters): default, then per ticker",
)
def list_strategy_settings() -> list[StrategySettingsRow]:
    return trading_settings.strategy_settings(for_process())


@router.get(
    "/strategy-settings/<name>",
    middlewares=READ,
    security=BEARER,
    summary="One row of strategy settings: `default`, or a ticker's overrides (null: as the default says)",
)
def get_strategy_settings(name: str) -> StrategySettingsRow:
    return trading_settings.strategy_settings_row(for_process(), name)


@router.patch(
    "/strategy-settings/<name>",
    middlewares=ADMIN,
    security=BEARER,
    summary="Change strategy settings of `default` or a ticker (its row is made on first change); recorded",
)
def patch_strategy_settings(name: str, patch: StrategySettingsPatch) -> StrategySettingsRow:
    return trading_settings.change_strategy_settings(for_process(), name, patch, actor=_actor())


@router.get(
    "/settings/changes",
    middlewares=READ,
    security=BEARER,
    summary="Changes to the risk limits and exit rules, newest first",
)
def list_settings_changes(
    limit: Limit = 50,
    what: Annotated[What | None, Query(description="Only changes to this table")] = None,
) -> list[SettingsChange]:
    return trading_settings.history(for_process(), limit=limit, what=what)
