"""Build API Gateway v2 events for the API Lambda, starting from the events/api fixtures."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from optionflow.auth.tokens import Scope, mint
from optionflow.local.http_bridge import to_event

from tests.conftest import JWT_SECRET


def token(scope: Scope = "read", **overrides: Any) -> str:
    args: dict[str, Any] = {
        "secret": JWT_SECRET,
        "issuer": "optionflow",
        "audience": "optionflow-api",
        "scope": scope,
        "ttl": timedelta(hours=1),
    }
    args.update(overrides)
    return mint(**args)


def request(
    method: str,
    target: str,
    *,
    body: bytes | str | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    scope: Scope | None = None,
) -> dict[str, Any]:
    raw = (
        json.dumps(body).encode()
        if isinstance(body, dict)
        else body.encode()
        if isinstance(body, str)
        else body or b""
    )
    all_headers = {"content-type": "application/json", **(headers or {})}
    if scope:
        all_headers["authorization"] = f"Bearer {token(scope)}"
    return to_event(method, target, all_headers, raw, "127.0.0.1")


def call(event: dict[str, Any]) -> tuple[int, Any]:
    from api.app import lambda_handler
    from optionflow.local.lambda_context import LocalContext

    result = lambda_handler(event, LocalContext("ApiFunction"))
    body = result.get("body") or ""
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        parsed = body
    return int(result["statusCode"]), parsed
