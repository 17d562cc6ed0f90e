"""The broker ports.

Two roles, two protocols:

- `Broker`: how an order of ours would fill on paper and what a fill costs. `PaperBroker`
  (`brokers/paper.py`) is it in every mode: the paper executor fills with it (simulated market, or paper on
  real quotes) and sizing budgets against its worst fill and fees in broker modes too.
- `OrderBroker`: a real broker's order desk (`brokers/alpaca.py`, `brokers/tradier.py`): submit, get,
  cancel, replace, positions, account, and lookup by our client order id. Our order id is the broker's
  client order id (Alpaca `client_order_id`, Tradier `tag`), so a submit whose answer was lost is found
  again instead of placed twice.

The value types are frozen dataclasses in dollars per share (prices) and contracts (quantities); adapters
translate the broker's fields into them and raise `BrokerError` (or its `BrokerRejected`) for a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from optionflow.states import BrokerOrderStatus


class Broker(Protocol):
    fee_per_contract: Decimal  # dollars per contract, every fill

    def fill_price(self, *, side: str, bid: Decimal, ask: Decimal) -> Decimal:
        """Dollars per share a market order on `side` (BUY_TO_OPEN, SELL_TO_CLOSE) fills at."""
        ...

    def fees(self, quantity: int) -> Decimal:
        """Dollars of commission and fees for a fill of `quantity` contracts."""
        ...


@dataclass(frozen=True)
class OrderRequest:
    """A single-leg option limit order. `client_id` is our order id (the broker's client order id)."""

    client_id: str
    underlying: str  # the ticker (Tradier wants it beside the OCC symbol)
    option_symbol: str  # unpadded OCC, e.g. SPY261218C00500000
    side: str  # BUY_TO_OPEN or SELL_TO_CLOSE
    quantity: int  # contracts
    limit_price: Decimal  # dollars per share
    time_in_force: str = "DAY"


@dataclass(frozen=True)
class BrokerOrder:
    broker_id: str
    client_id: str | None
    status: BrokerOrderStatus
    option_symbol: str | None
    quantity: int  # contracts ordered
    filled_quantity: int  # contracts filled so far
    avg_fill_price: Decimal | None  # dollars per share over what filled
    limit_price: Decimal | None
    reject_reason: str | None = None
    replaced_by: str | None = None  # the broker id of the order that replaced this one

    @property
    def live(self) -> bool:
        """Still working at the broker: it can fill more."""
        return not self.status.final


@dataclass(frozen=True)
class BrokerPosition:
    symbol: str  # OCC for an option, the ticker for shares (an exercise or assignment leaves shares)
    quantity: int  # contracts (options) or shares; negative when short
    avg_price: Decimal | None  # dollars per share
    is_option: bool


@dataclass(frozen=True)
class Account:
    account_id: str
    active: bool  # the broker lets it trade
    options_level: int  # the broker's options approval level (0: none)
    buying_power: Decimal  # dollars available for options
    status: str  # the broker's own word for the account's state


class BrokerError(Exception):
    """A broker call failed. `definite` is False when the broker may have acted (no answer, a 5xx): the
    caller must look the order up by client id before trying again."""

    def __init__(self, broker: str, message: str, *, status: int | None = None, definite: bool = True):
        super().__init__(f"{broker}: {message}")
        self.broker = broker
        self.status = status
        self.definite = definite

    @property
    def unauthorized(self) -> bool:
        return self.status in (401, 403)


class BrokerRejected(BrokerError):
    """The broker refused the order itself (4xx with a reason, or a `rejected` answer): final."""


class OrderBroker(Protocol):
    name: str  # alpaca, tradier

    def submit(self, order: OrderRequest) -> BrokerOrder:
        """Place `order`. BrokerRejected when refused; BrokerError(definite=False) when it may exist."""
        ...

    def get(self, broker_id: str) -> BrokerOrder: ...

    def find(self, client_id: str) -> BrokerOrder | None:
        """The order placed with our `client_id`, or None when the broker has none."""
        ...

    def cancel(self, broker_id: str) -> None: ...

    def replace(self, current: BrokerOrder, client_id: str, limit_price: Decimal) -> BrokerOrder:
        """A new limit price for a working order; returns the order now working (Alpaca gives it a new
        broker id, Tradier keeps the id)."""
        ...

    def orders(self) -> list[BrokerOrder]:
        """Today's orders (working and done), for the reconciler."""
        ...

    def positions(self) -> list[BrokerPosition]: ...

    def account(self) -> Account: ...
