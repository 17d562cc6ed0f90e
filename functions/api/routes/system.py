"""GET /health (public) and GET /openapi.json."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from optionflow.composition import for_process
from optionflow.logic import queries

from api.security import BEARER, READ

router = APIGatewayHttpRouter()


@router.get("/health", summary="Database reachable, last run of each worker")
def health() -> Response[Any]:
    deps = for_process()
    healthy, report = queries.health(deps.db, deps.settings)
    return Response(status_code=200 if healthy else 503, content_type="application/json", body=report)


@router.get("/openapi.json", middlewares=READ, security=BEARER, summary="This document")
def openapi() -> Response[Any]:
    from api.app import openapi_document

    return Response(status_code=200, content_type="application/json", body=openapi_document())
