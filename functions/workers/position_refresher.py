"""Re-price open positions: mark, Greeks, unrealized P&L."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from optionflow.logic.marks import refresh_all
from optionflow.logic.runs import position_scope, run_worker
from optionflow.observability import active_metrics, logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@active_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scope = position_scope(event)
    return run_worker("position_refresher", event, lambda now: refresh_all(now, scope))
