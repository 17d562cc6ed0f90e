"""What a broker's HTTP failure means for an order: refused (final), not authorised, or unknown (the broker
may have acted, so the order is looked up by client id before anything is sent again)."""

from __future__ import annotations

from optionflow.brokers.ports import BrokerError, BrokerRejected
from optionflow.http_json import HttpError


def translate(exc: HttpError, broker: str, *, rejections: frozenset[int] = frozenset()) -> BrokerError:
    """The BrokerError for `exc`. Statuses in `rejections` are the broker refusing the order itself
    (BrokerRejected, with the broker's message as the reason); no answer or a 5xx is indefinite."""
    reason = str(exc).split(": ", 1)[-1] if exc.status else str(exc)
    if exc.status is None or exc.status >= 500:
        return BrokerError(broker, f"no definite answer ({reason})", status=exc.status, definite=False)
    if exc.status in rejections:
        return BrokerRejected(broker, _reason(exc), status=exc.status)
    return BrokerError(broker, reason, status=exc.status)


def _reason(exc: HttpError) -> str:
    body = exc.body
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, dict) and errors.get("error"):  # Tradier: {"errors": {"error": [...]}}
            found = errors["error"]
            return "; ".join(found) if isinstance(found, list) else str(found)
        if body.get("message"):  # Alpaca: {"code": 40310000, "message": "..."}
            return str(body["message"])
    return str(exc).split(": ", 2)[-1]
