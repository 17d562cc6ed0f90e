"""GET and POST /clock on a simulated clock: set, advance, speed and pause it; an advance runs the sweeps
the schedules would have run on the way, in pipeline order, and answers once they are done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optionflow.auth.tokens import Scope
from optionflow.calendar import NEW_YORK
from optionflow.composition import for_process
from optionflow.logic import worker_control
from optionflow.workers import BY_NAME

from tests.api_events import call, request
from tests.conftest import MARKET_OPEN, ROOT
from tests.pipeline_support import WORKERS, advance, alert, one, rows


def afford_one_contract(db: Any) -> None:
    db.execute("UPDATE risk_limits SET risk_per_trade = 1000")


def ny(text: str) -> datetime:
    """A New York wall time, e.g. '2026-11-23 10:01'."""
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def at(answer: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(answer["now"])


def clock_get(scope: Scope = "read") -> tuple[int, Any]:
    return call(request("GET", "/clock", scope=scope))


def clock_post(body: Any, scope: Scope = "admin") -> tuple[int, Any]:
    return call(request("POST", "/clock", body=json.dumps(body), scope=scope))


def test_get_shows_the_simulated_time_its_pace_and_whether_the_market_is_open(simulated_clock):
    status, answer = clock_get()

    assert status == 200
    assert at(answer) == MARKET_OPEN
    assert answer | {"now": None} == {
        "now": None,
        "paused": True,
        "speed": 1.0,
        "changed_by": "test",
        "market_open": True,
        "advance": None,
    }


def test_a_read_token_reads_the_clock_but_only_an_admin_token_changes_it(simulated_clock):
    assert clock_get("read")[0] == 200
    assert clock_post({"advance": "1m"}, scope="read")[0] == 403
    assert at(clock_get()[1]) == MARKET_OPEN


def test_set_jumps_forward_without_running_the_sweeps_in_between(simulated_clock, db, market):
    signal_id = alert("SPY", "BUY", "CALL")

    status, answer = clock_post({"set": "2026-11-23T11:00:00-05:00"})

    assert status == 200 and at(answer) == ny("2026-11-23 11:00")
    assert answer["changed_by"] == "optionflow-user"  # the token's subject
    assert at(clock_get()[1]) == ny("2026-11-23 11:00")
    assert one(db, "SELECT status FROM signals WHERE id = %s", signal_id)["status"] == "PENDING"
    assert rows(db, "SELECT worker FROM worker_runs") == []


def test_set_to_an_earlier_time_is_refused_because_the_book_would_go_back_in_time(simulated_clock):
    status, problem = clock_post({"set": "2026-11-23T09:59:00-05:00"})

    assert status == 409
    assert "the book would go back in time" in problem["detail"]
    assert problem["errors"][0]["field"] == "set"
    assert at(clock_get()[1]) == MARKET_OPEN


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"set": "2026-11-23T11:00:00"}, "set"),  # no offset: which 11:00?
        ({"set": "Monday"}, "set"),
        ({"advance": "2w"}, "advance"),
        ({"advance": "1.5h"}, "advance"),
        ({"advance": "0m"}, "advance"),
        ({"advance": "-5m"}, "advance"),
        ({"advance": 10}, "advance"),
        ({"advance": "32d"}, "advance"),
        ({"speed": 0}, "speed"),
        ({"speed": -1}, "speed"),
        ({"speed": 101}, "speed"),
        ({"speed": True}, "speed"),
        ({"speed": "fast"}, "speed"),
        ({"pause": "yes"}, "pause"),
        ({"later": "1m"}, "later"),
        ({}, "body"),
        ({"advance": "1m", "pause": True}, "body"),
    ],
)
def test_a_bad_change_is_refused_naming_the_field_and_the_clock_stays(simulated_clock, db, body, field):
    status, problem = clock_post(body)

    assert status == 422, problem
    assert field in [e["field"] for e in problem["errors"]], problem
    assert at(clock_get()[1]) == MARKET_OPEN
    assert rows(db, "SELECT worker FROM worker_runs") == []


_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # no offset
)
# not any text: a random "9d" would be a nine-day advance
_ADVANCES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(["1m", "90s", "0m", "2w", "32d", ""])
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.fixed_dictionaries(
        {}, optional={"set": _ANY, "advance": _ADVANCES, "speed": _ANY, "pause": _ANY, "other": _ANY}
    )
)
def test_any_change_is_made_or_refused_with_a_4xx_and_a_refused_one_changes_nothing(
    simulated_clock, db, body
):
    db.execute("SELECT anchor_at, speed, paused FROM simulated_clock")
    before = db.fetchone()

    status, answer = clock_post(body)

    assert status in (200, 409, 422), (body, status, answer)
    if status != 200:
        db.execute("SELECT anchor_at, speed, paused FROM simulated_clock")
        assert db.fetchone() == before, body


def test_the_clock_stops_short_of_2100_where_option_symbols_run_out_of_years(simulated_clock):
    status, problem = clock_post({"set": "2100-01-01T00:00:00Z"})

    assert status == 422 and problem["errors"][0]["field"] == "set"
    assert clock_post({"set": "2099-12-31T00:00:00Z"})[0] == 200
    assert clock_post({"advance": "1d"})[1]["errors"][0]["field"] == "advance"


def test_a_bad_duration_says_what_a_duration_looks_like(simulated_clock):
    problem = clock_post({"advance": "2w"})[1]

    assert "'2w' is not a duration" in problem["detail"]
    assert "90s, 10m, 2d" in problem["detail"]


def test_advance_takes_seconds_minutes_hours_and_days_and_lands_exactly(simulated_clock, db):
    assert at(advance("90s")) == ny("2026-11-23 10:01:30")
    assert at(advance("10m")) == ny("2026-11-23 10:11:30")
    assert clock_post({"set": "2026-11-28T00:00:00-05:00"})[0] == 200  # a Saturday: no session to sweep
    assert at(advance("2h")) == ny("2026-11-28 02:00")
    assert at(advance("2d")) == ny("2026-11-30 02:00")


def test_speed_and_pause_set_the_pace_of_a_running_clock(simulated_clock):
    assert clock_post({"speed": 100})[1]["paused"] is True  # a paused clock stays paused at any speed
    assert at(clock_get()[1]) == MARKET_OPEN

    started = time.monotonic()
    resumed = at(clock_post({"pause": False})[1])
    time.sleep(0.5)
    moved = (at(clock_get()[1]) - resumed).total_seconds()
    assert 50 <= moved <= (time.monotonic() - started) * 100 + 1

    paused = clock_post({"pause": True})[1]
    time.sleep(0.2)
    assert paused["paused"] is True and at(clock_get()[1]) == at(paused)


def test_a_minute_fills_an_alert_received_at_ten_because_the_sweeps_run_in_pipeline_order(
    simulated_clock, db, market
):
    signal_id = alert("SPY", "BUY", "CALL", quantity=1)

    answer = advance("1m")

    assert at(answer) == ny("2026-11-23 10:01")
    position = one(db, "SELECT status, opened_at FROM positions WHERE signal_id = %s", signal_id)
    assert position == {"status": "OPEN", "opened_at": ny("2026-11-23 10:01")}
    assert one(db, "SELECT status FROM signals WHERE id = %s", signal_id)["status"] == "EXECUTED"
    report = answer["advance"]
    assert report["ticks"] == 1 and report["quiet_ticks"] == 0
    assert report["workers"]["signal_processor"]["totals"] == {"processed": 1}
    assert report["workers"]["order_creator"]["totals"] == {"processed": 1}
    assert report["workers"]["paper_executor"]["totals"]["opened"] == 1
    # every minute worker's run is recorded, as a scheduled run at the tick (the reconciler's rate is 5 minutes)
    runs = rows(db, "SELECT worker, trigger, started_at FROM worker_runs ORDER BY worker")
    assert {(r["worker"], r["trigger"], r["started_at"]) for r in runs} == {
        (worker, "schedule", ny("2026-11-23 10:01"))
        for worker in WORKERS
        if BY_NAME[worker].rate_minutes == 1
    }


def test_an_exit_fires_and_fills_within_the_minute_as_on_the_fast_path(simulated_clock, db, market):
    signal_id = alert("SPY", "BUY", "CALL", quantity=1)
    advance("1m")
    market.factor = Decimal("0.3")  # the option falls 70 %: the 50 % stop loss fires

    answer = advance("1m")

    position = one(db, "SELECT status, exit_reason, closed_at FROM positions WHERE signal_id = %s", signal_id)
    assert position == {"status": "CLOSED", "exit_reason": "STOP_LOSS", "closed_at": ny("2026-11-23 10:02")}
    executor = answer["advance"]["workers"]["paper_executor"]
    assert (
        executor["runs"] == 2 and executor["totals"]["closed"] == 1
    )  # its sweep, then the exit order's event
    assert one(db, "SELECT trigger FROM worker_runs WHERE worker = 'paper_executor'") == {
        "trigger": "event:order.created"
    }


def test_a_paused_worker_stays_paused_and_an_advance_over_the_close_expires_its_day_entry(
    simulated_clock, db, market
):
    afford_one_contract(db)
    assert clock_post({"set": "2026-11-23T15:58:30-05:00"})[0] == 200
    signal_id = alert("SPY", "BUY", "CALL", quantity=1)
    worker_control.set_paused(for_process(), "paper_executor", True, by="ops", reason="no fills today")

    ordered = advance("1m")  # 15:59: decided and ordered, not filled

    assert ordered["advance"]["workers"]["paper_executor"] == {"runs": 0, "paused": 1, "totals": {}}
    assert one(db, "SELECT status FROM orders WHERE signal_id = %s", signal_id)["status"] == "PENDING"
    assert rows(db, "SELECT worker FROM worker_runs WHERE worker = 'paper_executor'") == []

    worker_control.set_paused(for_process(), "paper_executor", False, by="ops")
    closed = advance("1m")  # 16:00, the close

    assert closed["market_open"] is False
    order = one(db, "SELECT status, reason, updated_at FROM orders WHERE signal_id = %s", signal_id)
    assert order == {
        "status": "EXPIRED",
        "reason": "DAY order not filled by the close",
        "updated_at": ny("2026-11-23 16:00"),
    }
    assert one(db, "SELECT status FROM signals WHERE id = %s", signal_id)["status"] == "FAILED"
    assert closed["advance"]["workers"]["paper_executor"]["totals"]["expired"] == 1


def test_a_weekend_after_an_early_close_is_swept_at_the_close_each_midnight_and_the_end(
    simulated_clock, db, market
):
    afford_one_contract(db)
    # the day after Thanksgiving closes at 13:00
    assert clock_post({"set": "2026-11-27T12:58:30-05:00"})[0] == 200
    signal_id = alert("SPY", "BUY", "CALL", quantity=1)
    worker_control.set_paused(for_process(), "paper_executor", True, by="ops")
    advance("1m")
    worker_control.set_paused(for_process(), "paper_executor", False, by="ops")

    started = time.monotonic()
    answer = advance("2d")  # to Sunday 12:59

    assert time.monotonic() - started < 10
    report = answer["advance"]
    # 13:00 (the close: the order expires), 13:01 (quiet), Saturday and Sunday midnight, and Sunday 12:59
    assert report["ticks"] == 5 and report["quiet_ticks"] == 2 * 1440 - 5
    order = one(db, "SELECT status, updated_at FROM orders WHERE signal_id = %s", signal_id)
    assert order == {"status": "EXPIRED", "updated_at": ny("2026-11-27 13:00")}
    assert one(db, "SELECT started_at FROM worker_runs WHERE worker = 'exit_monitor'") == {
        "started_at": ny("2026-11-29 12:59")
    }


def test_an_advance_stops_where_a_sweep_fails_and_the_clock_stays_there(simulated_clock, db, market):
    from optionflow.db.connection import DatabaseUnavailable

    alert("SPY", "BUY", "CALL", quantity=1)

    def database_gone(*args: Any) -> Any:
        # a failing quote alone fails only its own signal; a lost database stops the whole sweep
        raise DatabaseUnavailable("connection lost")

    market.option_quote = database_gone

    status, problem = clock_post({"advance": "5m"})

    assert status == 500
    assert problem["detail"].startswith(
        "order_creator failed at 2026-11-23T15:01:00+00:00 (DatabaseUnavailable"
    )
    assert at(clock_get()[1]) == ny("2026-11-23 10:01")
    run = one(db, "SELECT succeeded, error FROM worker_runs WHERE worker = 'order_creator'")
    assert run == {"succeeded": False, "error": "DatabaseUnavailable: connection lost"}


def test_a_running_clock_runs_on_from_where_the_advance_landed(simulated_clock):
    clock_post({"pause": False})
    before = at(clock_get()[1])

    landed = at(advance("10m"))

    assert before + timedelta(minutes=10) <= landed < before + timedelta(minutes=10, seconds=5)
    assert clock_get()[1]["paused"] is False


def test_the_clock_routes_do_not_exist_without_a_simulated_clock(database_url):
    # A fresh interpreter, as a Lambda starts: a process that served a simulated clock keeps its routes.
    script = f"""
import json
from optionflow import config
from optionflow.config import Settings
config.use_settings(Settings(database_url={database_url!r}, jwt_secret={"x" * 40!r}))
from tests.api_events import call, request
answers = [call(request(method, "/clock", scope="admin")) for method in ("GET", "POST")]
print(json.dumps([[status, body.get("detail")] for status, body in answers]))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("shared", "functions", "."))}
    env.pop("OPTIONFLOW_CLOCK_START", None)
    printed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert json.loads(printed.stdout.strip().splitlines()[-1]) == [
        [404, "no route GET /clock"],
        [404, "no route POST /clock"],
    ]
