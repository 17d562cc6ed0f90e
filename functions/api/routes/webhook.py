"""POST /webhook and POST /webhook/{token}: TradingView alerts in."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from optionflow.composition import for_process
from optionflow.logic.intake import Intake, receive
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
    return Response(status_code=status_of(intake), content_type="application/json", body=answer_of(intake))


def status_of(intake: Intake) -> int:
    return 202 if intake.created else 200


def answer_of(intake: Intake) -> dict[str, Any]:
    return {
        "signal_id": str(intake.signal_id),
        "duplicate": not intake.created,
        "status": SignalStatus.PENDING.value if intake.created else "DUPLICATE",
    }


def answer_text(intake: Intake) -> str:
    """`answer_of(intake)` as the resolver serialises it (compact JSON), written without the encoder: the
    id is a UUID's text and the rest are constants, so nothing in it needs escaping."""
    if intake.created:
        return (
            f'{{"signal_id":"{intake.signal_id}","duplicate":false,"status":"{SignalStatus.PENDING.value}"}}'
        )
    return f'{{"signal_id":"{intake.signal_id}","duplicate":true,"status":"DUPLICATE"}}'


def receive_event(event: dict[str, Any]) -> Intake:
    """`POST /webhook` straight from the event, without the resolver (see api.app.lambda_handler): the
    same reading of the body and headers as `_handle`'s. Raises what `receive` raises."""
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    headers = event.get("headers") or {}
    if any(name != name.lower() for name in headers):  # API Gateway lowercases them; a test event may not
        headers = {name.lower(): value for name, value in headers.items()}
    return receive(
        for_process(),
        body,
        content_type=headers.get("content-type"),
        path_token=None,
        signature=headers.get("x-signature"),
    )


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
