"""The HTTP API Lambda: one resolver, routers per area, problem responses for every error.

The routers are imported on the first request to one of their paths, not at the cold start: a webhook
container never imports the query, settings or dashboard routes and their response models. The OpenAPI
document includes them all.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.utilities.typing import LambdaContext
from optionflow import __version__
from optionflow.config import get_settings, initialized_ahead
from optionflow.models import untrusted_json
from optionflow.observability import active_metrics, logger, tracer

from api import problems
from api.security import AuthenticateBeforeValidating

# Each router under api.routes, by the first segments of the paths it serves, in the order the document
# lists them ("" is GET /). A test holds this table to the routes each router declares.
ROUTE_GROUPS: dict[str, tuple[str, ...]] = {
    "webhook": ("webhook",),
    "queries": ("signals", "orders", "positions", "trades", "exit-signals"),
    "stats": ("stats",),
    "ops": ("paper-trading", "refresh-positions"),
    "trading_settings": ("risk-limits", "exit-rules", "kill-switch", "settings", "strategy-settings"),
    "notifications": ("notifications",),
    "workers": ("workers",),
    "system": ("health", "openapi.json"),
    "dashboard": ("",),
}
_GROUP_BY_SEGMENT = {segment: group for group, segments in ROUTE_GROUPS.items() for segment in segments}

# Every JSON body the routes validate is parsed by untrusted_json, within its limits; the webhook reads its
# raw body itself and parses it there too.
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=untrusted_json.loads)
# Powertools keeps its request validation here and runs it before any route middleware: wrapped, the route's
# token is checked first (see AuthenticateBeforeValidating).
app._request_validation_middleware = AuthenticateBeforeValidating(app._request_validation_middleware)
problems.register(app)

_openapi: str | None = None
_clock_routes = False
_included: set[str] = set()


def include_route_group(group: str) -> None:
    """Import `api.routes.<group>` and add its routes (once)."""
    global _openapi
    if group in _included:
        return
    module = importlib.import_module(f"api.routes.{group}")
    app.include_router(module.router)
    _included.add(group)
    _openapi = None


def include_all_routes() -> None:
    for group in ROUTE_GROUPS:
        include_route_group(group)


def route_group_of(event: dict[str, Any]) -> str | None:
    """The group serving the request's path, by its first segment; None when no group serves it (404)."""
    path = str(event.get("rawPath") or event.get("requestContext", {}).get("http", {}).get("path") or "/")
    return _GROUP_BY_SEGMENT.get(path.lstrip("/").split("/", 1)[0])


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
    include_all_routes()
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
# Read here rather than through the decorator's `correlation_id_path` (correlation_paths.API_GATEWAY_HTTP,
# the same `requestContext.requestId`), which runs a JMESPath search on every request: a tenth of the
# webhook's Python.
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@active_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(_request_id(event))
    if not _clock_routes and get_settings().clock_start is not None:
        include_clock_routes()
    group = route_group_of(event)
    if group is not None and group not in _included:
        include_route_group(group)
    if _is_plain_webhook(event):
        return _answer_webhook(event, context)
    return app.resolve(_head_as_get(event), context)


def _request_id(event: dict[str, Any]) -> Any:
    """`requestContext.requestId`, or None where the event has none (what the JMESPath search answered)."""
    request = event.get("requestContext")
    return request.get("requestId") if isinstance(request, dict) else None


def _is_plain_webhook(event: dict[str, Any]) -> bool:
    """`POST /webhook` on the default stage: the one route every alert takes."""
    request = event.get("requestContext") or {}
    return (
        event.get("rawPath") == "/webhook"
        and request.get("stage") == "$default"
        and (request.get("http") or {}).get("method") == "POST"
    )


def _answer_webhook(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """What `app.resolve` answers for `POST /webhook`, without matching routes, running middleware and
    building a Response: about a fifth of the webhook's Python time. A refusal or an error still becomes
    the resolver's own answer, through its exception handlers (api.problems), so every answer is the same."""
    from api.routes import webhook

    try:
        intake = webhook.receive_event(event)
    except Exception as exc:
        # as resolve() does: the handlers read the request (a 500 names its request id)
        BaseRouter.current_event = app._to_proxy_event(event)
        BaseRouter.lambda_context = context
        try:
            answered = app._call_exception_handler(exc, _webhook_route())
            if answered is None:  # pragma: no cover - api.problems answers every Exception
                raise
            return app._build_response(answered)
        finally:
            app.clear_context()
    return {
        "statusCode": webhook.status_of(intake),
        "body": webhook.answer_text(intake),
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "cookies": [],
    }


def _webhook_route() -> Any:
    return next(r for r in app._static_routes if r.method == "POST" and r.path == "/webhook")


def prepare_ahead() -> None:
    """Everything a request would load on first use, loaded now: every router, the Tracer, and boto3 with
    the models of the services the API calls (a client itself, and its credentials, wait for a request)."""
    include_all_routes()
    tracer.get()
    import boto3

    tracer.trace_aws_calls()
    boto3.setup_default_session()
    loader = boto3.DEFAULT_SESSION._session  # type: ignore[union-attr]
    for service in ("events", "lambda", "secretsmanager", "ssm"):
        loader.get_service_model(service)


if initialized_ahead():
    # SnapStart snapshots the instance after this module is imported, and provisioned concurrency runs it
    # before any request: the lazy imports above would only move the cost back onto a request.
    prepare_ahead()


def _head_as_get(event: dict[str, Any]) -> dict[str, Any]:
    """A HEAD is answered as the GET it stands for; the HTTP layer sends the headers and drops the body."""
    http = event.get("requestContext", {}).get("http", {})
    if http.get("method") != "HEAD":
        return event
    return {**event, "requestContext": {**event["requestContext"], "http": {**http, "method": "GET"}}}
