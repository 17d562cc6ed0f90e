"""Operator routes (admin scope): run the pipeline now, re-price now."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api.security import ADMIN, BEARER

router = APIGatewayHttpRouter()


@router.post(
    "/paper-trading",
    middlewares=ADMIN,
    security=BEARER,
    summary="Run the pipeline now: decide, order, fill, re-price, check exits",
)
def run_paper_trading() -> dict[str, Any]:
    from optionflow.composition import for_process
    from optionflow.logic import pipeline  # the whole pipeline: imported when an operator asks for it

    return pipeline.run_chain(for_process())


@router.post("/refresh-positions", middlewares=ADMIN, security=BEARER, summary="Re-price open positions now")
def refresh_positions() -> dict[str, Any]:
    from optionflow.composition import for_process
    from optionflow.logic import pipeline

    return pipeline.refresh_now(for_process())
