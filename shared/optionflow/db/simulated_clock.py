"""The simulated clock's one row, and the advisory lock that keeps worker runs and clock changes apart.

A run on the simulated clock holds the lock shared from before it reads the time until it ends; a change to
the clock (set, advance, speed, pause) holds it exclusively. So no run works at an instant the clock has
since moved past, and an advance's sweeps are the only runs while it steps.
"""

from __future__ import annotations

from datetime import datetime

from psycopg2.extras import RealDictCursor

from optionflow.clock import ClockState

# Any constant works; it only has to be the same for every process on this database (the migration lock is
# another one).
CLOCK_LOCK = 8_421_337_002

_COLUMNS = "anchor_at, anchor_wall, speed, paused, swept_to, changed_by"


def read(cur: RealDictCursor) -> ClockState | None:
    cur.execute(f"SELECT {_COLUMNS} FROM simulated_clock")
    row = cur.fetchone()
    return ClockState.from_row(row) if row else None


def start(cur: RealDictCursor, at: datetime, wall: datetime, by: str) -> ClockState:
    """The clock, started at `at` (running, real speed) when the book has none yet."""
    cur.execute(
        """INSERT INTO simulated_clock (anchor_at, anchor_wall, speed, paused, swept_to, changed_by)
           VALUES (%s, %s, 1, false, %s, %s) ON CONFLICT (one) DO NOTHING""",
        (at, wall, at, by),
    )
    row = read(cur)
    assert row is not None  # inserted now, or there already
    return row


def save(
    cur: RealDictCursor,
    *,
    at: datetime,
    wall: datetime,
    speed: float,
    paused: bool,
    swept_to: datetime,
    by: str,
) -> ClockState:
    """Re-anchor the clock: it stands at `at` at the wall-clock instant `wall`."""
    cur.execute(
        f"""INSERT INTO simulated_clock (anchor_at, anchor_wall, speed, paused, swept_to, changed_by)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (one) DO UPDATE SET anchor_at = EXCLUDED.anchor_at, anchor_wall = EXCLUDED.anchor_wall,
                speed = EXCLUDED.speed, paused = EXCLUDED.paused, swept_to = EXCLUDED.swept_to,
                changed_by = EXCLUDED.changed_by
            RETURNING {_COLUMNS}""",
        (at, wall, speed, paused, swept_to, by),
    )
    row = cur.fetchone()
    assert row is not None
    return ClockState.from_row(row)


def hold_for_run(cur: RealDictCursor) -> None:
    """Wait until no change to the clock is under way, then keep changes out (session lock, shared)."""
    cur.execute("SELECT pg_advisory_lock_shared(%s)", (CLOCK_LOCK,))


def hold_for_run_and_read(cur: RealDictCursor) -> ClockState | None:
    """`hold_for_run`, then `read`, in one round trip: two statements, the second with its own snapshot,
    taken once the lock is held (a change committed before the lock was granted is seen)."""
    cur.execute(f"SELECT pg_advisory_lock_shared(%s); SELECT {_COLUMNS} FROM simulated_clock", (CLOCK_LOCK,))
    row = cur.fetchone()
    return ClockState.from_row(row) if row else None


def release_from_run(cur: RealDictCursor) -> None:
    cur.execute("SELECT pg_advisory_unlock_shared(%s)", (CLOCK_LOCK,))


def hold_for_change(cur: RealDictCursor) -> None:
    """Wait until the runs under way have ended, then keep runs and other changes out (session lock)."""
    cur.execute("SELECT pg_advisory_lock(%s)", (CLOCK_LOCK,))


def release_from_change(cur: RealDictCursor) -> None:
    cur.execute("SELECT pg_advisory_unlock(%s)", (CLOCK_LOCK,))


def commit_without_waiting(cur: RealDictCursor) -> None:
    """This session's commits stop waiting for the disk (an advance's sweeps). A Postgres crash could lose
    the last fraction of a second of them, in order; a client that dies loses nothing it committed."""
    cur.execute("SET synchronous_commit = off")


def commit_waiting(cur: RealDictCursor) -> None:
    cur.execute("RESET synchronous_commit")
