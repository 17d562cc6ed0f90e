"""The HTTP API Lambda: one resolver, routers per area, problem responses for every error."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from optionflow import __version__
from optionflow.config import get_settings
from optionflow.models import untrusted_json
from optionflow.observability import active_metrics, logger, tracer

from api import problems
from api.routes import (
    dashboard,
    notifications,
    ops,
    queries,
    stats,
    system,
    trading_settings,
    webhook,
    workers,
)
from api.security import AuthenticateBeforeValidating

# Every JSON body the routes validate is parsed by untrusted_json, within its limits; the webhook reads its
# raw body itself and parses it there too.
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=untrusted_json.loads)
# Powertools keeps its request validation here and runs it before any route middleware: wrapped, the route's
# token is checked first (see AuthenticateBeforeValidating).
app._request_validation_middleware = AuthenticateBeforeValidating(app._request_validation_middleware)
app.include_router(webhook.router)
app.include_router(queries.router)
app.include_router(stats.router)
app.include_router(ops.router)
app.include_router(trading_settings.router)
app.include_router(notifications.router)
app.include_router(workers.router)
app.include_router(system.router)
app.include_router(dashboard.router)
problems.register(app)

_openapi: str | None = None
_clock_routes = False


def include_clock_routes() -> None:
    """Add GET and POST /clock (`api.routes.clock`). The handler does it on the first request whose settings
    have a simulated clock, so only such an API ever serves them."""
    global _clock_routes, _openapi
    if _clock_routes:
        return
    from api.routes import clock

    app.include_router(clock.router)
    _clock_routes, _openapi = True, None


def openapi_document() -> str:
    global _openapi
    if _openapi is None:
        # 170 ms of imports that only this route needs: kept off the cold start of every request
        from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

        from api.openapi import complete

        generated = app.get_openapi_json_schema(
            title="OptionFlow API",
            version=__version__,
            description="TradingView alerts in; signals, decisions, orders, fills and positions out.",
            security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
        )
        _openapi = json.dumps(complete(json.loads(generated)), indent=2)
    return _openapi


# The request id is the correlation id until the webhook stores a signal; from then on it is the signal's id.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@active_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not _clock_routes and get_settings().clock_start is not None:
        include_clock_routes()
    return app.resolve(_head_as_get(event), context)


def _head_as_get(event: dict[str, Any]) -> dict[str, Any]:
    """A HEAD is answered as the GET it stands for; the HTTP layer sends the headers and drops the body."""
    http = event.get("requestContext", {}).get("http", {})
    if http.get("method") != "HEAD":
        return event
    return {**event, "requestContext": {**event["requestContext"], "http": {**http, "method": "GET"}}}
