"""A signal's decision trail: every stage appends to it, the API reads it back whole and in the order the checks
ran, and the trails written before migration 016 (one row per check) read back as they did."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import psycopg2.extras
from optionflow.db import migrate as migrations
from optionflow.db import signals as signals_db
from optionflow.logic.risk import Check

from tests.api_events import call, request
from tests.integration.test_migrations import empty_database  # noqa: F401 - a fixture
from tests.pipeline_support import alert, rows, run_entry_chain

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _trail(signal_id: str) -> list[dict[str, Any]]:
    status, body = call(request("GET", f"/signals/{signal_id}/decisions", scope="read"))
    assert status == 200, body
    return list(body)


def test_a_filled_alert_reads_back_every_stage_s_checks_in_the_order_they_ran(db, market):
    signal_id = alert("SPY", "BUY", "CALL")
    run_entry_chain()
    trail = _trail(signal_id)
    assert [line["check_name"] for line in trail] == [
        "market_open",
        "signal_valid",
        "contract_listed",
        "kill_switch",
        "max_open_positions",
        "max_positions_per_ticker",
        "max_daily_loss",
        "sizing",
    ]
    assert all(line["passed"] is True for line in trail)
    assert set(trail[0]) == {"check_name", "passed", "detail", "inputs", "decided_at"}
    assert trail[0]["inputs"] == {"now_et": "2026-11-23 10:00", "session": "09:30-16:00 ET"}
    assert trail[4]["inputs"] == {"max": 20, "open": 0}
    status, detail = call(request("GET", f"/signals/{signal_id}", scope="read"))
    assert status == 200 and detail["decisions"] == trail
    # the decision wrote one row and the order another, not a row per check
    assert len(rows(db, "SELECT seq FROM decision_sets WHERE signal_id = %s", signal_id)) == 2


def test_a_check_recorded_again_keeps_its_place_and_shows_its_latest_outcome(db):
    signal_id = alert("SPY", "BUY", "CALL")
    later = AT + timedelta(minutes=1)
    first = [Check("market_open", True, "open"), Check("kill_switch", True, "off", {"kill_switch": False})]
    signals_db.record_decisions(db, [(uuid.UUID(signal_id), c) for c in first], AT)
    again = [Check("kill_switch", False, "on", {"kill_switch": True}), Check("sizing", False, "none")]
    signals_db.record_decisions(db, [(uuid.UUID(signal_id), c) for c in again], later)
    trail = signals_db.decisions(db, uuid.UUID(signal_id))
    assert [(d.check_name, d.passed, d.detail, d.inputs, d.decided_at) for d in trail] == [
        ("market_open", True, "open", {}, AT),
        ("kill_switch", False, "on", {"kill_switch": True}, later),
        ("sizing", False, "none", {}, later),
    ]


def test_one_write_for_many_signals_keeps_each_signal_s_lines_apart_and_in_order(db):
    a, b = uuid.UUID(alert("SPY", "BUY", "CALL")), uuid.UUID(alert("QQQ", "BUY", "PUT"))
    lines = [
        (a, Check("one", True, "a1")),
        (b, Check("one", False, "b1", {"why": "b"})),
        (a, Check("two", False, "a2", {"n": 2})),
        (b, Check("two", True, "b2")),
    ]
    signals_db.record_decisions(db, lines, AT)
    read = {
        s: [(d.check_name, d.passed, d.detail, d.inputs) for d in signals_db.decisions(db, s)] for s in (a, b)
    }
    assert read == {
        a: [("one", True, "a1", {}), ("two", False, "a2", {"n": 2})],
        b: [("one", False, "b1", {"why": "b"}), ("two", True, "b2", {})],
    }


def test_trails_written_before_migration_016_survive_it_and_later_stages_append_after_them(
    empty_database,  # noqa: F811 - the fixture
    monkeypatch,
):
    before = [m for m in migrations.available_migrations() if m.version < "016"]
    conn = psycopg2.connect(empty_database)
    monkeypatch.setattr(migrations, "available_migrations", lambda: before)
    migrations.migrate(conn)
    monkeypatch.undo()
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO signals (dedupe_key, ticker, action, direction, raw_payload, body_sha256, status)
               VALUES ('k', 'SPY', 'BUY', 'CALL', '{}', 'sha', 'ACCEPTED') RETURNING id"""
        )
        (signal_id,) = cur.fetchone()
        # what the previous release wrote: a row per check, ON CONFLICT replacing a check's outcome
        for name, passed, detail in (("market_open", True, "open"), ("kill_switch", True, "off")):
            cur.execute(
                """INSERT INTO decisions (signal_id, check_name, passed, detail, inputs, decided_at)
                   VALUES (%s, %s, %s, %s, '{"x": 1}', %s)""",
                (signal_id, name, passed, detail, AT),
            )
    conn.commit()
    assert migrations.migrate(conn) == ["016"] + [
        m.version for m in migrations.available_migrations() if m.version > "016"
    ]
    later = AT + timedelta(minutes=5)
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        sid = uuid.UUID(signal_id)
        kept = signals_db.decisions(cur, sid)
        signals_db.record_decisions(
            cur, [(sid, Check("kill_switch", False, "on")), (sid, Check("sizing", True, "1 contract"))], later
        )
        trail = signals_db.decisions(cur, sid)
    conn.close()
    assert [(d.check_name, d.passed, d.detail, d.inputs, d.decided_at) for d in kept] == [
        ("market_open", True, "open", {"x": 1}, AT),
        ("kill_switch", True, "off", {"x": 1}, AT),
    ]
    assert [(d.check_name, d.passed, d.detail, d.decided_at) for d in trail] == [
        ("market_open", True, "open", AT),
        ("kill_switch", False, "on", later),
        ("sizing", True, "1 contract", later),
    ]
