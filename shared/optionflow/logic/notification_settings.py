"""Which notifications each channel gets, changed like the risk limits: one transaction locks the
channel's rule, applies the change and records it in the settings audit trail (what = 'notifications')."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optionflow.db import notifications as notifications_db
from optionflow.db.rows import ChannelRule
from optionflow.events import names as events
from optionflow.logic import notifier
from optionflow.models.notifications import (
    ChannelName,
    ChannelRules,
    ChannelRulesPatch,
    Delivery,
    QueuedNotification,
)
from optionflow.notify.channels import NAMES

if TYPE_CHECKING:
    from optionflow.composition import Dependencies


def _shown(rule: ChannelRule) -> ChannelRules:
    return ChannelRules.model_validate(
        {"channel": rule.channel, "min_severity": rule.min_severity, "muted": sorted(rule.muted)}
    )


def channels(deps: Dependencies) -> list[ChannelRules]:
    """Every channel's rules, in NAMES order (a channel without a rule gets everything)."""
    rules = deps.db.run_in_transaction(notifications_db.channel_rules)
    return [_shown(rules.get(name) or ChannelRule(name, "INFO", ())) for name in NAMES]


def change(deps: Dependencies, channel: str, patch: ChannelRulesPatch, *, actor: str) -> ChannelRules:
    now = deps.clock.now()

    def work(cur: Any) -> ChannelRule:
        current = notifications_db.channel_rule(cur, channel, lock=True)
        muted = (set(current.muted) | {str(k) for k in patch.mute or ()}) - {
            str(k) for k in patch.unmute or ()
        }
        proposed = ChannelRule(
            channel,
            str(patch.min_severity) if patch.min_severity else current.min_severity,
            tuple(sorted(muted)),
        )
        before = {"min_severity": current.min_severity, "muted": sorted(current.muted)}
        after = {"min_severity": proposed.min_severity, "muted": sorted(proposed.muted)}
        changed = [k for k in before if before[k] != after[k]]
        if not changed:  # nothing to change, nothing recorded (a retry after a lost commit included)
            return current
        notifications_db.save_channel_rule(cur, proposed, now)
        notifications_db.record_settings_change(
            cur,
            channel,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
            actor=actor,
            reason=patch.reason,
            at=now,
        )
        return proposed

    return _shown(deps.db.run_in_transaction(work))


def send_test(deps: Dependencies, channel: ChannelName, *, actor: str) -> QueuedNotification:
    """Queue a test message for `channel` alone and wake the notifier."""
    nid = notifier.queue_test(deps, channel, actor=actor)
    deps.publish(events.NOTICES_QUEUED, {"count": 1})
    return QueuedNotification(notification_id=nid, channel=channel)


def deliveries(deps: Dependencies, statuses: list[str], limit: int) -> list[Delivery]:
    return deps.db.run_in_transaction(lambda cur: notifications_db.deliveries(cur, statuses, limit, Delivery))


def retry_dead(deps: Dependencies, channel: str | None) -> int:
    """Every DEAD delivery (of `channel`, or all) tried again from now, with a fresh count of attempts."""
    now = deps.clock.now()
    retried = int(deps.db.run_in_transaction(lambda cur: notifications_db.retry_dead(cur, now, channel)))
    if retried:
        deps.publish(events.NOTICES_QUEUED, {"count": retried})
    return retried
