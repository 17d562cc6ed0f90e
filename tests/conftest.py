"""Shared fixtures: a real Postgres (DATABASE_URL or the embedded one), a frozen market clock, a recording bus."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from optionflow import clock, config
from optionflow.config import Settings
from optionflow.db import connection
from optionflow.db.migrate import migrate
from optionflow.events import bus
from optionflow.local.lambda_context import LocalContext

from tests.fakes import RecordingBus

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
WEBHOOK_SECRET = "local-webhook-secret"  # the secret the events/api fixtures carry
JWT_SECRET = "test-jwt-secret-with-at-least-32-bytes!!"
# A Monday, 10:00 in New York: the market is open.
MARKET_OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("America/New_York"))
RESETTABLE = "signals, decisions, decision_sets, orders, positions, trades, exit_signals, worker_runs, worker_controls, settings_changes, simulated_clock, notifications, notification_deliveries, notification_channel_settings"


def load_event(relative: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / relative).read_text()))


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A server to create test databases on: DATABASE_URL when set, else an embedded Postgres."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    import shutil
    import tempfile

    from optionflow.local import embedded_postgres

    # Not under pytest's basetemp: a later pytest session on this machine prunes old basetemps, and would
    # delete a running session's database files under it.
    data_dir = Path(tempfile.mkdtemp(prefix="optionflow-test-pg-"))
    admin_url, server = embedded_postgres.start(data_dir, database="postgres")
    yield admin_url
    server.cleanup()
    shutil.rmtree(data_dir, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database for this test session (one per xdist worker), migrated."""
    name = f"optionflow_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(postgres_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(postgres_server_url, name)
    conn = psycopg2.connect(url)
    migrate(conn)
    conn.close()
    yield url
    connection.close_connection()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def settings(database_url: str) -> Iterator[Settings]:
    s = Settings(database_url=database_url, jwt_secret=JWT_SECRET, webhook_secret=WEBHOOK_SECRET)
    config.use_settings(s)
    connection.set_database_url(database_url)
    yield s
    config.reset_settings()


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    frozen = clock.FrozenClock(MARKET_OPEN)
    clock.set_clock(frozen)
    yield frozen
    clock.set_clock(None)


@pytest.fixture
def recording_bus() -> Iterator[RecordingBus]:
    recorder = RecordingBus()
    bus.set_bus(recorder)
    yield recorder
    bus.set_bus(None)


@pytest.fixture
def deps(settings: Settings, frozen_clock: clock.FrozenClock, recording_bus: RecordingBus) -> Any:
    """The test's dependencies, as a handler would build them (`composition.for_process`): the test
    settings and database, the frozen clock, the recording bus, and the market a `market` fixture installs."""
    from optionflow.composition import for_process

    return for_process()


@pytest.fixture
def db(settings: Settings, frozen_clock: clock.FrozenClock, recording_bus: RecordingBus) -> Iterator[Any]:
    """An empty pipeline (default risk limits and exit rules) and a cursor to look at it."""
    conn = psycopg2.connect(settings.database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"TRUNCATE {RESETTABLE} RESTART IDENTITY CASCADE")
        cur.execute("DELETE FROM risk_limits WHERE name <> 'default'")
        cur.execute("""UPDATE risk_limits SET max_open_positions = 20, max_daily_loss = 1000,
                       max_positions_per_ticker = 5, max_contracts_per_order = 10, risk_per_trade = 500,
                       kill_switch = false""")
        cur.execute("""UPDATE exit_rules SET profit_target_pct = 50, stop_loss_pct = 50, trailing_stop_pct = NULL,
                       min_dte = 1, max_hold_days = 5, close_minutes_before_close = NULL""")
        cur.execute("DELETE FROM strategy_settings")
        cur.execute("""INSERT INTO strategy_settings (name, sizing_method, vol_measure, vol_target_pct, account_equity,
                       greek_exits_on, mtf_on, mtf_timeframes, mtf_ema_fast, mtf_ema_slow, context_on)
                       VALUES ('default', 'DOLLAR_RISK', 'IV', 25, 100000, false, false, '{15m,1h}', 9, 21, false)""")
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        yield cur
    conn.close()


@pytest.fixture
def simulated_clock(db: Any, settings: Settings) -> Iterator[clock.SimulatedClock]:
    """The simulated clock (OPTIONFLOW_CLOCK_START) paused at MARKET_OPEN, so times read exactly; with it
    the API serves GET and POST /clock. Step it with `tests.pipeline_support.advance`."""
    from optionflow.db import simulated_clock as store
    from optionflow.db.connection import run_in_transaction

    config.use_settings(settings.model_copy(update={"clock_start": MARKET_OPEN}))
    simulated = clock.SimulatedClock(MARKET_OPEN)
    run_in_transaction(
        lambda cur: store.save(
            cur,
            at=MARKET_OPEN,
            wall=clock.wall_now(),
            speed=1.0,
            paused=True,
            swept_to=MARKET_OPEN,
            by="test",
        )
    )
    clock.set_clock(simulated)
    yield simulated
    clock.set_clock(None)


@pytest.fixture
def lambda_context() -> LocalContext:
    return LocalContext("TestFunction")


@pytest.fixture
def market() -> Iterator[Any]:
    """The default simulated market, with option prices that tests can shift (see ShiftedMarket)."""
    from optionflow.market.provider import get_market_data, set_market_data

    from tests.pipeline_support import ShiftedMarket

    set_market_data(None)
    shifted = ShiftedMarket(get_market_data())
    set_market_data(shifted)
    yield shifted
    set_market_data(None)


@pytest.fixture
def api_server(db: Any) -> Iterator[str]:
    """The API Lambda behind the local HTTP bridge on a free port, over the `db` fixture's database.

    For command-line tests: `main([..., "--api", api_server, "--token", token("admin")])`.
    """
    import threading

    from api.app import lambda_handler
    from optionflow.local.http_bridge import make_server

    server = make_server("127.0.0.1", 0, lambda_handler)
    thread = threading.Thread(target=server.serve_forever, name="test-api", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)
