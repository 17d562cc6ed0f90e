"""The rows the pipeline reads from db/, typed: what crosses from db/ to logic/ is one of these, never a
dict. Each holds only the columns its query selects; money is dollars (per share for prices).

They live in db/ (not logic/) so the repositories can build them without importing the use cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
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


@dataclass(frozen=True)
class StrategySettings:
    """The strategy settings in force for one ticker: its own row's values over the default row's (None: off).

    Dollars for money, percent for `_pct` (50 = 50 %); Greeks caps are on the book's sums: delta in shares
    (or dollars: shares × the underlying's price), gamma in shares per dollar, vega in dollars per IV point,
    theta in dollars lost per calendar day."""

    sizing_method: str
    fixed_contracts: int | None = None
    dollar_risk: Decimal | None = None
    vol_measure: str | None = None
    vol_target_pct: Decimal | None = None
    equity_fraction_pct: Decimal | None = None
    account_equity: Decimal | None = None
    max_heat_pct: Decimal | None = None
    max_delta_shares: Decimal | None = None
    max_delta_dollars: Decimal | None = None
    max_gamma: Decimal | None = None
    max_vega: Decimal | None = None
    max_theta: Decimal | None = None
    max_ticker_delta_shares: Decimal | None = None
    max_ticker_delta_dollars: Decimal | None = None
    max_ticker_gamma: Decimal | None = None
    max_ticker_vega: Decimal | None = None
    max_ticker_theta: Decimal | None = None
    max_ticker_premium_pct: Decimal | None = None
    max_expiry_premium_pct: Decimal | None = None
    greek_exits_on: bool = False
    exit_delta_itm: Decimal | None = None
    exit_delta_otm: Decimal | None = None
    exit_theta_pct: Decimal | None = None
    exit_iv_crush_pct: Decimal | None = None
    plan_strike_delta: Decimal | None = None
    plan_strike_steps: int | None = None
    plan_dte: int | None = None
    profit_target_pct: Decimal | None = None
    stop_loss_pct: Decimal | None = None
    trailing_stop_pct: Decimal | None = None
    time_stop_minutes: int | None = None
    mtf_on: bool = False
    mtf_timeframes: tuple[str, ...] = ()
    mtf_ema_fast: int | None = None
    mtf_ema_slow: int | None = None
    context_on: bool = False
    max_spread_pct: Decimal | None = None
    max_price_move_pct: Decimal | None = None
    min_minutes_to_close: int | None = None
    min_realized_vol_pct: Decimal | None = None
    max_realized_vol_pct: Decimal | None = None
    min_iv_pct: Decimal | None = None
    max_iv_pct: Decimal | None = None


@dataclass(frozen=True)
class BookLine:
    """One held position or working entry as the portfolio caps see it: its premium at risk (dollars per
    share, what was or will be paid) and its Greeks per share, None when never priced."""

    ticker: str
    expiry: date
    quantity: int
    multiplier: int
    premium: Decimal
    underlying: Decimal | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None


@dataclass(frozen=True)
class EntryTerms:
    """A held position's Greeks now and at entry, and the trade plan stored with it (a dict of plan fields)."""

    position_id: UUID
    mark: Decimal | None
    delta: float | None
    theta: float | None
    iv: float | None
    entry_iv: float | None
    entry_delta: float | None
    plan: dict[str, object]


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
