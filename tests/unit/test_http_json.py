"""The adapters' HTTP: timeouts, bounded retries that honour Retry-After, and errors that name the call."""

from __future__ import annotations

import time

import pytest
from optionflow.http_json import HttpError, JsonClient, Timeouts

from tests.http_sink import Reply, ScriptedServer


@pytest.fixture
def server():
    with ScriptedServer() as running:
        yield running


def client(server: ScriptedServer, **kwargs) -> JsonClient:
    return JsonClient("acme", server.url, {"Authorization": "Bearer s3cret"}, backoff_factor=0.01, **kwargs)


def test_a_read_is_retried_after_429_with_retry_after_and_after_a_5xx(server):
    server.script(
        "GET",
        "/quotes",
        Reply(429, {"message": "slow down"}, {"Retry-After": "0"}),
        Reply(503, {"message": "busy"}),
        Reply(200, {"quote": 1}),
    )
    assert client(server).request("GET", "/quotes", params={"symbols": "SPY"}) == {"quote": 1}
    calls = server.calls("GET", "/quotes")
    assert len(calls) == 3
    assert calls[0].query == {"symbols": ["SPY"]}
    assert calls[0].headers["authorization"] == "Bearer s3cret"


def test_retries_are_bounded_and_the_error_names_provider_method_path_and_status(server):
    server.script("GET", "/quotes", Reply(502, {"message": "bad gateway"}))
    with pytest.raises(HttpError) as caught:
        client(server, retries=2).request("GET", "/quotes", params={"apikey": "k3y"})
    assert caught.value.status == 502
    assert str(caught.value) == "acme GET /quotes: HTTP 502: bad gateway"
    assert "k3y" not in str(caught.value) and "s3cret" not in repr(client(server))
    assert len(server.calls("GET", "/quotes")) == 3


def test_a_retry_after_longer_than_the_cap_fails_at_once_instead_of_stalling(server):
    server.script("GET", "/quotes", Reply(429, {"message": "slow down"}, {"Retry-After": "60"}))
    started = time.monotonic()
    with pytest.raises(HttpError) as caught:
        client(server).request("GET", "/quotes")
    assert time.monotonic() - started < 2
    assert caught.value.status == 429 and caught.value.retry_after == 60
    assert "wait 60 s" in str(caught.value)


def test_an_order_post_is_retried_on_429_but_never_after_a_5xx_where_the_broker_may_have_acted(server):
    server.script("POST", "/orders", Reply(429, {}, {"Retry-After": "0"}), Reply(200, {"id": "o-1"}))
    assert client(server).request("POST", "/orders", json_body={"qty": 1}) == {"id": "o-1"}
    assert len(server.calls("POST", "/orders")) == 2
    assert server.calls("POST", "/orders")[0].json() == {"qty": 1}

    server.script("POST", "/cancel", Reply(500, {"message": "oops"}))
    with pytest.raises(HttpError) as caught:
        client(server).request("POST", "/cancel", form={"id": "o-1"})
    assert caught.value.status == 500
    assert len(server.calls("POST", "/cancel")) == 1
    assert server.calls("POST", "/cancel")[0].form() == {"id": ["o-1"]}


def test_a_hanging_provider_times_out_with_no_status(server):
    server.script("POST", "/orders", Reply(200, {"id": "late"}, delay=1.0))
    started = time.monotonic()
    with pytest.raises(HttpError) as caught:
        client(server, timeouts=Timeouts(connect=0.5, read=0.2)).request("POST", "/orders", json_body={})
    assert time.monotonic() - started < 0.9
    assert caught.value.no_answer and caught.value.status is None
    assert "no answer" in str(caught.value)


def test_a_success_that_is_not_json_is_an_error_not_a_none(server):
    server.script("GET", "/chain", Reply(200, b"<html>maintenance</html>"))
    with pytest.raises(HttpError, match="not JSON"):
        client(server).request("GET", "/chain")


def test_a_401_is_reported_as_unauthorized_with_the_providers_message(server):
    server.script("GET", "/account", Reply(401, {"message": "invalid key"}))
    with pytest.raises(HttpError) as caught:
        client(server).request("GET", "/account")
    assert caught.value.unauthorized
    assert "invalid key" in str(caught.value)
    assert len(server.calls("GET", "/account")) == 1
