"""The strategy engine's SQL: its settings (global and per ticker), the book as the portfolio caps see it,
and the terms each entry was bought on (its Greeks, IV and trade plan)."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any
from uuid import UUID

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import AlertPlan, BookLine, EntryTerms, StrategySettings

# a ticker's row cannot loosen the overall caps (they bound the whole book): only the default row's count
from optionflow.models.strategy_settings import OVERALL_ONLY

SETTINGS_FIELDS = tuple(f.name for f in fields(StrategySettings))


def strategy_settings(
    cur: RealDictCursor, ticker: str | None = None, *, lock: bool = False
) -> StrategySettings:
    """The settings in force for `ticker` (its row's non-null values over the default row's), or the
    default row alone. With lock=True the default row is held until commit: every entry's portfolio check
    takes it first, so two order creators size against the book one after the other, never both against
    the same last unit of a cap."""
    cur.execute(
        f"SELECT {', '.join(SETTINGS_FIELDS)} FROM strategy_settings WHERE name = 'default'"
        + (" FOR UPDATE" if lock else "")
    )
    default = cur.fetchone()
    if default is None:
        raise LookupError("strategy_settings has no 'default' row; run `optionflow db migrate`")
    values = dict(default)
    if ticker is not None:
        cur.execute(f"SELECT {', '.join(SETTINGS_FIELDS)} FROM strategy_settings WHERE name = %s", (ticker,))
        own = cur.fetchone()
        if own is not None:
            values |= {k: v for k, v in own.items() if v is not None and k not in OVERALL_ONLY}
    return _settings(values)


def settings_for(cur: RealDictCursor, tickers: set[str]) -> dict[str, StrategySettings]:
    """The settings in force for each of `tickers` (two queries, whatever their number)."""
    cur.execute(f"SELECT name, {', '.join(SETTINGS_FIELDS)} FROM strategy_settings")
    rows = {row.pop("name"): dict(row) for row in cur.fetchall()}
    default = rows.get("default")
    if default is None:
        raise LookupError("strategy_settings has no 'default' row; run `optionflow db migrate`")
    out = {}
    for ticker in tickers:
        own = rows.get(ticker, {})
        out[ticker] = _settings(
            default | {k: v for k, v in own.items() if v is not None and k not in OVERALL_ONLY}
        )
    return out


def _settings(values: dict[str, Any]) -> StrategySettings:
    values["mtf_timeframes"] = tuple(values.get("mtf_timeframes") or ())
    for flag in ("greek_exits_on", "mtf_on", "context_on"):
        values[flag] = bool(values.get(flag))
    return StrategySettings(**values)


def book_lines(cur: RealDictCursor) -> list[BookLine]:
    """Every held position and every working entry order (its unfilled part), with its premium at risk and
    Greeks per share: a position's latest mark's Greeks, else those it was entered on."""
    cur.execute(
        """SELECT p.ticker, p.expiry, p.quantity, p.multiplier, p.entry_price AS premium,
                  COALESCE(p.underlying_price, e.underlying) AS underlying,
                  COALESCE(p.delta::float8, e.delta) AS delta, COALESCE(p.gamma::float8, e.gamma) AS gamma,
                  COALESCE(p.theta::float8, e.theta) AS theta, COALESCE(p.vega::float8, e.vega) AS vega
           FROM positions p LEFT JOIN entry_plans e ON e.order_id = p.entry_order_id
           WHERE p.status IN ('OPEN', 'CLOSING')
           UNION ALL
           SELECT e.ticker, e.expiry, o.quantity - o.filled_quantity, e.multiplier, e.premium, e.underlying,
                  e.delta, e.gamma, e.theta, e.vega
           FROM orders o JOIN entry_plans e ON e.order_id = o.id
           WHERE o.purpose = 'ENTRY' AND o.status IN ('PENDING', 'SUBMITTED') AND o.quantity > o.filled_quantity"""
    )
    return [BookLine(**row) for row in cur.fetchall()]


def record_entry_plans(cur: RealDictCursor, plans: list[dict[str, Any]]) -> int:
    """Store each entry's terms beside its order (found by the signal it carries out); returns how many."""
    if not plans:
        return 0
    ids = [str(p["signal_id"]) for p in plans]
    cur.execute(
        # one array per column and the plans as one JSON array; the orders found through their unique
        # index by the batch's signal ids (`o.signal_id = ANY`), not by reading every entry order
        """INSERT INTO entry_plans (order_id, ticker, expiry, signal_id, quantity, premium, underlying, iv, delta,
                                    gamma, theta, vega, plan, created_at)
           SELECT o.id, o.ticker, o.expiry, v.signal_id, v.quantity, v.premium, v.underlying, v.iv, v.delta,
                  v.gamma, v.theta, v.vega, %(plans)s::jsonb -> (v.n::int - 1), v.created_at
           FROM unnest(%(ids)s::uuid[], %(quantities)s::int[], %(premiums)s::numeric[],
                       %(underlyings)s::numeric[], %(ivs)s::text[]::float8[], %(deltas)s::text[]::float8[],
                       %(gammas)s::text[]::float8[], %(thetas)s::text[]::float8[], %(vegas)s::text[]::float8[],
                       %(created)s::timestamptz[])
                WITH ORDINALITY AS v (signal_id, quantity, premium, underlying, iv, delta, gamma, theta, vega,
                                      created_at, n)
           JOIN orders o ON o.signal_id = v.signal_id AND o.purpose = 'ENTRY' AND o.signal_id = ANY(%(ids)s::uuid[])
           ON CONFLICT (order_id) DO NOTHING""",
        {
            "ids": ids,
            "quantities": [p["quantity"] for p in plans],
            "premiums": [p["premium"] for p in plans],
            "underlyings": [p["underlying"] for p in plans],
            "ivs": [_float(p["iv"]) for p in plans],
            "deltas": [_float(p["delta"]) for p in plans],
            "gammas": [_float(p["gamma"]) for p in plans],
            "thetas": [_float(p["theta"]) for p in plans],
            "vegas": [_float(p["vega"]) for p in plans],
            "created": [p["created_at"] for p in plans],
            "plans": json.dumps([p["plan"] for p in plans], default=_json_default),
        },
    )
    return int(cur.rowcount)


def entry_terms(
    cur: RealDictCursor, position_ids: list[UUID], *, all_of_them: bool = True
) -> dict[UUID, EntryTerms]:
    """The Greeks now and at entry, and the stored plan, of each of `position_ids` that has entry terms;
    with all_of_them=False only of those whose alert's plan set some field (what the exit rules need when
    no Greeks exit is on: most positions then cost the exit monitor nothing here)."""
    if not position_ids:
        return {}
    cur.execute(
        """SELECT p.id AS position_id, p.mark, p.delta::float8 AS delta, p.theta::float8 AS theta,
                  p.implied_vol::float8 AS iv, e.iv AS entry_iv, e.delta AS entry_delta, e.plan
           FROM positions p JOIN entry_plans e ON e.order_id = p.entry_order_id
           WHERE p.id = ANY(%s::uuid[]) AND (%s OR e.plan->'from_alert' <> '[]'::jsonb)""",
        ([str(i) for i in position_ids], all_of_them),
    )
    return {row["position_id"]: EntryTerms(**row) for row in cur.fetchall()}


def _float(value: Any) -> str | None:
    # as text, read by float8in: a float in an ARRAY[...] literal is read as numeric first, and numeric
    # has no negative zero (a put's delta far out of the money is -0.0, and stays -0.0)
    return None if value is None else repr(float(value))


def _json_default(value: Any) -> str:
    # Decimal money and dates as text: exact, and readable in the stored plan
    return str(value)


def alert_plans(cur: RealDictCursor, signal_ids: list[UUID]) -> list[AlertPlan]:
    """The `plan` object each of `signal_ids` carried in its alert (validated at the webhook), if any."""
    if not signal_ids:
        return []
    cur.execute(
        """SELECT id, raw_payload->'plan' AS plan FROM signals
           WHERE id = ANY(%s::uuid[]) AND jsonb_typeof(raw_payload->'plan') = 'object'""",
        ([str(i) for i in signal_ids],),
    )
    return [AlertPlan(signal_id=row["id"], plan=dict(row["plan"])) for row in cur.fetchall()]
