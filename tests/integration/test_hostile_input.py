"""Hostile input (issue 14): every request an attacker made by hand gets a 4xx problem document naming the
field or the body, nothing half-written, and what is stored can always be read back and listed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from optionflow.models.untrusted_json import MAX_DEPTH, TOO_DEEP, UNREADABLE

from tests.api_events import call, request
from tests.conftest import JWT_SECRET, WEBHOOK_SECRET

VALID = f'"ticker":"SPY","action":"BUY","direction":"CALL","secret":"{WEBHOOK_SECRET}"'
# What the dashboard asks for on every refresh, and a signal's decision trail when one is opened.
DASHBOARD_READS = (
    "/positions?status=OPEN&limit=500",
    "/positions?status=CLOSING&limit=500",
    "/signals?limit=25",
    "/exit-signals",
    "/stats",
)


def webhook(raw: str) -> tuple[int, Any]:
    return call(request("POST", "/webhook", body=raw))


def count(db: Any, table: str) -> int:
    db.execute(f"SELECT count(*) AS n FROM {table}")
    return int(db.fetchone()["n"])


def refused(status: int, body: Any, expected_status: int, field: str) -> None:
    assert status == expected_status, body
    assert body["status"] == expected_status
    assert body["errors"][0]["field"] == field, body


def test_a_lone_surrogate_as_the_secret_is_a_422_naming_secret_without_any_valid_secret(db):
    status, body = webhook('{"ticker":"SPY","action":"BUY","direction":"CALL","secret":"\\ud800"}')
    refused(status, body, 422, "secret")
    assert "surrogate" in body["detail"]
    assert count(db, "signals") == 0


@pytest.mark.parametrize(
    "raw",
    ["[" * 1000 + "]" * 1000, '{"a":' * 1500 + "1" + "}" * 1500],
    ids=["list-1000-deep", "object-1500-deep"],
)
def test_json_nested_a_thousand_deep_is_a_400_naming_the_body_without_any_secret(db, raw):
    status, body = webhook(raw)
    refused(status, body, 400, "body")
    assert f"deeper than {MAX_DEPTH} levels" in body["detail"]


def test_an_integer_of_more_than_4300_digits_anywhere_is_a_422_naming_its_field(db):
    status, body = webhook('{"ticker":"SPY","nested":{"n":[' + "9" * 4301 + "]}}")
    refused(status, body, 422, "nested.n[0]")
    assert count(db, "signals") == 0


@pytest.mark.parametrize(
    "value",
    ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", '"\\ud800"', '"a\\udfffb"', '{"\\ud800":1}'],
)
def test_non_finite_numbers_and_unpaired_surrogates_in_unknown_fields_are_refused_before_storing(db, value):
    status, body = webhook("{" + VALID + ',"note":' + value + "}")
    assert status == 422, body
    assert body["errors"][0]["field"].startswith("note"), body
    assert count(db, "signals") == 0


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_time_that_leaves_years_1_to_9999_in_utc_is_a_422_naming_time(db, at):
    status, body = webhook("{" + VALID + f',"time":"{at}"' + "}")
    refused(status, body, 422, "time")
    assert count(db, "signals") == 0


@pytest.mark.parametrize("field", ["quantity", "ticker", "price", "alert_id"])
def test_true_is_not_a_value_of_any_alert_field(db, field):
    # each key once: a repeated key is refused on its own (the body's), whatever its values
    fields = [part for part in VALID.split(",") if not part.startswith(f'"{field}":')]
    status, body = webhook("{" + ",".join([*fields, f'"{field}":true']) + "}")
    refused(status, body, 422, field)
    assert count(db, "signals") == 0


def test_quantity_true_is_refused_not_stored_as_one_contract(db):
    status, body = webhook("{" + VALID + ',"quantity":true,"alert_id":"q-true"}')
    refused(status, body, 422, "quantity")
    assert count(db, "signals") == 0


def test_a_valid_alert_with_an_extra_field_nested_256_deep_is_refused_not_stored(db):
    status, body = webhook("{" + VALID + ',"extra":' + "[" * 256 + "]" * 256 + "}")
    assert status == 400, body
    assert body["errors"][0]["field"].startswith("extra[0]")
    assert count(db, "signals") == 0


def test_the_nastiest_accepted_alert_is_stored_verbatim_and_reads_back_everywhere(db):
    deepest = "[" * (MAX_DEPTH - 1) + '"bottom"' + "]" * (MAX_DEPTH - 1)  # one level below the object
    nasty = {
        "deep": json.loads(deepest),
        "big": int("9" * 40),
        "tiny": 5e-324,
        "huge": 1.7976931348623157e308,
        "odd unicode": "\u202eevil\u200b\ufeff\U0001f4a5 e\u0301 \uffff",
        "paired surrogates": "\U0001f600",
        "<script>": "</script><img src=x onerror=alert(1)>",
    }
    raw = "{" + VALID + ',"alert_id":"nasty",' + json.dumps(nasty)[1:]
    status, body = webhook(raw)
    assert status == 202, body
    signal_id = body["signal_id"]

    status, detail = call(request("GET", f"/signals/{signal_id}", scope="read"))
    assert status == 200
    stored = detail["raw_payload"]
    # jsonb writes a number out in full (1.79e308 as 309 digits): the same number, well inside 4,300 digits
    assert float(stored.pop("huge")) == nasty.pop("huge")
    assert {k: stored[k] for k in nasty} == nasty
    for path in (*DASHBOARD_READS, f"/signals/{signal_id}/decisions"):
        status, _ = call(request("GET", path, scope="read"))
        assert status == 200, path


def insert_stored_payload(db: Any, payload_json: str, alert_id: str) -> str:
    """A signal row as the webhook wrote it before nesting was limited."""
    db.execute(
        """INSERT INTO signals (dedupe_key, ticker, action, direction, alert_id, raw_payload, body_sha256,
                                received_at)
           VALUES (%s, 'SPY', 'BUY', 'CALL', %s, %s::jsonb, 'x', now()) RETURNING id""",
        (f"id:{alert_id}", alert_id, payload_json),
    )
    return str(db.fetchone()["id"])


def test_payloads_stored_deeper_than_the_limit_before_it_existed_still_list_read_and_page(db):
    older = call(request("POST", "/webhook", body="{" + VALID + ',"alert_id":"older"}'))[1]["signal_id"]
    serialiser_breaking = insert_stored_payload(db, '{"x":' + "[" * 256 + "]" * 256 + "}", "deep-256")
    parser_breaking = insert_stored_payload(db, '{"x":' + "[" * 3000 + "]" * 3000 + "}", "deep-3000")

    status, shallow = call(request("GET", f"/signals/{serialiser_breaking}", scope="read"))
    assert status == 200
    level = shallow["raw_payload"]["x"]
    for _ in range(MAX_DEPTH - 2):
        (level,) = level
    assert level == [TOO_DEEP]
    status, unreadable = call(request("GET", f"/signals/{parser_breaking}", scope="read"))
    assert status == 200
    assert UNREADABLE in unreadable["raw_payload"]

    seen, cursor = [], None
    while True:
        status, page = call(
            request("GET", "/signals?limit=1" + (f"&cursor={cursor}" if cursor else ""), scope="read")
        )
        assert status == 200, page
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([older, serialiser_breaking, parser_breaking])
    for path in DASHBOARD_READS:
        assert call(request("GET", path, scope="read"))[0] == 200, path


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/risk-limits", {"max_open_positions": 3, "reason": "\ud800"}),
        ("PATCH", "/exit-rules", {"stop_loss_pct": 40, "reason": "\ud800"}),
        ("POST", "/kill-switch", {"on": True, "reason": "\ud800"}),
        ("POST", "/workers/order_creator/pause", {"reason": "\ud800"}),
    ],
)
def test_a_reason_with_an_unpaired_surrogate_is_a_422_naming_reason_on_every_admin_route(
    db, method, path, body
):
    raw = json.dumps(body)  # ensure_ascii writes the surrogate as the escape \ud800, as an attacker would
    status, answer = call(request(method, path, body=raw, scope="admin"))
    refused(status, answer, 422, "reason")
    assert count(db, "settings_changes") == 0
    assert count(db, "worker_controls") == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/signals?limit=0&status=NOPE", None),
        ("GET", "/signals/not-a-uuid", None),
        ("GET", "/stats?since=yesterday", None),
        ("GET", "/settings/changes?limit=-1", None),
        ("PATCH", "/risk-limits", '{"max_open_positions":"many","reason":"\\ud800"}'),
        ("PATCH", "/exit-rules", "[" * 2000 + "]" * 2000),
        ("POST", "/kill-switch", "{not json"),
        ("POST", "/workers/nobody/pause", '{"reason":' + "9" * 5000 + "}"),
        ("PATCH", "/risk-limits", "x" * 100_000),
    ],
)
def test_a_guarded_route_answers_401_before_validating_and_says_nothing_of_its_schema(db, method, path, body):
    status, answer = call(request(method, path, body=body))
    assert status == 401, answer
    assert set(answer) == {"type", "title", "status", "detail"}
    assert "Bearer" in answer["detail"]


def test_a_token_with_exp_in_year_9999_is_a_401(db):
    import jwt

    claims = {"sub": "a", "scope": "admin", "iss": "optionflow", "aud": "optionflow-api", "iat": 1}
    forever = jwt.encode({**claims, "exp": 253402300799}, JWT_SECRET, algorithm="HS256")
    status, answer = call(request("GET", "/signals", headers={"authorization": f"Bearer {forever}"}))
    assert status == 401
    assert "maximum" in answer["detail"]


def test_a_200_kb_token_is_a_401_problem_and_is_not_decoded(db):
    status, answer = call(request("GET", "/signals", headers={"authorization": "Bearer " + "e" * 200_000}))
    assert status == 401
    assert answer["title"] == "Unauthorized"


def test_a_read_token_on_an_admin_route_is_a_403_before_its_body_is_validated(db):
    status, answer = call(
        request("PATCH", "/risk-limits", body='{"max_open_positions":"many"}', scope="read")
    )
    assert status == 403
    assert "errors" not in answer


def test_a_body_over_16_kib_on_an_admin_route_is_a_413_naming_the_body(db):
    big = json.dumps({"max_open_positions": 3, "reason": "x" * 17_000})
    status, answer = call(request("PATCH", "/risk-limits", body=big, scope="admin"))
    refused(status, answer, 413, "body")
    assert count(db, "settings_changes") == 0


def test_a_body_that_is_not_json_on_an_admin_route_is_a_400_problem(db):
    status, answer = call(request("POST", "/kill-switch", body="{not json", scope="admin"))
    refused(status, answer, 400, "body")


@pytest.mark.parametrize(
    "media_type", ["text/csv", "multipart/form-data", "application/x-www-form-urlencoded", "text/plain"]
)
def test_another_media_type_on_an_admin_route_is_a_415_problem(db, media_type):
    # multipart/form-data without a boundary made Powertools' form parser raise: a 500
    headers = {"content-type": media_type}
    status, answer = call(
        request("POST", "/kill-switch", body='{"on": false}', headers=headers, scope="admin")
    )
    assert status == 415, answer
    assert answer["title"] == "Unsupported media type"
    assert count(db, "settings_changes") == 0


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/health", "GET, HEAD, OPTIONS"),
        ("DELETE", "/signals", "GET, HEAD, OPTIONS"),
        ("GET", "/webhook", "POST, OPTIONS"),
        ("PUT", "/risk-limits", "GET, HEAD, PATCH, OPTIONS"),
    ],
)
def test_a_method_a_path_does_not_serve_is_a_405_problem_with_allow(db, method, path, allow):
    result = call_raw(request(method, path))
    assert result["statusCode"] == 405
    assert result["headers"]["Allow"] == allow
    assert json.loads(result["body"])["status"] == 405


def test_options_lists_the_methods_of_a_path_and_head_answers_as_get(db):
    options = call_raw(request("OPTIONS", "/signals"))
    assert (options["statusCode"], options["headers"]["Allow"]) == (204, "GET, HEAD, OPTIONS")
    head = call_raw(request("HEAD", "/health"))
    assert head["statusCode"] == 200
    assert call_raw(request("OPTIONS", "/nowhere"))["statusCode"] == 404


def test_an_unexpected_error_is_a_500_problem_naming_the_request_id_not_the_error(db):
    db.execute("ALTER TABLE trades RENAME TO trades_elsewhere")  # a bug's stand-in: the query cannot run
    try:
        event = request("GET", "/trades", scope="read")
        status, answer = call(event)
    finally:
        db.execute("ALTER TABLE trades_elsewhere RENAME TO trades")
    assert status == 500
    assert answer["title"] == "Internal server error"
    assert event["requestContext"]["requestId"] in answer["detail"]
    assert "trades" not in answer["detail"]


def call_raw(event: dict[str, Any]) -> dict[str, Any]:
    from api.app import lambda_handler
    from optionflow.local.lambda_context import LocalContext

    return dict(lambda_handler(event, LocalContext("ApiFunction")))


@pytest.mark.parametrize("bound", ["until=0.5", "since=1700000000", "since=-1e3"])
def test_a_bare_number_is_not_an_iso_8601_time_bound(db, bound):
    # pydantic read `until=0.5` as Unix seconds (1970); the document promises an ISO 8601 date-time
    status, answer = call(request("GET", f"/stats?{bound}", scope="read"))
    refused(status, answer, 422, bound.split("=")[0])
    assert call(request("GET", "/signals?since=2026-11-23T10:00:00Z", scope="read"))[0] == 200


def test_a_number_is_not_an_expiry(db):
    # pydantic read 0 as Unix seconds: 1970-01-01
    status, body = webhook("{" + VALID + ',"expiry":0}')
    refused(status, body, 422, "expiry")


@pytest.mark.parametrize(
    "path", ["/signals?limit=%C2%A06", "/settings/changes?limit=+6", "/orders?limit=6%20"]
)
def test_a_limit_is_digits_only(db, path):
    # pydantic stripped whitespace, a no-break space included, before reading the number
    status, answer = call(request("GET", path, scope="read"))
    refused(status, answer, 422, "limit")


@pytest.mark.parametrize("ticker", ["ABCDEFGHIJ", "BRK.BB", "ß"])
def test_a_ticker_no_option_root_can_carry_is_refused_before_it_can_stall_order_creation(db, market, ticker):
    # Stored, such a signal made every order_creator run raise on it: no order was created for anyone.
    # (A class share such as BRK.B has a root, BRKB, and trades: see test_book_rules.)
    from tests.pipeline_support import alert, run

    status, body = webhook("{" + VALID.replace('"SPY"', json.dumps(ticker)) + "}")
    refused(status, body, 422, "ticker")
    alert("SPY", "BUY", "CALL", alert_id="tradable")
    run("signal_processor")
    run("order_creator")
    assert count(db, "orders") == 1


def test_an_alert_repeating_a_key_is_refused_not_read_as_whichever_value_a_parser_keeps(db):
    status, body = webhook("{" + VALID + ',"action":"SELL"}')
    refused(status, body, 422, "body")
    assert "the key 'action' appears more than once" in body["detail"]
    assert count(db, "signals") == 0
