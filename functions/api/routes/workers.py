"""Worker control (admin scope): list, pause, resume, trigger now."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from optionflow.composition import for_process
from optionflow.logic import worker_control
from optionflow.models.workers import (
    PauseRequest,
    TriggerOut,
    WorkerControlOut,
    WorkerList,
    WorkerOut,
)
from optionflow.workers import NAMES

from api.security import ADMIN, BEARER, current_principal

router = APIGatewayHttpRouter()

WorkerName = Annotated[str, Path(description=", ".join(NAMES))]


def _operator() -> str:
    return current_principal(router).subject


@router.get("/workers", middlewares=ADMIN, security=BEARER, summary="Each worker: paused, last run, schedule")
def list_workers() -> WorkerList:
    return WorkerList(items=[WorkerOut.model_validate(w) for w in worker_control.status(for_process())])


@router.post(
    "/workers/<name>/pause",
    middlewares=ADMIN,
    security=BEARER,
    summary="Pause a worker: its scheduled and fast-path runs do nothing until resumed",
)
def pause_worker(
    name: WorkerName, request: Annotated[PauseRequest | None, Body()] = None
) -> WorkerControlOut:
    reason = request.reason if request else None
    return WorkerControlOut.model_validate(
        worker_control.set_paused(for_process(), name, True, by=_operator(), reason=reason)
    )


@router.post("/workers/<name>/resume", middlewares=ADMIN, security=BEARER, summary="Resume a paused worker")
def resume_worker(name: WorkerName) -> WorkerControlOut:
    return WorkerControlOut.model_validate(
        worker_control.set_paused(for_process(), name, False, by=_operator())
    )


@router.post(
    "/workers/<name>/trigger",
    middlewares=ADMIN,
    security=BEARER,
    summary="Wake a worker now (asynchronously, in its own function), even while paused",
)
def trigger_worker(name: WorkerName) -> Response[TriggerOut]:
    result = TriggerOut.model_validate(worker_control.trigger(for_process(), name, by=_operator()))
    return Response(status_code=202, content_type="application/json", body=result.model_dump(mode="json"))
