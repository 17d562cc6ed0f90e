"""Migrations apply in order, once, and refuse a migration edited after it ran."""

from __future__ import annotations

import threading
import uuid

import psycopg2
import pytest
from optionflow.db.migrate import Migration, MigrationError, available_migrations, migrate

from tests.conftest import _with_database


@pytest.fixture
def empty_database(postgres_server_url):
    name = f"optionflow_migrate_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(postgres_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(postgres_server_url, name)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_migrations_apply_once_and_are_recorded(empty_database):
    conn = psycopg2.connect(empty_database)
    versions = [m.version for m in available_migrations()]
    assert migrate(conn) == versions
    assert migrate(conn) == []
    with conn.cursor() as cur:
        cur.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert [row[0] for row in cur.fetchall()] == versions
        cur.execute("SELECT max_open_positions, max_daily_loss FROM risk_limits WHERE name = 'default'")
        assert cur.fetchone() == (20, 1000)
    conn.close()


def test_concurrent_migrations_apply_everything_exactly_once(empty_database):
    results: list[list[str]] = []

    def run() -> None:
        conn = psycopg2.connect(empty_database)
        results.append(migrate(conn))
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 0, len(available_migrations())]


def test_a_migration_edited_after_it_ran_is_refused(empty_database, monkeypatch):
    conn = psycopg2.connect(empty_database)
    migrate(conn)
    original = available_migrations()
    edited = [Migration(m.version, m.name, m.sql + "\n-- edited") for m in original]
    monkeypatch.setattr("optionflow.db.migrate.available_migrations", lambda: edited)
    with pytest.raises(MigrationError, match="edited after it was applied"):
        migrate(conn)
    conn.close()


def test_status_checks_refuse_values_outside_the_state_machine(db):
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.execute("""INSERT INTO signals (dedupe_key, ticker, action, direction, raw_payload, body_sha256, status)
                      VALUES ('x', 'SPY', 'BUY', 'CALL', '{}', 'h', 'APPROVED')""")
