"""Alpaca's Trading API v2 as an `OrderBroker` (paper `https://paper-api.alpaca.markets`, live
`https://api.alpaca.markets`; the same paths, separate keys).

- Auth: the `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY` headers.
- Orders are JSON: `symbol` (OCC, unpadded), `qty` (whole contracts, as a string), `side` buy/sell,
  `type` limit, `time_in_force` day, `limit_price`, `client_order_id` (our order id) and `position_intent`
  (buy_to_open, sell_to_close).
- `GET /v2/orders:by_client_order_id` finds an order by our id; a 404 there means it does not exist.
- A replace (`PATCH /v2/orders/{id}`) makes a new order with a new id; the old one becomes `replaced`.
- Money fields come back as strings; quantities too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from optionflow.brokers.http_errors import translate
from optionflow.brokers.ports import (
    Account,
    BrokerError,
    BrokerOrder,
    BrokerOrderStatus,
    BrokerPosition,
    BrokerRejected,
    OrderRequest,
)
from optionflow.http_json import HttpError, JsonClient, Timeouts

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"
NAME = "alpaca"
DEFAULT_TIMEOUTS = Timeouts()

_STATUS = {
    "filled": BrokerOrderStatus.FILLED,
    "canceled": BrokerOrderStatus.CANCELLED,
    "expired": BrokerOrderStatus.EXPIRED,
    "rejected": BrokerOrderStatus.REJECTED,
    "replaced": BrokerOrderStatus.REPLACED,
    # new, accepted, pending_new, partially_filled, pending_cancel, pending_replace, done_for_day, held,
    # calculated, stopped, suspended, accepted_for_bidding, pending_review: still the broker's to finish
}
_SIDES = {"BUY_TO_OPEN": ("buy", "buy_to_open"), "SELL_TO_CLOSE": ("sell", "sell_to_close")}
# 403: buying power or approval refused; 422: the order is invalid (bad symbol, price, quantity ...)
_REJECTIONS = frozenset({403, 422})


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _int(value: Any) -> int:
    return int(Decimal(str(value))) if value not in (None, "") else 0


def parse_order(body: Any) -> BrokerOrder:
    """An Alpaca order object as a BrokerOrder; BrokerError when it is not one."""
    if not isinstance(body, dict) or not body.get("id") or not body.get("status"):
        raise BrokerError(NAME, "the order answer has no id or status")
    status = _STATUS.get(str(body["status"]), BrokerOrderStatus.OPEN)
    reason = None
    if status is BrokerOrderStatus.REJECTED:
        reason = str(body.get("reject_reason") or body.get("message") or "rejected by Alpaca")
    return BrokerOrder(
        broker_id=str(body["id"]),
        client_id=body.get("client_order_id"),
        status=status,
        option_symbol=body.get("symbol"),
        quantity=_int(body.get("qty")),
        filled_quantity=_int(body.get("filled_qty")),
        avg_fill_price=_decimal(body.get("filled_avg_price")),
        limit_price=_decimal(body.get("limit_price")),
        reject_reason=reason,
        replaced_by=body.get("replaced_by"),
    )


class AlpacaBroker:
    name = NAME

    def __init__(
        self, key_id: str, secret_key: str, *, base_url: str, timeouts: Timeouts = DEFAULT_TIMEOUTS
    ) -> None:
        self._client = JsonClient(
            NAME,
            base_url,
            {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret_key},
            timeouts=timeouts,
        )

    def __repr__(self) -> str:  # the client's headers hold the keys: never show them
        return f"AlpacaBroker({self._client.base_url!r})"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self._client.request(method, path, **kwargs)
        except HttpError as exc:
            raise translate(exc, NAME, rejections=_REJECTIONS if method != "GET" else frozenset()) from None

    def submit(self, order: OrderRequest) -> BrokerOrder:
        side, intent = _SIDES[order.side]
        body = {
            "symbol": order.option_symbol,
            "qty": str(order.quantity),
            "side": side,
            "type": "limit",
            "time_in_force": order.time_in_force.lower(),
            "limit_price": str(order.limit_price),
            "client_order_id": order.client_id,
            "position_intent": intent,
        }
        try:
            return parse_order(self._call("POST", "/v2/orders", json_body=body))
        except BrokerRejected as exc:
            # our client id is already placed (an earlier submit whose answer was lost): that order is ours
            if exc.status == 422 and "client_order_id" in str(exc):
                found = self.find(order.client_id)
                if found is not None:
                    return found
            raise

    def get(self, broker_id: str) -> BrokerOrder:
        return parse_order(self._call("GET", f"/v2/orders/{broker_id}"))

    def find(self, client_id: str) -> BrokerOrder | None:
        try:
            body = self._client.request(
                "GET", "/v2/orders:by_client_order_id", params={"client_order_id": client_id}
            )
        except HttpError as exc:
            if exc.status == 404:
                return None
            raise translate(exc, NAME) from None
        return parse_order(body)

    def cancel(self, broker_id: str) -> None:
        try:
            self._client.request("DELETE", f"/v2/orders/{broker_id}")
        except HttpError as exc:
            if exc.status == 422:  # no longer cancelable: it filled or ended; `get` says which
                return
            raise translate(exc, NAME) from None

    def replace(self, current: BrokerOrder, client_id: str, limit_price: Decimal) -> BrokerOrder:
        body = {"limit_price": str(limit_price), "client_order_id": client_id}
        return parse_order(self._call("PATCH", f"/v2/orders/{current.broker_id}", json_body=body))

    def orders(self) -> list[BrokerOrder]:
        body = self._call("GET", "/v2/orders", params={"status": "all", "limit": 500, "direction": "desc"})
        if not isinstance(body, list):
            raise BrokerError(NAME, "the orders answer is not a list")
        return [parse_order(o) for o in body]

    def positions(self) -> list[BrokerPosition]:
        body = self._call("GET", "/v2/positions")
        if not isinstance(body, list):
            raise BrokerError(NAME, "the positions answer is not a list")
        return [
            BrokerPosition(
                symbol=str(p["symbol"]),
                quantity=_int(p.get("qty")),
                avg_price=_decimal(p.get("avg_entry_price")),
                is_option=p.get("asset_class") == "us_option",
            )
            for p in body
        ]

    def account(self) -> Account:
        body = self._call("GET", "/v2/account")
        if not isinstance(body, dict) or "status" not in body:
            raise BrokerError(NAME, "the account answer has no status")
        blocked = bool(body.get("trading_blocked") or body.get("account_blocked"))
        return Account(
            account_id=str(body.get("account_number") or body.get("id") or ""),
            active=body["status"] == "ACTIVE" and not blocked,
            options_level=_int(body.get("options_trading_level", body.get("options_approved_level"))),
            buying_power=_decimal(body.get("options_buying_power", body.get("buying_power"))) or Decimal(0),
            status=str(body["status"]),
        )
