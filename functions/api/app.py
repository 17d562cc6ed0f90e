"""The HTTP API Lambda: one resolver, routers per area, problem responses for every error."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from optionflow import __version__
from optionflow.db.connection import DatabaseUnavailable
from optionflow.db.listing import BadCursor
from optionflow.logic.queries import BadWindow
from optionflow.models import untrusted_json
from optionflow.observability import active_metrics, logger, tracer

from api.problems import problem
from api.routes import dashboard, ops, queries, stats, system, trading_settings, webhook, workers
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
app.include_router(workers.router)
app.include_router(system.router)
app.include_router(dashboard.router)


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response[Any]:
    errors = [
        {"field": ".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0]), "message": err["msg"]}
        for err in exc.errors()
    ]
    return problem(422, "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)


@app.exception_handler(UnicodeDecodeError)
def body_not_utf8(exc: UnicodeDecodeError) -> Response[Any]:
    # Powertools decodes a JSON body as UTF-8 before validating it: other bytes are the client's mistake.
    return problem(400, "request body is not UTF-8 JSON", errors=[{"field": "body", "message": str(exc)}])


@app.exception_handler(untrusted_json.RefusedJson)
def refused_json(exc: untrusted_json.RefusedJson) -> Response[Any]:
    return problem(exc.status, str(exc), errors=[{"field": exc.field, "message": exc.message}])


@app.exception_handler(BadCursor)
def bad_cursor(exc: BadCursor) -> Response[Any]:
    return problem(400, str(exc), errors=[{"field": "cursor", "message": str(exc)}])


@app.exception_handler(BadWindow)
def bad_window(exc: BadWindow) -> Response[Any]:
    # the same 422 problem as a parameter pydantic refused, naming the field
    return problem(422, f"{exc.field}: {exc}", errors=[{"field": exc.field, "message": str(exc)}])


@app.exception_handler(DatabaseUnavailable)
def database_down(exc: DatabaseUnavailable) -> Response[Any]:
    logger.warning("database unavailable", extra={"error": str(exc)})
    # 503 makes TradingView retry the delivery; nothing was stored.
    return problem(503, "database unavailable, retry shortly", headers={"Retry-After": "5"})


@app.not_found
def not_found(exc: Exception) -> Response[Any]:
    if str(exc):  # a route's own "signal … not found"
        return problem(404, str(exc))
    method, path = app.current_event.http_method.upper(), app.current_event.path
    allowed = allowed_methods(path)
    if not allowed:
        return problem(404, f"no route {method} {path}")
    allow = ", ".join([*allowed, "OPTIONS"])
    if method == "OPTIONS":
        return Response(status_code=204, body="", headers={"Allow": allow})
    return problem(405, f"{path} answers {allow}, not {method}", headers={"Allow": allow})


def allowed_methods(path: str) -> list[str]:
    """The methods served at `path` (HEAD wherever GET is), in a stable order; empty for no such path."""
    routes = app._static_routes + app._dynamic_routes
    served = {route.method for route in routes if route.rule.match(path)}
    if "GET" in served:
        served.add("HEAD")
    return sorted(served)


@app.exception_handler(ServiceError)
def service_error(exc: ServiceError) -> Response[Any]:
    return problem(exc.status_code, exc.msg)


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response[Any]:
    # A bug, not the caller's mistake: the traceback goes to the log under the request id the caller is told,
    # and the answer is still a problem document.
    request_id = app.current_event.request_context.request_id
    logger.exception("unhandled error", extra={"request_id": request_id, "error": type(exc).__name__})
    return problem(500, f"internal error; the log has it under request id {request_id}")


_openapi: str | None = None


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
    return app.resolve(_head_as_get(event), context)


def _head_as_get(event: dict[str, Any]) -> dict[str, Any]:
    """A HEAD is answered as the GET it stands for; the HTTP layer sends the headers and drops the body."""
    http = event.get("requestContext", {}).get("http", {})
    if http.get("method") != "HEAD":
        return event
    return {**event, "requestContext": {**event["requestContext"], "http": {**http, "method": "GET"}}}
