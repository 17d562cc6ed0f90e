"""Broker modes end to end: alerts through the real workers to local fakes of Alpaca (paper) and Tradier
(sandbox), which fill, partially fill, reject and time out on command. No test reaches the network."""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg2
import pytest
from optionflow import config
from optionflow.brokers import provider
from optionflow.brokers.alpaca import AlpacaBroker
from optionflow.logic import routing
from optionflow.logic.order_pricing import opening_limit
from optionflow.pricing.occ import occ_symbol
from optionflow.pricing.ticks import tick_size

from tests.api_events import call, request
from tests.broker_fakes import FAKES, FakeBrokerServer, broker_settings
from tests.http_sink import Reply, ScriptedServer
from tests.pipeline_support import alert, one, rows, run

pytestmark = pytest.mark.usefixtures("db", "market")


@pytest.fixture(params=["alpaca", "tradier"])
def fake(request, settings) -> Iterator[FakeBrokerServer]:
    """A fake broker of each kind, with OptionFlow pointed at it (APP_MODE=PAPER: its paper/sandbox)."""
    with FAKES[request.param]() as running:
        config.use_settings(settings.model_copy(update=broker_settings(running)))
        provider.reset()
        yield running
    provider.reset()


@pytest.fixture
def alpaca(settings) -> Iterator[FakeBrokerServer]:
    with FAKES["alpaca"]() as running:
        config.use_settings(settings.model_copy(update=broker_settings(running)))
        provider.reset()
        yield running
    provider.reset()


def entry(db: Any) -> dict[str, Any]:
    return one(db, "SELECT * FROM orders WHERE purpose = 'ENTRY'")


def signal(db: Any, signal_id: str) -> dict[str, Any]:
    return one(db, "SELECT status, rejection_reasons FROM signals WHERE id = %s", signal_id)


def ordered(ticker: str = "SPY") -> str:
    """An alert decided and ordered, not yet executed."""
    signal_id = alert(ticker)
    run("signal_processor")
    run("order_creator")
    return signal_id


def test_an_alert_becomes_a_broker_limit_order_with_the_occ_symbol_mid_price_and_our_id(
    db, fake, market, frozen_clock
):
    signal_id = ordered()
    result = run("paper_executor")["result"]

    order = entry(db)
    [placed] = fake.live_orders()
    quote = market.option_quote("SPY", "CALL", order["strike"], order["expiry"], frozen_clock.now())
    assert (
        placed.symbol == occ_symbol("SPY", order["expiry"], "CALL", order["strike"]) == order["option_symbol"]
    )
    spy = functools.partial(tick_size, "SPY")
    assert placed.limit == opening_limit(
        "BUY_TO_OPEN", quote.bid, quote.ask, "mid", Decimal("0.05"), tick=spy
    )
    assert placed.client_id == str(order["id"]) == order["client_order_id"]
    assert placed.side == "buy_to_open" and placed.quantity == order["quantity"]
    assert (order["status"], order["broker_order_id"], order["order_type"], order["limit_price"]) == (
        "SUBMITTED",
        placed.broker_id,
        "LIMIT",
        placed.limit,
    )
    assert result["submitted"] == 1
    assert signal(db, signal_id)["status"] == "ORDERED"

    fake.fill(placed.broker_id)
    run("paper_executor")
    position = one(db, "SELECT quantity, entry_price, status FROM positions")
    assert position == {"quantity": order["quantity"], "entry_price": placed.limit, "status": "OPEN"}
    assert entry(db)["status"] == "FILLED"
    assert signal(db, signal_id)["status"] == "EXECUTED"


@pytest.mark.parametrize(
    ("ticker", "penny_everywhere", "limit"),
    [("SPY", ("SPY", "QQQ", "IWM"), "4.37"), ("QQQ", ("SPY", "IWM"), "4.35")],
)
def test_an_alpaca_order_near_four_dollars_carries_a_limit_on_the_classes_tick(
    db, alpaca, market, monkeypatch, ticker, penny_everywhere, limit
):
    # SPY quotes in pennies at every price; a penny-program class (here QQQ, taken out of
    # PENNY_EVERYWHERE_TICKERS) in nickels at $3.00 and above: a $4.37 mid buys at $4.35
    update = {"penny_everywhere_tickers": frozenset(penny_everywhere)}
    config.use_settings(config.get_settings().model_copy(update=update))
    ordered(ticker)
    real = market.option_quote

    def near_four_dollars(*args: Any) -> Any:
        quote = real(*args)
        return dataclasses.replace(quote, bid=Decimal("4.30"), ask=Decimal("4.44"), mid=Decimal("4.37"))

    monkeypatch.setattr(market, "option_quote", near_four_dollars)
    run("paper_executor")
    [placed] = alpaca.live_orders()
    assert placed.limit == Decimal(limit)
    assert entry(db)["limit_price"] == Decimal(limit)


def test_a_kill_between_the_brokers_answer_and_our_commit_leaves_one_broker_order_adopted_next_run(
    db, fake, monkeypatch
):
    ordered()

    class Killed(BaseException):
        pass

    def die(*args: Any, **kwargs: Any) -> Any:
        raise Killed()

    monkeypatch.setattr(routing, "_apply", die)
    with pytest.raises(Killed):
        run("paper_executor")
    order = entry(db)
    assert (order["status"], order["broker_order_id"]) == ("SUBMITTING", None)  # the intent survived
    assert len(fake.live_orders()) == 1

    monkeypatch.undo()
    result = run("paper_executor")["result"]
    assert result["adopted"] == 1 and result["resubmitted"] == 0
    [placed] = fake.live_orders()
    assert fake.submits == 1
    order = entry(db)
    assert (order["status"], order["broker_order_id"]) == ("SUBMITTED", placed.broker_id)


def test_a_timed_out_submit_is_looked_up_by_client_id_and_never_placed_twice(db, fake):
    fake.next_submits("timeout")
    ordered()
    result = run("paper_executor")["result"]
    # the submit got no answer in time; the same run's resolve pass found it by client id
    assert (result["unresolved"], result["adopted"], result["resubmitted"]) == (1, 1, 0)

    run("paper_executor")
    assert fake.submits == 1 and len(fake.orders) == 1
    assert entry(db)["status"] == "SUBMITTED"
    assert entry(db)["broker_order_id"] == next(iter(fake.orders))


def test_a_submit_the_broker_never_got_is_sent_again_once_it_says_it_has_none(db, fake):
    fake.next_submits("refuse500")
    ordered()
    result = run("paper_executor")["result"]
    # a 500 may or may not have placed it: the resolve pass asked, heard "none", and sent it again
    assert (result["unresolved"], result["resubmitted"]) == (1, 1)
    assert fake.submits == 2 and len(fake.live_orders()) == 1
    assert entry(db)["status"] == "SUBMITTED"


def test_a_partial_fill_shows_as_a_smaller_position_that_grows_with_later_fills(db, fake):
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    fake.next_submits("partial:1")
    alert("SPY", quantity=3)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")

    order = entry(db)
    assert (order["status"], order["filled_quantity"], order["quantity"]) == ("PARTIALLY_FILLED", 1, 3)
    assert one(db, "SELECT quantity FROM positions") == {"quantity": 1}

    [placed] = fake.live_orders()
    fake.fill(placed.broker_id, 1, placed.limit + Decimal("0.02"))
    run("paper_executor")
    position = one(db, "SELECT quantity, entry_price FROM positions")
    assert position["quantity"] == 2
    assert position["entry_price"] == (placed.limit * 2 + Decimal("0.02")) / 2
    assert [t["quantity"] for t in rows(db, "SELECT quantity FROM trades ORDER BY fill_seq")] == [1, 1]


def test_a_partially_filled_entry_that_is_cancelled_keeps_what_filled_and_says_so(
    db, fake, settings, frozen_clock
):
    config.use_settings(config.get_settings().model_copy(update={"max_reprices": 0}))
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    fake.next_submits("partial:1")
    signal_id = alert("SPY", quantity=3)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")

    frozen_clock.advance(timedelta(seconds=31))
    run("paper_executor")  # no rungs left: the rest is cancelled at the broker
    run("paper_executor")  # and the cancel is read back

    order = entry(db)
    assert (order["status"], order["filled_quantity"]) == ("CANCELLED", 1)
    assert "partially filled: 1 of 3" in order["reason"]
    assert one(db, "SELECT quantity, status FROM positions") == {"quantity": 1, "status": "OPEN"}
    assert signal(db, signal_id)["status"] == "EXECUTED"
    assert not fake.live_orders()


def test_a_broker_reject_is_final_with_its_reason_in_the_trail(db, fake):
    fake.next_submits("reject")
    signal_id = ordered()
    result = run("paper_executor")["result"]
    assert result["rejected"] == 1

    order = entry(db)
    assert order["status"] == "REJECTED"
    assert "buying power" in order["reason"].lower()
    failed = signal(db, signal_id)
    assert failed["status"] == "FAILED" and "buying power" in failed["rejection_reasons"][0].lower()
    trail = one(
        db,
        "SELECT passed, detail FROM decision_lines WHERE signal_id = %s AND check_name = 'broker_order'",
        signal_id,
    )
    assert trail["passed"] is False and "buying power" in trail["detail"].lower()

    run("paper_executor")  # final: never sent again
    assert fake.submits == 1


def test_an_unfilled_order_climbs_the_reprice_ladder_then_is_cancelled(db, fake, frozen_clock):
    config.use_settings(config.get_settings().model_copy(update={"max_reprices": 2, "order_price": "mid"}))
    signal_id = ordered()
    run("paper_executor")
    first = entry(db)["limit_price"]

    limits = [first]
    for _ in range(3):
        frozen_clock.advance(timedelta(seconds=31))
        run("paper_executor")
        limits.append(entry(db)["limit_price"])
    assert limits[1] > limits[0] and limits[2] > limits[1]  # two rungs up
    assert entry(db)["reprices"] == 2
    run("paper_executor")
    order = entry(db)
    assert order["status"] == "CANCELLED" and order["cancel_requested_at"] is not None
    assert not fake.live_orders()
    assert signal(db, signal_id)["status"] == "FAILED"
    # one live broker order at every moment: each rung replaced the last
    assert all(not o.live for o in fake.orders.values())


def test_a_close_at_the_broker_by_hand_appears_as_a_reconciliation_difference(db, fake):
    fake.next_submits("fill")
    ordered()
    run("paper_executor")
    symbol = entry(db)["option_symbol"]
    assert run("reconciler")["result"]["differences"] == 0

    fake.close_position(symbol)
    result = run("reconciler")["result"]
    assert result["differences"] == 1
    difference = one(
        db, "SELECT kind, subject, broker_quantity, book_quantity, status FROM reconciliation_differences"
    )
    assert difference == {
        "kind": "MANUAL_CLOSE",
        "subject": symbol,
        "broker_quantity": 0,
        "book_quantity": entry(db)["quantity"],
        "status": "OPEN",
    }
    assert one(db, "SELECT status FROM positions") == {"status": "OPEN"}  # the book is not rewritten

    status, health = call(request("GET", "/health"))
    assert status == 200
    assert health["reconciliation"]["open_differences"] == 1
    assert health["reconciliation"]["differences"][0]["kind"] == "MANUAL_CLOSE"
    assert health["trading"] == {"app_mode": "PAPER", "broker": fake.name}


def test_a_close_at_the_broker_by_hand_is_notified_once_with_both_quantities(db, settings, frozen_clock):
    with FAKES["alpaca"]() as broker, ScriptedServer() as sink:
        sink.script("POST", "/hook", Reply(200, {"received": True}))
        config.use_settings(
            settings.model_copy(update={**broker_settings(broker), "notify_webhook_url": sink.url + "/hook"})
        )
        provider.reset()
        try:
            broker.next_submits("fill")
            ordered()
            run("paper_executor")
            symbol, quantity = entry(db)["option_symbol"], entry(db)["quantity"]
            run("reconciler")
            broker.close_position(symbol)
            run("reconciler")
            run("reconciler")  # still open: no second notification, at the same instant
            frozen_clock.advance(timedelta(minutes=5))
            run("reconciler")  # nor on the next scheduled run
            notices = rows(
                db, "SELECT kind, severity, facts FROM notifications WHERE kind = 'RECONCILIATION_DIFFERENCE'"
            )
            run("notifier")
            sent = [r.json() for r in sink.calls("POST", "/hook")]
        finally:
            provider.reset()

    [notice] = notices
    assert notice["severity"] == "CRITICAL"
    facts = notice["facts"]
    assert (facts["broker"], facts["difference"], facts["subject"]) == ("alpaca", "MANUAL_CLOSE", symbol)
    assert (facts["broker_quantity"], facts["book_quantity"]) == (0, quantity)
    [message] = [m for m in sent if m["kind"] == "RECONCILIATION_DIFFERENCE"]
    assert message["title"] == f"Broker and book differ (manual close): {symbol}"
    assert f"alpaca holds 0; our book holds {quantity}" in message["text"]
    assert message["facts"] == facts


def test_an_unknown_position_and_a_quantity_mismatch_are_recorded_and_resolve_when_they_go(db, alpaca):
    alpaca.next_submits("fill")
    ordered()
    run("paper_executor")
    symbol = entry(db)["option_symbol"]
    held, avg = alpaca.positions[symbol]
    alpaca.positions[symbol] = (held + 1, avg)
    alpaca.positions["QQQ261218P00400000"] = (2, Decimal("3.10"))
    run("reconciler")
    kinds = {
        r["kind"]: r["subject"]
        for r in rows(db, "SELECT kind, subject FROM reconciliation_differences WHERE status = 'OPEN'")
    }
    assert kinds == {"QUANTITY_MISMATCH": symbol, "UNKNOWN_POSITION": "QQQ261218P00400000"}

    alpaca.positions[symbol] = (held, avg)
    del alpaca.positions["QQQ261218P00400000"]
    assert run("reconciler")["result"]["resolved"] == 2
    assert rows(db, "SELECT kind FROM reconciliation_differences WHERE status = 'OPEN'") == []


def test_the_reconciler_adopts_an_order_it_can_match_by_client_id(db, alpaca, monkeypatch):
    ordered()

    class Killed(BaseException):
        pass

    monkeypatch.setattr(routing, "_apply", lambda *a, **k: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        run("paper_executor")
    monkeypatch.undo()

    result = run("reconciler")["result"]
    assert result["adopted"] == 1 and result["differences"] == 0
    assert entry(db)["status"] == "SUBMITTED" and alpaca.submits == 1


def test_on_paper_the_reconciler_has_nothing_to_reconcile_and_says_so(db):
    result = run("reconciler")["result"]
    assert result["differences"] == 0
    assert "nothing to reconcile" in result["note"]


def test_an_exit_fill_at_the_broker_closes_the_position_with_its_pnl(db, fake):
    fake.next_submits("fill")
    ordered()
    run("paper_executor")
    entry_price = one(db, "SELECT entry_price FROM positions")["entry_price"]
    closing = alert("SPY", action="CLOSE", direction=None)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    [exit_order] = fake.live_orders()
    assert exit_order.side == "sell_to_close"
    fake.fill(exit_order.broker_id, price=entry_price + Decimal("0.50"))
    run("paper_executor")
    position = one(db, "SELECT status, exit_price, realized_pnl, quantity FROM positions")
    assert position["status"] == "CLOSED" and position["exit_price"] == entry_price + Decimal("0.50")
    assert position["realized_pnl"] == Decimal("0.50") * 100 * position["quantity"]
    assert signal(db, closing)["status"] == "EXECUTED"
    assert not fake.positions


def test_an_exit_that_fills_in_part_closes_that_part_and_leaves_the_rest_open(db, fake, frozen_clock):
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    config.use_settings(config.get_settings().model_copy(update={"max_reprices": 0}))
    fake.next_submits("fill", "partial:1")
    alert("SPY", quantity=3)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    alert("SPY", action="CLOSE", direction=None)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")  # the exit fills 1 of 3
    frozen_clock.advance(timedelta(seconds=31))
    run("paper_executor")  # no rungs: cancel the rest
    run("paper_executor")  # read the cancel back
    held = rows(db, "SELECT quantity, status FROM positions ORDER BY quantity")
    assert held == [{"quantity": 1, "status": "CLOSED"}, {"quantity": 2, "status": "OPEN"}]
    [[symbol, (quantity, _)]] = fake.positions.items()
    assert quantity == 2 and symbol == entry(db)["option_symbol"]
    assert run("reconciler")["result"]["differences"] == 0  # the two books agree


class Killed(BaseException):
    pass


def _die_after_the_answer(monkeypatch: Any) -> None:
    def die(*args: Any, **kwargs: Any) -> Any:
        raise Killed()

    monkeypatch.setattr(routing, "_apply", die)
    with pytest.raises(Killed):
        run("paper_executor")
    monkeypatch.undo()


def close_alert() -> str:
    signal_id = alert("SPY", action="CLOSE", direction=None)
    run("signal_processor")
    run("order_creator")
    return signal_id


def test_a_close_cancels_at_the_broker_an_entry_whose_submit_was_never_answered(db, fake, monkeypatch):
    entry_signal = ordered()
    _die_after_the_answer(monkeypatch)
    assert entry(db)["status"] == "SUBMITTING" and len(fake.live_orders()) == 1

    close_alert()
    assert entry(db)["status"] == "CANCELLED"
    assert signal(db, entry_signal)["status"] == "CANCELLED"
    run("paper_executor")
    assert not fake.live_orders()  # found by client id and cancelled there
    order = entry(db)
    assert order["broker_open"] is False and order["broker_order_id"] == next(iter(fake.orders))


def test_a_fill_at_the_broker_after_we_cancelled_is_a_difference_not_a_silent_position(db, fake):
    ordered()
    run("paper_executor")
    [placed] = fake.live_orders()
    close_alert()  # cancels the entry here ...
    fake.fill(placed.broker_id)  # ... while the broker fills it
    run("paper_executor")
    difference = one(db, "SELECT kind, broker_quantity, book_quantity FROM reconciliation_differences")
    assert difference == {
        "kind": "FILLED_AFTER_CANCEL",
        "broker_quantity": placed.quantity,
        "book_quantity": 0,
    }
    assert rows(db, "SELECT id FROM positions") == []
    assert entry(db)["broker_open"] is False
    told = rows(
        db, "SELECT facts->>'difference' AS kind FROM notifications WHERE kind = 'RECONCILIATION_DIFFERENCE'"
    )
    assert told == [
        {"kind": "FILLED_AFTER_CANCEL"}
    ]  # the trader hears of it now, not at the reconciler's run
    run("reconciler")  # the broker now holds a position the book does not: that is recorded too
    kinds = {r["kind"] for r in rows(db, "SELECT kind FROM reconciliation_differences WHERE status = 'OPEN'")}
    assert kinds == {"FILLED_AFTER_CANCEL", "UNKNOWN_POSITION"}
    told = rows(
        db, "SELECT facts->>'difference' AS kind FROM notifications WHERE kind = 'RECONCILIATION_DIFFERENCE'"
    )
    assert sorted(r["kind"] for r in told) == ["FILLED_AFTER_CANCEL", "UNKNOWN_POSITION"]  # each once


def test_an_unanswered_submit_the_broker_never_got_is_not_sent_after_its_day(
    db, fake, frozen_clock, monkeypatch
):
    signal_id = ordered()
    monkeypatch.setattr(routing, "_resolve_submitting", lambda *a, **k: None)  # this run only sends
    fake.next_submits("refuse500")
    run("paper_executor")
    monkeypatch.undo()
    assert entry(db)["status"] == "SUBMITTING" and not fake.orders

    frozen_clock.advance(timedelta(hours=7))  # 17:00 New York: the session is over
    result = run("paper_executor")["result"]
    assert result["expired"] == 1 and result["resubmitted"] == 0
    assert fake.submits == 1 and not fake.orders
    assert entry(db)["status"] == "EXPIRED"
    assert signal(db, signal_id)["status"] == "FAILED"


def test_a_run_out_of_time_leaves_unsent_orders_pending_for_the_next_run(db, alpaca, monkeypatch):
    ordered()
    monkeypatch.setattr(routing, "BUDGET_SECONDS", -1.0)
    assert run("paper_executor")["result"]["waiting"] == 1
    assert entry(db)["status"] == "PENDING" and not alpaca.orders
    monkeypatch.undo()
    run("paper_executor")
    assert entry(db)["status"] == "SUBMITTED" and len(alpaca.orders) == 1


def test_an_exercise_at_the_broker_is_told_apart_from_a_manual_close(db, alpaca):
    alpaca.next_submits("fill")
    ordered()
    run("paper_executor")
    symbol = entry(db)["option_symbol"]
    alpaca.close_position(symbol)
    alpaca.positions["SPY"] = (100, Decimal("525"))  # the contract became shares
    run("reconciler")
    found = rows(db, "SELECT kind, subject FROM reconciliation_differences WHERE status = 'OPEN'")
    assert found == [{"kind": "EXERCISE_OR_ASSIGNMENT", "subject": symbol}]
    assert one(db, "SELECT status FROM positions") == {"status": "OPEN"}


def test_a_working_broker_order_no_order_of_ours_placed_is_an_unknown_order(db, alpaca):
    from tests.broker_fakes import FakeOrder

    stranger = FakeOrder(
        "manual-1", "placed-by-hand", "QQQ261218P00400000", "QQQ", "buy_to_open", 1, Decimal("3")
    )
    alpaca.orders[stranger.broker_id] = stranger
    run("reconciler")
    found = one(db, "SELECT kind, subject, broker_order_id FROM reconciliation_differences")
    assert found == {"kind": "UNKNOWN_ORDER", "subject": "manual-1", "broker_order_id": "manual-1"}
    alpaca.cancel("manual-1")
    assert run("reconciler")["result"]["resolved"] == 1


def test_broker_fills_and_rejects_queue_the_same_notices_as_paper(db, fake):
    fake.next_submits("fill", "reject")
    ordered()
    run("paper_executor")
    ordered_second = alert("SPY", timeframe="15")
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    kinds = [r["kind"] for r in rows(db, "SELECT kind FROM notifications ORDER BY id")]
    assert "ENTRY_FILLED" in kinds and "ORDER_ENDED" in kinds
    assert signal(db, ordered_second)["status"] == "FAILED"


def test_a_slow_broker_answer_holds_only_the_order_it_is_about(db, alpaca, monkeypatch, settings):
    # A CLOSE that must cancel a working entry locks its order; while the router waits on the broker about
    # another order, that lock must be free at once, not after the broker has answered for a whole batch.
    ordered("SPY")
    ordered("QQQ")
    run("paper_executor")  # both sent: two working orders
    first, second = (r["id"] for r in rows(db, "SELECT id FROM orders ORDER BY created_at, id"))
    asked, answer = threading.Event(), threading.Event()
    polled: list[str] = []
    real_get = AlpacaBroker.get

    def slow_get(self: AlpacaBroker, broker_id: str) -> Any:
        polled.append(broker_id)
        if not asked.is_set():
            asked.set()
            answer.wait(10)
        return real_get(self, broker_id)

    monkeypatch.setattr(AlpacaBroker, "get", slow_get)
    router = threading.Thread(target=run, args=("paper_executor",))
    router.start()
    other = psycopg2.connect(settings.database_url)
    try:
        assert asked.wait(10)  # the router is waiting on the broker about the first order
        with other.cursor() as cur:
            cur.execute("SELECT id FROM orders WHERE id = %s FOR UPDATE NOWAIT", (str(second),))
            assert cur.fetchone() is not None
            cur.execute("SET lock_timeout = '50ms'")
            with pytest.raises(psycopg2.errors.LockNotAvailable):  # the one it is asking about is held
                cur.execute("SELECT id FROM orders WHERE id = %s FOR UPDATE", (str(first),))
        other.rollback()
    finally:
        other.close()
        answer.set()
        router.join(10)
    assert not router.is_alive() and len(polled) == 2  # and the second was polled once freed


def _partly_filled_entry_near_the_close(db: Any, fake: FakeBrokerServer, frozen_clock: Any) -> str:
    """1 of 3 contracts filled, the rest working at the broker, 25 s before a zero-minute time stop."""
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    db.execute("UPDATE exit_rules SET close_minutes_before_close = 0")
    frozen_clock.set(frozen_clock.now().replace(hour=20, minute=58, second=50))  # 15:58:50 in New York
    fake.next_submits("partial:1")
    signal_id = alert("SPY", quantity=3)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    assert rows(db, "SELECT status, quantity FROM positions") == [{"status": "OPEN", "quantity": 1}]
    frozen_clock.advance(timedelta(seconds=25))
    return signal_id


def test_an_exit_rule_on_a_partly_filled_entry_cancels_its_rest_so_the_exit_sells_all_the_broker_holds(
    db, fake, frozen_clock
):
    entry_signal = _partly_filled_entry_near_the_close(db, fake, frozen_clock)
    [working] = fake.live_orders()
    run("position_refresher")
    assert run("exit_monitor")["result"]["exit_orders"] == 1
    # the rest of the entry is cancelled in the book before the exit goes out ...
    assert entry(db)["status"] == "CANCELLED" and entry(db)["filled_quantity"] == 1
    assert signal(db, entry_signal) == {
        "status": "EXECUTED",
        "rejection_reasons": [
            "partially filled: 1 of 3 contracts, then the rest was cancelled when its position's "
            "TIME_STOP exit fired"
        ],
    }
    run("paper_executor")  # ... and at the broker, while the exit for the one contract held is placed
    [exit_order] = fake.live_orders()
    assert exit_order.side == "sell_to_close" and exit_order.quantity == 1
    assert fake.orders[working.broker_id].status == "canceled"
    fake.fill(exit_order.broker_id)
    run("paper_executor")
    assert rows(db, "SELECT status, quantity FROM positions") == [{"status": "CLOSED", "quantity": 1}]
    assert not fake.positions
    assert run("reconciler")["result"]["differences"] == 0  # flat in both books


def test_an_exit_rule_waits_a_run_while_the_executor_holds_the_entry_it_must_cancel_first(
    db, fake, frozen_clock
):
    _partly_filled_entry_near_the_close(db, fake, frozen_clock)
    run("position_refresher")
    order_id = entry(db)["id"]
    holder = psycopg2.connect(config.get_settings().database_url)
    try:
        with holder.cursor() as cur:  # as the executor would, polling that order at the broker
            cur.execute("SELECT id FROM orders WHERE id = %s FOR UPDATE", (str(order_id),))
            result = run("exit_monitor")["result"]
            assert result["exit_orders"] == 0 and result["exit_orders_deferred"] == 1
            assert rows(db, "SELECT purpose FROM orders WHERE purpose = 'EXIT'") == []
        holder.rollback()
    finally:
        holder.close()
    assert run("exit_monitor")["result"]["exit_orders"] == 1  # the next run cancels the rest, then exits
    assert entry(db)["status"] == "CANCELLED"


def test_an_entry_that_fills_more_after_its_position_closed_is_a_difference_told_at_once(db, alpaca):
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    alpaca.next_submits("partial:1")
    alert("SPY", quantity=3)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    [working] = alpaca.live_orders()
    # closed while the rest still works (every close path cancels the rest first; this is the router's
    # guard for a close that slipped between)
    db.execute(
        "UPDATE positions SET status = 'CLOSED', closed_at = now(), exit_price = entry_price, realized_pnl = 0"
    )
    alpaca.fill(working.broker_id)
    run("paper_executor")
    difference = one(db, "SELECT kind, broker_quantity, book_quantity FROM reconciliation_differences")
    assert difference == {"kind": "FILLED_AFTER_CANCEL", "broker_quantity": 3, "book_quantity": 1}
    assert rows(db, "SELECT quantity FROM positions") == [{"quantity": 1}]  # the closed lot is not regrown
    told = rows(
        db, "SELECT facts->>'difference' AS kind FROM notifications WHERE kind = 'RECONCILIATION_DIFFERENCE'"
    )
    assert told == [{"kind": "FILLED_AFTER_CANCEL"}]


def test_a_close_that_cancels_the_rest_of_a_partly_filled_entry_leaves_its_signal_executed_not_cancelled(
    db, fake
):
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    fake.next_submits("partial:1")
    entry_signal = alert("SPY", quantity=3)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    closing = close_alert()
    [why] = signal(db, entry_signal)["rejection_reasons"]
    assert signal(db, entry_signal)["status"] == "EXECUTED"  # it bought the one contract the CLOSE sells
    assert (
        why
        == f"partially filled: 1 of 3 contracts, then the rest was cancelled by a later CLOSE alert ({closing})"
    )
    run("paper_executor")
    [exit_order] = fake.live_orders()
    assert exit_order.quantity == 1


def test_a_contract_that_expires_while_its_exit_had_sold_part_settles_only_the_rest(db, fake, frozen_clock):
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    db.execute("UPDATE exit_rules SET min_dte = NULL, max_hold_days = NULL, stop_loss_pct = NULL")
    db.execute("UPDATE exit_rules SET profit_target_pct = NULL")
    config.use_settings(config.get_settings().model_copy(update={"max_reprices": 0}))
    fake.next_submits("fill")
    alert("SPY", quantity=3)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    held = one(db, "SELECT expiry, entry_price FROM positions")
    expiry, entry_price = held["expiry"], held["entry_price"]
    frozen_clock.set(datetime(expiry.year, expiry.month, expiry.day, 17, 50, tzinfo=UTC))  # its last session
    fake.next_submits("partial:1")
    closing = close_alert()
    run("paper_executor")  # the exit sells 1 of 3 ...
    sold_at = one(db, "SELECT avg_fill_price FROM orders WHERE purpose = 'EXIT'")["avg_fill_price"]
    frozen_clock.set(datetime(expiry.year, expiry.month, expiry.day, 22, 0, tzinfo=UTC))
    run("exit_monitor")  # ... and the contract expires before the executor reads the exit's end
    run("paper_executor")
    lots = rows(db, "SELECT quantity, exit_price, exit_reason, realized_pnl FROM positions ORDER BY quantity")
    settlement = lots[1]["exit_price"]
    assert [(lot["quantity"], lot["exit_price"], lot["exit_reason"]) for lot in lots] == [
        (1, sold_at, "CLOSE alert"),
        (2, settlement, "EXPIRED"),
    ]
    assert (
        sum(lot["realized_pnl"] for lot in lots)
        == (sold_at - entry_price) * 100 + (settlement - entry_price) * 2 * 100
    )
    assert signal(db, closing) == {
        "status": "EXECUTED",
        "rejection_reasons": [
            f"1 of 3 contracts sold at ${sold_at:.2f}, 2 settled at ${settlement:.2f} when the contract expired"
        ],
    }


def test_the_kill_switch_cancels_entries_already_working_at_the_broker_not_only_those_unsent(db, fake):
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    fake.next_submits("partial:1")
    partly = alert("SPY", quantity=3)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    fake.next_submits("accept")
    working = alert("QQQ")
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    assert len(fake.live_orders()) == 2
    status, _ = call(request("POST", "/kill-switch", body={"on": True, "reason": "FOMC"}, scope="admin"))
    assert status == 200
    run("paper_executor")
    assert fake.live_orders() == []  # nothing more can fill at the broker
    assert signal(db, working) == {
        "status": "CANCELLED",
        "rejection_reasons": ["cancelled by the kill switch (no new entries)"],
    }
    assert signal(db, partly) == {
        "status": "EXECUTED",
        "rejection_reasons": [
            "partially filled: 1 of 3 contracts, then the rest was cancelled by the kill switch (no new entries)"
        ],
    }
    assert rows(db, "SELECT ticker, quantity, status FROM positions") == [
        {"ticker": "SPY", "quantity": 1, "status": "OPEN"}  # what filled is held, and exits still run
    ]
    assert run("reconciler")["result"]["differences"] == 0
