"""`make profile` counts the application's round trips through a connection class of its own: these hold
that it still sees the connections the application opens, and counts a transaction's BEGIN and COMMIT."""

from __future__ import annotations

from typing import Any

from optionflow.db.connection import Database

from benchmarks.profile import RECORDER, Tally, counted_connections, normalised


def test_the_profile_counts_every_round_trip_the_application_makes(database_url: str) -> None:
    db = Database(database_url)

    def one_statement(cur: Any) -> None:
        cur.execute("SELECT 1")

    with counted_connections(), RECORDER.into(Tally()) as tally:
        with db.transaction() as cur:  # BEGIN, three statements, COMMIT
            cur.execute("SELECT %s", (1,))
            cur.executemany("SELECT %s", [(2,), (3,)])
        db.run_statement(one_statement)  # autocommit: the statement alone
    assert (tally.statements, tally.begins, tally.ends, tally.round_trips) == (4, 1, 1, 6)
    assert tally.seconds > 0
    with RECORDER.into(Tally()) as after:
        db.run_statement(one_statement)
    assert after.statements == 0  # outside, the thread's connection is a plain one again


def test_statements_are_grouped_without_their_values() -> None:
    assert (
        normalised(b"INSERT INTO t (a, b) VALUES ('x', 1), ('y''s', 2.5)")
        == "INSERT INTO t (a, b) VALUES (?, …), …"
    )
    assert (
        normalised("SELECT *\n  FROM t WHERE id IN (%s, %s) AND n = 3")
        == "SELECT * FROM t WHERE id IN (?, …) AND n = ?"
    )
