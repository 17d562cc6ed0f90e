"""Fill working paper orders; open and close positions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from optionflow.logic.execution import execute_pending
from optionflow.logic.runs import run_worker
from optionflow.observability import active_metrics, logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@active_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_worker("paper_executor", event, execute_pending)
