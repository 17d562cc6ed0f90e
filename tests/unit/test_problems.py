"""Each of OptionFlow's errors becomes the problem document its base says, in one place (api.problems)."""

from __future__ import annotations

import json

import pytest
from api.problems import answer
from optionflow.auth.tokens import TokenError
from optionflow.db.connection import DatabaseUnavailable
from optionflow.db.listing import BadCursor
from optionflow.errors import FieldError, NotFound, OptionFlowError
from optionflow.logic.intake import BadRequest
from optionflow.logic.queries import BadWindow
from optionflow.workers import UnknownWorker


def _document(exc: OptionFlowError) -> tuple[int, dict, dict]:
    response = answer(exc)
    return response.status_code, json.loads(str(response.body)), dict(response.headers or {})


@pytest.mark.parametrize(
    ("exc", "status", "detail", "errors"),
    [
        (FieldError("ticker", "is required"), 422, "ticker: is required", [("ticker", "is required")]),
        (
            BadWindow("until", "is before since"),
            422,
            "until: is before since",
            [("until", "is before since")],
        ),
        (BadRequest(413, "body", "is too large"), 413, "body: is too large", [("body", "is too large")]),
        (BadCursor("cursor is bad"), 400, "cursor is bad", [("cursor", "cursor is bad")]),
        (UnknownWorker("unknown worker 'x'"), 404, "unknown worker 'x'", [("name", "unknown worker 'x'")]),
        (NotFound("id", "no such signal"), 404, "id: no such signal", [("id", "no such signal")]),
    ],
)
def test_a_field_error_names_its_field_under_its_status(exc, status, detail, errors):
    code, body, _ = _document(exc)
    assert (code, body["status"], body["detail"]) == (status, status, detail)
    assert [(e["field"], e["message"]) for e in body["errors"]] == errors


def test_a_missing_token_says_how_to_authenticate_and_a_token_without_the_scope_does_not():
    code, body, headers = _document(TokenError("token expired"))
    assert (code, body["detail"]) == (401, "token expired") and "errors" not in body
    assert headers["WWW-Authenticate"] == 'Bearer realm="optionflow"'
    code, _, headers = _document(TokenError("this route needs the 'admin' scope", status=403))
    assert code == 403 and "WWW-Authenticate" not in headers


def test_an_unreachable_database_is_a_503_to_retry_that_keeps_the_driver_message_from_the_client():
    code, body, headers = _document(DatabaseUnavailable("could not connect to server at 10.0.0.5"))
    assert (code, body["detail"], headers["Retry-After"]) == (503, "database unavailable, retry shortly", "5")
    assert "10.0.0.5" not in json.dumps(body)
