"""Bearer tokens for the query and ops routes, checked before anything else about the request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from optionflow.auth.tokens import Principal, Scope, TokenError, bearer_token, verify
from optionflow.config import get_settings

from api.problems import problem


def authorize(app: APIGatewayHttpResolver, scope: Scope) -> Response | None:
    """None when the request's token allows `scope` (the principal is then in the resolver's context),
    else the 401 or 403 to answer."""
    known = app.context.get("principal")
    if isinstance(known, Principal) and known.allows(scope):
        return None
    settings = get_settings()
    try:
        principal = verify(
            bearer_token(app.current_event.headers.get("authorization")),
            secret=settings.require_jwt_secret(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    except TokenError as exc:
        return problem(401, str(exc), headers={"WWW-Authenticate": 'Bearer realm="optionflow"'})
    if not principal.allows(scope):
        return problem(403, f"this route needs the '{scope}' scope")
    # Routes that record who changed something read it here (the resolver clears it per request).
    app.append_context(principal=principal)
    return None


def requires(scope: Scope) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response]:
    def check_token(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        refused = authorize(app, scope)
        return refused if refused is not None else next_middleware(app)

    check_token.__name__ = f"requires_{scope}"
    check_token.scope = scope  # type: ignore[attr-defined]  # read by AuthenticateBeforeValidating
    return check_token


class AuthenticateBeforeValidating(BaseMiddlewareHandler):
    """Takes the place of Powertools' request validation, and runs the route's token check first.

    Powertools validates a request before any route middleware runs, so a guarded route would answer an
    anonymous caller's bad query with a 422 that names its parameters and their rules. With this in front,
    such a caller learns only that it needs a token; the route's own check then finds the principal known.
    A route that takes a body then refuses one that is not JSON (415), which Powertools would otherwise
    parse as a form (a multipart type without a boundary raised a ValueError: a 500).
    """

    def __init__(self, validation: Any) -> None:
        super().__init__()
        self._validation = validation

    def handler(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        route = app.context.get("_route")  # the matched route; Powertools puts it here before its middlewares
        for middleware in getattr(route, "middlewares", None) or []:
            scope = getattr(middleware, "scope", None)
            if scope is not None:
                refused = authorize(app, scope)
                if refused is not None:
                    return refused
        if getattr(getattr(route, "dependant", None), "body_params", None):
            media_type = app.current_event.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media_type not in ("", "application/json"):
                return problem(
                    415,
                    f"content-type: {media_type!r} is not accepted; send application/json",
                    errors=[{"field": "content-type", "message": "send application/json"}],
                )
        return self._validation(app, next_middleware)


def current_principal(router: Any) -> Principal:
    """The verified caller of a route guarded by READ or ADMIN."""
    principal = router.context.get("principal")
    if not isinstance(principal, Principal):
        raise RuntimeError("route has no token middleware: guard it with READ or ADMIN")
    return principal


READ = [requires("read")]
ADMIN = [requires("admin")]
BEARER = [{"bearerAuth": []}]
