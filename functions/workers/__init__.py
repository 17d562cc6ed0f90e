"""The worker Lambdas: one module per worker in `optionflow.workers`, named after it (template.yaml's
`Handler: workers.<name>.lambda_handler`), each built here the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from optionflow.composition import for_process
from optionflow.logic.runs import position_scope, run_worker
from optionflow.observability import active_metrics, logger, tracer
from optionflow.workers import Worker

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def lambda_handler_for(worker: Worker) -> Handler:
    """The Lambda handler of `worker`: one recorded run of its use case, scoped to the positions a
    fast-path event names. The use case is imported here, during the function's initialisation; its
    dependencies come from the composition root on each invocation (built once per process)."""
    stage = worker.stage()

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler
    @active_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        scope = position_scope(event)
        deps = for_process()
        return run_worker(deps, worker.name, event, lambda now: stage(deps, now, scope))

    return lambda_handler
