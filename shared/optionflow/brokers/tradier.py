"""Tradier's brokerage API as an `OrderBroker` (sandbox `https://sandbox.tradier.com`, live
`https://api.tradier.com`; the same paths, separate tokens).

- Auth: `Authorization: Bearer <token>`; `Accept: application/json` (Tradier answers XML otherwise).
- Orders are form-encoded: `class=option`, `symbol` (the underlying), `option_symbol` (OCC, unpadded),
  `side` buy_to_open/sell_to_close, `quantity`, `type=limit`, `duration=day`, `price`, and `tag` (our order
  id: letters, digits and dashes, which a UUID is).
- There is no lookup by tag: `find` reads the account's orders (`includeTags=true`) and matches the tag.
- A modify (`PUT .../orders/{id}`) changes the price in place: the id and the tag stay.
- A list of one comes back as an object, and an empty list as the string "null": both are normalised here.
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
    OrderRequest,
)
from optionflow.http_json import HttpError, JsonClient, Timeouts
from optionflow.pricing.occ import parse_occ_symbol

SANDBOX_URL = "https://sandbox.tradier.com"
LIVE_URL = "https://api.tradier.com"
NAME = "tradier"
DEFAULT_TIMEOUTS = Timeouts()

_STATUS = {
    "filled": BrokerOrderStatus.FILLED,
    "canceled": BrokerOrderStatus.CANCELLED,
    "expired": BrokerOrderStatus.EXPIRED,
    "rejected": BrokerOrderStatus.REJECTED,
    "error": BrokerOrderStatus.REJECTED,
    # open, partially_filled, pending, calculated, accepted_for_bidding, held: still working
}
_SIDES = {"BUY_TO_OPEN": "buy_to_open", "SELL_TO_CLOSE": "sell_to_close"}
_REJECTIONS = frozenset({400, 403, 422})  # Tradier refuses a bad order with 400 and {"errors": ...}


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _int(value: Any) -> int:
    return int(Decimal(str(value))) if value not in (None, "") else 0


def _items(container: Any, key: str) -> list[dict[str, Any]]:
    """Tradier's list shapes: {"orders": {"order": [...]}}, {"orders": {"order": {...}}} or
    {"orders": "null"}."""
    if not isinstance(container, dict) or container.get(key) in (None, "null"):
        return []
    inner = container[key]
    if not isinstance(inner, dict):
        raise BrokerError(NAME, f"the {key} answer is malformed")
    found = inner.get(key[:-1])
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def parse_order(body: Any) -> BrokerOrder:
    if not isinstance(body, dict) or body.get("id") in (None, "") or not body.get("status"):
        raise BrokerError(NAME, "the order answer has no id or status")
    status = _STATUS.get(str(body["status"]), BrokerOrderStatus.OPEN)
    reason = None
    if status is BrokerOrderStatus.REJECTED:
        reason = str(body.get("reason_description") or "rejected by Tradier")
    return BrokerOrder(
        broker_id=str(body["id"]),
        client_id=body.get("tag"),
        status=status,
        option_symbol=body.get("option_symbol") or body.get("symbol"),
        quantity=_int(body.get("quantity")),
        filled_quantity=_int(body.get("exec_quantity")),
        avg_fill_price=_decimal(body.get("avg_fill_price")) if _int(body.get("exec_quantity")) else None,
        limit_price=_decimal(body.get("price")),
        reject_reason=reason,
    )


class TradierBroker:
    name = NAME

    def __init__(
        self, token: str, account_id: str, *, base_url: str, timeouts: Timeouts = DEFAULT_TIMEOUTS
    ) -> None:
        self._client = JsonClient(NAME, base_url, {"Authorization": f"Bearer {token}"}, timeouts=timeouts)
        self._account = account_id

    def __repr__(self) -> str:  # the client's headers hold the token: never show it
        return f"TradierBroker({self._client.base_url!r})"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self._client.request(method, path, **kwargs)
        except HttpError as exc:
            raise translate(exc, NAME, rejections=_REJECTIONS if method != "GET" else frozenset()) from None

    @property
    def _orders_path(self) -> str:
        return f"/v1/accounts/{self._account}/orders"

    def _acknowledged(self, body: Any) -> str:
        order = body.get("order") if isinstance(body, dict) else None
        if isinstance(body, dict) and body.get("errors"):
            raise BrokerError(NAME, str(body["errors"]))
        if not isinstance(order, dict) or order.get("id") in (None, ""):
            raise BrokerError(NAME, "the order answer has no id", definite=False)
        return str(order["id"])

    def submit(self, order: OrderRequest) -> BrokerOrder:
        form = {
            "class": "option",
            "symbol": order.underlying or parse_occ_symbol(order.option_symbol).root,
            "option_symbol": order.option_symbol,
            "side": _SIDES[order.side],
            "quantity": str(order.quantity),
            "type": "limit",
            "duration": order.time_in_force.lower(),
            "price": str(order.limit_price),
            "tag": order.client_id,
        }
        broker_id = self._acknowledged(self._call("POST", self._orders_path, form=form))
        # Tradier answers {"order": {"id", "status": "ok"}}: the order as placed, until `get` says more
        return BrokerOrder(
            broker_id=broker_id,
            client_id=order.client_id,
            status=BrokerOrderStatus.OPEN,
            option_symbol=order.option_symbol,
            quantity=order.quantity,
            filled_quantity=0,
            avg_fill_price=None,
            limit_price=order.limit_price,
        )

    def get(self, broker_id: str) -> BrokerOrder:
        body = self._call("GET", f"{self._orders_path}/{broker_id}", params={"includeTags": "true"})
        return parse_order(body.get("order") if isinstance(body, dict) else None)

    def find(self, client_id: str) -> BrokerOrder | None:
        matches = [o for o in self.orders() if o.client_id == client_id]
        return matches[-1] if matches else None

    def cancel(self, broker_id: str) -> None:
        try:
            self._client.request("DELETE", f"{self._orders_path}/{broker_id}")
        except HttpError as exc:
            if exc.status == 400:  # already filled, cancelled or expired: `get` says which
                return
            raise translate(exc, NAME) from None

    def replace(self, current: BrokerOrder, client_id: str, limit_price: Decimal) -> BrokerOrder:
        form = {"type": "limit", "duration": "day", "price": str(limit_price)}
        self._acknowledged(self._call("PUT", f"{self._orders_path}/{current.broker_id}", form=form))
        return BrokerOrder(
            broker_id=current.broker_id,
            client_id=current.client_id,
            status=current.status,
            option_symbol=current.option_symbol,
            quantity=current.quantity,
            filled_quantity=current.filled_quantity,
            avg_fill_price=current.avg_fill_price,
            limit_price=limit_price,
        )

    def orders(self) -> list[BrokerOrder]:
        body = self._call("GET", self._orders_path, params={"includeTags": "true"})
        return [parse_order(o) for o in _items(body, "orders")]

    def positions(self) -> list[BrokerPosition]:
        body = self._call("GET", f"/v1/accounts/{self._account}/positions")
        found = []
        for p in _items(body, "positions"):
            quantity = _int(p.get("quantity"))
            symbol = str(p["symbol"])
            is_option = len(symbol) > 15 and symbol[-9] in "CP"
            cost = _decimal(p.get("cost_basis"))
            per_share = None
            if cost is not None and quantity:
                per_share = cost / abs(quantity) / (100 if is_option else 1)
            found.append(BrokerPosition(symbol, quantity, per_share, is_option))
        return found

    def account(self) -> Account:
        profile = self._call("GET", "/v1/user/profile")
        inner = profile.get("profile") if isinstance(profile, dict) else None
        if not isinstance(inner, dict):
            raise BrokerError(NAME, "the profile answer is malformed")
        listed = inner.get("account")
        accounts = listed if isinstance(listed, list) else [listed] if isinstance(listed, dict) else []
        mine = [a for a in accounts if str(a.get("account_number")) == self._account]
        if not mine:
            raise BrokerError(NAME, f"the token has no account {self._account}; check TRADIER_ACCOUNT_ID")
        account = mine[0]
        balances = self._call("GET", f"/v1/accounts/{self._account}/balances")
        bal = balances.get("balances") if isinstance(balances, dict) else None
        if not isinstance(bal, dict):
            raise BrokerError(NAME, "the balances answer is malformed")
        power = None
        for section in ("margin", "pdt", "cash"):
            part = bal.get(section)
            if isinstance(part, dict):
                power = _decimal(part.get("option_buying_power", part.get("cash_available")))
                if power is not None:
                    break
        return Account(
            account_id=self._account,
            active=str(account.get("status")) == "active",
            options_level=_int(account.get("option_level")),
            buying_power=power if power is not None else _decimal(bal.get("total_cash")) or Decimal(0),
            status=str(account.get("status")),
        )
