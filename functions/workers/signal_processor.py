"""Decide pending signals: market session, shape and risk checks, with a decision trail."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from optionflow.logic.decide import process_pending
from optionflow.logic.runs import run_worker
from optionflow.observability import active_metrics, logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@active_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_worker("signal_processor", event, process_pending)
