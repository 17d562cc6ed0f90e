"""The Alpaca and Tradier adapters against the brokers' documented answers, replayed by a loopback server:
what each sends (paths, auth, field names, OCC symbol, client id), and what each answer means."""

from __future__ import annotations

from decimal import Decimal

import pytest
from optionflow.brokers.alpaca import AlpacaBroker
from optionflow.brokers.ports import BrokerError, BrokerOrderStatus, BrokerRejected, OrderRequest
from optionflow.brokers.tradier import TradierBroker
from optionflow.http_json import Timeouts

from tests.http_sink import Reply, ScriptedServer, recorded

CLIENT_ID = "eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4"
ORDER = OrderRequest(CLIENT_ID, "SPY", "SPY261218C00500000", "BUY_TO_OPEN", 2, Decimal("2.05"))
TRADIER_ORDERS = "/v1/accounts/VA000001/orders"


@pytest.fixture
def server():
    with ScriptedServer() as running:
        yield running


def alpaca(server: ScriptedServer, **kwargs) -> AlpacaBroker:
    return AlpacaBroker("key-id", "s3cret", base_url=server.url, **kwargs)


def tradier(server: ScriptedServer, **kwargs) -> TradierBroker:
    return TradierBroker("t0ken", "VA000001", base_url=server.url, **kwargs)


# ------------------------------------------------------------------ Alpaca


def test_alpaca_submit_sends_a_day_limit_order_with_our_id_as_client_order_id(server):
    server.script("POST", "/v2/orders", Reply(200, recorded("alpaca", "order_accepted")))
    placed = alpaca(server).submit(ORDER)
    [call] = server.calls("POST", "/v2/orders")
    assert call.headers["apca-api-key-id"] == "key-id" and call.headers["apca-api-secret-key"] == "s3cret"
    assert call.json() == {
        "symbol": "SPY261218C00500000",
        "qty": "2",
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": "2.05",
        "client_order_id": CLIENT_ID,
        "position_intent": "buy_to_open",
    }
    assert placed.broker_id == "61e69015-8549-4bfd-b9c3-01e75843f47d"
    assert placed.client_id == CLIENT_ID and placed.status is BrokerOrderStatus.OPEN and placed.live


def test_alpaca_partial_and_full_fills_report_quantity_and_average_price(server):
    server.script(
        "GET",
        "/v2/orders/61e69015-8549-4bfd-b9c3-01e75843f47d",
        Reply(200, recorded("alpaca", "order_partially_filled")),
        Reply(200, recorded("alpaca", "order_filled")),
    )
    broker = alpaca(server)
    partial = broker.get("61e69015-8549-4bfd-b9c3-01e75843f47d")
    assert (partial.status, partial.filled_quantity, partial.avg_fill_price) == (
        BrokerOrderStatus.OPEN,
        1,
        Decimal("2.04"),
    )
    filled = broker.get("61e69015-8549-4bfd-b9c3-01e75843f47d")
    assert (filled.status, filled.filled_quantity, filled.avg_fill_price) == (
        BrokerOrderStatus.FILLED,
        2,
        Decimal("2.035"),
    )


def test_alpaca_refusing_an_order_is_a_final_rejection_with_its_reason(server):
    server.script("POST", "/v2/orders", Reply(403, recorded("alpaca", "error_forbidden")))
    with pytest.raises(BrokerRejected, match="insufficient options buying power"):
        alpaca(server).submit(ORDER)
    server.script("GET", "/v2/orders/x", Reply(200, recorded("alpaca", "order_rejected")))
    assert alpaca(server).get("x").status is BrokerOrderStatus.REJECTED


def test_alpaca_a_duplicate_client_id_finds_the_order_already_placed(server):
    server.script("POST", "/v2/orders", Reply(422, recorded("alpaca", "error_duplicate_client_id")))
    server.script("GET", "/v2/orders:by_client_order_id", Reply(200, recorded("alpaca", "order_accepted")))
    assert alpaca(server).submit(ORDER).broker_id == "61e69015-8549-4bfd-b9c3-01e75843f47d"
    assert server.calls("GET", "/v2/orders:by_client_order_id")[0].query == {"client_order_id": [CLIENT_ID]}


def test_alpaca_find_returns_none_on_404_so_the_order_may_be_placed(server):
    server.script("GET", "/v2/orders:by_client_order_id", Reply(404, recorded("alpaca", "error_not_found")))
    assert alpaca(server).find(CLIENT_ID) is None


def test_alpaca_401_is_unauthorized_and_not_a_rejection(server):
    server.script("POST", "/v2/orders", Reply(401, recorded("alpaca", "error_unauthorized")))
    with pytest.raises(BrokerError) as caught:
        alpaca(server).submit(ORDER)
    assert caught.value.unauthorized and not isinstance(caught.value, BrokerRejected)
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(alpaca(server))


def test_alpaca_429_with_retry_after_is_retried_then_placed_once(server):
    server.script(
        "POST",
        "/v2/orders",
        Reply(429, recorded("alpaca", "error_rate_limited"), {"Retry-After": "0"}),
        Reply(200, recorded("alpaca", "order_accepted")),
    )
    assert alpaca(server).submit(ORDER).live
    assert len(server.calls("POST", "/v2/orders")) == 2


def test_alpaca_5xx_on_submit_is_indefinite_and_never_retried(server):
    server.script("POST", "/v2/orders", Reply(503, {"message": "unavailable"}))
    with pytest.raises(BrokerError) as caught:
        alpaca(server).submit(ORDER)
    assert caught.value.definite is False
    assert len(server.calls("POST", "/v2/orders")) == 1


def test_alpaca_a_timeout_on_submit_is_indefinite(server):
    server.script("POST", "/v2/orders", Reply(200, recorded("alpaca", "order_accepted"), delay=1.0))
    with pytest.raises(BrokerError) as caught:
        alpaca(server, timeouts=Timeouts(connect=0.5, read=0.2)).submit(ORDER)
    assert caught.value.definite is False and caught.value.status is None


def test_alpaca_a_malformed_body_is_an_error_not_an_order(server):
    server.script("GET", "/v2/orders/x", Reply(200, b"<html>maintenance</html>"))
    with pytest.raises(BrokerError):
        alpaca(server).get("x")
    server.script("GET", "/v2/orders/y", Reply(200, {"unexpected": True}))
    with pytest.raises(BrokerError, match="no id or status"):
        alpaca(server).get("y")


def test_alpaca_account_positions_and_replace(server):
    server.script("GET", "/v2/account", Reply(200, recorded("alpaca", "account")))
    server.script("GET", "/v2/positions", Reply(200, recorded("alpaca", "positions")))
    server.script(
        "PATCH",
        "/v2/orders/61e69015-8549-4bfd-b9c3-01e75843f47d",
        Reply(200, recorded("alpaca", "order_accepted") | {"id": "new-id", "limit_price": "2.10"}),
    )
    broker = alpaca(server)
    account = broker.account()
    assert account.active and account.options_level == 3 and account.buying_power == Decimal("100000")
    option, shares = broker.positions()
    assert (option.symbol, option.quantity, option.is_option) == ("SPY261218C00500000", 2, True)
    assert (shares.symbol, shares.is_option) == ("SPY", False)
    replaced = broker.replace(
        _open("61e69015-8549-4bfd-b9c3-01e75843f47d"), f"{CLIENT_ID}-r1", Decimal("2.10")
    )
    assert replaced.broker_id == "new-id" and replaced.limit_price == Decimal("2.10")
    patch = server.calls("PATCH", "/v2/orders/61e69015-8549-4bfd-b9c3-01e75843f47d")[0]
    assert patch.json() == {"limit_price": "2.10", "client_order_id": f"{CLIENT_ID}-r1"}


def _open(broker_id: str):
    from optionflow.brokers.ports import BrokerOrder

    return BrokerOrder(broker_id, CLIENT_ID, BrokerOrderStatus.OPEN, "SPY261218C00500000", 2, 0, None, None)


# ------------------------------------------------------------------ Tradier


def test_tradier_submit_sends_a_form_encoded_option_order_tagged_with_our_id(server):
    server.script("POST", TRADIER_ORDERS, Reply(200, recorded("tradier", "order_placed")))
    placed = tradier(server).submit(ORDER)
    [call] = server.calls("POST", TRADIER_ORDERS)
    assert call.headers["authorization"] == "Bearer t0ken"
    assert call.headers["accept"] == "application/json"
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.form() == {
        "class": ["option"],
        "symbol": ["SPY"],
        "option_symbol": ["SPY261218C00500000"],
        "side": ["buy_to_open"],
        "quantity": ["2"],
        "type": ["limit"],
        "duration": ["day"],
        "price": ["2.05"],
        "tag": [CLIENT_ID],
    }
    assert (placed.broker_id, placed.client_id, placed.live) == ("228175", CLIENT_ID, True)


def test_tradier_partial_fill_fill_and_reject_as_get_reports_them(server):
    path = f"{TRADIER_ORDERS}/228175"
    server.script(
        "GET",
        path,
        Reply(200, recorded("tradier", "order_partially_filled")),
        Reply(200, recorded("tradier", "order_filled")),
        Reply(200, recorded("tradier", "order_rejected")),
    )
    broker = tradier(server)
    partial = broker.get("228175")
    assert (partial.live, partial.filled_quantity, partial.avg_fill_price) == (True, 1, Decimal("2.04"))
    filled = broker.get("228175")
    assert (filled.status, filled.filled_quantity) == (BrokerOrderStatus.FILLED, 2)
    rejected = broker.get("228175")
    assert rejected.status is BrokerOrderStatus.REJECTED
    assert rejected.reject_reason == "Insufficient buying power for this order"
    assert server.calls("GET", path)[0].query == {"includeTags": ["true"]}


def test_tradier_a_400_is_a_rejection_with_the_brokers_errors(server):
    server.script("POST", TRADIER_ORDERS, Reply(400, recorded("tradier", "error_400")))
    with pytest.raises(BrokerRejected, match="Invalid option symbol"):
        tradier(server).submit(ORDER)


def test_tradier_401_429_5xx_timeout_and_malformed(server):
    server.script("GET", "/v1/user/profile", Reply(401, recorded("tradier", "error_401")))
    with pytest.raises(BrokerError) as caught:
        tradier(server).account()
    assert caught.value.unauthorized
    server.script(
        "POST",
        TRADIER_ORDERS,
        Reply(429, {}, {"Retry-After": "0"}),
        Reply(502, {}),
    )
    with pytest.raises(BrokerError) as caught:
        tradier(server).submit(ORDER)
    assert caught.value.definite is False
    assert len(server.calls("POST", TRADIER_ORDERS)) == 2  # once after the 429; never after the 502
    server.script("GET", f"{TRADIER_ORDERS}/9", Reply(200, {}, delay=1.0))
    with pytest.raises(BrokerError) as caught:
        tradier(server, timeouts=Timeouts(connect=0.5, read=0.2)).get("9")
    assert caught.value.status is None
    server.script("GET", "/v1/accounts/VA000001/positions", Reply(200, {"positions": ["nonsense"]}))
    with pytest.raises(BrokerError, match="malformed"):
        tradier(server).positions()


def test_tradier_find_matches_the_tag_among_the_accounts_orders_in_every_list_shape(server):
    server.script(
        "GET",
        TRADIER_ORDERS,
        Reply(200, recorded("tradier", "orders")),
        Reply(200, recorded("tradier", "orders_one")),
        Reply(200, recorded("tradier", "orders_none")),
    )
    broker = tradier(server)
    assert broker.find(CLIENT_ID).broker_id == "228175"  # type: ignore[union-attr]
    assert broker.find(CLIENT_ID).broker_id == "228175"  # type: ignore[union-attr]
    assert broker.find(CLIENT_ID) is None


def test_tradier_account_positions_and_modify(server):
    server.script("GET", "/v1/user/profile", Reply(200, recorded("tradier", "profile")))
    server.script("GET", "/v1/accounts/VA000001/balances", Reply(200, recorded("tradier", "balances")))
    server.script(
        "GET",
        "/v1/accounts/VA000001/positions",
        Reply(200, recorded("tradier", "positions")),
        Reply(200, recorded("tradier", "positions_none")),
    )
    server.script("PUT", f"{TRADIER_ORDERS}/228175", Reply(200, recorded("tradier", "order_placed")))
    broker = tradier(server)
    account = broker.account()
    assert (account.active, account.options_level, account.buying_power) == (True, 2, Decimal("6363.86"))
    option, shares = broker.positions()
    assert (option.symbol, option.quantity, option.avg_price, option.is_option) == (
        "SPY261218C00500000",
        2,
        Decimal("2.035"),
        True,
    )
    assert not shares.is_option
    assert broker.positions() == []
    modified = broker.replace(_open("228175"), f"{CLIENT_ID}-r1", Decimal("2.10"))
    assert (modified.broker_id, modified.client_id, modified.limit_price) == (
        "228175",
        CLIENT_ID,
        Decimal("2.10"),
    )
    assert server.calls("PUT", f"{TRADIER_ORDERS}/228175")[0].form() == {
        "type": ["limit"],
        "duration": ["day"],
        "price": ["2.10"],
    }
