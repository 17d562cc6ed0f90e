"""Schemathesis against the served OpenAPI document: generated requests never get a 5xx, and requests the
API refuses never write a row."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import schemathesis
from hypothesis import HealthCheck, settings

from tests.api_events import call, token
from tests.contract.openapi_snapshot import deployed_document

schema = schemathesis.openapi.from_dict(deployed_document())
TABLES = (
    "signals",
    "decisions",
    "decision_sets",
    "orders",
    "positions",
    "trades",
    "exit_signals",
    "settings_changes",
    "worker_controls",
)


def row_counts(db: Any) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        db.execute(f"SELECT count(*) AS n FROM {table}")
        counts[table] = int(db.fetchone()["n"])
    return counts


def to_event(case: Any, bearer: str | None) -> dict[str, Any]:
    from optionflow.local.http_bridge import to_event as bridge

    path = case.path
    for name, value in (case.path_parameters or {}).items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    query = urlencode({k: v for k, v in (case.query or {}).items() if v is not None}, doseq=True)
    headers = {k: str(v) for k, v in (case.headers or {}).items()}
    if bearer:
        headers["authorization"] = f"Bearer {bearer}"
    if case.body is None or type(case.body).__name__ == "NotSet":
        body = b""
    elif isinstance(case.body, bytes):  # schemathesis also sends raw bodies that are not JSON at all
        body = case.body
    else:
        body = json.dumps(case.body).encode()
    if body:
        headers.setdefault("content-type", case.media_type or "application/json")
    return bridge(case.method.upper(), path + (f"?{query}" if query else ""), headers, body, "127.0.0.1")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_no_5xx_and_refused_ones_write_nothing(case, db, market):
    for bearer in (token("admin"), None):
        before = row_counts(db)
        status, body = call(to_event(case, bearer))
        assert status < 500, (case.method, case.path, status, body)
        if status >= 400:
            assert row_counts(db) == before, (case.method, case.path, status)
