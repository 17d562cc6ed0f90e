"""The risk limits and exit rules as an operator edits them, and the append-only record of each change."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, overload

from psycopg2 import sql
from psycopg2.extras import RealDictCursor

from optionflow.db.rows import (
    ExitRules,
    RiskLimits,
    SettingsChange,
    StoredExitRules,
    StoredRiskLimits,
    StoredStrategySettings,
    StrategySettings,
    columns,
)

What = Literal["risk_limits", "exit_rules", "notifications", "strategy_settings"]
Stored = StoredRiskLimits | StoredExitRules | StoredStrategySettings

# The columns an operator may change, per table: the fields of the typed rows (db/rows.py). Column names
# reach SQL only from this map, never from a request, so a patch cannot name `name`, `updated_at` or
# anything else.
EDITABLE: dict[str, tuple[str, ...]] = {
    "risk_limits": tuple(f.name for f in fields(RiskLimits)),
    "exit_rules": tuple(f.name for f in fields(ExitRules)),
    "strategy_settings": tuple(f.name for f in fields(StrategySettings)),
}
_STORED: dict[str, type[StoredRiskLimits] | type[StoredExitRules] | type[StoredStrategySettings]] = {
    "risk_limits": StoredRiskLimits,
    "exit_rules": StoredExitRules,
    "strategy_settings": StoredStrategySettings,
}


@overload
def read(
    cur: RealDictCursor, what: Literal["risk_limits"], name: str = ..., *, lock: bool = ...
) -> StoredRiskLimits: ...
@overload
def read(
    cur: RealDictCursor, what: Literal["exit_rules"], name: str = ..., *, lock: bool = ...
) -> StoredExitRules: ...
@overload
def read(
    cur: RealDictCursor, what: Literal["strategy_settings"], name: str = ..., *, lock: bool = ...
) -> StoredStrategySettings: ...
@overload
def read(cur: RealDictCursor, what: What, name: str = ..., *, lock: bool = ...) -> Stored: ...
def read(cur: RealDictCursor, what: What, name: str = "default", *, lock: bool = False) -> Stored:
    """One row of `what`. With lock=True it is held until commit, so two changes (or a change and a
    signal processor's risk decision) apply one after the other, each on top of the other's result."""
    row_type = _STORED[_table(what)]
    query = sql.SQL("SELECT {} FROM {} WHERE name = %s").format(
        sql.SQL(columns(row_type)), sql.Identifier(what)
    )
    if lock:
        query += sql.SQL(" FOR UPDATE")
    cur.execute(query, (name,))
    row = cur.fetchone()
    if row is None:
        raise LookupError(f"{what} has no {name!r} row; run `optionflow db migrate`")
    return row_type(**row)


def update(
    cur: RealDictCursor, what: What, values: dict[str, Any], *, at: datetime, name: str = "default"
) -> Stored:
    """Set `values` (editable columns only) and updated_at; returns the row as it now is."""
    unknown = set(values) - set(EDITABLE[_table(what)])
    if unknown or not values:
        raise ValueError(f"cannot update {what} columns {sorted(unknown) or '(none)'}")
    assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(column)) for column in values)
    row_type = _STORED[what]
    cur.execute(
        sql.SQL("UPDATE {} SET {}, updated_at = %s WHERE name = %s RETURNING {}").format(
            sql.Identifier(what), assignments, sql.SQL(columns(row_type))
        ),
        (*values.values(), at, name),
    )
    row = cur.fetchone()
    if row is None:
        raise LookupError(f"{what} has no {name!r} row; run `optionflow db migrate`")
    return row_type(**row)


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
) -> SettingsChange:
    cur.execute(
        f"""INSERT INTO settings_changes (changed_at, actor, what, name, before, after, reason)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           RETURNING {columns(SettingsChange)}""",
        (at, actor, _table(what), name, _json(before), _json(after), reason),
    )
    row = cur.fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return SettingsChange(**row)


def changes(cur: RealDictCursor, *, limit: int, what: What | None = None) -> list[SettingsChange]:
    """The most recent changes, newest first."""
    cur.execute(
        f"""SELECT {columns(SettingsChange)} FROM settings_changes WHERE (%s::text IS NULL OR what = %s)
           ORDER BY changed_at DESC, id DESC LIMIT %s""",
        (what, what, limit),
    )
    return [SettingsChange(**row) for row in cur.fetchall()]


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


def strategy_rows(cur: RealDictCursor) -> list[StoredStrategySettings]:
    """Every row of strategy_settings, the default first, then by name."""
    cur.execute(
        f"""SELECT {columns(StoredStrategySettings)} FROM strategy_settings
           ORDER BY name <> 'default', name"""
    )
    return [StoredStrategySettings(**row) for row in cur.fetchall()]
