"""Notifications end to end: the pipeline writes the outbox, the notifier delivers it to a local HTTP sink
(tests.http_sink), retries with backoff, dead-letters, and never doubles or loses a message."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from optionflow import config
from optionflow.config import Settings

from tests.http_sink import Reply, Request, ScriptedServer
from tests.pipeline_support import alert, one, rows, run, run_entry_chain

NY = ZoneInfo("America/New_York")
HOOK = "/hooks/secret-path-7f3a"  # the URL is a secret: it must never reach a log line or a stored error


@pytest.fixture
def sink(settings: Settings) -> Iterator[ScriptedServer]:
    """A plain-JSON webhook channel pointing at a local sink that answers 200 until told otherwise."""
    with ScriptedServer() as server:
        server.script("POST", HOOK, Reply(200, {"received": True}))
        config.use_settings(
            settings.model_copy(
                update={
                    "notify_webhook_url": server.url + HOOK,
                    "notify_backoff_seconds": 30,
                    "notify_max_attempts": 4,
                    "notify_timeout_seconds": 0.5,
                }
            )
        )
        yield server


def messages(server: ScriptedServer, kind: str | None = None) -> list[dict[str, Any]]:
    bodies = [r.json() for r in server.calls("POST", HOOK)]
    return [b for b in bodies if kind is None or b["kind"] == kind]


def notify() -> dict[str, Any]:
    return dict(run("notifier")["result"])


def test_a_filled_entry_sends_one_message_with_contract_quantity_price_and_cost(db, market, sink):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    notify()
    notify()  # a second run sends nothing again

    (sent,) = messages(sink, "ENTRY_FILLED")
    position = one(db, "SELECT * FROM positions")
    facts = sent["facts"]
    assert facts["option_symbol"] == position["option_symbol"]
    assert facts["quantity"] == position["quantity"]
    assert facts["entry_price"] == float(position["entry_price"])
    assert facts["cost_basis"] == float(position["cost_basis"])
    assert (
        f"x{position['quantity']}" in sent["title"]
        and f"{float(position['entry_price']):,.2f}" in sent["text"]
    )
    assert sent["severity"] == "INFO"
    # the plain-JSON channel carries an idempotency key, in the body and as a header
    (request,) = [r for r in sink.calls("POST", HOOK) if r.json()["kind"] == "ENTRY_FILLED"]
    assert request.headers["idempotency-key"] == sent["id"]


def test_a_closed_position_sends_one_message_with_the_rule_and_realized_pnl(db, market, sink, frozen_clock):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=5))
    alert("SPY", "CLOSE", None, alert_id="close")
    run_entry_chain()
    notify()

    (sent,) = messages(sink, "POSITION_CLOSED")
    position = one(db, "SELECT * FROM positions")
    assert position["status"] == "CLOSED"
    assert sent["facts"]["realized_pnl"] == float(position["realized_pnl"])
    assert sent["facts"]["exit_price"] == float(position["exit_price"])
    pnl = float(position["realized_pnl"])
    assert (f"+${pnl:,.2f}" if pnl >= 0 else f"-${-pnl:,.2f}") in sent["title"]
    assert len(messages(sink, "ENTRY_FILLED")) == 1


def test_a_rejected_signal_sends_one_message_with_every_reason(db, market, sink):
    signal_id = alert("SPY", "CLOSE", None)  # nothing open to close
    run("signal_processor")
    notify()

    (sent,) = messages(sink, "SIGNAL_REJECTED")
    reasons = one(db, "SELECT rejection_reasons FROM signals WHERE id = %s", signal_id)["rejection_reasons"]
    assert reasons and sent["facts"]["reasons"] == reasons
    assert all(reason in sent["text"] for reason in reasons)
    assert sent["severity"] == "WARNING"


def test_the_outbox_row_is_written_with_the_fill_and_the_fill_does_not_wait_for_the_channel(db, market, sink):
    # Given a channel that hangs longer than its timeout on every call
    sink.script("POST", HOOK, Reply(200, {}, delay=2.0))
    # When an entry fills, its notification exists as soon as the fill does, before any notifier run
    alert("SPY", "BUY", "CALL")
    started = time.monotonic()
    run_entry_chain()
    chain_seconds = time.monotonic() - started
    assert one(db, "SELECT count(*) AS n FROM notifications WHERE kind = 'ENTRY_FILLED'")["n"] == 1
    # the pipeline never called the channel: only the notifier does
    assert sink.calls("POST", HOOK) == []
    assert chain_seconds < 2.0


def test_a_failing_channel_retries_with_backoff_then_dead_letters_while_fills_continue(
    db, market, sink, frozen_clock
):
    sink.script("POST", HOOK, Reply(500, {"message": "down"}))
    alert("SPY", "BUY", "CALL", alert_id="first")
    run_entry_chain()
    when = []
    for _ in range(8):
        notify()
        when.append(len(sink.calls("POST", HOOK)))
        frozen_clock.advance(timedelta(seconds=30))
    # attempts at +0, +30 s, +90 s, +210 s (backoff 30, 60, 120 s); four attempts and then DEAD
    entry = one(
        db,
        """SELECT d.* FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
           WHERE n.kind = 'ENTRY_FILLED'""",
    )
    assert entry["status"] == "DEAD" and entry["attempts"] == 4
    assert "HTTP 500" in entry["last_error"]
    assert HOOK not in entry["last_error"] and "secret-path" not in entry["last_error"]
    # Meanwhile fills go on: another entry fills while the channel is down
    alert("QQQ", "BUY", "CALL", alert_id="second")
    run_entry_chain()
    assert one(db, "SELECT count(*) AS n FROM positions WHERE status = 'OPEN'")["n"] == 2
    # and the dead letter is visible on /health
    from tests.api_events import call, request

    _, health = call(request("GET", "/health"))
    assert health["notifications"]["dead"] >= 1


def test_a_hanging_channel_costs_a_run_one_timeout_not_one_per_message(db, market, sink, frozen_clock):
    sink.script("POST", HOOK, Reply(200, {}, delay=3.0))
    for ticker in ("SPY", "QQQ", "IWM"):
        alert(ticker, "BUY", "CALL")
    run_entry_chain()
    started = time.monotonic()
    outcome = notify()
    elapsed = time.monotonic() - started
    assert outcome["sent"] == 0 and outcome["retrying"] == 1 and outcome["postponed"] >= 3
    assert elapsed < 2.5  # one 0.5 s timeout, then the channel's other messages wait for its retry
    assert one(db, "SELECT count(*) AS n FROM notification_deliveries WHERE status = 'PENDING'")["n"] >= 4
    # and the one it tried is retried with backoff until it is dead (four attempts in this test's settings)
    first = one(db, "SELECT notification_id FROM notification_deliveries WHERE attempts = 1")[
        "notification_id"
    ]
    for _ in range(3):
        frozen_clock.advance(timedelta(minutes=5))
        notify()
    dead = one(db, "SELECT * FROM notification_deliveries WHERE notification_id = %s", first)
    assert dead["status"] == "DEAD" and dead["attempts"] == 4 and "no answer" in dead["last_error"]


def test_a_channel_that_refuses_the_request_dead_letters_at_once(db, market, sink):
    sink.script("POST", HOOK, Reply(404, {"message": "no such hook"}))
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    notify()
    (tried,) = rows(db, "SELECT status, attempts, last_error FROM notification_deliveries WHERE attempts > 0")
    assert tried["status"] == "DEAD" and tried["attempts"] == 1 and "HTTP 404" in tried["last_error"]


def test_a_channel_down_for_ten_minutes_loses_nothing_and_doubles_nothing(db, market, sink, frozen_clock):
    from optionflow.clock import get_clock

    down_until = frozen_clock.now() + timedelta(minutes=10)
    accepted: list[str] = []

    def answer(request: Request) -> Reply:
        if get_clock().now() < down_until:
            return Reply(503, {"message": "maintenance"})
        accepted.append(request.json()["id"])
        return Reply(200, {})

    sink.route("POST", HOOK, answer)
    for ticker in ("SPY", "QQQ"):
        alert(ticker, "BUY", "CALL")
    run_entry_chain()
    alert("IWM", "SELL", "CALL")  # rejected: nothing to sell
    run("signal_processor")
    # a sweep every minute for half an hour, with the default eight attempts
    config.use_settings(config.get_settings().model_copy(update={"notify_max_attempts": 8}))
    for _ in range(30):
        notify()
        frozen_clock.advance(timedelta(minutes=1))

    # 2 entries, 1 rejection and the previous session's summary: each accepted exactly once
    assert rows(db, "SELECT status, count(*) AS n FROM notification_deliveries GROUP BY status") == [
        {"status": "SENT", "n": 4}
    ]
    expected = {f"optionflow-dev-{r['id']}" for r in rows(db, "SELECT id FROM notifications")}
    assert sorted(accepted) == sorted(expected)
    assert len(sink.calls("POST", HOOK)) > len(accepted)  # it did fail and retry meanwhile


def test_the_daily_summary_arrives_after_the_1300_close_on_an_early_close_day(db, market, sink, frozen_clock):
    # The day after Thanksgiving 2026 closes at 13:00 New York time
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000, max_daily_loss = 10000")
    frozen_clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=NY))
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    frozen_clock.set(datetime(2026, 11, 27, 12, 59, tzinfo=NY))
    notify()
    assert [m["facts"]["session"] for m in messages(sink, "DAILY_SUMMARY")] == ["2026-11-25"]
    frozen_clock.set(datetime(2026, 11, 27, 13, 1, tzinfo=NY))
    notify()
    notify()  # once per session, however many runs
    summaries = messages(sink, "DAILY_SUMMARY")
    assert [m["facts"]["session"] for m in summaries] == ["2026-11-25", "2026-11-27"]
    today = summaries[-1]
    assert today["facts"]["early_close"] is True and today["facts"]["close"] == "13:00 ET"
    assert today["facts"]["opened"] == 1 and today["facts"]["open_positions"] == 1
    assert "early close 13:00 ET" in today["title"]
    assert "Open positions 1" in today["text"]


def test_a_crash_between_send_and_mark_retries_after_the_lease_and_loses_nothing(
    db, market, sink, frozen_clock
):
    from optionflow.composition import for_process
    from optionflow.db import notifications as notifications_db
    from optionflow.logic import daily_summary, notifier

    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    deps = for_process()
    now = frozen_clock.now()
    daily_summary.queue_if_due(deps, now)
    notifier.route_new(deps, now, ["webhook"], 100)
    # the notifier claims, and dies before sending or marking
    claimed = deps.db.run_in_transaction(
        lambda cur: notifications_db.claim_due(cur, now, notifier.LEASE, 100)
    )
    assert claimed
    notify()  # another run inside the lease leaves them alone
    assert sink.calls("POST", HOOK) == []
    frozen_clock.advance(notifier.LEASE + timedelta(seconds=1))
    notify()  # after the lease they are due again
    assert len(sink.calls("POST", HOOK)) == len(claimed)
    # a mark from the dead claim, arriving late, changes nothing
    assert not deps.db.run_in_transaction(lambda cur: notifications_db.mark_sent(cur, claimed[0], now))
    assert one(db, "SELECT count(*) AS n FROM notification_deliveries WHERE status <> 'SENT'")["n"] == 0


def test_a_worker_that_starts_failing_is_notified_once_until_it_recovers(db, settings, frozen_clock):
    from optionflow.composition import for_process
    from optionflow.logic.runs import run_worker

    def broken(now: Any) -> None:
        raise RuntimeError("quote feed unreachable")

    deps = for_process()
    for _ in range(3):
        with pytest.raises(RuntimeError):
            run_worker(deps, "exit_monitor", {}, broken)
    run_worker(deps, "exit_monitor", {}, lambda now: 0)
    with pytest.raises(RuntimeError):
        run_worker(deps, "exit_monitor", {}, broken)
    notices = rows(db, "SELECT severity, facts FROM notifications WHERE kind = 'WORKER_FAILING' ORDER BY id")
    assert len(notices) == 2  # the first failure, and the first after it recovered
    assert notices[0]["severity"] == "CRITICAL"
    assert notices[0]["facts"] == {
        "worker": "exit_monitor",
        "trigger": "manual",
        "error": "RuntimeError: quote feed unreachable",
    }


def test_an_entry_order_unfilled_at_the_close_is_notified_as_expired(db, market, frozen_clock):
    alert("SPY", "BUY", "CALL")
    run("signal_processor")
    run("order_creator")
    frozen_clock.set(datetime(2026, 11, 23, 16, 5, tzinfo=NY))
    run("paper_executor")
    notice = one(db, "SELECT facts FROM notifications WHERE kind = 'ORDER_ENDED'")
    assert notice["facts"]["status"] == "EXPIRED" and notice["facts"]["purpose"] == "ENTRY"
    assert notice["facts"]["reason"] == "DAY order not filled by the close"


def test_a_mark_going_stale_is_notified_once_per_episode(db, market, frozen_clock):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    market.failing = frozenset({"SPY"})
    for _ in range(3):
        frozen_clock.advance(timedelta(minutes=1))
        run("position_refresher")
        run("exit_monitor")
    (notice,) = rows(db, "SELECT facts FROM notifications WHERE kind = 'STALE_MARKS'")
    assert notice["facts"]["count"] == 1
    assert (
        notice["facts"]["positions"][0]["option_symbol"]
        == one(db, "SELECT option_symbol FROM positions")["option_symbol"]
    )


def test_a_delivered_notification_is_kept_for_the_retention_days_then_deleted_and_a_dead_one_stays(
    db, market, sink, frozen_clock
):
    alert("SPY", "BUY", "CALL", alert_id="delivered")
    run_entry_chain()
    notify()  # sent
    sink.script("POST", HOOK, Reply(400, {"message": "refused"}))  # refused: DEAD at once
    alert("QQQ", "BUY", "CALL", alert_id="refused")
    run_entry_chain()
    notify()
    entries = """SELECT n.facts->>'ticker' AS ticker, d.status FROM notifications n
                 JOIN notification_deliveries d ON d.notification_id = n.id
                 WHERE n.kind = 'ENTRY_FILLED' ORDER BY n.id"""
    assert [(r["ticker"], r["status"]) for r in rows(db, entries)] == [("SPY", "SENT"), ("QQQ", "DEAD")]

    frozen_clock.advance(timedelta(days=29))
    assert notify()["pruned"] == 0  # within NOTIFY_RETENTION_DAYS (30) everything stays
    frozen_clock.advance(timedelta(days=2))
    assert notify()["pruned"] >= 1
    # the delivered one is gone with its delivery; the dead letter stays, whatever its age
    assert [(r["ticker"], r["status"]) for r in rows(db, entries)] == [("QQQ", "DEAD")]
    assert (
        one(
            db,
            "SELECT count(*) AS n FROM notification_deliveries d WHERE NOT EXISTS "
            "(SELECT 1 FROM notifications n WHERE n.id = d.notification_id)",
        )["n"]
        == 0
    )
    young = "SELECT count(*) AS n FROM notifications WHERE created_at >= %s"
    kept = one(db, young, frozen_clock.now() - timedelta(days=30))["n"]
    assert kept >= 1 and notify()["pruned"] == 0  # what is younger than 30 days stays
