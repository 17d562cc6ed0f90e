"""RFC 9457 problem responses: every error names what is wrong. This is the one place errors become
responses: OptionFlow's own (`optionflow.errors`) by the status, detail, fields and headers they carry, and
the few the framework raises."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from optionflow.errors import OptionFlowError
from optionflow.models import untrusted_json
from optionflow.observability import logger

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return Response(
        status_code=status, content_type="application/problem+json", body=json.dumps(body), headers=headers
    )


def answer(exc: OptionFlowError) -> Response[str]:
    """The problem document for one of OptionFlow's errors."""
    if exc.status >= 500:
        # the client is told only exc.detail (for the database: to retry); the cause goes to the logs
        logger.warning(exc.detail, extra={"error": str(exc)})
    return problem(exc.status, exc.detail, errors=exc.field_errors(), headers=exc.headers or None)


def register(app: APIGatewayHttpResolver) -> None:
    """Answer every error the routes raise (and routes that do not exist) with a problem document."""

    @app.exception_handler(OptionFlowError)
    def known(exc: OptionFlowError) -> Response[Any]:
        # Raised from the routes rather than returned: a problem body is not the route's response model.
        return answer(exc)

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

    @app.not_found
    def not_found(exc: Exception) -> Response[Any]:
        if str(exc):  # a route's own "signal … not found"
            return problem(404, str(exc))
        method, path = app.current_event.http_method.upper(), app.current_event.path
        allowed = allowed_methods(app, path)
        if not allowed:
            return problem(404, f"no route {method} {path}")
        allow = ", ".join([*allowed, "OPTIONS"])
        if method == "OPTIONS":
            return Response(status_code=204, body="", headers={"Allow": allow})
        return problem(405, f"{path} answers {allow}, not {method}", headers={"Allow": allow})

    @app.exception_handler(ServiceError)
    def service_error(exc: ServiceError) -> Response[Any]:
        return problem(exc.status_code, exc.msg)

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[Any]:
        # A bug, not the caller's mistake: the traceback goes to the log under the request id the caller is
        # told, and the answer is still a problem document.
        request_id = app.current_event.request_context.request_id
        logger.exception("unhandled error", extra={"request_id": request_id, "error": type(exc).__name__})
        return problem(500, f"internal error; the log has it under request id {request_id}")


def allowed_methods(app: APIGatewayHttpResolver, path: str) -> list[str]:
    """The methods served at `path` (HEAD wherever GET is), in a stable order; empty for no such path."""
    routes = app._static_routes + app._dynamic_routes
    served = {route.method for route in routes if route.rule.match(path)}
    if "GET" in served:
        served.add("HEAD")
    return sorted(served)
