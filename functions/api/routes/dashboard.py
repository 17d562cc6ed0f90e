"""GET /: the dashboard, one static HTML page that reads the query API with the token the user gives it."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

router = APIGatewayHttpRouter()

PAGE = Path(__file__).resolve().parents[1] / "dashboard" / "index.html"
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def content_security_policy(html: str) -> str:
    """Allow exactly this page's inline <script> and <style> blocks (by hash) and calls to its own origin.

    Hashes rather than 'unsafe-inline': an injected script or style, should one ever slip past the
    page's escaping, does not run. Nothing may load from another origin.
    """
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(hashes["script"]),
            "style-src " + " ".join(hashes["style"]),
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@cache
def _page() -> tuple[str, dict[str, str]]:
    # Read once per warm Lambda, on the first request rather than at import (cold start stays lean).
    html = PAGE.read_text(encoding="utf-8")
    headers = {
        "Content-Security-Policy": content_security_policy(html),
        "X-Content-Type-Options": "nosniff",
        # The page is public and holds no data; revalidate so a deploy shows up at once.
        "Cache-Control": "no-cache",
        "Referrer-Policy": "no-referrer",
    }
    return html, headers


@router.get(
    "/",
    enable_validation=False,  # no parameters, and the body is HTML, not a model
    summary="The dashboard: open positions, signals, exit alerts and the equity curve (HTML; asks for a token)",
    responses={
        200: {"description": "The dashboard page", "content": {"text/html": {"schema": {"type": "string"}}}}
    },
)
def dashboard() -> Response[Any]:
    html, headers = _page()
    return Response(
        status_code=200, content_type="text/html; charset=utf-8", body=html, headers=dict(headers)
    )
