"""A local API process prepares the webhook's INSERT once per connection (db.signals.prepare_inserts): the
rows, answers and deduplication are the plain statement's, a new connection prepares it again, a
transaction never holds a PREPARE, and a session that loses what it prepared falls back to the plain one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg2
import pytest
from optionflow.db import connection, signals

from tests.api_events import call, request
from tests.conftest import WEBHOOK_SECRET

# what the stored row holds that an INSERT wrote (ids, sequence and times differ from row to row)
COMPARED = (
    "source, ticker, action, direction, timeframe, price, strike, expiry, quantity, alert_time, raw_payload, "
    "status, rejection_reasons, processed_at, dedupe_key_offset IS NULL AS no_offset"
)


@pytest.fixture
def prepared() -> Iterator[None]:
    signals.prepare_inserts()
    yield
    signals.prepare_inserts(False)


def alert(alert_id: str | None, **fields: Any) -> dict[str, Any]:
    body = {
        "ticker": "SPY",
        "action": "BUY",
        "direction": "PUT",
        "secret": WEBHOOK_SECRET,
        "price": "431.25",
        "strike": 430,
        "expiry": "2026-12-18",
        "quantity": 3,
        "timeframe": "15",
        "time": "2026-11-23T15:00:00Z",
        "note": {"nested": ["ü", 1.5, None]},
        **fields,
    }
    if alert_id is not None:
        body["alert_id"] = alert_id
    return body


def stored(db: Any, signal_id: str) -> dict[str, Any]:
    db.execute(f"SELECT {COMPARED} FROM signals WHERE id = %s", (signal_id,))
    row = dict(db.fetchone())
    row["raw_payload"].pop("alert_id")  # the one field the two alerts differ in
    return row


def prepared_here(cur: Any) -> int:
    cur.execute("SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'optionflow_insert_signal'")
    return int(cur.fetchone()["n"])


def test_a_prepared_insert_stores_the_same_row_and_answers_the_same(db, prepared):
    signals.prepare_inserts(False)
    plain_status, plain = call(request("POST", "/webhook", body=alert("plain")))
    signals.prepare_inserts()
    status, answer = call(request("POST", "/webhook", body=alert("prepared")))
    assert (status, plain_status) == (202, 202)
    assert stored(db, answer["signal_id"]) == stored(db, plain["signal_id"])
    assert connection.run_statement(prepared_here) == 1

    # a retry is answered with the stored signal, by alert id and by identical body
    assert call(request("POST", "/webhook", body=alert("prepared"))) == (
        200,
        {**answer, "duplicate": True, "status": "DUPLICATE"},
    )
    raw = json.dumps(alert(None))
    first = call(request("POST", "/webhook", body=raw))
    assert first[0] == 202
    assert call(request("POST", "/webhook", body=raw))[1]["signal_id"] == first[1]["signal_id"]
    db.execute("SELECT count(*) AS n FROM signals")
    assert db.fetchone()["n"] == 3


def test_a_new_connection_prepares_it_again(db, prepared):
    assert call(request("POST", "/webhook", body=alert("one")))[0] == 202
    connection.close_connection()
    assert call(request("POST", "/webhook", body=alert("two")))[0] == 202
    assert connection.run_statement(prepared_here) == 1


def test_inside_a_transaction_the_plain_statement_is_used(db, prepared, settings):
    from optionflow.models.alert import Alert

    conn = psycopg2.connect(settings.database_url)
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            _, created = signals.insert_if_new(
                cur,
                alert=Alert(ticker="SPY", action="BUY", direction="CALL"),
                dedupe_key="id:in-a-transaction",
                raw_payload={"ticker": "SPY"},
                body_sha256="0" * 64,
                received_at=datetime(2026, 11, 23, 15, tzinfo=UTC),
            )
            assert created
            assert prepared_here(cur) == 0
        conn.rollback()
    finally:
        conn.close()


def test_a_session_that_lost_its_prepared_statement_falls_back_to_the_plain_insert(db, prepared):
    assert call(request("POST", "/webhook", body=alert("before")))[0] == 202

    def forget(cur: Any) -> None:
        cur.execute("DEALLOCATE optionflow_insert_signal")  # as a pooler's other session would not have it

    connection.run_statement(forget)
    assert call(request("POST", "/webhook", body=alert("after")))[0] == 202
    assert not signals._prepare[0]
    db.execute("SELECT count(*) AS n FROM signals")
    assert db.fetchone()["n"] == 2
