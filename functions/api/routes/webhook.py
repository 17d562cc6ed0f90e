"""POST /webhook and POST /webhook/{token}: TradingView alerts in."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from optionflow.composition import for_process
from optionflow.logic.intake import receive
from optionflow.states import SignalStatus

router = APIGatewayHttpRouter()


def _raw_body() -> bytes:
    event = router.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def _handle(path_token: str | None) -> Response[Any]:
    event = router.current_event
    # a refused alert (BadRequest, WebhookUnauthorized, AlertError) is answered by api.problems
    intake = receive(
        for_process(),
        _raw_body(),
        content_type=event.headers.get("content-type"),
        path_token=path_token,
        signature=event.headers.get("x-signature"),
    )
    body = {
        "signal_id": str(intake.signal_id),
        "duplicate": not intake.created,
        "status": SignalStatus.PENDING.value if intake.created else "DUPLICATE",
    }
    return Response(status_code=202 if intake.created else 200, content_type="application/json", body=body)


@router.post(
    "/webhook",
    enable_validation=False,  # the body is read raw (HMAC, text/plain); intake validates it
    summary="Receive a TradingView alert (secret in the body or X-Signature)",
    include_in_schema=True,
)
def webhook() -> Response[Any]:
    return _handle(None)


@router.post(
    "/webhook/<token>", enable_validation=False, summary="Receive a TradingView alert (token in the path)"
)
def webhook_with_token(token: str) -> Response[Any]:
    return _handle(token)
