"""Webhook intake: from raw bytes to a stored, deduplicated signal."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import ValidationError

from optionflow.db import signals as signals_db
from optionflow.errors import FieldError
from optionflow.events import names as events
from optionflow.models import untrusted_json
from optionflow.models.alert import Alert, AlertError, normalise, redact
from optionflow.models.trade_plan import parse_plan

if TYPE_CHECKING:
    from optionflow.composition import Dependencies
    from optionflow.db.connection import Database


class BadRequest(FieldError):
    """The request cannot be read at all (too large, the wrong type, not JSON, not an object, beyond the
    limits of `untrusted_json`); carries the HTTP status (400, 413, 415, or 422 for what cannot be stored)
    and the field (`body` for the whole)."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(field, message, status=status)


@dataclass(frozen=True)
class Intake:
    signal_id: UUID
    created: bool


def read_payload(body: bytes) -> dict[str, Any]:
    """Parse the body as JSON whatever its Content-Type says (TradingView labels JSON text/plain), within
    the limits of `untrusted_json` (depth, number size, finite numbers, text Postgres can store)."""
    try:
        payload = untrusted_json.loads(body, max_bytes=len(body))  # receive() has checked the size
    except untrusted_json.RefusedJson as exc:
        raise BadRequest(exc.status, exc.field, exc.message) from None
    if not isinstance(payload, dict):
        raise BadRequest(400, "body", 'must be a JSON object such as {"ticker":"SPY","action":"BUY",…}')
    return payload


def parse_alert(payload: dict[str, Any]) -> Alert:
    """Normalise and validate. Raises AlertError naming the first bad field."""
    fields = normalise(payload)
    try:
        alert = Alert.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or str(error["msg"]).split(":", 1)[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        if ":" in message and not error["loc"]:
            field, message = (part.strip() for part in message.split(":", 1))
        raise AlertError(field, message) from None
    if payload.get("plan") is not None:
        # validated here so a bad plan is a 422 naming `plan.<field>`; it stays in the stored payload, where
        # the order creator reads it
        parse_plan(payload["plan"])
    return alert


def dedupe_keys(
    alert: Alert, body_sha256: str, received_at: datetime, window_seconds: int
) -> tuple[str, str | None]:
    """The keys under which this delivery is unique: (the key, the key on the offset grid or None).

    Only a true retry is a duplicate: the same `alert_id`, or a byte-identical body arriving within
    `window_seconds` of the first (TradingView resends up to three times, 5 s apart). A body's key names its
    arrival bucket of twice the window on two grids offset by one window; two deliveries less than a window
    apart share a bucket on at least one grid, and two a full bucket (two windows) or more apart share none.
    So identical alerts a minute apart are two alerts with the default 30 s window, and alerts that differ
    in any byte (another `time`, another price) are always two.
    """
    if alert.alert_id:
        return "id:" + alert.alert_id, None
    second = int(received_at.timestamp())
    bucket = 2 * window_seconds
    body = body_sha256[:40]
    return f"b:{body}:{second // bucket}", f"o:{body}:{(second + window_seconds) // bucket}"


def store(
    db: Database,
    alert: Alert,
    payload: dict[str, Any],
    body: bytes,
    *,
    received_at: datetime,
    window_seconds: int,
) -> Intake:
    digest = hashlib.sha256(body).hexdigest()
    key, offset_key = dedupe_keys(alert, digest, received_at, window_seconds)
    stored = redact(payload)
    # one INSERT … ON CONFLICT is atomic on its own; autocommit spares two round trips on the hot path
    signal_id, created = db.run_statement(
        lambda cur: signals_db.insert_if_new(
            cur,
            alert=alert,
            dedupe_key=key,
            raw_payload=stored,
            body_sha256=digest,
            received_at=received_at,
            offset_key=offset_key,
        )
    )
    return Intake(signal_id=signal_id, created=created)


_ACCEPTED_TYPES = ("application/json", "text/plain", "")


def receive(
    deps: Dependencies,
    body: bytes,
    *,
    content_type: str | None,
    path_token: str | None,
    signature: str | None,
) -> Intake:
    """The whole webhook: check size, type, credentials and fields, then store once and wake the pipeline.

    Raises BadRequest (400/413/415), WebhookUnauthorized (401) or AlertError (422); nothing is written
    unless every check passed.
    """
    from optionflow.auth.webhook import WebhookUnauthorized, is_authentic

    settings = deps.settings
    if len(body) > settings.max_webhook_bytes:
        raise BadRequest(
            413, "body", f"is {len(body)} bytes; alerts are limited to {settings.max_webhook_bytes}"
        )
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in _ACCEPTED_TYPES:
        raise BadRequest(
            415, "content-type", f"{media_type!r} is not accepted; send application/json or text/plain"
        )
    if not body.strip():
        raise BadRequest(400, "body", "is empty; send the alert as JSON")

    # Header and path credentials are checked before parsing, so unauthenticated junk learns nothing.
    header_ok = is_authentic(
        secret=settings.webhook_secret or "", raw_body=body, path_token=path_token, signature=signature
    )
    payload = read_payload(body)
    if not header_ok and not is_authentic(
        secret=settings.webhook_secret or "", raw_body=body, body_secret=payload.get("secret")
    ):
        raise WebhookUnauthorized(
            "missing or wrong webhook secret (body `secret`, /webhook/<token> or X-Signature)"
        )
    alert = parse_alert(payload)
    intake = store(
        deps.db,
        alert,
        payload,
        body,
        received_at=deps.clock.now(),
        window_seconds=settings.dedupe_window_seconds,
    )
    if intake.created:
        deps.publish(events.SIGNAL_RECEIVED, {"signal_id": str(intake.signal_id)})
    _observe(intake, alert)
    return intake


def _observe(intake: Intake, alert: Alert) -> None:
    """From here on the request's log lines carry the signal's id, as every later stage's lines do.

    The arrival itself is logged at DEBUG: on the webhook's hot path a Powertools log line costs about
    0.3 ms (a third of the answer), and the signal row already records it; the workers log at INFO."""
    from optionflow import observability

    observability.logger.set_correlation_id(str(intake.signal_id))
    observability.tracer.annotate(signal_id=str(intake.signal_id))
    if intake.created:
        observability.count(observability.SIGNALS_RECEIVED)
        observability.logger.debug(
            "signal received",
            extra={"ticker": alert.ticker, "action": alert.action, "direction": alert.direction},
        )
    else:
        observability.count(observability.SIGNALS_DUPLICATE)
        observability.logger.debug("duplicate alert: answered with the stored signal")
