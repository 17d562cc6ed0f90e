"""The notifier worker: route new notifications to the channels that want them, send what is due, and mark
each delivery; failures retry with exponential backoff until they are DEAD.

Claim -> send -> mark, each delivery on its own:
- the claim (SENDING, attempt counted, a lease) commits before anything is sent, so two notifiers never
  send one delivery at once, and a notifier that dies mid-send leaves a claim whose lease runs out: the
  delivery is due again and is retried. Nothing is lost.
- the mark commits right after the channel answers and only if the claim still holds (same attempt). The
  one window in which a message can go out twice is a crash between the channel's answer and that commit
  (or a timeout after the channel did take it): delivery is at least once. The plain JSON webhook carries
  an `Idempotency-Key` (and the body's `id`) so its receiver can drop the repeat; Slack, Discord,
  Telegram and SNS standard topics take no such key.

A slow or failing channel never delays the pipeline: nothing in the pipeline waits on a send (it only
writes outbox rows), each call has short timeouts, and once a channel fails in a run its other deliveries
are postponed rather than tried, so one dead channel costs a run one timeout, not one per message.
"""

from __future__ import annotations

import time as wall
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from optionflow.db import notifications as notifications_db
from optionflow.db.rows import ChannelRule, DueDelivery, UnroutedNotice
from optionflow.logic import daily_summary
from optionflow.logic.results import DeliveryResult
from optionflow.logic.runs import drain
from optionflow.notify.channels import configured
from optionflow.notify.messages import render
from optionflow.notify.ports import Channel, DeliveryFailed
from optionflow.notify.webhooks import scrub
from optionflow.observability import logger
from optionflow.states import NoticeKind, Severity

if TYPE_CHECKING:
    from optionflow.composition import Dependencies

ROUTE_BATCH = 500
SEND_BATCH = 20
PRUNE_BATCH = 1000
# Longer than any one send (the timeouts are seconds): a live claim is never taken over.
LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)
SEND_BUDGET_SECONDS = 30.0


def backoff(settings_seconds: int, attempt: int) -> timedelta:
    """The wait after failed attempt number `attempt` (1, 2, ...): base, 2 x base, 4 x base ..., at most an hour."""
    return min(timedelta(seconds=settings_seconds * 2 ** (attempt - 1)), MAX_BACKOFF)


def wants(rule: ChannelRule | None, kind: str, severity: str) -> bool:
    """Whether a channel with `rule` (None: no rule, everything) gets a notification."""
    if rule is None:
        return True
    return kind not in rule.muted and Severity(severity).rank >= Severity(rule.min_severity).rank


def targets(notice: UnroutedNotice, channels: list[str], rules: dict[str, ChannelRule]) -> list[str]:
    if notice.only_channel is not None:
        # a test message: that channel alone, whatever its rule; one not configured here fails visibly
        return [notice.only_channel]
    return [c for c in channels if wants(rules.get(c), notice.kind, notice.severity)]


def deliver(deps: Dependencies, now: datetime) -> DeliveryResult:
    """One notifier run: queue the daily summary when a session has closed, route, then send what is due."""
    channels = configured(deps.settings)
    outcome = {"routed": 0, "sent": 0, "retrying": 0, "dead": 0, "postponed": 0, "summaries": 0, "pruned": 0}
    outcome["summaries"] = int(daily_summary.queue_if_due(deps, now))
    outcome["routed"] = drain(lambda batch: route_new(deps, now, list(channels), batch), ROUTE_BATCH)
    failed_channels: dict[str, datetime] = {}
    deadline = wall.monotonic() + SEND_BUDGET_SECONDS

    def step(batch: int) -> int:
        if wall.monotonic() > deadline:
            return 0  # the rest waits for the next run; claims not made cost nothing
        # one statement (claim and lease together), committed before anything is sent
        claimed = deps.db.run_statement(lambda cur: notifications_db.claim_due(cur, now, LEASE, batch))
        for delivery in claimed:
            outcome[_send_one(deps, now, channels, delivery, failed_channels)] += 1
        return len(claimed)

    drain(step, SEND_BATCH, budget_seconds=SEND_BUDGET_SECONDS)
    # what was delivered long ago goes, a bounded batch a run, so the outbox does not grow for ever
    kept_since = now - timedelta(days=deps.settings.notify_retention_days)
    outcome["pruned"] = deps.db.run_statement(
        lambda cur: notifications_db.prune_delivered(cur, kept_since, PRUNE_BATCH)
    )
    return DeliveryResult(**outcome)


def route_new(deps: Dependencies, now: datetime, channels: list[str], batch: int) -> int:
    """Give up to `batch` new notifications a delivery per channel that wants them; how many were routed."""

    def work(cur: Any) -> int:
        notices = notifications_db.unrouted(cur, batch)
        if not notices:
            return 0
        rules = notifications_db.channel_rules(cur)
        deliveries = [(n.id, c) for n in notices for c in targets(n, channels, rules)]
        notifications_db.route(cur, [n.id for n in notices], deliveries, now)
        return len(notices)

    return int(deps.db.run_in_transaction(work))


def _send_one(
    deps: Dependencies,
    now: datetime,
    channels: dict[str, Channel],
    delivery: DueDelivery,
    failed_channels: dict[str, datetime],
) -> str:
    """Send one claimed delivery and mark it; returns the outcome key."""
    settings = deps.settings
    if delivery.channel in failed_channels:
        later = failed_channels[delivery.channel]
        deps.db.run_in_transaction(lambda cur: notifications_db.postpone(cur, delivery, later, now))
        return "postponed"
    channel = channels.get(delivery.channel)
    key = f"optionflow-{settings.stage}-{delivery.notification_id}"
    extra = {"notification_id": delivery.notification_id, "channel": delivery.channel, "kind": delivery.kind}
    try:
        if channel is None:
            raise DeliveryFailed(f"channel {delivery.channel} is not configured", permanent=True)
        channel.send(render(key, delivery.kind, delivery.severity, delivery.facts, delivery.created_at))
    except Exception as exc:
        # DeliveryFailed is already scrubbed; anything else (a bug, an SDK error) is scrubbed here
        error = str(exc) if isinstance(exc, DeliveryFailed) else f"{type(exc).__name__}: {exc}"
        if channel is not None:
            error = scrub(error, channel.secrets())
        permanent = isinstance(exc, DeliveryFailed) and exc.permanent
        dead = permanent or delivery.attempt >= settings.notify_max_attempts
        retry_at = None if dead else now + backoff(settings.notify_backoff_seconds, delivery.attempt)
        deps.db.run_in_transaction(
            lambda cur: notifications_db.mark_failed(cur, delivery, error, retry_at, now)
        )
        failed_channels[delivery.channel] = retry_at or now + backoff(settings.notify_backoff_seconds, 1)
        (logger.error if dead else logger.warning)(
            "notification dead after its last attempt" if dead else "notification failed; will retry",
            extra={**extra, "attempt": delivery.attempt, "error": error},
        )
        return "dead" if dead else "retrying"
    # one statement: autocommit commits it as soon as it is done, without BEGIN and COMMIT round trips
    marked = deps.db.run_statement(lambda cur: notifications_db.mark_sent(cur, delivery, now))
    logger.info("notification sent", extra={**extra, "attempt": delivery.attempt, "marked": marked})
    return "sent"


def queue_test(deps: Dependencies, channel: str, *, actor: str) -> int:
    """A test message to `channel` alone, through the outbox like any other; its notification id."""
    now = deps.clock.now()
    facts = {"channel": channel, "actor": actor}
    nid = deps.db.run_in_transaction(
        lambda cur: notifications_db.record(cur, NoticeKind.TEST, facts, now, only_channel=channel)
    )
    assert nid is not None  # no dedupe key: always inserted
    return int(nid)
