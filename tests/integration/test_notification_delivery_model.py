"""Claim -> send -> mark under crashes, as hypothesis interleaves them.

Several notifiers claim deliveries, a channel receives some of them, marks land or are lost, notifiers
die at any point between the steps, and the clock moves. Whatever the order: a delivery is SENT only if
the channel got it; once everyone recovers every notification reaches the channel; and it reaches it more
than once only when a sender died (or its lease ran out) after the channel took it and before the mark.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from optionflow.db import notifications as notifications_db
from optionflow.db.connection import run_in_transaction
from optionflow.db.rows import DueDelivery
from optionflow.logic.notifier import LEASE
from optionflow.states import NoticeKind

from tests.conftest import MARKET_OPEN, RESETTABLE


class Outbox(RuleBasedStateMachine):
    db: Any = None
    clock: Any = None

    @initialize(count=st.integers(min_value=1, max_value=6))
    def notifications_queued(self, count: int) -> None:
        self.db.execute(f"TRUNCATE {RESETTABLE} RESTART IDENTITY CASCADE")
        self.clock.set(MARKET_OPEN)
        now = self.clock.now()

        def queue(cur: Any) -> None:
            ids = [notifications_db.record(cur, NoticeKind.TEST, {"n": i}, now) for i in range(count)]
            notifications_db.route(cur, [i for i in ids if i], [(i, "sink") for i in ids if i], now)

        run_in_transaction(queue)
        self.ids = list(range(1, count + 1))
        self.received: Counter[int] = Counter()  # what the channel took, per notification
        self.in_flight: list[DueDelivery] = []  # claimed, not yet sent
        self.unmarked: list[DueDelivery] = []  # sent, not yet marked
        self.lost_after_send: Counter[int] = Counter()  # a sender died (or ran out of lease) after the send

    def _tx(self, work: Any) -> Any:
        return run_in_transaction(work)

    @rule(batch=st.integers(min_value=1, max_value=4))
    def a_notifier_claims(self, batch: int) -> None:
        now = self.clock.now()
        self.in_flight += self._tx(lambda cur: notifications_db.claim_due(cur, now, LEASE, batch))

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data())
    def the_channel_takes_one(self, data: Any) -> None:
        delivery = self.in_flight.pop(data.draw(st.integers(0, len(self.in_flight) - 1)))
        self.received[delivery.notification_id] += 1
        self.unmarked.append(delivery)

    @precondition(lambda self: self.unmarked)
    @rule(data=st.data())
    def the_mark_lands(self, data: Any) -> None:
        delivery = self.unmarked.pop(data.draw(st.integers(0, len(self.unmarked) - 1)))
        now = self.clock.now()
        if not self._tx(lambda cur: notifications_db.mark_sent(cur, delivery, now)):
            # its lease ran out and another claim holds it: that one sends again
            self.lost_after_send[delivery.notification_id] += 1

    @rule()
    def a_notifier_dies_before_sending(self) -> None:
        self.in_flight.clear()

    @precondition(lambda self: self.unmarked)
    @rule()
    def a_notifier_dies_after_sending_before_marking(self) -> None:
        for delivery in self.unmarked:
            self.lost_after_send[delivery.notification_id] += 1
        self.unmarked.clear()

    @rule(seconds=st.sampled_from([1, 30, 119, 121, 600]))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    @invariant()
    def a_delivery_is_sent_only_if_the_channel_got_it(self) -> None:
        if self.db is None or not hasattr(self, "ids"):
            return
        self.db.execute("SELECT notification_id FROM notification_deliveries WHERE status = 'SENT'")
        for row in self.db.fetchall():
            assert self.received[row["notification_id"]] >= 1, row

    def teardown(self) -> None:
        if self.db is None or not hasattr(self, "ids"):
            return
        # everyone recovers: in-flight work is lost, leases run out, a healthy notifier drains the outbox
        self.a_notifier_dies_before_sending()
        if self.unmarked:
            self.a_notifier_dies_after_sending_before_marking()
        self.clock.advance(LEASE + timedelta(seconds=1))
        now = self.clock.now()
        for _ in range(len(self.ids) + 1):
            for delivery in self._tx(lambda cur: notifications_db.claim_due(cur, now, LEASE, 100)):
                self.received[delivery.notification_id] += 1
                assert self._tx(lambda cur, d=delivery: notifications_db.mark_sent(cur, d, now))
        self.db.execute("SELECT count(*) AS n FROM notification_deliveries WHERE status <> 'SENT'")
        assert self.db.fetchone()["n"] == 0
        for nid in self.ids:
            assert self.received[nid] >= 1, f"notification {nid} was lost"
            assert self.received[nid] <= 1 + self.lost_after_send[nid], f"notification {nid} sent twice"


def test_claim_send_mark_never_loses_a_notification_and_doubles_one_only_after_a_crash_between_send_and_mark(
    db: Any, frozen_clock: Any, settings: Any
) -> None:
    Outbox.db, Outbox.clock = db, frozen_clock
    try:
        run_state_machine_as_test(
            Outbox,
            settings=hypothesis_settings(
                max_examples=30,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            ),
        )
    finally:
        Outbox.db = Outbox.clock = None
