"""The local stack as a new user meets it: embedded Postgres, HTTP, workers on the fast path."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api_events import token
from tests.conftest import WEBHOOK_SECRET
from tests.e2e.local_stack_support import running_local_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_local_stack("optionflow-data") as running:
        yield running


def http(
    stack: Any,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    url = urlsplit(stack.url)
    conn = HTTPConnection(url.hostname, url.port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, json.loads(payload) if payload else None


def wait_for(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_embedded_postgres_serves_a_curl_alert_and_a_repeat_is_not_stored_twice(stack):
    alert = {
        "ticker": "SPY",
        "action": "BUY",
        "direction": "CALL",
        "timeframe": "5",
        "secret": WEBHOOK_SECRET,
    }
    status, first = http(stack, "POST", "/webhook", alert)
    assert status == 202
    status, again = http(stack, "POST", "/webhook", alert)
    assert status == 200
    assert again["signal_id"] == first["signal_id"]
    auth = {"Authorization": f"Bearer {token('read')}"}
    status, page = http(stack, "GET", "/signals", headers=auth)
    assert status == 200
    assert [item["id"] for item in page["items"]] == [first["signal_id"]]


def test_alert_becomes_a_filled_order_and_an_open_position_on_the_fast_path(stack):
    alert = {
        "ticker": "QQQ",
        "action": "BUY",
        "direction": "PUT",
        "secret": WEBHOOK_SECRET,
        "alert_id": "fast-1",
    }
    status, body = http(stack, "POST", "/webhook", alert)
    assert status == 202
    auth = {"Authorization": f"Bearer {token('read')}"}

    def open_position() -> Any:
        _, page = http(stack, "GET", "/positions?ticker=QQQ&status=OPEN", headers=auth)
        return page["items"]

    [position] = wait_for(open_position)
    assert position["signal_id"] == body["signal_id"]
    _, orders = http(stack, "GET", "/orders?ticker=QQQ", headers=auth)
    assert [o["status"] for o in orders["items"]] == ["FILLED"]
    status, health = http(stack, "GET", "/health")
    assert status == 200
    assert {"signal_processor", "order_creator", "paper_executor"} <= set(health["workers"])
