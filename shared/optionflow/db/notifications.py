"""The notifications outbox: what the pipeline writes beside each event, and what the notifier claims,
sends and marks.

The pipeline's writers (`entries_filled`, `positions_closed`, `signals_rejected`, `orders_ended`,
`worker_failed`, `stale_marks_appeared`, `kill_switch_changed`, `differences_appeared`) are one statement each, run on the event's
own cursor: the notification commits or rolls back with the event. Their facts are built here, in SQL,
from the rows the event just wrote, so a hook passes ids and nothing else.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from psycopg2.extras import Json, RealDictCursor

from optionflow.db.rows import ChannelRule, DueDelivery, SessionFigures, UnroutedNotice
from optionflow.states import NOTICE_SEVERITY, DeliveryStatus, NoticeKind

T = TypeVar("T")


def _ids(ids: list[Any]) -> list[str]:
    return [str(i) for i in ids]


def _severity(kind: NoticeKind) -> str:
    return str(NOTICE_SEVERITY[kind])


def _dumps(value: Any) -> str:
    return json.dumps(value, default=lambda v: float(v) if isinstance(v, Decimal) else str(v))


def record(
    cur: RealDictCursor,
    kind: NoticeKind,
    facts: dict[str, Any],
    at: datetime,
    *,
    dedupe_key: str | None = None,
    only_channel: str | None = None,
) -> int | None:
    """One notification; its id, or None when `dedupe_key` was already recorded (a no-op)."""
    cur.execute(
        """INSERT INTO notifications (kind, severity, facts, dedupe_key, only_channel, created_at)
           VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id""",
        (str(kind), _severity(kind), Json(facts, dumps=_dumps), dedupe_key, only_channel, at),
    )
    row = cur.fetchone()
    return int(row["id"]) if row else None


def entries_filled(cur: RealDictCursor, position_ids: list[Any], at: datetime) -> int:
    """One ENTRY_FILLED per position just opened: contract, quantity, fill price, cost and fees."""
    if not position_ids:
        return 0
    cur.execute(
        """INSERT INTO notifications (kind, severity, facts, created_at)
           SELECT %s, %s, jsonb_build_object(
                    'position_id', p.id, 'signal_id', p.signal_id, 'ticker', p.ticker,
                    'option_symbol', p.option_symbol, 'option_type', p.option_type, 'strike', p.strike,
                    'expiry', p.expiry, 'quantity', p.quantity, 'entry_price', p.entry_price,
                    'cost_basis', p.cost_basis, 'fees', p.fees, 'opened_at', p.opened_at),
                  %s
           FROM positions p WHERE p.id = ANY(%s::uuid[]) ORDER BY p.opened_at, p.id""",
        (str(NoticeKind.ENTRY_FILLED), _severity(NoticeKind.ENTRY_FILLED), at, _ids(position_ids)),
    )
    return int(cur.rowcount)


def positions_closed(cur: RealDictCursor, position_ids: list[Any], at: datetime) -> int:
    """One POSITION_CLOSED per position just closed: the rule that closed it, prices and realized P&L."""
    if not position_ids:
        return 0
    cur.execute(
        """INSERT INTO notifications (kind, severity, facts, created_at)
           SELECT %s, %s, jsonb_build_object(
                    'position_id', p.id, 'signal_id', p.signal_id, 'ticker', p.ticker,
                    'option_symbol', p.option_symbol, 'quantity', p.quantity, 'entry_price', p.entry_price,
                    'exit_price', p.exit_price, 'reason', p.exit_reason, 'realized_pnl', p.realized_pnl,
                    'fees', p.fees, 'cost_basis', p.cost_basis,
                    'return_pct', CASE WHEN p.cost_basis > 0
                                  THEN round(p.realized_pnl / p.cost_basis * 100, 2) END,
                    'opened_at', p.opened_at, 'closed_at', p.closed_at),
                  %s
           FROM positions p WHERE p.id = ANY(%s::uuid[]) AND p.status = 'CLOSED'
           ORDER BY p.closed_at, p.id""",
        (str(NoticeKind.POSITION_CLOSED), _severity(NoticeKind.POSITION_CLOSED), at, _ids(position_ids)),
    )
    return int(cur.rowcount)


def signals_rejected(cur: RealDictCursor, signal_ids: list[Any], at: datetime) -> int:
    """One SIGNAL_REJECTED per signal among `signal_ids` that was rejected or failed, with its reasons."""
    if not signal_ids:
        return 0
    cur.execute(
        """INSERT INTO notifications (kind, severity, facts, created_at)
           SELECT %s, %s, jsonb_build_object(
                    'signal_id', s.id, 'ticker', s.ticker, 'action', s.action, 'direction', s.direction,
                    'status', s.status, 'reasons', to_jsonb(s.rejection_reasons),
                    'received_at', s.received_at),
                  %s
           FROM signals s WHERE s.id = ANY(%s::uuid[]) AND s.status IN ('REJECTED', 'FAILED')
           ORDER BY s.seq""",
        (str(NoticeKind.SIGNAL_REJECTED), _severity(NoticeKind.SIGNAL_REJECTED), at, _ids(signal_ids)),
    )
    return int(cur.rowcount)


def orders_ended(cur: RealDictCursor, order_ids: list[Any], at: datetime) -> int:
    """One ORDER_ENDED per order that expired, or was rejected or cancelled, without filling."""
    if not order_ids:
        return 0
    cur.execute(
        """INSERT INTO notifications (kind, severity, facts, created_at)
           SELECT %s, %s, jsonb_build_object(
                    'order_id', o.id, 'signal_id', o.signal_id, 'position_id', o.position_id,
                    'purpose', o.purpose, 'status', o.status, 'reason', o.reason, 'ticker', o.ticker,
                    'option_symbol', o.option_symbol, 'side', o.side, 'quantity', o.quantity,
                    'created_at', o.created_at),
                  %s
           FROM orders o WHERE o.id = ANY(%s::uuid[]) AND o.status IN ('EXPIRED', 'REJECTED', 'CANCELLED')""",
        (str(NoticeKind.ORDER_ENDED), _severity(NoticeKind.ORDER_ENDED), at, _ids(order_ids)),
    )
    return int(cur.rowcount)


def worker_failed(cur: RealDictCursor, worker: str, trigger: str, error: str, at: datetime) -> int:
    """A WORKER_FAILING when `worker` starts failing: only if its last recorded run succeeded (or it has
    none), so a worker failing every minute sends one message, not one a minute. Run before the failed
    run is recorded."""
    cur.execute(
        """INSERT INTO notifications (kind, severity, facts, created_at)
           SELECT %s, %s, jsonb_build_object('worker', %s::text, 'trigger', %s::text, 'error', %s::text), %s
           WHERE NOT EXISTS (SELECT 1 FROM worker_runs WHERE worker = %s AND NOT succeeded)""",
        (
            str(NoticeKind.WORKER_FAILING),
            _severity(NoticeKind.WORKER_FAILING),
            worker,
            trigger,
            error[:500],
            at,
            worker,
        ),
    )
    return int(cur.rowcount)


def stale_marks_appeared(cur: RealDictCursor, position_ids: list[Any], at: datetime) -> int:
    """One STALE_MARKS for the positions among `position_ids` whose mark went stale at `at` (a STALE_MARK
    alert first seen now): each episode is reported once, when it starts."""
    if not position_ids:
        return 0
    cur.execute(
        """INSERT INTO notifications (kind, severity, facts, created_at)
           SELECT %s, %s, jsonb_build_object(
                    'count', count(*),
                    'positions', jsonb_agg(jsonb_build_object(
                        'position_id', p.id, 'option_symbol', p.option_symbol, 'mark', p.mark,
                        'priced_at', p.priced_at) ORDER BY p.option_symbol)),
                  %s
           FROM exit_signals e JOIN positions p ON p.id = e.position_id
           WHERE e.rule = 'STALE_MARK' AND e.status = 'ACTIVE' AND e.first_seen_at = %s
             AND e.position_id = ANY(%s::uuid[])
           HAVING count(*) > 0""",
        (str(NoticeKind.STALE_MARKS), _severity(NoticeKind.STALE_MARKS), at, at, _ids(position_ids)),
    )
    return int(cur.rowcount)


def differences_appeared(cur: RealDictCursor, difference_ids: list[Any], at: datetime) -> int:
    """One RECONCILIATION_DIFFERENCE per open difference among `difference_ids` first seen at `at` (a
    difference still open on a later run keeps its first_seen_at, so it is reported once): broker, kind,
    subject, both quantities and the detail. Keyed by the difference, so a second run at the same instant
    adds nothing either."""
    if not difference_ids:
        return 0
    cur.execute(
        """INSERT INTO notifications (kind, severity, facts, dedupe_key, created_at)
           SELECT %s, %s, jsonb_build_object(
                    'difference_id', d.id, 'broker', d.broker, 'difference', d.kind, 'subject', d.subject,
                    'broker_quantity', d.broker_quantity, 'book_quantity', d.book_quantity,
                    'order_id', d.order_id, 'broker_order_id', d.broker_order_id, 'detail', d.detail,
                    'first_seen_at', d.first_seen_at),
                  'reconciliation:' || d.id::text, %s
           FROM reconciliation_differences d
           WHERE d.id = ANY(%s::uuid[]) AND d.status = 'OPEN' AND d.first_seen_at = %s
           ORDER BY d.kind, d.subject
           ON CONFLICT (dedupe_key) DO NOTHING""",
        (
            str(NoticeKind.RECONCILIATION_DIFFERENCE),
            _severity(NoticeKind.RECONCILIATION_DIFFERENCE),
            at,
            _ids(difference_ids),
            at,
        ),
    )
    return int(cur.rowcount)


def prune_delivered(cur: RealDictCursor, before: datetime, limit: int) -> int:
    """Delete up to `limit` notifications created before `before` whose every delivery was SENT (their
    deliveries go with them); how many. One with a DEAD or a still-due delivery is kept whatever its age,
    and one another notifier holds is skipped."""
    cur.execute(
        """WITH old AS (
               SELECT n.id FROM notifications n
               WHERE n.created_at < %s AND n.routed_at IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM notification_deliveries d
                                 WHERE d.notification_id = n.id AND d.status <> 'SENT')
               ORDER BY n.id LIMIT %s FOR UPDATE SKIP LOCKED)
           DELETE FROM notifications n USING old WHERE n.id = old.id""",
        (before, limit),
    )
    return int(cur.rowcount)


def kill_switch_changed(cur: RealDictCursor, on: bool, actor: str, reason: str | None, at: datetime) -> int:
    record(cur, NoticeKind.KILL_SWITCH, {"on": on, "actor": actor, "reason": reason}, at)
    return 1


# --- the notifier ---


def unrouted(cur: RealDictCursor, limit: int) -> list[UnroutedNotice]:
    """Notifications without deliveries yet, oldest first, locked (another notifier skips them)."""
    cur.execute(
        """SELECT id, kind, severity, only_channel FROM notifications WHERE routed_at IS NULL
           ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
        (limit,),
    )
    return [UnroutedNotice(**row) for row in cur.fetchall()]


def route(cur: RealDictCursor, ids: list[int], deliveries: list[tuple[int, str]], at: datetime) -> None:
    """Give each (notification, channel) a PENDING delivery due now, and mark `ids` routed. The deliveries go
    as two arrays (one element per delivery), not a VALUES row each to adapt and parse."""
    if deliveries:
        cur.execute(
            """INSERT INTO notification_deliveries (notification_id, channel, next_attempt_at, updated_at)
               SELECT d.notification_id, d.channel, %s, %s FROM unnest(%s::bigint[], %s::text[])
                   AS d (notification_id, channel)
               ON CONFLICT DO NOTHING""",
            (at, at, [nid for nid, _ in deliveries], [channel for _, channel in deliveries]),
        )
    cur.execute("UPDATE notifications SET routed_at = %s WHERE id = ANY(%s)", (at, ids))


def claim_due(cur: RealDictCursor, now: datetime, lease: timedelta, limit: int) -> list[DueDelivery]:
    """Claim deliveries due at `now` (PENDING ones whose next attempt has come, and SENDING ones whose
    lease ran out: their sender died between claim and mark). Each is SENDING under a new lease and its
    attempt counted, committed before anything is sent: a crash during the send costs a retry, never a
    lost message."""
    cur.execute(
        """WITH due AS (
               SELECT notification_id, channel FROM notification_deliveries
               WHERE status IN ('PENDING', 'SENDING') AND next_attempt_at <= %(now)s
               ORDER BY next_attempt_at, notification_id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
           UPDATE notification_deliveries d
           SET status = 'SENDING', attempts = d.attempts + 1, next_attempt_at = %(until)s,
               updated_at = %(now)s
           FROM due, notifications n
           WHERE d.notification_id = due.notification_id AND d.channel = due.channel
             AND n.id = d.notification_id
           RETURNING d.notification_id, d.channel, d.attempts AS attempt, n.kind, n.severity, n.facts,
                     n.created_at""",
        {"now": now, "until": now + lease, "limit": limit},
    )
    claimed = [DueDelivery(**row) for row in cur.fetchall()]
    return sorted(claimed, key=lambda d: (d.notification_id, d.channel))


def mark_sent(cur: RealDictCursor, delivery: DueDelivery, at: datetime) -> bool:
    """SENT, if this claim still holds it (same attempt, still SENDING); False when a later claim took
    it over after this one's lease ran out."""
    cur.execute(
        """UPDATE notification_deliveries SET status = 'SENT', sent_at = %s, last_error = NULL, updated_at = %s
           WHERE notification_id = %s AND channel = %s AND status = 'SENDING' AND attempts = %s""",
        (at, at, delivery.notification_id, delivery.channel, delivery.attempt),
    )
    return bool(cur.rowcount)


def mark_failed(
    cur: RealDictCursor, delivery: DueDelivery, error: str, retry_at: datetime | None, at: datetime
) -> bool:
    """PENDING again from `retry_at`, or DEAD when `retry_at` is None; only if this claim still holds it."""
    status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.DEAD
    cur.execute(
        """UPDATE notification_deliveries SET status = %s, next_attempt_at = %s, last_error = %s, updated_at = %s
           WHERE notification_id = %s AND channel = %s AND status = 'SENDING' AND attempts = %s""",
        (
            str(status),
            retry_at or at,
            error[:1000],
            at,
            delivery.notification_id,
            delivery.channel,
            delivery.attempt,
        ),
    )
    return bool(cur.rowcount)


def retry_dead(cur: RealDictCursor, at: datetime, channel: str | None = None) -> int:
    """Every DEAD delivery (of `channel`, or all) PENDING again with a fresh count of attempts."""
    cur.execute(
        """UPDATE notification_deliveries SET status = 'PENDING', attempts = 0, next_attempt_at = %s,
               updated_at = %s
           WHERE status = 'DEAD' AND (%s::text IS NULL OR channel = %s)""",
        (at, at, channel, channel),
    )
    return int(cur.rowcount)


def delivery_counts(cur: RealDictCursor) -> dict[str, int]:
    """Deliveries waiting or dead per status (SENT ones are not counted: they only grow), plus
    notifications not yet routed (`UNROUTED`). Each count reads a partial index."""
    cur.execute(
        """SELECT status, count(*) AS n FROM notification_deliveries
           WHERE status IN ('PENDING', 'SENDING', 'DEAD') GROUP BY status"""
    )
    counts = {str(s): 0 for s in DeliveryStatus}
    counts.update({row["status"]: int(row["n"]) for row in cur.fetchall()})
    cur.execute("SELECT count(*) AS n FROM notifications WHERE routed_at IS NULL")
    row = cur.fetchone()
    counts["UNROUTED"] = int(row["n"]) if row else 0
    return counts


def deliveries(cur: RealDictCursor, statuses: list[str], limit: int, row_type: type[T]) -> list[T]:
    """The newest deliveries in `statuses`, with their notification's kind and facts (for the CLI), each
    built by `row_type` (the API's model of a delivery)."""
    cur.execute(
        """SELECT d.notification_id, d.channel, d.status, d.attempts, d.next_attempt_at, d.last_error,
                  d.sent_at, d.updated_at, n.kind, n.severity, n.facts, n.created_at
           FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
           WHERE d.status = ANY(%s) ORDER BY d.updated_at DESC, d.notification_id DESC LIMIT %s""",
        (statuses, limit),
    )
    return [row_type(**row) for row in cur.fetchall()]


# --- which notifications each channel gets ---


def channel_rules(cur: RealDictCursor) -> dict[str, ChannelRule]:
    cur.execute("SELECT channel, min_severity, muted FROM notification_channel_settings")
    return {
        row["channel"]: ChannelRule(row["channel"], row["min_severity"], tuple(row["muted"]))
        for row in cur.fetchall()
    }


def channel_rule(cur: RealDictCursor, channel: str, *, lock: bool = False) -> ChannelRule:
    """`channel`'s rule (everything, from INFO, when it has none); with lock=True the row is created if
    missing and held until commit, so two changes apply one after the other."""
    if lock:
        cur.execute(
            """INSERT INTO notification_channel_settings (channel, updated_at) VALUES (%s, now())
               ON CONFLICT (channel) DO NOTHING""",
            (channel,),
        )
    cur.execute(
        "SELECT channel, min_severity, muted FROM notification_channel_settings WHERE channel = %s"
        + (" FOR UPDATE" if lock else ""),
        (channel,),
    )
    row = cur.fetchone()
    if row is None:
        return ChannelRule(channel, "INFO", ())
    return ChannelRule(row["channel"], row["min_severity"], tuple(row["muted"]))


def save_channel_rule(cur: RealDictCursor, rule: ChannelRule, at: datetime) -> None:
    cur.execute(
        """INSERT INTO notification_channel_settings (channel, min_severity, muted, updated_at)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (channel) DO UPDATE SET min_severity = EXCLUDED.min_severity,
               muted = EXCLUDED.muted, updated_at = EXCLUDED.updated_at""",
        (rule.channel, rule.min_severity, list(rule.muted), at),
    )


def record_settings_change(
    cur: RealDictCursor,
    channel: str,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    actor: str,
    reason: str | None,
    at: datetime,
) -> None:
    """Into the settings audit trail (settings_changes, append-only), as what = 'notifications'."""
    cur.execute(
        """INSERT INTO settings_changes (changed_at, actor, what, name, before, after, reason)
           VALUES (%s, %s, 'notifications', %s, %s, %s, %s)""",
        (at, actor, channel, _dumps(before), _dumps(after), reason),
    )


# --- the daily summary ---


def session_figures(cur: RealDictCursor, start: datetime, end: datetime) -> SessionFigures:
    """A session's book, dollars: fills, positions opened and closed in [start, end), realized P&L (net)
    and winners among the closed; open positions and their unrealized P&L now."""
    cur.execute(
        """SELECT
             (SELECT count(*) FROM trades WHERE executed_at >= %(start)s AND executed_at < %(end)s) AS fills,
             (SELECT count(*) FROM positions WHERE opened_at >= %(start)s AND opened_at < %(end)s) AS opened,
             count(*) AS closed,
             count(*) FILTER (WHERE realized_pnl > 0) AS winners,
             coalesce(sum(realized_pnl), 0) AS realized_pnl,
             (SELECT count(*) FROM positions WHERE status IN ('OPEN', 'CLOSING')) AS open_positions,
             (SELECT coalesce(sum(unrealized_pnl), 0) FROM positions WHERE status IN ('OPEN', 'CLOSING'))
                 AS unrealized_pnl,
             (SELECT count(*) FROM positions WHERE status IN ('OPEN', 'CLOSING') AND price_stale) AS stale
           FROM positions WHERE status = 'CLOSED' AND closed_at >= %(start)s AND closed_at < %(end)s""",
        {"start": start, "end": end},
    )
    row = cur.fetchone()
    assert row is not None  # an aggregate always returns a row
    return SessionFigures(**row)


def failing_workers(cur: RealDictCursor) -> list[str]:
    cur.execute("SELECT worker FROM worker_runs WHERE NOT succeeded ORDER BY worker")
    return [row["worker"] for row in cur.fetchall()]


def recorded(cur: RealDictCursor, dedupe_key: str) -> bool:
    cur.execute("SELECT 1 FROM notifications WHERE dedupe_key = %s", (dedupe_key,))
    return cur.fetchone() is not None


def postpone(cur: RealDictCursor, delivery: DueDelivery, retry_at: datetime, at: datetime) -> None:
    """Back to PENDING from `retry_at` without counting this claim as an attempt: it was never tried (its
    channel failed earlier in the same run)."""
    cur.execute(
        """UPDATE notification_deliveries SET status = 'PENDING', attempts = attempts - 1, next_attempt_at = %s,
               updated_at = %s
           WHERE notification_id = %s AND channel = %s AND status = 'SENDING' AND attempts = %s""",
        (retry_at, at, delivery.notification_id, delivery.channel, delivery.attempt),
    )
