"""Bearer-token middleware for the query and ops routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from optionflow.auth.tokens import Principal, Scope, TokenError, bearer_token, verify
from optionflow.config import get_settings


def requires(scope: Scope) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response]:
    def check_token(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        settings = get_settings()
        # a TokenError (401, or 403 for a token without the scope) is answered by api.problems
        header = app.current_event.headers.get("authorization")
        principal = verify(
            bearer_token(header),
            secret=settings.require_jwt_secret(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        if not principal.allows(scope):
            raise TokenError(f"this route needs the '{scope}' scope", status=403)
        # Routes that record who changed something read it here (the resolver clears it per request).
        app.append_context(principal=principal)
        return next_middleware(app)

    check_token.__name__ = f"requires_{scope}"
    return check_token


def current_principal(router: Any) -> Principal:
    """The verified caller of a route guarded by READ or ADMIN."""
    principal = router.context.get("principal")
    if not isinstance(principal, Principal):
        raise RuntimeError("route has no token middleware: guard it with READ or ADMIN")
    return principal


READ = [requires("read")]
ADMIN = [requires("admin")]
BEARER = [{"bearerAuth": []}]
