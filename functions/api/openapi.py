"""The served OpenAPI document: what Powertools generates from the routes, completed with what it cannot
know. Every error is a problem document (api/problems.py), and each operation lists the statuses it can
answer; the webhook reads its body raw, so its body, its 202 and the links from a stored signal to its reads
are written here."""

from __future__ import annotations

import re
from typing import Any

from optionflow.models.alert import ACTION_WORDS, DIRECTION_WORDS
from optionflow.states import SignalStatus

PROBLEM_TYPE = "application/problem+json"
PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` names each field (or `body`) that was refused.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_WHY = {
    400: "The body is not JSON, is nested deeper than 32 levels, or a cursor is not one this API returned",
    401: "No credential, or one that does not verify",
    403: "The token lacks the scope this route needs",
    404: "Nothing has this id or name",
    413: "The body is over 16 KiB",
    409: "The simulated clock cannot do this: it is the system clock, or the time asked for is behind it",
    415: "The body is not JSON",
    422: "A field is missing or invalid; `errors` names it",
    503: "The database (or a worker function) cannot be reached; retry",
}


def _any_case(words: frozenset[str] | set[str]) -> str:
    """A pattern matching any of `words` in any letter case, as the alert parser reads them (JSON Schema
    patterns have no case-insensitive flag)."""
    spelled = (
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in w) for w in words
    )
    return r"^\s*(" + "|".join(sorted(spelled)) + r")\s*$"


_OPTIONAL_TEXT = {"type": ["string", "number", "null"]}
_OPTIONAL_NUMBER = {"type": ["number", "string", "null"]}
ALERT_SCHEMA = {
    "title": "Alert",
    "description": "A TradingView alert, with the webhook secret in `secret` unless it comes in the path or "
    "X-Signature. Aliases are accepted (`symbol`, `side`, `qty`, …); other fields are stored as sent, within "
    "the limits of untrusted_json: at most 32 levels deep, numbers of at most 40 characters, finite, and text "
    "without NUL or unpaired surrogates.",
    "type": "object",
    "required": ["ticker", "action"],
    "properties": {
        "ticker": {"type": "string", "pattern": r"^\s*([\x00-\x7f]*:)?[A-Za-z][A-Za-z0-9]{0,5}\s*$"},
        "action": {"type": "string", "pattern": _any_case(ACTION_WORDS)},
        "direction": {
            "anyOf": [
                {"type": "string", "pattern": _any_case(DIRECTION_WORDS)},
                {"const": ""},
                {"type": "null"},
            ]
        },
        "timeframe": _OPTIONAL_TEXT,
        "price": _OPTIONAL_NUMBER,
        "strike": _OPTIONAL_NUMBER,
        # blank, like any field, counts as absent (a template may leave it empty)
        "expiry": {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}, {"type": "null"}]},
        "quantity": {"type": ["integer", "string", "null"]},
        "alert_id": _OPTIONAL_TEXT,
        "time": {"type": ["string", "number", "null"]},
    },
    "additionalProperties": True,
}

ACCEPTED_SCHEMA = {
    "title": "WebhookAnswer",
    "type": "object",
    "required": ["signal_id", "duplicate", "status"],
    "properties": {
        "signal_id": {"type": "string", "format": "uuid"},
        "duplicate": {"type": "boolean"},
        "status": {"type": "string", "enum": [SignalStatus.PENDING.value, "DUPLICATE"]},
    },
}
_FROM_SIGNAL = {"signal_id": "$response.body#/signal_id"}
SIGNAL_LINKS = {
    "GetSignal": {"operationId": "get_signal_signals__signal_id__get", "parameters": _FROM_SIGNAL},
    "GetSignalDecisions": {
        "operationId": "get_signal_decisions_signals__signal_id__decisions_get",
        "parameters": _FROM_SIGNAL,
    },
}
# Routes that answer without the database.
_NO_DATABASE = {("get", "/"), ("get", "/openapi.json")}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """`document` (as Powertools generated it) with problem responses on every operation."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for generated in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(generated, None)  # Powertools' own 422 shape, which this API never answers
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            if path.startswith("/webhook"):
                _webhook(operation)
            if path == "/workers/{name}/trigger":
                responses["202"] = {**responses.pop("200"), "description": "The worker was woken"}
            for status in _statuses(method, path, operation):
                responses.setdefault(
                    str(status),
                    {
                        "description": _WHY[status],
                        "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                )
    health = document.get("paths", {}).get("/health", {}).get("get")
    if health is not None:  # /health answers 503 with its own report, not a problem
        health["responses"]["503"] = {**health["responses"]["200"], "description": "The database is down"}
    return document


def _statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    parameters = operation.get("parameters", [])
    takes_body = "requestBody" in operation
    statuses = []
    if takes_body or any(p["in"] == "query" for p in parameters):
        statuses.append(400)
    if operation.get("security") or path.startswith("/webhook"):
        statuses.append(401)
    if operation.get("security"):
        statuses.append(403)
    if any(p["in"] == "path" for p in parameters) and not path.startswith("/webhook"):
        statuses.append(404)
    if path == "/clock":
        statuses.append(409)
    if takes_body:
        statuses += [413, 415]
    if takes_body or parameters:
        statuses.append(422)
    if (method, path) not in _NO_DATABASE and path != "/health":
        statuses.append(503)
    return statuses


def _webhook(operation: dict[str, Any]) -> None:
    operation["requestBody"] = {
        "required": True,
        "content": {media: {"schema": ALERT_SCHEMA} for media in ("application/json", "text/plain")},
    }
    answer = {"application/json": {"schema": ACCEPTED_SCHEMA}}
    operation["responses"]["200"] = {
        "description": "A repeat of a stored alert: its signal",
        "content": answer,
    }
    operation["responses"]["202"] = {
        "description": "Stored as a new signal",
        "content": answer,
        "links": SIGNAL_LINKS,
    }
