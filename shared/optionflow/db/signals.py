"""Signals: the stored alerts."""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import psycopg2.errors
from psycopg2.extras import RealDictCursor

from optionflow.db.rows import Decision, columns
from optionflow.models.alert import Alert
from optionflow.states import SignalStatus

T = TypeVar("T")

_INSERT = """INSERT INTO signals (dedupe_key, dedupe_key_offset, ticker, action, direction, timeframe, price, strike,
                                expiry, quantity, alert_id, alert_time, raw_payload, body_sha256, received_at)
           VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
           ON CONFLICT DO NOTHING
           RETURNING id"""
_INSERT_SQL = _INSERT.format(*["%s"] * 15)
_PREPARE_SQL = "PREPARE optionflow_insert_signal AS " + _INSERT.format(*(f"${i}" for i in range(1, 16)))
_EXECUTE_SQL = f"EXECUTE optionflow_insert_signal ({', '.join(['%s'] * 15)})"
# The connections on which _INSERT is prepared (a connection opened anew prepares it again).
_prepared_on: weakref.WeakSet[Any] = weakref.WeakSet()
_prepare = [False]


def prepare_inserts(enabled: bool = True) -> None:
    """Whether `insert_if_new` prepares its INSERT once per connection and then only executes it: the
    server skips parsing and planning it (about a fifth of its time). For a process that stores alerts on
    one long-lived connection of its own, as the local API processes do; off by default, since behind a
    pooler such as RDS Proxy a PREPARE pins the session to one database connection (and a transaction-mode
    pooler would lose it). Only in autocommit mode, where the PREPARE cannot be rolled back with a
    transaction."""
    _prepare[0] = enabled


def insert_if_new(
    cur: RealDictCursor,
    *,
    alert: Alert,
    dedupe_key: str,
    raw_payload: dict[str, Any],
    body_sha256: str,
    received_at: datetime,
    offset_key: str | None = None,
) -> tuple[UUID, bool]:
    """Store the alert unless a signal holds `dedupe_key` or `offset_key`. Returns (signal id, created).

    ON CONFLICT waits for a concurrent insert of the same key to commit, so two deliveries racing each
    other still produce one row, and the loser reads the winner's id.
    """
    params = (
        dedupe_key,
        offset_key,
        alert.ticker,
        alert.action,
        alert.direction,
        alert.timeframe,
        alert.price,
        alert.strike,
        alert.expiry,
        alert.quantity,
        alert.alert_id,
        alert.time,
        json.dumps(raw_payload),
        body_sha256,
        received_at,
    )
    conn = cur.connection
    if _prepare[0] and conn.autocommit:
        try:
            if conn not in _prepared_on:
                with contextlib.suppress(psycopg2.errors.DuplicatePreparedStatement):  # the session has it
                    cur.execute(_PREPARE_SQL)
                _prepared_on.add(conn)
            cur.execute(_EXECUTE_SQL, params)
        except psycopg2.errors.InvalidSqlStatementName:
            # A pooler between this process and the server: its sessions do not keep what one prepared.
            # (Autocommit: the failed statement left nothing to roll back.)
            _prepare[0] = False
            cur.execute(_INSERT_SQL, params)
    else:
        cur.execute(_INSERT_SQL, params)
    row = cur.fetchone()
    if row is not None:
        return row["id"], True
    cur.execute(
        # through the function the unique indexes are built on (migration 015), so they answer it
        """SELECT id FROM signals
           WHERE signal_dedupe_index_key(dedupe_key) = signal_dedupe_index_key(%(key)s)
              OR signal_dedupe_index_key(dedupe_key_offset) = signal_dedupe_index_key(%(offset)s)
           ORDER BY seq LIMIT 1""",
        {"key": dedupe_key, "offset": offset_key},
    )
    existing = cur.fetchone()
    if existing is None:  # pragma: no cover - the conflicting row cannot vanish: signals are never deleted
        raise RuntimeError(f"dedupe key {dedupe_key} conflicted but no signal holds it")
    return existing["id"], False


def get(cur: RealDictCursor, signal_id: UUID, row_type: Callable[[dict[str, Any]], T]) -> T | None:
    """The signal, built by `row_type` (the API's model of a signal), or None."""
    cur.execute("SELECT * FROM signals WHERE id = %s", (str(signal_id),))
    row = cur.fetchone()
    return None if row is None else row_type(row)


def decisions(cur: RealDictCursor, signal_id: UUID) -> list[Decision]:
    """The signal's decision trail, in the order its checks ran (a check recorded again keeps its place and
    shows its latest outcome)."""
    cur.execute(
        f"SELECT {columns(Decision)} FROM decision_lines WHERE signal_id = %s ORDER BY place",
        (str(signal_id),),
    )
    return [Decision(**row) for row in cur.fetchall()]


@dataclass(frozen=True)
class ClaimedSignal:
    """A signal a pipeline stage has locked to work on: the columns the stages read, typed."""

    id: UUID
    seq: int
    ticker: str
    action: str  # BUY, SELL or CLOSE
    direction: str | None  # CALL or PUT; an exit may leave it out
    timeframe: str | None
    price: Decimal | None  # the alert's underlying price, dollars per share
    strike: Decimal | None  # dollars per share, when the alert names one
    expiry: date | None
    quantity: int | None  # contracts, when the alert names them
    status: SignalStatus
    received_at: datetime


def claim(cur: RealDictCursor, status: str, limit: int) -> list[ClaimedSignal]:
    """Lock up to `limit` signals in `status`, oldest first, skipping rows another worker holds."""
    # plain tuples, not dict rows: the dataclass is the row (a dict per row cost a third of the read)
    with cur.connection.cursor() as plain:
        plain.execute(
            # the columns the pipeline uses; not the raw payload, which would be parsed for nothing
            """SELECT id, seq, ticker, action, direction, timeframe, price, strike, expiry, quantity, status,
                      received_at
               FROM signals WHERE status = %s ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED""",
            (status, limit),
        )
        rows = plain.fetchall()
    return [
        ClaimedSignal(i, seq, ticker, action, direction, tf, price, strike, expiry, qty, SignalStatus(st), at)
        for i, seq, ticker, action, direction, tf, price, strike, expiry, qty, st, at in rows
    ]


def set_status(
    cur: RealDictCursor, signal_id: UUID, status: str, *, reasons: list[str] | None = None, at: datetime
) -> None:
    set_statuses(cur, [(signal_id, status, reasons)], at)


def set_statuses(
    cur: RealDictCursor, updates: list[tuple[UUID, str, list[str] | None]], at: datetime
) -> None:
    """Move many signals in one statement; reasons None keeps the ones already recorded. A signal already
    in a final state keeps it (a final state has no way out, see optionflow.states)."""
    if not updates:
        return
    ids = [str(signal_id) for signal_id, _, _ in updates]
    cur.execute(
        # One array per column, not a VALUES row per signal: psycopg2 adapts a list in one call. The rows
        # are found by primary key (`s.id = ANY`), and "not final" is spelled as the four final states
        # rather than the three unfinished ones: `IN ('PENDING', 'ACCEPTED', 'ORDERED')` matches the
        # partial indexes, and on the statistics of a burst (a fresh table, or one analyzed when nothing
        # was waiting) the planner then reads every unfinished signal to update two hundred.
        """UPDATE signals AS s
           SET status = v.status,
               rejection_reasons = CASE WHEN v.reasons IS NULL THEN s.rejection_reasons
                   ELSE ARRAY(SELECT r FROM jsonb_array_elements_text(v.reasons) WITH ORDINALITY AS e (r, n)
                              ORDER BY n) END,
               processed_at = COALESCE(s.processed_at, %(at)s), updated_at = %(at)s
           FROM unnest(%(ids)s::uuid[], %(statuses)s::text[], %(reasons)s::jsonb[]) AS v (id, status, reasons)
           WHERE s.id = v.id AND s.id = ANY(%(ids)s::uuid[])
             AND s.status <> ALL('{REJECTED,EXECUTED,FAILED,CANCELLED}'::text[])""",
        {
            "at": at,
            "ids": ids,
            "statuses": [str(status) for _, status, _ in updates],
            "reasons": [_json_list(reasons) for _, _, reasons in updates],
        },
    )


def _json_list(values: list[str] | None) -> str | None:
    if values is None:
        return None
    return json.dumps(values) if values else "[]"


def record_decisions(cur: RealDictCursor, trail: list[tuple[UUID, Any]], at: datetime) -> None:
    """Append decision-trail lines (signal id, Check) in one statement: one row per signal, its checks in
    `trail`'s order, which is the order the trail is read back in. A check recorded again for a signal keeps
    its place in the trail and shows its latest outcome (see `decisions`)."""
    if not trail:
        return
    sets: dict[UUID, list[dict[str, Any]]] = {}
    for signal_id, c in trail:
        sets.setdefault(signal_id, []).append(
            {"check_name": c.name, "passed": c.passed, "detail": c.detail, "inputs": c.inputs}
        )
    cur.execute(
        # One JSON array of every signal's checks (one json.dumps, not one a signal), walked once beside the
        # ids. json, not jsonb: the server only checks the text (jsonb would build it, then take it apart).
        """INSERT INTO decision_sets (signal_id, checks, decided_at)
           SELECT v.signal_id, v.checks, %(at)s
           FROM ROWS FROM (unnest(%(ids)s::uuid[]), json_array_elements(%(checks)s::json)) AS v (signal_id, checks)""",
        {
            "at": at,
            "ids": [str(signal_id) for signal_id in sets],
            "checks": json.dumps(list(sets.values()), default=str, separators=(",", ":")),
        },
    )


def oldest_waiting_age_seconds(cur: RealDictCursor, now: datetime) -> float:
    """Seconds since the oldest signal still waiting for a decision or an order arrived (0 when none);
    both steps take a minute at most at any hour, so an old one means the pipeline is stuck."""
    cur.execute(
        """SELECT received_at FROM signals WHERE status IN ('PENDING', 'ACCEPTED')
           ORDER BY seq LIMIT 1"""
    )
    row = cur.fetchone()
    return max((now - row["received_at"]).total_seconds(), 0.0) if row else 0.0
