"""POST /webhook: TradingView alerts become exactly one stored signal, or a 4xx that names the problem."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import psycopg2
import pytest
from optionflow.auth.webhook import signature_for
from optionflow.db import connection

from tests.api_events import call, request
from tests.conftest import WEBHOOK_SECRET, load_event

ALERT = {"ticker": "SPY", "action": "BUY", "direction": "CALL", "timeframe": "5", "secret": WEBHOOK_SECRET}


def signal_count(db: Any) -> int:
    db.execute("SELECT count(*) AS n FROM signals")
    return int(db.fetchone()["n"])


def test_buy_call_alert_from_the_fixture_is_stored_and_answered_202(db, recording_bus):
    status, body = call(load_event("api/webhook_buy_call.json"))
    assert status == 202
    db.execute(
        "SELECT ticker, action, direction, timeframe, status, alert_id FROM signals WHERE id = %s",
        (body["signal_id"],),
    )
    assert db.fetchone() == {
        "ticker": "SPY",
        "action": "BUY",
        "direction": "CALL",
        "timeframe": "5",
        "status": "PENDING",
        "alert_id": "example-0001",
    }
    assert recording_bus.of_type("signal.received") == [{"signal_id": body["signal_id"]}]


def test_repeated_alert_answers_200_with_the_original_id_and_stores_nothing_new(db, recording_bus):
    first_status, first = call(request("POST", "/webhook", body=ALERT))
    again_status, again = call(request("POST", "/webhook", body=ALERT))
    assert (first_status, again_status) == (202, 200)
    assert again == {"signal_id": first["signal_id"], "duplicate": True, "status": "DUPLICATE"}
    assert signal_count(db) == 1
    assert len(recording_bus.of_type("signal.received")) == 1


def test_alerts_five_minutes_apart_are_two_signals(db, frozen_clock):
    from datetime import timedelta

    call(request("POST", "/webhook", body=ALERT))
    frozen_clock.advance(timedelta(minutes=5))
    status, _ = call(request("POST", "/webhook", body=ALERT))
    assert status == 202
    assert signal_count(db) == 2


def test_same_alert_id_is_one_signal_even_when_other_fields_differ(db):
    call(request("POST", "/webhook", body={**ALERT, "alert_id": "tv-42"}))
    status, _ = call(request("POST", "/webhook", body={**ALERT, "alert_id": "tv-42", "timeframe": "15"}))
    assert status == 200
    assert signal_count(db) == 1


def test_json_labelled_text_plain_with_aliases_is_understood(db):
    status, body = call(load_event("api/webhook_text_plain.json"))
    assert status == 202
    db.execute("SELECT ticker, action, direction FROM signals WHERE id = %s", (body["signal_id"],))
    assert db.fetchone() == {"ticker": "QQQ", "action": "BUY", "direction": "CALL"}


def test_stored_raw_payload_keeps_the_alert_but_not_the_secret(db):
    _, body = call(request("POST", "/webhook", body={**ALERT, "price": "601.25", "note": "kept"}))
    db.execute("SELECT raw_payload, price FROM signals WHERE id = %s", (body["signal_id"],))
    row = db.fetchone()
    assert row["raw_payload"]["secret"] == "***"
    assert row["raw_payload"]["note"] == "kept"
    assert str(row["price"]) == "601.2500"


def test_wrong_secret_is_401_and_stores_nothing(db):
    status, body = call(load_event("api/webhook_bad_secret.json"))
    assert status == 401
    assert "secret" in body["detail"]
    assert signal_count(db) == 0


def test_missing_secret_is_401(db):
    alert = {k: v for k, v in ALERT.items() if k != "secret"}
    assert call(request("POST", "/webhook", body=alert))[0] == 401
    assert signal_count(db) == 0


def test_token_in_the_path_authenticates_without_a_body_secret(db):
    alert = {k: v for k, v in ALERT.items() if k != "secret"}
    assert call(request("POST", f"/webhook/{WEBHOOK_SECRET}", body=alert))[0] == 202
    assert call(request("POST", "/webhook/not-the-token", body=alert))[0] == 401
    assert signal_count(db) == 1


def test_hmac_signature_header_authenticates_the_exact_body(db):
    raw = json.dumps({"ticker": "IWM", "action": "BUY", "direction": "PUT"}).encode()
    good = request(
        "POST", "/webhook", body=raw.decode(), headers={"x-signature": signature_for(raw, WEBHOOK_SECRET)}
    )
    assert call(good)[0] == 202
    tampered = raw.replace(b"IWM", b"QQQ")
    bad = request(
        "POST",
        "/webhook",
        body=tampered.decode(),
        headers={"x-signature": signature_for(raw, WEBHOOK_SECRET)},
    )
    assert call(bad)[0] == 401
    assert signal_count(db) == 1


def test_replayed_signed_body_is_a_duplicate_not_a_new_signal(db):
    raw = json.dumps({"ticker": "IWM", "action": "BUY", "direction": "PUT", "alert_id": "sig-1"}).encode()
    headers = {"x-signature": signature_for(raw, WEBHOOK_SECRET)}
    assert call(request("POST", "/webhook", body=raw.decode(), headers=headers))[0] == 202
    assert call(request("POST", "/webhook", body=raw.decode(), headers=headers))[0] == 200
    assert signal_count(db) == 1


def test_oversize_body_is_413(db):
    big = {**ALERT, "note": "x" * 20_000}
    status, body = call(request("POST", "/webhook", body=big))
    assert status == 413
    assert body["errors"][0]["field"] == "body"


def test_form_encoded_body_is_415(db):
    status, body = call(
        request(
            "POST",
            "/webhook",
            body="ticker=SPY",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    )
    assert status == 415
    assert body["errors"][0]["field"] == "content-type"


def test_body_that_is_not_json_is_400(db):
    status, body = call(
        request("POST", "/webhook", body="BUY SPY now", headers={"content-type": "text/plain"})
    )
    assert status == 400
    assert "JSON" in body["detail"]


def test_buy_without_direction_is_422_naming_direction(db):
    status, body = call(
        request("POST", "/webhook", body={"ticker": "SPY", "action": "BUY", "secret": WEBHOOK_SECRET})
    )
    assert status == 422
    assert body["errors"][0]["field"] == "direction"
    assert signal_count(db) == 0


def test_unfilled_tradingview_placeholder_is_422_naming_the_field(db):
    status, body = call(request("POST", "/webhook", body={**ALERT, "price": "{{close}}"}))
    assert status == 422
    assert body["errors"][0]["field"] == "price"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"alert_id": "a\u0000b"}, "alert_id"),
        ({"timeframe": "5\u0000"}, "timeframe"),
        ({"note": {"lines": ["ok", "bad\u0000"]}}, "note.lines[1]"),  # an unknown field is stored raw
        ({"k\u0000": 1}, "k\\u0000"),  # the path names the key printably: no NUL in answers or logs
    ],
)
def test_a_nul_character_anywhere_in_the_alert_is_422_naming_it_not_a_500(db, extra, field):
    status, body = call(request("POST", "/webhook", body={**ALERT, **extra}))

    assert status == 422, body
    assert body["errors"][0]["field"] == field
    assert "NUL" in body["detail"]
    assert signal_count(db) == 0


def test_bad_ticker_is_422(db):
    status, body = call(request("POST", "/webhook", body={**ALERT, "ticker": "spy; drop table"}))
    assert status == 422
    assert body["errors"][0]["field"] == "ticker"


def test_sixteen_concurrent_deliveries_of_one_alert_store_one_signal(db, settings):
    results: list[tuple[int, Any]] = []
    barrier = threading.Barrier(16)

    def deliver() -> None:
        barrier.wait()
        try:
            results.append(call(request("POST", "/webhook", body={**ALERT, "alert_id": "race"})))
        finally:
            connection.close_connection()

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 15 + [202]
    assert len({body["signal_id"] for _, body in results}) == 1
    assert signal_count(db) == 1


def test_database_down_answers_503_so_tradingview_retries(db, settings):
    # Nothing listens on port 1; the connection fails fast.
    connection.set_database_url("postgresql://postgres@127.0.0.1:1/optionflow")
    try:
        status, _body = call(request("POST", "/webhook", body=ALERT))
    finally:
        connection.set_database_url(settings.database_url)
    assert status == 503
    assert signal_count(db) == 0


def test_broken_warm_connection_is_reopened(db, settings):
    conn = connection.get_connection()
    pid = conn.get_backend_pid()
    killer = psycopg2.connect(settings.database_url)
    killer.autocommit = True
    with killer.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    killer.close()
    status, _ = call(request("POST", "/webhook", body=ALERT))
    assert status == 202


def test_a_resend_in_the_next_bucket_is_caught_by_the_offset_key_alone(db, frozen_clock, recording_bus):
    # 30 s window: buckets of 60 s on the main grid, and on the offset grid shifted by 30 s. At :59 and :61
    # the main grid's buckets differ and only the offset key matches (migration 016 keeps it unique where set).
    start = frozen_clock.now().replace(second=59, microsecond=0)
    frozen_clock.set(start)
    first_status, first = call(request("POST", "/webhook", body=ALERT))
    frozen_clock.set(start + timedelta(seconds=2))
    again_status, again = call(request("POST", "/webhook", body=ALERT))
    assert (first_status, again_status) == (202, 200)
    assert again["signal_id"] == first["signal_id"] and again["duplicate"] is True
    assert signal_count(db) == 1
