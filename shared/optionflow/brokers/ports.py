"""The broker port: how an order of ours would fill, and what it costs. The paper broker is the one
adapter today (`brokers/paper.PaperBroker`); a real broker goes beside it and into the composition root."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class Broker(Protocol):
    fee_per_contract: Decimal  # dollars per contract, every fill

    def fill_price(self, *, side: str, bid: Decimal, ask: Decimal) -> Decimal:
        """Dollars per share a market order on `side` (BUY_TO_OPEN, SELL_TO_CLOSE) fills at."""
        ...

    def fees(self, quantity: int) -> Decimal:
        """Dollars of commission and fees for a fill of `quantity` contracts."""
        ...
