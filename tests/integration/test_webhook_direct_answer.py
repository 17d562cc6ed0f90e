"""`POST /webhook` is answered without the resolver (api.app._answer_webhook): every answer, refusal and
error must be exactly the one the resolver gives, and the log lines and metrics the same."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from optionflow import observability

from tests.api_events import request
from tests.conftest import WEBHOOK_SECRET


def both(event: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer the handler gives `event` directly, then the resolver's for the same event."""
    from api import app
    from optionflow.local.lambda_context import LocalContext

    assert app._is_plain_webhook(event)
    direct = app.lambda_handler(event, LocalContext("ApiFunction"))
    with monkeypatch.context() as patched:
        patched.setattr(app, "_is_plain_webhook", lambda event: False)
        resolved = app.lambda_handler(event, LocalContext("ApiFunction"))
    return direct, resolved


def alert(alert_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "ticker": "SPY",
        "action": "BUY",
        "direction": "CALL",
        "secret": WEBHOOK_SECRET,
        "alert_id": alert_id,
        **fields,
    }


def test_a_stored_alert_and_its_retry_get_the_resolver_s_answers(db, monkeypatch):
    from api import app
    from optionflow.local.lambda_context import LocalContext

    first = app.lambda_handler(
        request("POST", "/webhook", body=alert("direct-1")), LocalContext("ApiFunction")
    )
    with monkeypatch.context() as patched:
        patched.setattr(app, "_is_plain_webhook", lambda event: False)
        other = app.lambda_handler(
            request("POST", "/webhook", body=alert("direct-2")), LocalContext("ApiFunction")
        )
    assert first["statusCode"] == other["statusCode"] == 202
    assert {**first, "body": ""} == {**other, "body": ""}
    assert json.loads(first["body"]).keys() == json.loads(other["body"]).keys()
    # the same signal id in the same bytes as the resolver serialises it
    body = json.loads(first["body"])
    assert first["body"] == json.dumps(body, separators=(",", ":"))

    direct, resolved = both(request("POST", "/webhook", body=alert("direct-1")), monkeypatch)
    assert direct == resolved
    assert direct["statusCode"] == 200 and json.loads(direct["body"])["signal_id"] == body["signal_id"]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"", {}),  # 400 empty
        (b"  ", {}),
        (b"x" * 70_000, {}),  # 413
        (json.dumps(alert("t-415")).encode(), {"content-type": "application/xml"}),  # 415
        (b'{"ticker":"SPY","action":"BUY","direction":"CALL"}', {}),  # 401
        (b'{"ticker":"SPY","action":"BUY","direction":"CALL","secret":"wrong"}', {}),
        (b"[1, 2]", {}),  # 401 before parsing the shape: no secret
        (b"{not json", {}),
        (json.dumps(alert("t-422", action="HOLD")).encode(), {}),  # 422
        (json.dumps(alert("t-422q", quantity=True)).encode(), {}),
        (json.dumps(alert("t-plan", plan={"legs": "x"})).encode(), {}),
        (b"[" * 1000 + b"]" * 1000, {}),
        (b'{"ticker":"SPY","secret":"\\ud800"}', {}),
        (
            json.dumps(alert("t-sig")).encode().replace(WEBHOOK_SECRET.encode(), b"nope"),
            {"x-signature": "00"},
        ),
    ],
)
def test_every_refusal_is_the_resolver_s_problem_document(db, monkeypatch, body, headers):
    direct, resolved = both(request("POST", "/webhook", body=body, headers=headers), monkeypatch)
    assert direct == resolved
    assert direct["statusCode"] >= 400
    assert direct["headers"]["Content-Type"] == "application/problem+json"


def test_a_base64_body_and_mixed_case_headers_read_as_the_resolver_reads_them(db, monkeypatch):
    event = request("POST", "/webhook", body=alert("b64"))
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    event["headers"] = {"Content-Type": "text/xml"}
    direct, resolved = both(event, monkeypatch)
    assert direct == resolved and direct["statusCode"] == 415
    event["headers"] = {"Content-Type": "text/plain; charset=utf-8"}
    direct, resolved = both(event, monkeypatch)
    assert direct["statusCode"] == 202 and resolved["statusCode"] == 200  # the retry: a duplicate
    assert json.loads(direct["body"])["signal_id"] == json.loads(resolved["body"])["signal_id"]


def test_a_database_failure_and_a_bug_are_answered_as_the_resolver_answers_them(db, monkeypatch):
    from optionflow.logic import intake

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the insert broke")

    monkeypatch.setattr(intake, "store", broken)
    event = request("POST", "/webhook", body=alert("bug"))
    direct, resolved = both(event, monkeypatch)
    assert direct == resolved and direct["statusCode"] == 500
    assert event["requestContext"]["requestId"] in json.loads(direct["body"])["detail"]

    from optionflow.errors import Unavailable

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise Unavailable("the database is down")

    monkeypatch.setattr(intake, "store", unavailable)
    direct, resolved = both(request("POST", "/webhook", body=alert("down")), monkeypatch)
    assert direct == resolved and direct["statusCode"] == 503


def test_the_log_correlation_and_metrics_are_the_resolver_s(db, monkeypatch):
    from api import app
    from optionflow.local.lambda_context import LocalContext

    seen: list[tuple[str, Any]] = []
    monkeypatch.setattr(observability, "count", lambda name, value=1: seen.append((name, value)))
    app.lambda_handler(request("POST", "/webhook", body=alert("metrics")), LocalContext("ApiFunction"))
    direct_correlation = observability.logger.get_correlation_id()
    with monkeypatch.context() as patched:
        patched.setattr(app, "_is_plain_webhook", lambda event: False)
        app.lambda_handler(request("POST", "/webhook", body=alert("metrics")), LocalContext("ApiFunction"))
    assert observability.logger.get_correlation_id() == direct_correlation  # the signal's id, both times
    assert seen == [(observability.SIGNALS_RECEIVED, 1), (observability.SIGNALS_DUPLICATE, 1)]


def test_only_post_webhook_on_the_default_stage_is_answered_directly():
    from api.app import _is_plain_webhook

    assert _is_plain_webhook(request("POST", "/webhook", body=b"{}"))
    for method, target in [
        ("POST", "/webhook/token"),
        ("POST", "/webhook/"),
        ("GET", "/webhook"),
        ("HEAD", "/webhook"),
        ("POST", "/webhooks"),
        ("PUT", "/webhook"),
    ]:
        assert not _is_plain_webhook(request(method, target, body=b"{}"))
    staged = request("POST", "/webhook", body=b"{}")
    staged["requestContext"]["stage"] = "prod"
    assert not _is_plain_webhook(staged)


def test_until_a_signal_is_stored_the_correlation_id_is_the_request_id(db):
    from api import app
    from optionflow.local.lambda_context import LocalContext

    refused = request("POST", "/webhook", body={**alert("refused"), "secret": "wrong"})
    assert app.lambda_handler(refused, LocalContext("ApiFunction"))["statusCode"] == 401
    assert observability.logger.get_correlation_id() == refused["requestContext"]["requestId"]
    health = request("GET", "/health")
    app.lambda_handler(health, LocalContext("ApiFunction"))
    assert observability.logger.get_correlation_id() == health["requestContext"]["requestId"]
    # an event whose request context has no id (none of API Gateway's) has no correlation id
    context = {key: value for key, value in health["requestContext"].items() if key != "requestId"}
    app.lambda_handler({**health, "requestContext": context}, LocalContext("ApiFunction"))
    assert observability.logger.get_correlation_id() is None
