"""The HTTP API Lambda: one resolver, routers per area, problem responses for every error."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from optionflow import __version__
from optionflow.config import get_settings
from optionflow.db.connection import DatabaseUnavailable
from optionflow.db.listing import BadCursor
from optionflow.logic.queries import BadWindow
from optionflow.observability import active_metrics, logger, tracer

from api.problems import problem
from api.routes import dashboard, ops, queries, stats, system, trading_settings, webhook, workers

app = APIGatewayHttpResolver(enable_validation=True)
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
    return problem(
        404, str(exc) if str(exc) else f"no route {app.current_event.http_method} {app.current_event.path}"
    )


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

        _openapi = app.get_openapi_json_schema(
            title="OptionFlow API",
            version=__version__,
            description="TradingView alerts in; signals, decisions, orders, fills and positions out.",
            security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
        )
    return _openapi


# The request id is the correlation id until the webhook stores a signal; from then on it is the signal's id.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@active_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not _clock_routes and get_settings().clock_start is not None:
        include_clock_routes()
    return app.resolve(event, context)
