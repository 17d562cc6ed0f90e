"""The risk limits and exit rules as an operator edits them, and the append-only record of each change."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from psycopg2 import sql
from psycopg2.extras import RealDictCursor

from optionflow.db.rows import StrategySettings

What = Literal["risk_limits", "exit_rules", "strategy_settings"]

# The columns an operator may change, per table. Column names reach SQL only from this map, never from a
# request, so a patch cannot name `name`, `updated_at` or anything else.
EDITABLE: dict[str, tuple[str, ...]] = {
    "risk_limits": (
        "max_open_positions",
        "max_daily_loss",
        "max_positions_per_ticker",
        "max_contracts_per_order",
        "risk_per_trade",
        "kill_switch",
    ),
    "exit_rules": (
        "profit_target_pct",
        "stop_loss_pct",
        "trailing_stop_pct",
        "min_dte",
        "max_hold_days",
        "close_minutes_before_close",
    ),
    "strategy_settings": tuple(f.name for f in fields(StrategySettings)),
}


def read(cur: RealDictCursor, what: What, name: str = "default", *, lock: bool = False) -> dict[str, Any]:
    """One row of `what`. With lock=True it is held until commit, so two changes (or a change and a
    signal processor's risk decision) apply one after the other, each on top of the other's result."""
    query = sql.SQL("SELECT * FROM {} WHERE name = %s").format(sql.Identifier(_table(what)))
    if lock:
        query += sql.SQL(" FOR UPDATE")
    cur.execute(query, (name,))
    row = cur.fetchone()
    if row is None:
        raise LookupError(f"{what} has no {name!r} row; run `optionflow db migrate`")
    return dict(row)


def update(
    cur: RealDictCursor, what: What, values: dict[str, Any], *, at: datetime, name: str = "default"
) -> dict[str, Any]:
    """Set `values` (editable columns only) and updated_at; returns the row as it now is."""
    unknown = set(values) - set(EDITABLE[_table(what)])
    if unknown or not values:
        raise ValueError(f"cannot update {what} columns {sorted(unknown) or '(none)'}")
    assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(column)) for column in values)
    cur.execute(
        sql.SQL("UPDATE {} SET {}, updated_at = %s WHERE name = %s RETURNING *").format(
            sql.Identifier(what), assignments
        ),
        (*values.values(), at, name),
    )
    row = cur.fetchone()
    if row is None:
        raise LookupError(f"{what} has no {name!r} row; run `optionflow db migrate`")
    return dict(row)


def record_change(
    cur: RealDictCursor,
    what: What,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    actor: str,
    reason: str | None,
    at: datetime,
    name: str = "default",
) -> dict[str, Any]:
    cur.execute(
        """INSERT INTO settings_changes (changed_at, actor, what, name, before, after, reason)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           RETURNING *""",
        (at, actor, _table(what), name, _json(before), _json(after), reason),
    )
    row = cur.fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return dict(row)


def changes(cur: RealDictCursor, *, limit: int, what: What | None = None) -> list[dict[str, Any]]:
    """The most recent changes, newest first."""
    cur.execute(
        """SELECT * FROM settings_changes WHERE (%s::text IS NULL OR what = %s)
           ORDER BY changed_at DESC, id DESC LIMIT %s""",
        (what, what, limit),
    )
    return [dict(row) for row in cur.fetchall()]


def _table(what: str) -> str:
    if what not in EDITABLE:
        raise ValueError(f"no settings table {what!r}")
    return what


def _json(values: dict[str, Any]) -> str:
    # NUMERIC columns hold at most 14 significant digits, which a JSON number (a double) keeps exactly.
    return json.dumps(values, default=lambda v: float(v) if isinstance(v, Decimal) else str(v))


def ensure_row(cur: RealDictCursor, what: What, name: str, *, at: datetime) -> None:
    """Create `name`'s row of a per-ticker settings table, all null (as the default row says), if missing."""
    if what != "strategy_settings":
        raise ValueError(f"{what} has only its default row")
    cur.execute(
        "INSERT INTO strategy_settings (name, updated_at) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
        (name, at),
    )


def names(cur: RealDictCursor, what: What) -> list[dict[str, Any]]:
    """Every row of `what`, the default first, then by name."""
    query = sql.SQL("SELECT * FROM {} ORDER BY name <> 'default', name").format(sql.Identifier(_table(what)))
    cur.execute(query)
    return [dict(row) for row in cur.fetchall()]
