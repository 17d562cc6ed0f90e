"""The stored signal (migration 015): ids ordered by arrival, and dedupe keys unique exactly as written."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from optionflow.db import signals
from optionflow.logic.intake import parse_alert

from tests.api_events import call, request
from tests.conftest import WEBHOOK_SECRET

ALERT = {"ticker": "SPY", "action": "BUY", "direction": "CALL", "timeframe": "5", "secret": WEBHOOK_SECRET}
DIGEST = "0123456789abcdef0123456789abcdef01234567"


def store(db: Any, key: str, offset_key: str | None = None) -> tuple[uuid.UUID, bool]:
    payload = {"ticker": "SPY", "action": "BUY", "direction": "CALL"}
    return signals.insert_if_new(
        db,
        alert=parse_alert(payload),
        dedupe_key=key,
        raw_payload=payload,
        body_sha256="h",
        received_at=datetime.now(UTC),
        offset_key=offset_key,
    )


def test_signal_ids_are_version_7_uuids_in_arrival_order(db):
    ids = []
    for n in range(5):
        status, body = call(request("POST", "/webhook", body={**ALERT, "alert_id": f"order-{n}"}))
        assert status == 202
        ids.append(uuid.UUID(body["signal_id"]))
        time.sleep(0.002)  # the order is by millisecond; within one the random bits decide
    assert [i.version for i in ids] == [7] * 5
    assert ids == sorted(ids)
    db.execute("SELECT id FROM signals ORDER BY seq")
    assert [row["id"] for row in db.fetchall()] == [str(i) for i in ids]
    millis = int.from_bytes(ids[0].bytes[:6], "big")
    assert abs(millis / 1000 - time.time()) < 60  # the first 48 bits are the Unix time in milliseconds


def test_a_key_and_its_indexed_form_are_two_keys(db):
    # the index holds a body key with its first 43 characters moved to the end; a key written that way is
    # still another key
    body_key = f"b:{DIGEST}:29420000"
    moved = f"29420000b:{DIGEST}:"
    first, created = store(db, body_key)
    second, also_created = store(db, moved)
    assert created and also_created and first != second
    assert store(db, body_key) == (first, False)
    assert store(db, moved) == (second, False)


def test_keys_of_43_characters_or_fewer_are_unique_as_written(db):
    short = "id:" + "x" * 40  # 43 characters: indexed as written
    longer = short + "y"
    first, created = store(db, short)
    second, also_created = store(db, longer)
    assert created and also_created and first != second
    assert store(db, "id:" + "x" * 40) == (first, False)


def test_an_offset_key_finds_the_signal_that_holds_it(db):
    first, created = store(db, f"b:{DIGEST}:100", f"o:{DIGEST}:100")
    assert created
    # another bucket on the first grid, the same bucket on the offset grid: the same delivery's retry
    assert store(db, f"b:{DIGEST}:101", f"o:{DIGEST}:100") == (first, False)
    db.execute("SELECT count(*) AS n FROM signals")
    assert db.fetchone()["n"] == 1
