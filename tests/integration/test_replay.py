"""Replay: stored alerts run again through the real pipeline on a scratch book, compared with what happened.

Every test first lives a trading day the way the stack does: each alert through the webhook at its own
second and on along the fast path, and every minute of the session the five schedules' sweeps.
"""

from __future__ import annotations

import json
import time as time_module
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from optionflow.calendar import NEW_YORK
from optionflow.cli import main
from optionflow.composition import for_process
from optionflow.db.connection import DatabaseUnavailable, thread_connection
from optionflow.events import bus
from optionflow.logic.replay import Progress, Report, Window, replay
from optionflow.models.replay_rules import load_rules

from tests.pipeline_support import ShiftedMarket, alert, rows, run, sweep

DAY = date(2026, 11, 23)  # a Monday; MARKET_OPEN in conftest
# (time in New York, alert fields): entries at odd seconds, one before the open, one closing alert
ALERTS: list[tuple[time, dict[str, Any]]] = [
    (time(8, 0, 0), {"ticker": "SPY", "action": "BUY", "direction": "CALL"}),
    (time(10, 0, 0), {"ticker": "SPY", "action": "BUY", "direction": "CALL"}),
    (time(10, 3, 27), {"ticker": "QQQ", "action": "BUY", "direction": "PUT"}),
    (time(10, 41, 5), {"ticker": "AAPL", "action": "BUY", "direction": "CALL"}),
    (time(11, 15, 40), {"ticker": "SPY", "action": "BUY", "direction": "PUT"}),
    (time(12, 2, 13), {"ticker": "NVDA", "action": "BUY", "direction": "CALL"}),
    (time(12, 30, 0), {"ticker": "TSLA", "action": "BUY", "direction": "PUT"}),
    (time(14, 10, 0), {"ticker": "AMD", "action": "BUY", "direction": "CALL"}),
    (time(14, 20, 30), {"ticker": "AMD", "action": "CLOSE", "direction": None}),
    # before the 15-minute end-of-day window (no entries inside it), closed by the time stop at 15:45
    (time(15, 30, 0), {"ticker": "IWM", "action": "BUY", "direction": "CALL"}),
]
REAL_TABLES = (
    "signals",
    "decisions",
    "decision_sets",
    "orders",
    "positions",
    "trades",
    "exit_signals",
    "risk_limits",
    "exit_rules",
)


def _at(t: time) -> datetime:
    return datetime.combine(DAY, t, NEW_YORK)


def _fast_path(recording: Any) -> None:
    """What the event rules run after an alert: decide, order, fill, then mark and check the new positions."""
    seen = len(recording.events)
    for worker in ("signal_processor", "order_creator", "paper_executor"):
        run(worker)
    opened = [
        i for kind, d in recording.events[seen:] if kind == bus.POSITION_OPENED for i in d["position_ids"]
    ]
    if opened:
        from optionflow.local.lambda_context import LocalContext
        from workers import exit_monitor, position_refresher

        for handler, detail_type in (
            (position_refresher, bus.POSITION_OPENED),
            (exit_monitor, bus.POSITIONS_REFRESHED),
        ):
            event = {"detail-type": detail_type, "source": "optionflow", "detail": {"position_ids": opened}}
            handler.lambda_handler(event, LocalContext(detail_type))
        run("paper_executor")


def _sweep() -> None:
    sweep()
    run("paper_executor")  # the exit orders the monitor just placed, as order.created would


def live_day(frozen_clock: Any, recording: Any) -> None:
    """The live run: the alerts at their seconds, and the schedules every minute from the open to the close."""
    ticks = [_at(time(9, 30)) + timedelta(minutes=m) for m in range(391)]
    events = sorted(
        [(t, 0, None) for t in ticks] + [(_at(t), 1, body) for t, body in ALERTS], key=lambda e: e[:2]
    )
    for at, _, body in events:
        frozen_clock.set(at)
        if body is None:
            _sweep()
        else:
            alert(**body)
            _fast_path(recording)


def store_alerts(frozen_clock: Any) -> None:
    """Only the webhook's part of the day, for tests that need stored alerts and not what became of them."""
    for t, body in ALERTS:
        frozen_clock.set(_at(t))
        alert(**body)


def _tight_exits(db: Any) -> None:
    # exits within the day, so every position closes with a realized P&L to compare
    db.execute(
        "UPDATE exit_rules SET profit_target_pct = 10, stop_loss_pct = 10, close_minutes_before_close = 15"
    )


def _fingerprint(db: Any) -> dict[str, str]:
    prints = {}
    for table in REAL_TABLES:
        db.execute(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM {table} t")
        prints[table] = db.fetchone()["h"]
    return prints


def _database_exists(db: Any, name: str) -> bool:
    db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    return db.fetchone() is not None


def _current_database() -> str:
    """The database this thread's pipeline connection is on (read from the connection, no query)."""
    conn = thread_connection()
    assert conn is not None
    return str(conn.get_dsn_parameters()["dbname"])


class _QuotesFailIn(ShiftedMarket):
    """The simulated market, failing SPY quotes once armed with an error that stops a run (a lost
    database connection: one failing row alone no longer stops anything), noting the database asking."""

    armed = False
    databases: set[str]

    def option_quote(self, ticker: str, option_type: str, strike: Any, expiry: Any, at: Any) -> Any:
        if self.armed:
            self.databases.add(_current_database())
            if ticker == "SPY":
                raise DatabaseUnavailable("connection lost while quoting SPY")
        return super().option_quote(ticker, option_type, strike, expiry, at)


class _ScratchSpy:
    """A progress callback that notes which database the replay is working in (and can stop it)."""

    def __init__(self, interrupt: bool = False) -> None:
        self.databases: set[str] = set()
        self.calls: list[Progress] = []
        self.interrupt = interrupt

    def __call__(self, progress: Progress) -> None:
        self.calls.append(progress)
        self.databases.add(_current_database())
        if self.interrupt:
            raise KeyboardInterrupt


def _replay(settings: Any, **kwargs: Any) -> Report:
    return replay(for_process(), database_url=settings.database_url, window=Window(DAY, DAY), **kwargs)


def _by_rule(report: Report, side: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in report.alerts:
        outcome = getattr(row, side)
        if outcome and outcome.exit_rule:
            counts[outcome.exit_rule] = counts.get(outcome.exit_rule, 0) + 1
    return counts


def test_replay_with_the_same_rules_reproduces_every_outcome_to_the_cent(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any
) -> None:
    _tight_exits(db)
    live_day(frozen_clock, recording_bus)

    report = _replay(settings)

    assert len(report.alerts) == len(ALERTS)
    different = [
        (r.ticker, r.actual.describe(), r.replay and r.replay.describe()) for r in report.alerts if not r.same
    ]
    assert different == []
    actual = rows(db, "SELECT exit_reason, realized_pnl FROM positions ORDER BY opened_at")
    replayed = [
        {"exit_reason": r.replay.exit_rule, "realized_pnl": r.replay.realized_pnl}
        for r in report.alerts
        if r.replay is not None and r.replay.position_status
    ]
    assert replayed == actual
    assert len(actual) == 7  # every BUY in the session but TSLA's, whose premium the $500 budget cannot buy
    # the day exercised rules and alerts alike, so the equality covers exits, not just entries
    assert {a["exit_reason"] for a in actual} >= {"CLOSE alert", "TIME_STOP"}
    assert {a["exit_reason"] for a in actual} & {"STOP_LOSS", "PROFIT_TARGET"}
    assert report.replay["realized_pnl"] == report.actual["realized_pnl"]
    assert report.replay["realized_pnl"] == sum((a["realized_pnl"] for a in actual), Decimal(0))
    before_open = report.alerts[0]
    assert before_open.replay is not None and before_open.replay.status == "REJECTED"
    assert "market closed" in before_open.replay.reasons[0]


def test_a_tighter_stop_loss_stops_more_trades_sooner_and_never_loses_more_on_them(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any, tmp_path: Path
) -> None:
    _tight_exits(db)
    live_day(frozen_clock, recording_bus)
    rules_file = tmp_path / "tight.json"
    rules_file.write_text(json.dumps({"exit_rules": {"stop_loss_pct": 3}}))

    report = _replay(settings, rules=load_rules(rules_file))

    assert report.exit_rules["stop_loss_pct"] == Decimal(3)
    assert _by_rule(report, "replay").get("STOP_LOSS", 0) > _by_rule(report, "actual").get("STOP_LOSS", 0)
    for row in report.alerts:
        if row.actual.exit_rule == "STOP_LOSS":
            assert row.replay is not None and row.replay.exit_rule == "STOP_LOSS"
            assert row.replay.closed_at <= row.actual.closed_at
            assert row.replay.realized_pnl >= row.actual.realized_pnl
    assert any(not row.same for row in report.alerts)


def test_replay_leaves_the_real_tables_untouched_and_drops_its_scratch_book(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any, tmp_path: Path
) -> None:
    _tight_exits(db)
    live_day(frozen_clock, recording_bus)
    before = _fingerprint(db)
    rules_file = tmp_path / "other.yaml"
    rules_file.write_text("risk_limits: {max_open_positions: 2}\nexit_rules: {stop_loss_pct: 3}\n")
    spy = _ScratchSpy()

    report = _replay(settings, rules=load_rules(rules_file), on_progress=spy)

    assert any(not row.same for row in report.alerts)  # the replay did write a different book...
    assert _fingerprint(db) == before  # ...but not into the real one
    assert len(spy.databases) == 1
    (scratch,) = spy.databases
    assert scratch.startswith("optionflow_replay_") and scratch != settings.database_url.rsplit("/", 1)[-1]
    assert not _database_exists(db, scratch)
    assert recording_bus.of_type(bus.SIGNAL_RECEIVED)  # the live run's events...
    live_events = len(recording_bus.events)
    _replay(settings)
    assert len(recording_bus.events) == live_events  # ...and none from the replay on the process bus


def test_a_failing_replay_still_drops_its_scratch_book(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any
) -> None:
    from optionflow.market.provider import get_market_data, set_market_data

    set_market_data(None)
    failing = _QuotesFailIn(get_market_data())
    set_market_data(failing)
    try:
        _tight_exits(db)
        store_alerts(frozen_clock)  # the replay reads only the stored alerts
        before = _fingerprint(db)
        failing.armed, failing.databases = True, set()

        with pytest.raises(DatabaseUnavailable):
            _replay(settings)  # sizing the first SPY entry needs a quote

        (scratch,) = failing.databases
        assert scratch.startswith("optionflow_replay_")
        assert not _database_exists(db, scratch)
        assert _fingerprint(db) == before
    finally:
        set_market_data(None)


def test_ctrl_c_during_a_replay_drops_its_scratch_book(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any
) -> None:
    store_alerts(frozen_clock)  # the replay reads only the stored alerts
    spy = _ScratchSpy(interrupt=True)

    with pytest.raises(KeyboardInterrupt):
        _replay(settings, on_progress=spy)

    (scratch,) = spy.databases
    assert not _database_exists(db, scratch)


def _interrupting_connect(statement: str, created: list[str]) -> Any:
    """`connect` whose cursors raise KeyboardInterrupt the moment the server has run a statement starting
    with `statement`: a Ctrl-C that lands right after it. Notes the databases CREATE DATABASE made."""
    import psycopg2.extensions
    from optionflow.db.connection import connect

    class InterruptingCursor(psycopg2.extensions.cursor):
        def execute(self, query: Any, params: Any = None) -> None:
            text = query if isinstance(query, str) else query.as_string(self)
            super().execute(query, params)
            if text.startswith("CREATE DATABASE"):
                created.append(text.split()[2].strip('"'))
            if text.startswith(statement):
                raise KeyboardInterrupt

    def interrupting(url: str | None = None) -> Any:
        conn = connect(url)
        conn.cursor_factory = InterruptingCursor
        return conn

    return interrupting


@pytest.mark.parametrize("statement", ["CREATE DATABASE", "ALTER DATABASE"])
def test_ctrl_c_right_after_the_scratch_book_is_created_or_tuned_drops_it(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any, monkeypatch: Any, statement: str
) -> None:
    store_alerts(frozen_clock)  # the replay reads only the stored alerts
    created: list[str] = []
    monkeypatch.setattr("optionflow.db.scratch.connect", _interrupting_connect(statement, created))
    try:
        with pytest.raises(KeyboardInterrupt):
            _replay(settings)

        (scratch,) = created
        assert scratch.startswith("optionflow_replay_")
        assert not _database_exists(db, scratch)
    finally:
        for name in created:  # a leaked book must not outlive a failing test
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _new_database(db: Any, name: str) -> str:
    db.execute(f'CREATE DATABASE "{name}"')
    return name


def test_drop_leftovers_drops_unused_scratch_books_and_nothing_else(
    db: Any, settings: Any, capsys: Any
) -> None:
    import psycopg2

    tag = uuid.uuid4().hex[:8]
    leftover = _new_database(db, f"optionflow_replay_{tag}left")
    in_use = _new_database(db, f"optionflow_replay_{tag}used")
    # "_" in a LIKE pattern matches any character: a prefix matched with LIKE would take this one
    lookalike = _new_database(db, f"optionflowXreplayX{tag}")
    session = psycopg2.connect(urlunsplit(urlsplit(settings.database_url)._replace(path=f"/{in_use}")))
    try:
        code = main(["replay", "--drop-leftovers"])

        out, err = capsys.readouterr()
        assert code == 0, err
        assert f"dropped {leftover}" in out.splitlines()
        assert not _database_exists(db, leftover)
        assert _database_exists(db, in_use) and in_use not in out
        assert _database_exists(db, lookalike) and lookalike not in out

        code = main(["replay", "--drop-leftovers"])

        out, err = capsys.readouterr()
        assert code == 0, err
        assert out.strip() == (
            "no leftover replay databases (optionflow_replay_*) without a connection; nothing dropped"
        )
    finally:
        session.close()
        for name in (leftover, in_use, lookalike):
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _unclaimed_scratch_books(db: Any) -> set[str]:
    db.execute(
        """SELECT d.datname FROM pg_database d WHERE starts_with(d.datname, 'optionflow_replay_')
           AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                           WHERE a.datid = d.oid OR a.application_name = 'optionflow replay ' || d.datname)"""
    )
    return {row["datname"] for row in db.fetchall()}


def test_drop_leftovers_drops_the_book_of_a_replay_killed_with_sigkill(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any, capsys: Any
) -> None:
    import os
    import signal
    import subprocess
    import sys

    store_alerts(frozen_clock)  # the replay reads only the stored alerts
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PYTHONPATH": os.pathsep.join(str(root / p) for p in ("shared", "functions", ".")),
    }
    before = _unclaimed_scratch_books(db)
    command = "import sys; from optionflow.cli import main; sys.exit(main(sys.argv[1:]))"
    killed = subprocess.Popen(
        [sys.executable, "-c", command, "replay", "--from", "2026-11-23", "--to", "2026-11-27"],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert killed.stderr is not None
        assert killed.stderr.readline().startswith("replay: 2026-11-23 (1/5 days)")  # mid-replay
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(10)
    finally:
        if killed.poll() is None:
            killed.kill()
    left: set[str] = set()
    for _ in range(100):  # until the server has ended the killed process's sessions
        left = _unclaimed_scratch_books(db) - before
        if left:
            break
        time_module.sleep(0.05)
    (scratch,) = left
    try:
        code = main(["replay", "--drop-leftovers"])

        out, err = capsys.readouterr()
        assert code == 0, err
        assert f"dropped {scratch}" in out.splitlines()
        assert not _database_exists(db, scratch)
    finally:
        db.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_drop_leftovers_beside_a_running_replay_keeps_its_book_even_between_its_connections(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any, capsys: Any
) -> None:
    from optionflow.db.connection import close_connection

    store_alerts(frozen_clock)  # the replay reads only the stored alerts
    seen: list[tuple[str, int, str]] = []

    def drop_leftovers_meanwhile(progress: Progress) -> None:
        scratch = _current_database()
        close_connection()  # the replay reconnects when it next needs its book
        for _ in range(100):  # until the server has ended that session
            db.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = %s", (scratch,))
            if db.fetchone()["n"] == 0:
                break
            time_module.sleep(0.05)
        else:
            pytest.fail(f"a session is still connected to {scratch}")
        code = main(["replay", "--drop-leftovers"])
        seen.append((scratch, code, capsys.readouterr().out))

    report = _replay(settings, on_progress=drop_leftovers_meanwhile)

    [(scratch, code, out)] = seen
    assert code == 0
    assert scratch.startswith("optionflow_replay_") and scratch not in out
    assert all(row.replay is not None or row.note for row in report.alerts)  # the replay ran to its end
    assert not _database_exists(db, scratch)


@pytest.mark.parametrize(
    ("clock_at", "reached"),
    [
        (
            datetime.combine(DAY, time(11, 0), NEW_YORK),
            "stepped up to 2026-11-23 15:30:00 ET, the last stored alert "
            "(the clock, at 2026-11-23 11:00 ET, is behind it) in ",
        ),
        (datetime.combine(DAY, time(16, 30), NEW_YORK), "stepped up to 2026-11-23 16:30 ET (now) in "),
        (datetime.combine(DAY + timedelta(days=1), time(9, 0), NEW_YORK), "stepped through 2026-11-23 in "),
    ],
)
def test_the_report_header_says_where_the_replay_stopped_and_why(
    db: Any,
    settings: Any,
    frozen_clock: Any,
    recording_bus: Any,
    capsys: Any,
    clock_at: datetime,
    reached: str,
) -> None:
    store_alerts(frozen_clock)  # the last at 15:30
    frozen_clock.set(clock_at)
    capsys.readouterr()

    code = main(["replay", "--from", "2026-11-23", "--to", "2026-11-23"])

    out, err = capsys.readouterr()
    assert code == 0, err
    header = out.splitlines()[0]
    assert header.startswith("Replay of 10 alerts received 2026-11-23 to 2026-11-23 (New York time), ")
    assert reached in header, header


def test_cli_prints_the_comparison_table_and_summary(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any, tmp_path: Path, capsys: Any
) -> None:
    _tight_exits(db)
    live_day(frozen_clock, recording_bus)
    rules_file = tmp_path / "tight.yaml"
    rules_file.write_text("exit_rules:\n  stop_loss_pct: 3\n")
    capsys.readouterr()  # the live run's output

    code = main(["replay", "--from", "2026-11-23", "--to", "2026-11-23", "--rules", str(rules_file)])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Rules: exit_rules.stop_loss_pct=3" in out
    header = next(line for line in out.splitlines() if line.startswith("received (ET)"))
    assert header.split() == ["received", "(ET)", "ticker", "alert", "ACTUAL", "REPLAY", "same"]
    assert any(line.startswith("11-23 10:03:27  QQQ") and "BUY PUT" in line for line in out.splitlines())
    assert any("STOP_LOSS" in line and line.rstrip().endswith("no") for line in out.splitlines())
    assert any(line.split()[:2] == ["closed", "trades"] for line in out.splitlines())
    assert any(line.startswith("realized P&L") for line in out.splitlines())
    # progress goes to stderr, one line per day when it is not a terminal
    assert err.strip() == "replay: 2026-11-23 (1/1 days), 10 alerts, 7 positions"


def test_cli_json_report_carries_both_sides(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any, capsys: Any
) -> None:
    _tight_exits(db)
    live_day(frozen_clock, recording_bus)
    capsys.readouterr()  # the live run's output

    code = main(["replay", "--from", "2026-11-23", "--to", "2026-11-23", "--json"])

    out, _ = capsys.readouterr()
    assert code == 0
    document = json.loads(out)
    assert len(document["alerts"]) == len(ALERTS)
    assert all(row["same"] for row in document["alerts"])
    assert document["replay"]["realized_pnl"] == document["actual"]["realized_pnl"]
    assert document["alerts"][1]["actual"]["summary"] == document["alerts"][1]["replay"]["summary"]


def test_cli_refuses_a_bad_rules_file_naming_the_field(
    db: Any, settings: Any, tmp_path: Path, capsys: Any
) -> None:
    rules_file = tmp_path / "bad.json"
    rules_file.write_text(json.dumps({"exit_rules": {"stop_loss_pct": 150}}))

    code = main(["replay", "--from", "2026-11-23", "--to", "2026-11-23", "--rules", str(rules_file)])

    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("optionflow: ") and "exit_rules.stop_loss_pct" in err and "100" in err


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--from", "2026-11-23", "--to", "2026-11-20"], "--to"),
        (["--from", "2026-11-23", "--to", "9999-12-31"], "--to"),  # the window ends the midnight after
        (["--from", "23/11/2026", "--to", "2026-11-23"], "--from"),
        (["--from", "2026-11-23", "--to", "2026-11-23", "--step", "0"], "--step"),
        (["--from", "2026-11-23", "--to", "2026-11-23", "--step", "100000000000"], "--step"),
        (["--from", "2026-11-23", "--to", "2026-11-23", "--step", "\u00b2"], "--step"),
        (["--from", "2026-11-23", "--to", "2026-11-23", "--rules", "/nonexistent/rules.yaml"], "rules.yaml"),
        (["--to", "2026-11-23"], "--from"),
        (["--from", "2026-11-23"], "--to"),
        (["--drop-leftovers", "--from", "2026-11-23"], "--drop-leftovers"),
        (["--drop-leftovers", "--json"], "--json"),
    ],
)
def test_cli_refuses_bad_arguments_in_one_line(
    db: Any, settings: Any, capsys: Any, args: list[str], named: str
) -> None:
    code = main(["replay", *args])

    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("optionflow: ") and named in err and err.count("\n") == 1


def test_an_empty_window_says_so_and_succeeds(db: Any, settings: Any, capsys: Any) -> None:
    code = main(["replay", "--from", "2026-11-28", "--to", "2026-11-29"])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert (
        out.strip()
        == "no alerts were stored from 2026-11-28 to 2026-11-29 (New York time); nothing to replay"
    )


def test_a_user_who_cannot_create_databases_gets_one_line_saying_so(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any, capsys: Any
) -> None:
    from optionflow import config

    store_alerts(frozen_clock)  # the replay reads only the stored alerts
    role = f"replay_reader_{uuid.uuid4().hex[:8]}"
    db.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    db.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    try:
        parts = urlsplit(settings.database_url)
        # the same server (host and port, or the embedded server's socket in the query) as another user
        reader = urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))
        config.use_settings(settings.model_copy(update={"database_url": reader}))
        capsys.readouterr()

        code = main(["replay", "--from", "2026-11-23", "--to", "2026-11-23"])

        _, err = capsys.readouterr()
        assert code == 2
        assert err.startswith("optionflow: permission denied to create database") and "CREATEDB" in err
        assert err.count("\n") == 1
    finally:
        config.use_settings(settings)
        db.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
        db.execute(f'DROP ROLE "{role}"')


def test_a_database_url_naming_its_database_in_the_query_still_replays_on_a_scratch_book(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any, tmp_path: Path
) -> None:
    # libpq lets ?dbname= override the URL's path, so a scratch URL made by replacing the path alone
    # would point the replay's writes at the real book
    store_alerts(frozen_clock)  # the replay reads only the stored alerts
    before = _fingerprint(db)
    parts = urlsplit(settings.database_url)
    real_name = parts.path.lstrip("/")
    query = "&".join(q for q in (parts.query, f"dbname={real_name}") if q)
    url = urlunsplit(parts._replace(query=query))
    rules_file = tmp_path / "other.json"
    rules_file.write_text(json.dumps({"risk_limits": {"max_open_positions": 2}}))
    spy = _ScratchSpy()

    replay(
        for_process(),
        database_url=url,
        window=Window(DAY, DAY),
        rules=load_rules(rules_file),
        on_progress=spy,
    )

    (scratch,) = spy.databases
    assert scratch.startswith("optionflow_replay_") and scratch != real_name
    assert _fingerprint(db) == before
    assert not _database_exists(db, scratch)


def test_a_position_the_live_run_closed_after_the_window_counts_as_open_at_its_end(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any
) -> None:
    live_day(frozen_clock, recording_bus)
    held = rows(db, "SELECT id FROM positions WHERE status = 'OPEN' ORDER BY opened_at")
    assert held, "the default rules keep some of the day's positions overnight"
    # the next morning the live run stops one of them out
    db.execute(
        """UPDATE positions SET status = 'CLOSED', closed_at = %s, exit_reason = 'STOP_LOSS',
                  exit_price = entry_price / 2, realized_pnl = -42 WHERE id = %s""",
        (_at(time(10, 0)) + timedelta(days=1), held[0]["id"]),
    )

    report = _replay(settings, now=_at(time(12, 0)) + timedelta(days=2))

    [row] = [r for r in report.alerts if r.actual.closed_later]
    assert row.actual.position_status == "OPEN" and row.actual.realized_pnl is None
    assert row.actual.describe() == "open (closed after the window: STOP_LOSS -42.00)"
    assert row.replay is not None and row.replay.position_status == "OPEN"
    assert row.same
    assert report.actual["realized_pnl"] == report.replay["realized_pnl"]


def test_a_replay_walks_on_its_own_clock_and_bus_and_leaves_the_processes_alone(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any
) -> None:
    from optionflow import clock as app_clock

    store_alerts(frozen_clock)
    published_before = list(recording_bus.events)
    at_before = frozen_clock.now()
    seen: list[tuple[Any, Any]] = []

    report = _replay(
        settings, on_progress=lambda progress: seen.append((app_clock.get_clock(), bus.get_bus()))
    )

    assert report.alerts and seen
    assert all(c is frozen_clock and b is recording_bus for c, b in seen)
    assert frozen_clock.now() == at_before  # the replay stepped its own clock, not this one
    assert recording_bus.events == published_before  # and woke its own stages, not the process's bus


UNREACHABLE = "postgresql://postgres@127.0.0.1:1/no_such_book?connect_timeout=1"


def test_a_replay_never_touches_the_process_database(
    db: Any, settings: Any, frozen_clock: Any, recording_bus: Any
) -> None:
    from optionflow.db.connection import database_url, set_database_url

    live_day(frozen_clock, recording_bus)
    expected = _replay(settings)
    deps = for_process()  # its database is the process's, wherever that points
    set_database_url(UNREACHABLE)  # from here on, anything that reaches for the process database fails
    try:
        with pytest.raises(DatabaseUnavailable):
            deps.db.run_statement(lambda cur: cur.execute("SELECT 1"))
        pointed_at: list[str] = []
        report = replay(
            deps,
            database_url=settings.database_url,
            window=Window(DAY, DAY),
            on_progress=lambda progress: pointed_at.append(database_url()),
        )
    finally:
        set_database_url(settings.database_url)

    assert pointed_at == [UNREACHABLE]  # nothing swapped the process database for the scratch book
    assert report.alerts and all(row.replay is not None or row.note for row in report.alerts)
    assert [row.replay for row in report.alerts] == [row.replay for row in expected.alerts]


def test_a_replay_reads_a_simulated_clock_from_the_book_it_replays_not_the_processes(
    db: Any, settings: Any, simulated_clock: Any
) -> None:
    from optionflow.db.connection import set_database_url

    alert()  # received at the simulated clock's instant, which is paused
    deps = for_process()
    assert deps.clock is simulated_clock
    set_database_url(UNREACHABLE)
    try:
        report = replay(deps, database_url=settings.database_url, window=Window(DAY, DAY))
    finally:
        set_database_url(settings.database_url)

    assert report.alerts
    assert report.clock_at == simulated_clock.now()  # the book's clock, read from the book replayed
