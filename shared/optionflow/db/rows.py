"""The rows db/ hands out, typed: what crosses from db/ to logic/ (the pipeline, the read models, settings,
worker control, replay) is one of these, never a dict; `tests/unit/test_architecture.py` holds every
repository to it. Each holds only the columns its query selects (`columns(row_type)` is the select list of
most); money is dollars (per share for prices).

They live in db/ (not logic/) so the repositories can build them without importing the use cases.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from optionflow.states import OrderStatus, PositionStatus, SignalStatus


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

    status: str = OrderStatus.PENDING
    client_order_id: str | None = None
    broker_order_id: str | None = None
    filled_quantity: int = 0  # contracts filled so far
    avg_fill_price: Decimal | None = None  # dollars per share over what filled
    limit_price: Decimal | None = None
    reprices: int = 0
    priced_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    broker_open: bool = False  # the broker last said it could still fill


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
class CancelledEntry:
    """An entry order cancelled while still working: `filled` of its `quantity` contracts had filled."""

    order_id: UUID
    signal_id: UUID
    filled: int
    quantity: int


@dataclass(frozen=True)
class CancelledExit:
    """A position's exit order cancelled while still working (its contract expired): `filled` of its
    `quantity` contracts had sold, at `avg_fill_price`."""

    signal_id: UUID | None  # the SELL/CLOSE alert it carried out; None for an exit rule's
    filled: int
    quantity: int
    avg_fill_price: Decimal | None
    reason: str | None


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
    """The limits every new entry is checked against (dollars for money); the kill switch stops entries.

    The one list of the limits: the columns an operator may change (`db.trading_settings.EDITABLE`), the
    columns the signal processor reads, and the admin API's models (a test holds them to these fields)."""

    max_open_positions: int
    max_daily_loss: Decimal
    max_positions_per_ticker: int
    max_contracts_per_order: int
    risk_per_trade: Decimal
    kill_switch: bool


@dataclass(frozen=True)
class ExitRules:
    """When the exit monitor closes a position. Percentages are of the entry price; None turns a rule off.

    The one list of the rules, as RiskLimits is of the limits."""

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
class AlertPlan:
    """The `plan` object a signal's alert carried (validated at the webhook), as JSON holds it."""

    signal_id: UUID
    plan: dict[str, Any]


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


def columns(row_type: type) -> str:
    """The select list of a row type: its fields, in order."""
    return ", ".join(f.name for f in fields(row_type))


RISK_LIMITS_COLUMNS = columns(RiskLimits)
EXIT_RULES_COLUMNS = columns(ExitRules)


@dataclass(frozen=True)
class StoredRiskLimits(RiskLimits):
    """A row of risk_limits as the admin API shows it: the limits, the row's name and when they last
    changed."""

    name: str
    updated_at: datetime


@dataclass(frozen=True)
class StoredExitRules(ExitRules):
    """A row of exit_rules as the admin API shows it."""

    name: str
    updated_at: datetime


@dataclass(frozen=True)
class StoredStrategySettings:
    """A row of strategy_settings as the admin API shows it: `default` or a ticker's own values (None on a
    ticker's row: as the default row says; on the default row: off). `StrategySettings` is what is in force."""

    name: str
    sizing_method: str | None
    fixed_contracts: int | None
    dollar_risk: Decimal | None
    vol_measure: str | None
    vol_target_pct: Decimal | None
    equity_fraction_pct: Decimal | None
    account_equity: Decimal | None
    max_heat_pct: Decimal | None
    max_delta_shares: Decimal | None
    max_delta_dollars: Decimal | None
    max_gamma: Decimal | None
    max_vega: Decimal | None
    max_theta: Decimal | None
    max_ticker_delta_shares: Decimal | None
    max_ticker_delta_dollars: Decimal | None
    max_ticker_gamma: Decimal | None
    max_ticker_vega: Decimal | None
    max_ticker_theta: Decimal | None
    max_ticker_premium_pct: Decimal | None
    max_expiry_premium_pct: Decimal | None
    greek_exits_on: bool | None
    exit_delta_itm: Decimal | None
    exit_delta_otm: Decimal | None
    exit_theta_pct: Decimal | None
    exit_iv_crush_pct: Decimal | None
    plan_strike_delta: Decimal | None
    plan_strike_steps: int | None
    plan_dte: int | None
    profit_target_pct: Decimal | None
    stop_loss_pct: Decimal | None
    trailing_stop_pct: Decimal | None
    time_stop_minutes: int | None
    mtf_on: bool | None
    mtf_timeframes: list[str] | None
    mtf_ema_fast: int | None
    mtf_ema_slow: int | None
    context_on: bool | None
    max_spread_pct: Decimal | None
    max_price_move_pct: Decimal | None
    min_minutes_to_close: int | None
    min_realized_vol_pct: Decimal | None
    max_realized_vol_pct: Decimal | None
    min_iv_pct: Decimal | None
    max_iv_pct: Decimal | None
    updated_at: datetime


@dataclass(frozen=True)
class SettingsChange:
    """One recorded change of the risk limits or exit rules: the changed columns before and after."""

    id: int
    changed_at: datetime
    actor: str
    what: str  # risk_limits, exit_rules, notifications or strategy_settings
    name: str
    before: dict[str, Any]  # column -> value as JSON holds it
    after: dict[str, Any]
    reason: str | None


@dataclass(frozen=True)
class DayPnl:
    """Today's P&L in dollars: realized by positions closed since the day started, unrealized on the held
    book's marks."""

    realized: Decimal
    unrealized: Decimal


@dataclass(frozen=True)
class ActiveExitAlert:
    """An exit rule firing on a held position, as GET /exit-signals lists it."""

    id: UUID
    position_id: UUID
    ticker: str
    option_symbol: str
    rule: str
    priority: str  # CRITICAL, HIGH or MEDIUM
    details: str
    recommended_action: str
    urgency: str
    metrics: dict[str, Any]  # the rule's inputs, as JSON holds them
    exit_order_id: UUID | None
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class WorkerRun:
    """A worker's last run, and how many it has had."""

    worker: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    processed: int
    succeeded: bool
    error: str | None
    runs_total: int


@dataclass(frozen=True)
class WorkerControl:
    """Whether a worker is paused, and who changed that, when and why (all None: never paused)."""

    worker: str
    paused: bool
    changed_at: datetime | None
    changed_by: str | None
    reason: str | None

    @classmethod
    def never_paused(cls, worker: str) -> WorkerControl:
        return cls(worker, False, None, None, None)


@dataclass(frozen=True)
class Decision:
    """One check of a signal's decision trail."""

    check_name: str
    passed: bool
    detail: str
    inputs: dict[str, Any]  # what the check looked at, as JSON holds it
    decided_at: datetime


@dataclass(frozen=True)
class ClosedPosition:
    """A closed position as the statistics read it; money in dollars for the whole position."""

    ticker: str
    direction: str  # CALL or PUT
    exit_reason: str | None
    opened_at: datetime
    closed_at: datetime
    realized_pnl: Decimal
    cost_basis: Decimal
    fees: Decimal | None


@dataclass(frozen=True)
class OpenGroup:
    """The held positions of one ticker and direction: how many, and their unrealized P&L in dollars."""

    ticker: str
    direction: str
    positions: int
    unrealized_pnl: Decimal


@dataclass(frozen=True)
class StoredAlert:
    """A stored alert as a replay reads it: when it arrived and its payload as stored."""

    id: UUID
    received_at: datetime
    ticker: str
    action: str
    direction: str | None
    raw_payload: dict[str, Any]  # the alert's JSON, secret redacted


@dataclass(frozen=True)
class SignalOutcome:
    """What became of one signal: its status and reasons, the position it opened (if any) and how many
    positions it closed. Money in dollars: P&L and cost basis per position, prices per share."""

    id: UUID
    status: str
    rejection_reasons: list[str] | None
    position_id: UUID | None
    position_status: str | None
    ticker: str | None
    option_type: str | None
    option_symbol: str | None
    quantity: int | None
    entry_price: Decimal | None
    exit_price: Decimal | None
    cost_basis: Decimal | None
    opened_at: datetime | None
    closed_at: datetime | None
    exit_reason: str | None
    realized_pnl: Decimal | None
    unrealized_pnl: Decimal | None
    closed_positions: int


@dataclass(frozen=True)
class ScratchDatabase:
    """A replay's scratch book found on the server: its owner, and whether this role may drop it."""

    name: str
    owner: str
    droppable: bool


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
class OpenDifference:
    """A difference between the broker's book and ours that the reconciler still sees."""

    id: UUID
    broker: str
    kind: str  # states.DifferenceKind
    subject: str  # the OCC symbol or broker order it is about
    broker_quantity: int | None
    book_quantity: int | None
    order_id: UUID | None
    broker_order_id: str | None
    detail: str
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class SessionFigures:
    """A session's book for the daily summary, dollars: fills, positions opened and closed in the session,
    realized P&L (net) and winners among the closed; open positions, their unrealized P&L and stale marks
    now."""

    fills: int
    opened: int
    closed: int
    winners: int
    realized_pnl: Decimal
    open_positions: int
    unrealized_pnl: Decimal
    stale: int


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
