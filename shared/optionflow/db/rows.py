"""The rows the pipeline reads from db/, typed: what crosses from db/ to logic/ is one of these, never a
dict. Each holds only the columns its query selects; money is dollars (per share for prices).

They live in db/ (not logic/) so the repositories can build them without importing the use cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from optionflow.states import PositionStatus, SignalStatus


@dataclass(frozen=True)
class WorkingOrder:
    """A working order the paper executor has locked: the order's columns it reads, its signal's arrival
    (for the alert-to-fill latency) and, for an exit, the signal that opened the position (the correlation
    id of its log lines)."""

    id: UUID
    purpose: str  # ENTRY or EXIT
    signal_id: UUID | None  # an exit placed by a rule has none
    position_id: UUID | None  # an entry has none until it fills
    ticker: str
    option_symbol: str
    option_type: str  # CALL or PUT
    strike: Decimal
    expiry: date
    side: str  # BUY_TO_OPEN or SELL_TO_CLOSE
    quantity: int
    mode: str
    reason: str | None
    created_at: datetime
    signal_received_at: datetime | None = None
    entry_signal_id: UUID | None = None

    @property
    def for_signal(self) -> UUID:
        """The signal an entry carries out (every entry has one)."""
        if self.signal_id is None:
            raise ValueError(f"order {self.id} carries out no signal")
        return self.signal_id

    @property
    def for_position(self) -> UUID:
        """The position an exit closes (every exit has one)."""
        if self.position_id is None:
            raise ValueError(f"order {self.id} closes no position")
        return self.position_id


@dataclass(frozen=True)
class RoutedOrder(WorkingOrder):
    """A working order of a broker mode, locked by the router: the order and what the broker last said."""

    status: str = "PENDING"
    client_order_id: str | None = None
    broker_order_id: str | None = None
    filled_quantity: int = 0  # contracts filled so far
    avg_fill_price: Decimal | None = None  # dollars per share over what filled
    limit_price: Decimal | None = None
    reprices: int = 0
    priced_at: datetime | None = None
    cancel_requested_at: datetime | None = None


@dataclass(frozen=True)
class HeldPosition:
    """A held (OPEN or CLOSING) position, locked: its contract and size, what an exit order is built from."""

    id: UUID
    signal_id: UUID | None
    status: PositionStatus
    ticker: str
    option_symbol: str
    option_type: str  # CALL or PUT
    strike: Decimal
    expiry: date
    quantity: int


@dataclass(frozen=True)
class HeldLot:
    """Our held contracts of one OCC symbol, all lots together (what a broker's position shows)."""

    option_symbol: str
    ticker: str
    expiry: date
    quantity: int


@dataclass(frozen=True)
class UnfinishedEntry:
    """An earlier BUY of a ticker not yet final, locked for a later CLOSE to cancel."""

    id: UUID
    action: str
    direction: str | None
    status: SignalStatus


@dataclass(frozen=True)
class PricedPosition(HeldPosition):
    """A held position with its entry and last mark, as the refresher and the exit monitor read it."""

    entry_price: Decimal
    mark: Decimal | None
    high_water_mark: Decimal | None
    price_stale: bool
    opened_at: datetime
    priced_at: datetime | None
    prev_close_at: datetime | None


@dataclass(frozen=True)
class RiskLimits:
    """The limits every new entry is checked against (dollars for money); the kill switch stops entries."""

    max_open_positions: int
    max_daily_loss: Decimal
    max_positions_per_ticker: int
    max_contracts_per_order: int
    risk_per_trade: Decimal
    kill_switch: bool


@dataclass(frozen=True)
class ExitRules:
    """When the exit monitor closes a position. Percentages are of the entry price; None turns a rule off."""

    profit_target_pct: Decimal | None
    stop_loss_pct: Decimal | None
    trailing_stop_pct: Decimal | None
    min_dte: int | None
    max_hold_days: int | None
    close_minutes_before_close: int | None


ORDER_COLUMNS = (
    "id, purpose, signal_id, position_id, ticker, option_symbol, option_type, strike, expiry, side, quantity,"
    " mode, reason, created_at"
)


@dataclass(frozen=True)
class Exposure:
    """What is at risk: open positions plus accepted entries not yet filled, in total and per ticker."""

    total: int
    per_ticker: dict[str, int]


@dataclass(frozen=True)
class BookTotals:
    """The held book summed: dollars, and the delta in shares."""

    open_positions: int
    unrealized_pnl: Decimal
    market_value: Decimal
    delta_shares: Decimal
    stale: int


HELD_COLUMNS = "id, signal_id, status, ticker, option_symbol, option_type, strike, expiry, quantity"
PRICED_COLUMNS = HELD_COLUMNS + (
    ", entry_price, mark, high_water_mark, price_stale, opened_at, priced_at, prev_close_at"
)
RISK_LIMITS_COLUMNS = (
    "max_open_positions, max_daily_loss, max_positions_per_ticker, max_contracts_per_order, risk_per_trade,"
    " kill_switch"
)
EXIT_RULES_COLUMNS = (
    "profit_target_pct, stop_loss_pct, trailing_stop_pct, min_dte, max_hold_days, close_minutes_before_close"
)


@dataclass(frozen=True)
class DueDelivery:
    """One notification on one channel, claimed for sending: its kind, severity and facts (the numbers the
    message shows, money in dollars), and which attempt this is (1 for the first)."""

    notification_id: int
    channel: str
    attempt: int
    kind: str
    severity: str
    facts: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class UnroutedNotice:
    """A notification the notifier has not yet given a delivery per channel."""

    id: int
    kind: str
    severity: str
    only_channel: str | None


@dataclass(frozen=True)
class ChannelRule:
    """Which notifications a channel gets: at least `min_severity`, and none of the `muted` kinds."""

    channel: str
    min_severity: str
    muted: tuple[str, ...]
