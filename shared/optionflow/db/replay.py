"""The SQL of a replay: the scratch database it runs in, the stored alerts it reads, and what became of
each alert (asked of the real book and of the scratch book alike). Its rules are written with
db/trading_settings.py, like the real book's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg2.errors
from psycopg2 import sql
from psycopg2.extras import RealDictCursor

from optionflow.db.rows import ScratchDatabase, SignalOutcome, StoredAlert, columns

# Every scratch book is named so; a replay killed with SIGKILL leaves one that this prefix finds.
SCRATCH_PREFIX = "optionflow_replay_"

# A replay names its own connection to the server after its scratch book, from before CREATE DATABASE until
# after the drop: between the replay's connections to the book nobody is connected to it, and this claim is
# what tells a running replay's book from one a killed replay left behind.
CLAIM_PREFIX = "optionflow replay "


def claim_database(cur: Any, name: str) -> None:
    """Name this session after scratch book `name` (application_name, which pg_stat_activity shows to every
    role), so that drop_unused_database's callers leave the book alone while this session lasts."""
    _require_scratch(name)
    cur.execute("SELECT set_config('application_name', %s, false)", (CLAIM_PREFIX + name,))


def create_database(cur: Any, name: str) -> None:
    """CREATE DATABASE (needs an autocommit connection and the CREATEDB privilege). Only that: whatever the
    caller runs next may fail or be interrupted, so it must already be inside the block that drops the book."""
    _require_scratch(name)
    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def tune_database(cur: Any, name: str) -> None:
    """A scratch book lost in a crash is simply replayed again, so its commits need not wait for the disk
    (a replay commits a few thousand small transactions per day of alerts)."""
    _require_scratch(name)
    cur.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))


def drop_database(cur: Any, name: str) -> None:
    """Drop a scratch book, ending any session still connected to it."""
    _require_scratch(name)
    cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def unused_scratch_databases(cur: RealDictCursor) -> list[ScratchDatabase]:
    """The scratch books on the server that no session is connected to and no session claims, by name, each
    with its owner and whether this role may drop it (`name`, `owner`, `droppable`)."""
    # starts_with, not LIKE: in LIKE the prefix's underscores match any character
    cur.execute(
        """SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner,
                  pg_has_role(current_user, d.datdba, 'MEMBER') AS droppable
           FROM pg_database d
           WHERE starts_with(d.datname, %(prefix)s)
             AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                             WHERE a.datid = d.oid OR a.application_name = %(claim)s || d.datname)
           ORDER BY d.datname""",
        {"prefix": SCRATCH_PREFIX, "claim": CLAIM_PREFIX},
    )
    return [ScratchDatabase(**row) for row in cur.fetchall()]


def drop_unused_database(cur: Any, name: str) -> bool:
    """Drop scratch book `name` unless a session is connected to it; False (and nothing dropped) if one is.

    Without FORCE, the server itself refuses while anyone is connected, so a session that connected after
    unused_scratch_databases looked is never cut off."""
    _require_scratch(name)
    try:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    except psycopg2.errors.ObjectInUse:
        return False
    return True


def _require_scratch(name: str) -> None:
    # The only databases this module creates or drops are scratch books: never the real one by mistake.
    if not name.startswith(SCRATCH_PREFIX):
        raise ValueError(f"{name!r} is not a replay scratch database")


def alerts_received(cur: RealDictCursor, start: datetime, end: datetime) -> list[StoredAlert]:
    """The stored alerts received in [start, end), in arrival order, with the payload as stored."""
    cur.execute(
        f"""SELECT {columns(StoredAlert)} FROM signals
           WHERE received_at >= %s AND received_at < %s ORDER BY received_at, seq""",
        (start, end),
    )
    return [StoredAlert(**row) for row in cur.fetchall()]


def outcomes(cur: RealDictCursor, signal_ids: list[str]) -> dict[str, SignalOutcome]:
    """{signal id: what became of it}: its status and reasons, the position it opened (if any), and how many
    positions it closed (SELL/CLOSE alerts). Money in dollars: P&L and cost basis per position, prices per
    share."""
    if not signal_ids:
        return {}
    cur.execute(
        """SELECT s.id, s.status, s.rejection_reasons,
                  p.id AS position_id, p.status AS position_status, p.ticker, p.option_type, p.option_symbol,
                  p.quantity, p.entry_price, p.exit_price, p.cost_basis, p.opened_at, p.closed_at,
                  p.exit_reason, p.realized_pnl, p.unrealized_pnl,
                  (SELECT count(*) FROM orders o
                    WHERE o.signal_id = s.id AND o.purpose = 'EXIT' AND o.status = 'FILLED') AS closed_positions
           FROM signals s LEFT JOIN positions p ON p.signal_id = s.id
           WHERE s.id = ANY(%s::uuid[])""",
        (signal_ids,),
    )
    return {str(row["id"]): SignalOutcome(**row) for row in cur.fetchall()}
