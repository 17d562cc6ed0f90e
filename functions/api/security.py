"""Bearer-token middleware for the query and ops routes."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from optionflow.auth.tokens import Scope, TokenError, bearer_token, verify
from optionflow.config import get_settings

from api.problems import problem


def requires(scope: Scope) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response]:
    def check_token(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        settings = get_settings()
        try:
            header = app.current_event.headers.get("authorization")
            principal = verify(
                bearer_token(header),
                secret=settings.require_jwt_secret(),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            )
        except TokenError as exc:
            return problem(401, str(exc), headers={"WWW-Authenticate": 'Bearer realm="optionflow"'})
        if not principal.allows(scope):
            return problem(403, f"this route needs the '{scope}' scope")
        return next_middleware(app)
        # Routes that record who changed something read it here (the resolver clears it per request).
        app.append_context(principal=principal)

    check_token.__name__ = f"requires_{scope}"
    return check_token


READ = [requires("read")]
ADMIN = [requires("admin")]
BEARER = [{"bearerAuth": []}]
