"""What the query API returns. Money serialises as a JSON number (dollars); NUMERIC stays exact inside."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

from optionflow.models.untrusted_json import within_depth

Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
# An alert as it arrived. Rows stored before the webhook limited nesting may hold more levels than a response
# can serialise (about 255); deeper levels read as a note, so such a row still lists.
StoredPayload = Annotated[dict[str, Any], AfterValidator(within_depth)]

T = TypeVar("T")


class Out(BaseModel):
    """A response body. Its validator and serializer are built on first use, not at import: a Lambda
    serving webhooks never builds the query models, and the API's cold start stays short."""

    model_config = ConfigDict(defer_build=True)


class SignalOut(Out):
    id: UUID
    received_at: datetime
    ticker: str
    action: str
    direction: str | None
    timeframe: str | None
    price: Money | None
    strike: Money | None
    expiry: date | None
    quantity: int | None
    alert_id: str | None
    alert_time: datetime | None
    status: str
    rejection_reasons: list[str]
    processed_at: datetime | None
    raw_payload: StoredPayload


class DecisionOut(Out):
    check_name: str
    passed: bool
    detail: str
    inputs: dict[str, Any]
    decided_at: datetime


class SignalDetail(SignalOut):
    decisions: list[DecisionOut]


class OrderOut(Out):
    id: UUID
    signal_id: UUID | None
    position_id: UUID | None
    purpose: str
    ticker: str
    option_symbol: str
    option_type: str
    strike: Money
    expiry: date
    side: str
    quantity: int
    order_type: str
    limit_price: Money | None
    time_in_force: str
    mode: str
    status: str
    reason: str | None
    filled_quantity: int
    avg_fill_price: Money | None
    created_at: datetime
    filled_at: datetime | None


class PositionOut(Out):
    id: UUID
    signal_id: UUID | None
    ticker: str
    option_symbol: str
    option_type: str
    strike: Money
    expiry: date
    quantity: int
    entry_price: Money
    cost_basis: Money
    status: str
    opened_at: datetime
    closed_at: datetime | None
    exit_price: Money | None
    exit_reason: str | None
    realized_pnl: Money | None
    mark: Money | None
    bid: Money | None
    ask: Money | None
    underlying_price: Money | None
    implied_vol: Number | None
    delta: Number | None
    gamma: Number | None
    theta: Number | None
    vega: Number | None
    unrealized_pnl: Money | None
    high_water_mark: Money | None
    priced_at: datetime | None
    price_stale: bool


class TradeOut(Out):
    id: UUID
    order_id: UUID
    position_id: UUID | None
    ticker: str
    option_symbol: str
    side: str
    quantity: int
    price: Money
    fees: Money
    mode: str
    executed_at: datetime


class Page(Out, Generic[T]):
    items: list[T]
    count: int
    next_cursor: str | None
