"""Read-only query routes, at the seed's paths so its clients can point here."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from optionflow.composition import for_process
from optionflow.db.listing import Filters
from optionflow.logic import queries
from optionflow.models.entities import (
    DecisionOut,
    OrderOut,
    Page,
    PositionOut,
    SignalDetail,
    SignalOut,
    TradeOut,
)
from optionflow.states import OrderStatus, PositionStatus, SignalStatus
from pydantic import BeforeValidator

from api.security import BEARER, READ

router = APIGatewayHttpRouter()

Ticker = Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9.]{0,9}$", description="Underlying, e.g. SPY")]


def _iso_8601(value: object) -> object:
    # pydantic reads a bare number as Unix seconds, so `until=0.5` was 1970: the document says ISO 8601
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*", value):
        raise ValueError("must be an ISO 8601 time such as 2026-11-23T10:00:00Z, not a number")
    return value


Since = Annotated[
    datetime | None, BeforeValidator(_iso_8601), Query(description="Inclusive lower bound (ISO 8601)")
]
Until = Annotated[
    datetime | None, BeforeValidator(_iso_8601), Query(description="Exclusive upper bound (ISO 8601)")
]


def _whole_number(value: object) -> object:
    # pydantic strips whitespace, a no-break space included, before reading an int: the document says digits
    if isinstance(value, str) and not re.fullmatch(r"[0-9]+", value):
        raise ValueError("must be a whole number written in digits")
    return value


Limit = Annotated[int, BeforeValidator(_whole_number), Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]


@router.get("/signals", middlewares=READ, security=BEARER, summary="Signals, newest first")
def list_signals(
    status: Annotated[SignalStatus | None, Query()] = None,
    ticker: Ticker = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[SignalOut]:
    return queries.list_page(
        for_process().db, "signals", SignalOut, Filters(status, ticker, since, until, limit, cursor)
    )


@router.get(
    "/signals/<signal_id>", middlewares=READ, security=BEARER, summary="One signal with its decisions"
)
def get_signal(signal_id: Annotated[UUID, Path()]) -> SignalDetail:
    detail = queries.signal_detail(for_process().db, signal_id)
    if detail is None:
        raise NotFoundError(f"signal {signal_id} not found")
    return detail


@router.get("/orders", middlewares=READ, security=BEARER, summary="Orders, newest first")
def list_orders(
    status: Annotated[OrderStatus | None, Query()] = None,
    ticker: Ticker = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[OrderOut]:
    return queries.list_page(
        for_process().db, "orders", OrderOut, Filters(status, ticker, since, until, limit, cursor)
    )


@router.get("/positions", middlewares=READ, security=BEARER, summary="Positions, newest first")
def list_positions(
    status: Annotated[PositionStatus | None, Query()] = None,
    ticker: Ticker = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[PositionOut]:
    return queries.list_page(
        for_process().db, "positions", PositionOut, Filters(status, ticker, since, until, limit, cursor)
    )


@router.get("/trades", middlewares=READ, security=BEARER, summary="Fills, newest first")
def list_trades(
    ticker: Ticker = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[TradeOut]:
    return queries.list_page(
        for_process().db, "trades", TradeOut, Filters(None, ticker, since, until, limit, cursor)
    )


@router.get(
    "/exit-signals",
    middlewares=READ,
    security=BEARER,
    summary="Active exit alerts and a summary (the seed's shape)",
)
def exit_signals() -> dict:
    deps = for_process()
    return queries.exit_signals_report(deps.db, deps.clock.now())


@router.get(
    "/signals/<signal_id>/decisions",
    middlewares=READ,
    security=BEARER,
    summary="The decision trail of one signal: every check, its inputs and outcome",
)
def get_signal_decisions(signal_id: Annotated[UUID, Path()]) -> list[DecisionOut]:
    detail = queries.signal_detail(for_process().db, signal_id)
    if detail is None:
        raise NotFoundError(f"signal {signal_id} not found")
    return detail.decisions
