"""The command line's way into a running OptionFlow API: the local stack by default, or `--api URL`.

Without a token it mints a short-lived admin token from the local stack's secrets, so commands against
`make run` need no set-up; against a deployed stack pass `--token` (or OPTIONFLOW_TOKEN).
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from optionflow.config import Settings, get_settings


class ApiError(RuntimeError):
    """The API answered with an error (its problem detail is the message) or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(
        self, method: str, path: str, *, body: Any = None, query: dict[str, Any] | None = None
    ) -> Any:
        url = self.base_url + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = Request(url, data=data, method=method, headers=headers)  # noqa: S310 (http/https only)
        if not url.startswith(("http://", "https://")):
            raise ApiError(f"--api must be an http(s) URL, not {self.base_url!r}")
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read()
        except HTTPError as exc:
            raise ApiError(f"{method} {path}: {exc.code} {_detail(exc.read())}", exc.code) from None
        except URLError as exc:
            raise ApiError(
                f"no OptionFlow API at {self.base_url} ({exc.reason}); start it with `make run` or pass --api"
            ) from None
        return json.loads(payload) if payload else None

    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body=body)


def _detail(payload: bytes) -> str:
    try:
        body = json.loads(payload)
    except ValueError:
        return payload.decode(errors="replace")[:200]
    return str(body.get("detail") or body) if isinstance(body, dict) else str(body)


def add_api_options(parser: argparse.ArgumentParser, *, default: Any = None) -> None:
    """`--api` and `--token` for a command that talks to the API. A subcommand whose parent parser has
    them too passes `default=argparse.SUPPRESS`, so its defaults do not overwrite what the parent parsed."""
    parser.add_argument(
        "--api",
        metavar="URL",
        default=default,
        help="the API's base URL (default OPTIONFLOW_API_URL, else the local stack)",
    )
    parser.add_argument(
        "--token",
        default=default,
        help="an admin bearer token (default OPTIONFLOW_TOKEN, else minted locally)",
    )


def client_for(
    args: argparse.Namespace, settings: Settings | None = None, *, timeout: float = 30.0
) -> ApiClient:
    """The API the command names (--api, OPTIONFLOW_API_URL, else the local stack); `timeout` in seconds
    for each request."""
    settings = settings or get_settings()
    url = getattr(args, "api", None) or settings.api_url or f"http://127.0.0.1:{settings.port}"
    token = getattr(args, "token", None) or settings.api_token
    if not token:
        from optionflow.auth.tokens import mint
        from optionflow.local.stack import local_secrets

        local = settings if settings.jwt_secret else local_secrets(settings)
        token = mint(
            secret=local.require_jwt_secret(),
            issuer=local.jwt_issuer,
            audience=local.jwt_audience,
            scope="admin",
            ttl=timedelta(minutes=5),
            subject="optionflow-cli",
        )
    return ApiClient(url, token, timeout=timeout)
