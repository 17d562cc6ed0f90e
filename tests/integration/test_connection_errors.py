"""A statement that loses a race is not a lost connection: the transaction is rolled back and the
connection kept; only a connection that really broke is dropped and re-opened."""

from __future__ import annotations

import threading

import psycopg2
import pytest
from optionflow.db.connection import Database, DatabaseBusy, DatabaseUnavailable


@pytest.fixture
def table(settings):
    admin = psycopg2.connect(settings.database_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS race_probe (id int PRIMARY KEY, n int NOT NULL)")
        cur.execute("TRUNCATE race_probe")
        cur.execute("INSERT INTO race_probe VALUES (1, 0), (2, 0)")
    yield admin
    with admin.cursor() as cur:
        cur.execute("DROP TABLE race_probe")
    admin.close()


def test_a_lock_timeout_rolls_back_and_keeps_the_connection(settings, table):
    database = Database(settings.database_url)
    holder = psycopg2.connect(settings.database_url)
    with holder.cursor() as cur:
        cur.execute("UPDATE race_probe SET n = n + 1 WHERE id = 1")  # holds the row lock, uncommitted
    connection = database.connection()

    with pytest.raises(DatabaseBusy) as caught, database.transaction() as cur:
        cur.execute("SET LOCAL lock_timeout = '50ms'")
        cur.execute("UPDATE race_probe SET n = n + 10 WHERE id = 2")
        cur.execute("UPDATE race_probe SET n = n + 10 WHERE id = 1")

    assert "55P03" in str(caught.value)
    assert caught.value.headers == {"Retry-After": "1"}
    assert database.connection() is connection and not connection.closed
    holder.rollback()
    holder.close()
    with database.transaction() as cur:  # nothing of the failed transaction was kept
        cur.execute("SELECT id, n FROM race_probe ORDER BY id")
        assert [tuple(row.values()) for row in cur.fetchall()] == [(1, 0), (2, 0)]


def test_a_deadlock_is_busy_and_run_in_transaction_tries_again_on_the_same_connection(settings, table):
    database = Database(settings.database_url)
    other = psycopg2.connect(settings.database_url)
    locked_two = threading.Event()
    attempts: list[int] = []

    def work(cur):
        attempts.append(1)
        cur.execute("UPDATE race_probe SET n = n + 1 WHERE id = 1")
        if len(attempts) == 1:
            locked_two.wait(5)
        cur.execute("UPDATE race_probe SET n = n + 1 WHERE id = 2")

    def rival():
        with other.cursor() as cur:
            cur.execute("SET deadlock_timeout = '10s'")  # so the deadlock is detected on our side
            cur.execute("UPDATE race_probe SET n = n + 100 WHERE id = 2")
            locked_two.set()
            cur.execute("UPDATE race_probe SET n = n + 100 WHERE id = 1")
        other.commit()

    connection = database.connection()
    with database.transaction() as cur:
        cur.execute("SET deadlock_timeout = '50ms'")
    thread = threading.Thread(target=rival)
    thread.start()
    database.run_in_transaction(work)
    thread.join(10)
    other.close()

    assert len(attempts) == 2
    assert database.connection() is connection
    with database.transaction() as cur:
        cur.execute("SELECT n FROM race_probe ORDER BY id")
        assert [row["n"] for row in cur.fetchall()] == [101, 101]


def test_a_connection_the_server_ended_is_dropped_and_the_next_call_reconnects(settings, table):
    database = Database(settings.database_url)
    connection = database.connection()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    connection.rollback()
    with table.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))

    with pytest.raises(DatabaseUnavailable) as caught, database.transaction() as cur:
        cur.execute("SELECT 1")
    assert not isinstance(caught.value, DatabaseBusy)
    assert connection.closed
    with database.transaction() as cur:
        cur.execute("SELECT 1 AS one")
        assert cur.fetchone()["one"] == 1
    assert database.connection() is not connection
