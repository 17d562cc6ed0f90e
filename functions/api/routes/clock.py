"""The simulated clock (OPTIONFLOW_CLOCK_START): read it, set it, advance it, change its pace.

These routes exist only on a simulated clock: `api.app` adds them on the first request whose settings have
one, so a deployed API never serves them (and API Gateway routes only template.yaml's routes).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from optionflow.composition import for_process
from optionflow.logic import clock_control
from optionflow.models.clock import ClockChange, ClockOut

from api.problems import problem
from api.security import ADMIN, BEARER, READ, current_principal

router = APIGatewayHttpRouter()


@router.exception_handler(clock_control.ClockRefused)
def refused(exc: clock_control.ClockRefused) -> Response[Any]:
    return problem(exc.status, str(exc), errors=[{"field": exc.field, "message": exc.message}])


@router.exception_handler(clock_control.ClockNotSimulated)
def not_simulated(exc: clock_control.ClockNotSimulated) -> Response[Any]:
    return problem(409, str(exc))


@router.exception_handler(clock_control.AdvanceStopped)
def stopped(exc: clock_control.AdvanceStopped) -> Response[Any]:
    return problem(500, str(exc), errors=[{"field": "advance", "message": str(exc)}])


@router.get(
    "/clock",
    middlewares=READ,
    security=BEARER,
    summary="The simulated clock: its time, pace, and whether the market is open",
)
def get_clock() -> ClockOut:
    return ClockOut.model_validate(clock_control.show(for_process()))


@router.post(
    "/clock",
    middlewares=ADMIN,
    security=BEARER,
    summary="Set, advance, speed up or pause the simulated clock; an advance runs every sweep due on the way",
)
def change_clock(change: ClockChange) -> ClockOut:
    by = current_principal(router).subject
    deps = for_process()
    if change.set is not None:
        result = clock_control.set_time(deps, change.set, by=by)
    elif change.advance is not None:
        result = clock_control.advance(deps, change.advance, by=by)
    elif change.speed is not None:
        result = clock_control.set_speed(deps, change.speed, by=by)
    else:
        result = clock_control.set_paused(deps, bool(change.pause), by=by)
    return ClockOut.model_validate(result)
