"""Property: however submits, timeouts, 5xx answers, crashes before our commit, fills, re-prices and runs
interleave with exit rules firing, one signal never has more than one live broker order, and after the reconciler runs its view
of the broker and ours agree (no open difference; every broker order's fills are in our book)."""

from __future__ import annotations

import itertools
import os
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from optionflow import config
from optionflow.brokers import provider
from optionflow.logic import routing

from tests.broker_fakes import FAKES, broker_settings
from tests.conftest import MARKET_OPEN, RESETTABLE
from tests.pipeline_support import alert, rows, run

SOAK = int(os.environ.get("OPTIONFLOW_SOAK", "1"))  # `make soak` runs ten times the examples
BEHAVIOURS = ["accept", "fill", "partial:1", "timeout", "error500", "refuse500", "reject"]


class Killed(BaseException):
    """The process dies between the broker's answer and our commit."""


@pytest.mark.parametrize("broker", ["alpaca", "tradier"])
def test_one_live_broker_order_per_signal_and_the_books_agree_after_reconciling(
    broker, db, settings, market, frozen_clock, monkeypatch
):
    fake = FAKES[broker](slow_seconds=0.5)
    fake.__enter__()
    config.use_settings(settings.model_copy(update=broker_settings(fake, max_reprices=2)))
    provider.reset()
    counter = itertools.count()
    apply = routing._apply

    class Interleavings(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            db.execute(f"TRUNCATE {RESETTABLE}, reconciliation_differences RESTART IDENTITY CASCADE")
            db.execute(
                "UPDATE risk_limits SET risk_per_trade = 5000, max_open_positions = 100,"
                " max_positions_per_ticker = 100"
            )
            fake.orders.clear()
            fake.positions.clear()
            fake.behaviours.clear()
            frozen_clock.set(MARKET_OPEN)

        @rule(quantity=st.integers(1, 3))
        def an_alert_is_ordered(self, quantity: int) -> None:
            # each order its own instant: orders created at one instant are taken in id order, and ids are
            # random, so which order meets the broker's next behaviour would differ between two runs of the
            # same steps (hypothesis replays them and must see the same draws)
            frozen_clock.advance(timedelta(milliseconds=1))
            alert("SPY", quantity=quantity, timeframe=str(next(counter)))
            run("signal_processor")
            run("order_creator")

        @rule(behaviour=st.sampled_from(BEHAVIOURS))
        def the_executor_runs_with_the_broker_answering(self, behaviour: str) -> None:
            fake.next_submits(behaviour)
            run("paper_executor")
            fake.behaviours.clear()

        @rule()
        def the_executor_dies_after_the_brokers_answer(self) -> None:
            def die(*args: Any, **kwargs: Any) -> Any:
                raise Killed()

            monkeypatch.setattr(routing, "_apply", die)
            try:
                run("paper_executor")
            except Killed:
                pass
            finally:
                monkeypatch.setattr(routing, "_apply", apply)

        @rule(data=st.data())
        def the_market_fills(self, data: st.DataObject) -> None:
            live = fake.live_orders()
            if live:
                order = data.draw(st.sampled_from(live))
                left = order.quantity - order.filled
                fake.fill(order.broker_id, data.draw(st.integers(1, left)))

        @rule()
        def an_exit_rule_fires_on_every_held_position(self) -> None:
            # a time stop whose window is the whole session: every held position, partly filled or not,
            # gets its exit order now
            db.execute("UPDATE exit_rules SET close_minutes_before_close = 390")
            try:
                run("position_refresher")
                run("exit_monitor")
            finally:
                db.execute("UPDATE exit_rules SET close_minutes_before_close = NULL")

        @rule()
        def time_passes(self) -> None:
            frozen_clock.advance(timedelta(seconds=31))

        @invariant()
        def one_live_broker_order_per_signal(self) -> None:
            live = [o.client_id.split("-r")[0] for o in fake.live_orders()]
            assert len(live) == len(set(live)), live

        @rule()
        def the_reconciler_runs(self) -> None:
            run("reconciler")
            differences = rows(
                db, "SELECT kind, detail FROM reconciliation_differences WHERE status = 'OPEN'"
            )
            assert differences == []
            ours = {
                str(r["broker_order_id"]): r
                for r in rows(
                    db,
                    "SELECT broker_order_id, filled_quantity, status FROM orders "
                    "WHERE broker_order_id IS NOT NULL",
                )
            }
            for order in fake.orders.values():
                if order.status == "replaced":
                    continue
                mine = ours.get(order.broker_id)
                assert mine is not None, (
                    f"broker order {order.broker_id} ({order.client_id}) is not in our book"
                )
                assert mine["filled_quantity"] == order.filled, (mine, order)
            held = rows(
                db,
                "SELECT option_symbol, SUM(quantity)::int AS q FROM positions "
                "WHERE status IN ('OPEN', 'CLOSING') GROUP BY option_symbol",
            )
            assert {r["option_symbol"]: r["q"] for r in held} == {
                s: q for s, (q, _) in fake.positions.items()
            }

    try:
        run_state_machine_as_test(
            Interleavings,
            settings=hypothesis_settings(
                max_examples=40 * SOAK,
                stateful_step_count=12,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            ),
        )
    finally:
        fake.__exit__(None, None, None)
        provider.reset()
