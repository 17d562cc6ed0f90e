"""Small local fakes of Alpaca's and Tradier's documented order endpoints, on a loopback port, for end-to-end
tests through the real workers. One in-memory book per fake (orders and positions) that fills, partially
fills, rejects, errors and times out on command:

    with FakeAlpaca() as alpaca:
        alpaca.next_submits("timeout")          # place the order, then answer too late
        ...
        alpaca.fill(order_id)                   # the market fills it (positions follow)
        alpaca.close_position("SPY261218C...")  # someone closes it by hand at the broker

Behaviours of a submit: "accept" (working, unfilled; the default), "fill" (filled at its limit),
"partial:N" (N contracts filled, the rest working), "reject" (refused with a reason), "timeout" (placed,
answered after `slow_seconds`), "error500" (placed, answered 500), "refuse500" (not placed, answered 500).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TRADIER_ACCOUNT = "VA000001"


@dataclass
class FakeOrder:
    broker_id: str
    client_id: str
    symbol: str  # OCC
    underlying: str
    side: str  # buy_to_open / sell_to_close
    quantity: int
    limit: Decimal
    status: str = "open"  # open, filled, canceled, expired, rejected, replaced
    filled: int = 0
    avg: Decimal | None = None
    reason: str | None = None
    replaced_by: str | None = None
    history: list[Decimal] = field(default_factory=list)  # every limit it had

    @property
    def live(self) -> bool:
        return self.status == "open"


class FakeBrokerServer:
    """The shared book and HTTP plumbing; subclasses map the broker's paths and fields."""

    name = "fake"

    def __init__(self, *, options_level: int = 3, slow_seconds: float = 1.0) -> None:
        self.orders: dict[str, FakeOrder] = {}
        self.positions: dict[str, tuple[int, Decimal]] = {}  # symbol -> (quantity, average price)
        self.behaviours: list[str] = []
        self.options_level = options_level
        self.account_active = True
        self.slow_seconds = slow_seconds
        self.submits = 0
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body, delay = server.handle(
                    self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), raw
                )
                if delay:
                    time.sleep(delay)
                data = b"" if body is None else json.dumps(body, default=str).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeBrokerServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---------------------------------------------------------------- commands
    def next_submits(self, *behaviours: str) -> None:
        with self.lock:
            self.behaviours.extend(behaviours)

    def new_id(self) -> str:
        return str(next(self._ids))

    def fill(self, broker_id: str, quantity: int | None = None, price: Decimal | None = None) -> None:
        """The market fills `quantity` more contracts (all that is left by default) at `price` (its limit)."""
        with self.lock:
            order = self.orders[broker_id]
            assert order.live, f"order {broker_id} is {order.status}"
            more = order.quantity - order.filled if quantity is None else quantity
            at = order.limit if price is None else price
            before = (order.avg or Decimal(0)) * order.filled
            order.filled += more
            order.avg = ((before + at * more) / order.filled).quantize(Decimal("0.0001"))
            if order.filled == order.quantity:
                order.status = "filled"
            held, avg = self.positions.get(order.symbol, (0, Decimal(0)))
            if order.side.startswith("buy"):
                new = held + more
                self.positions[order.symbol] = (
                    new,
                    ((avg * held + at * more) / new).quantize(Decimal("0.0001")),
                )
            else:
                left = held - more
                if left:
                    self.positions[order.symbol] = (left, avg)
                else:
                    self.positions.pop(order.symbol, None)

    def close_position(self, symbol: str) -> None:
        """Someone closes the position by hand at the broker."""
        with self.lock:
            self.positions.pop(symbol, None)

    def expire_all(self) -> None:
        with self.lock:
            for order in self.orders.values():
                if order.live:
                    order.status = "expired"

    def live_orders(self) -> list[FakeOrder]:
        with self.lock:
            return [o for o in self.orders.values() if o.live]

    def by_client(self, prefix: str) -> list[FakeOrder]:
        with self.lock:
            return [o for o in self.orders.values() if o.client_id.startswith(prefix)]

    # ---------------------------------------------------------------- the book
    def place(self, order: FakeOrder) -> tuple[str, FakeOrder | None]:
        """Apply the next behaviour to a new order; returns (behaviour, the order if it was placed)."""
        with self.lock:
            self.submits += 1
            behaviour = self.behaviours.pop(0) if self.behaviours else "accept"
            if behaviour in ("reject", "refuse500"):
                return behaviour, None
            self.orders[order.broker_id] = order
            order.history.append(order.limit)
            if behaviour == "fill":
                self.fill(order.broker_id)
            elif behaviour.startswith("partial:"):
                self.fill(order.broker_id, int(behaviour.split(":")[1]))
            return behaviour, order

    def cancel(self, broker_id: str) -> bool:
        with self.lock:
            order = self.orders.get(broker_id)
            if order is None or not order.live:
                return False
            order.status = "canceled"
            return True

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, float]:
        raise NotImplementedError


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


class FakeAlpaca(FakeBrokerServer):
    """`/v2/orders` (POST, GET, by_client_order_id, DELETE, PATCH), `/v2/positions`, `/v2/account`."""

    name = "alpaca"
    KEY = "fake-key-id"
    SECRET = "fake-secret"

    def new_id(self) -> str:
        return f"a1b2c3d4-0000-4000-8000-{next(self._ids):012d}"

    @staticmethod
    def _status(order: FakeOrder) -> str:
        if order.status == "open":
            return "partially_filled" if order.filled else "accepted"
        return order.status

    def _body(self, order: FakeOrder) -> dict[str, Any]:
        return {
            "id": order.broker_id,
            "client_order_id": order.client_id,
            "symbol": order.symbol,
            "asset_class": "us_option",
            "qty": str(order.quantity),
            "filled_qty": str(order.filled),
            "filled_avg_price": str(order.avg) if order.avg is not None else None,
            "type": "limit",
            "side": "buy" if order.side.startswith("buy") else "sell",
            "position_intent": order.side,
            "time_in_force": "day",
            "limit_price": str(order.limit),
            "status": self._status(order),
            "replaced_by": order.replaced_by,
        }

    def handle(self, method, path, query, headers, raw):  # type: ignore[no-untyped-def]
        if headers.get("APCA-API-KEY-ID") != self.KEY or headers.get("APCA-API-SECRET-KEY") != self.SECRET:
            return 401, {"code": 40110000, "message": "request is not authorized"}, 0
        with self.lock:
            if path == "/v2/account" and method == "GET":
                return 200, self._account(), 0
            if path == "/v2/positions" and method == "GET":
                return 200, [self._position(s, q, a) for s, (q, a) in self.positions.items()], 0
            if path == "/v2/orders" and method == "POST":
                return self._submit(json.loads(raw))
            if path == "/v2/orders" and method == "GET":
                return 200, [self._body(o) for o in reversed(list(self.orders.values()))], 0
            if path == "/v2/orders:by_client_order_id" and method == "GET":
                wanted = query.get("client_order_id", [""])[0]
                found = [o for o in self.orders.values() if o.client_id == wanted]
                if not found:
                    return 404, {"code": 40410000, "message": "order not found"}, 0
                return 200, self._body(found[-1]), 0
            match = re.fullmatch(r"/v2/orders/([^/]+)", path)
            if match and match[1] in self.orders:
                order = self.orders[match[1]]
                if method == "GET":
                    return 200, self._body(order), 0
                if method == "DELETE":
                    if not self.cancel(order.broker_id):
                        return 422, {"code": 42210000, "message": "order is not cancelable"}, 0
                    return 204, None, 0
                if method == "PATCH":
                    return self._replace(order, json.loads(raw))
            if match:
                return 404, {"code": 40410000, "message": "order not found"}, 0
        return 404, {"message": f"no route {method} {path}"}, 0

    def _account(self) -> dict[str, Any]:
        return {
            "id": "5f094444-555e-4952-a931-407eb7a73f61",
            "account_number": "PA3FAKE",
            "status": "ACTIVE" if self.account_active else "ACCOUNT_CLOSED",
            "trading_blocked": False,
            "account_blocked": False,
            "buying_power": "200000",
            "options_buying_power": "100000",
            "options_approved_level": self.options_level,
            "options_trading_level": self.options_level,
        }

    @staticmethod
    def _position(symbol: str, quantity: int, avg: Decimal) -> dict[str, Any]:
        option = len(symbol) > 15
        return {
            "symbol": symbol,
            "qty": str(quantity),
            "avg_entry_price": str(avg),
            "side": "long",
            "asset_class": "us_option" if option else "us_equity",
        }

    def _submit(self, body: dict[str, Any]) -> tuple[int, Any, float]:
        client_id = body["client_order_id"]
        if any(o.client_id == client_id for o in self.orders.values()):
            return 422, {"code": 42210000, "message": "client_order_id must be unique"}, 0
        order = FakeOrder(
            self.new_id(),
            client_id,
            body["symbol"],
            re.match(r"[A-Z]+", body["symbol"])[0],  # type: ignore[index]
            body["position_intent"],
            int(body["qty"]),
            _d(body["limit_price"]),
        )
        behaviour, placed = self.place(order)
        if behaviour == "reject":
            return 403, {"code": 40310000, "message": "insufficient options buying power for cost basis"}, 0
        if behaviour in ("error500", "refuse500"):
            return 500, {"message": "internal server error"}, 0
        assert placed is not None
        return 200, self._body(placed), self.slow_seconds if behaviour == "timeout" else 0

    def _replace(self, order: FakeOrder, body: dict[str, Any]) -> tuple[int, Any, float]:
        if not order.live:
            return 422, {"code": 42210000, "message": "order is not replaceable"}, 0
        new = FakeOrder(
            self.new_id(),
            body.get("client_order_id") or f"{order.client_id}-x",
            order.symbol,
            order.underlying,
            order.side,
            order.quantity - order.filled,
            _d(body["limit_price"]),
        )
        new.history = [*order.history, new.limit]
        order.status = "replaced"
        order.replaced_by = new.broker_id
        self.orders[new.broker_id] = new
        return 200, self._body(new), 0


class FakeTradier(FakeBrokerServer):
    """`/v1/accounts/{id}/orders` (POST, GET, GET one, DELETE, PUT), positions, balances, `/v1/user/profile`."""

    name = "tradier"
    TOKEN = "fake-token"

    def _body(self, order: FakeOrder) -> dict[str, Any]:
        status = order.status
        if status == "open" and order.filled:
            status = "partially_filled"
        return {
            "id": int(order.broker_id),
            "type": "limit",
            "symbol": order.underlying,
            "side": order.side,
            "quantity": float(order.quantity),
            "status": status,
            "duration": "day",
            "price": float(order.limit),
            "avg_fill_price": float(order.avg or 0),
            "exec_quantity": float(order.filled),
            "remaining_quantity": float(order.quantity - order.filled),
            "class": "option",
            "option_symbol": order.symbol,
            "tag": order.client_id,
            **({"reason_description": order.reason} if order.reason else {}),
        }

    def handle(self, method, path, query, headers, raw):  # type: ignore[no-untyped-def]
        if headers.get("Authorization") != f"Bearer {self.TOKEN}":
            return 401, {"fault": {"faultstring": "Invalid Access Token"}}, 0
        base = f"/v1/accounts/{TRADIER_ACCOUNT}"
        with self.lock:
            if path == "/v1/user/profile":
                return 200, self._profile(), 0
            if path == f"{base}/balances":
                return (
                    200,
                    {
                        "balances": {
                            "account_number": TRADIER_ACCOUNT,
                            "total_cash": 6363.86,
                            "margin": {"option_buying_power": 6363.86},
                        }
                    },
                    0,
                )
            if path == f"{base}/positions":
                listed = [
                    {
                        "symbol": s,
                        "quantity": float(q),
                        "cost_basis": float(a * q * (100 if len(s) > 15 else 1)),
                        "id": i,
                        "date_acquired": "2026-11-23T15:00:03.000Z",
                    }
                    for i, (s, (q, a)) in enumerate(self.positions.items(), 1)
                ]
                return 200, {"positions": {"position": listed} if listed else "null"}, 0
            if path == f"{base}/orders" and method == "POST":
                return self._submit({k: v[0] for k, v in parse_qs(raw.decode()).items()})
            if path == f"{base}/orders" and method == "GET":
                listed = [self._body(o) for o in self.orders.values()]
                if not listed:
                    return 200, {"orders": "null"}, 0
                return 200, {"orders": {"order": listed if len(listed) > 1 else listed[0]}}, 0
            match = re.fullmatch(rf"{base}/orders/(\d+)", path)
            if match and match[1] in self.orders:
                order = self.orders[match[1]]
                if method == "GET":
                    return 200, {"order": self._body(order)}, 0
                if method == "DELETE":
                    if not self.cancel(order.broker_id):
                        return 400, {"errors": {"error": ["Order is not in a cancelable state"]}}, 0
                    return 200, {"order": {"id": int(order.broker_id), "status": "ok"}}, 0
                if method == "PUT":
                    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    if not order.live:
                        return 400, {"errors": {"error": ["Order is not in a modifiable state"]}}, 0
                    order.limit = _d(form["price"])
                    order.history.append(order.limit)
                    return 200, {"order": {"id": int(order.broker_id), "status": "ok"}}, 0
            if match:
                return 404, {"errors": {"error": ["Order not found"]}}, 0
        return 404, {"errors": {"error": [f"no route {method} {path}"]}}, 0

    def _profile(self) -> dict[str, Any]:
        return {
            "profile": {
                "id": "id-fake",
                "name": "Fake Trader",
                "account": {
                    "account_number": TRADIER_ACCOUNT,
                    "classification": "individual",
                    "option_level": self.options_level,
                    "status": "active" if self.account_active else "closed",
                    "type": "margin",
                },
            }
        }

    def _submit(self, form: dict[str, str]) -> tuple[int, Any, float]:
        order = FakeOrder(
            self.new_id(),
            form["tag"],
            form["option_symbol"],
            form["symbol"],
            form["side"],
            int(form["quantity"]),
            _d(form["price"]),
        )
        behaviour, placed = self.place(order)
        if behaviour == "reject":
            return 400, {"errors": {"error": ["Insufficient buying power for this order"]}}, 0
        if behaviour in ("error500", "refuse500"):
            return 500, {"errors": {"error": ["internal error"]}}, 0
        assert placed is not None
        answer = {"order": {"id": int(placed.broker_id), "status": "ok", "partner_id": "fake"}}
        return 200, answer, self.slow_seconds if behaviour == "timeout" else 0


def broker_settings(fake: FakeBrokerServer, **extra: Any) -> dict[str, Any]:
    """The settings that point OptionFlow at `fake` (merge into a Settings with model_copy)."""
    common = {"broker": fake.name, "broker_base_url": fake.url, "broker_timeout_seconds": 0.3, **extra}
    if fake.name == "alpaca":
        return {"alpaca_key_id": FakeAlpaca.KEY, "alpaca_secret_key": FakeAlpaca.SECRET, **common}
    return {"tradier_token": FakeTradier.TOKEN, "tradier_account_id": TRADIER_ACCOUNT, **common}


Factory = Callable[[], FakeBrokerServer]
FAKES: dict[str, Factory] = {"alpaca": FakeAlpaca, "tradier": FakeTradier}
