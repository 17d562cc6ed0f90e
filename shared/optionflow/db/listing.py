"""Filtered, keyset-paginated listings for the query API (newest first)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from psycopg2 import sql
from psycopg2.extras import RealDictCursor

from optionflow.errors import FieldError

T = TypeVar("T")


@dataclass(frozen=True)
class Listing:
    table: str
    time_column: str
    ticker_column: str = "ticker"


LISTINGS = {
    "signals": Listing("signals", "received_at"),
    "orders": Listing("orders", "created_at"),
    "positions": Listing("positions", "opened_at"),
    "trades": Listing("trades", "executed_at"),
}


class BadCursor(FieldError):
    """The `cursor` parameter is not one this API returned (400)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__("cursor", message, detail=message)


def encode_cursor(at: datetime, row_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = text.split("|", 1)
        return _utc(datetime.fromisoformat(at)), UUID(row_id)
    except (ValueError, UnicodeDecodeError, OverflowError):  # Overflow: a time past year 1 or 9999 in UTC
        raise BadCursor("cursor is not one this API returned") from None


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    ticker: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    cursor: str | None = None


def _utc(at: datetime) -> datetime:
    """Naive means UTC; any offset Python accepts (up to ±23:59) is normalised, since Postgres takes ±15:59."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def page(
    cur: RealDictCursor, name: str, filters: Filters, row_type: Callable[[dict[str, Any]], T]
) -> tuple[list[T], str | None]:
    """One page of rows, each built by `row_type` (the API's model of that listing: the listing is that
    shape and no other), and the cursor of the next page (None on the last page)."""
    listing = LISTINGS[name]
    time_col = sql.Identifier(listing.time_column)
    where: list[sql.Composable] = []
    args: list[Any] = []
    if filters.status:
        where.append(sql.SQL("status = %s"))
        args.append(filters.status)
    if filters.ticker:
        where.append(sql.SQL("{} = %s").format(sql.Identifier(listing.ticker_column)))
        args.append(filters.ticker)
    if filters.since:
        where.append(sql.SQL("{} >= %s").format(time_col))
        args.append(_utc(filters.since))
    if filters.until:
        where.append(sql.SQL("{} < %s").format(time_col))
        args.append(_utc(filters.until))
    if filters.cursor:
        at, row_id = decode_cursor(filters.cursor)
        where.append(sql.SQL("({}, id) < (%s, %s)").format(time_col))
        args.extend([_utc(at), str(row_id)])
    query = sql.SQL("SELECT * FROM {table} {where} ORDER BY {time} DESC, id DESC LIMIT %s").format(
        table=sql.Identifier(listing.table),
        where=sql.SQL("WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""),
        time=time_col,
    )
    cur.execute(query, [*args, filters.limit + 1])
    rows = cur.fetchall()
    next_cursor = None
    if len(rows) > filters.limit:
        rows = rows[: filters.limit]
        last = rows[-1]
        next_cursor = encode_cursor(last[listing.time_column], last["id"])
    return [row_type(row) for row in rows], next_cursor
