"""Hypothesis writes hostile JSON by hand (deep, huge, non-finite, lone surrogates, odd unicode) into an alert
and into an admin body: no answer is a 5xx, and whatever is accepted reads back equal and still lists."""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.api_events import call, request
from tests.conftest import WEBHOOK_SECRET

ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),  # any scalar value: combining marks, RTL overrides, BOM, U+FFFF
        st.sampled_from("\u202e\u200b\ufeff\uffff\u0301\x7f\u2028\u2029\U0001f4a5"),
    ),
    max_size=12,
)
# JSON text, not Python values: NaN, 1e999, 5,000-digit integers and "\ud800" exist only as text.
HOSTILE_SCALARS = st.one_of(
    st.sampled_from(
        ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "-0", "0.0", "true", "null"]
    ),
    st.sampled_from(['"\\ud800"', '"\\udfff"', '"x\\udbff"', '"\\ud83d\\ude00"', '"\\u0000"', '"\\\\ud800"']),
    st.integers(min_value=1, max_value=6000).map(lambda digits: "9" * digits),
    st.integers(min_value=-(10**50), max_value=10**50).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    ODD_TEXT.map(lambda text: json.dumps(text, ensure_ascii=False)),
    ODD_TEXT.map(json.dumps),
)
KEYS = st.one_of(ODD_TEXT.map(json.dumps), st.sampled_from(['"\\ud800"', '"a\\u0000"', '""', '"ticker"']))
HOSTILE_JSON = st.one_of(
    st.recursive(
        HOSTILE_SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
            st.lists(st.tuples(KEYS, inner), max_size=4).map(
                lambda pairs: "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
            ),
        ),
        max_leaves=12,
    ),
    st.integers(min_value=1, max_value=3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(min_value=1, max_value=1500).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
)


def numbers_as_floats(value: Any) -> Any:
    """jsonb writes a number out in full (1e300 as 301 digits): compare numbers by value."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [numbers_as_floats(item) for item in value]
    return {key: numbers_as_floats(item) for key, item in value.items()}


@given(extra=HOSTILE_JSON)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_json_in_an_alert_gets_no_5xx_and_what_is_stored_reads_back_and_lists(db, extra):
    alert_id = uuid.uuid4().hex
    raw = (
        f'{{"ticker":"SPY","action":"BUY","direction":"CALL","secret":"{WEBHOOK_SECRET}",'
        f'"alert_id":"{alert_id}","extra":{extra}}}'
    )
    status, body = call(request("POST", "/webhook", body=raw))
    assert status in (202, 400, 413, 422), (status, body)
    event(f"webhook {status}")
    if status != 202:
        db.execute("SELECT count(*) AS n FROM signals WHERE alert_id = %s", (alert_id,))
        assert db.fetchone()["n"] == 0
        return
    status, stored = call(request("GET", f"/signals/{body['signal_id']}", scope="read"))
    assert status == 200, stored
    sent = json.loads(raw)["extra"]  # accepted, so Python's own parser reads it too
    assert numbers_as_floats(stored["raw_payload"]["extra"]) == numbers_as_floats(sent)
    status, page = call(request("GET", "/signals?limit=500", scope="read"))
    assert status == 200, page


@given(reason=HOSTILE_JSON)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_json_as_an_admin_reason_gets_no_5xx_and_a_refusal_writes_nothing(db, reason):
    db.execute("SELECT count(*) AS n FROM settings_changes")
    before = db.fetchone()["n"]
    raw = '{"max_open_positions":7,"reason":' + reason + "}"
    status, body = call(request("PATCH", "/risk-limits", body=raw, scope="admin"))
    assert status < 500, (status, body)
    if status >= 400:
        db.execute("SELECT count(*) AS n FROM settings_changes")
        assert db.fetchone()["n"] == before
        assert body["errors"], body
