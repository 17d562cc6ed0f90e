"""Notification channels as the admin API shows and changes them, and the deliveries it lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optionflow.models.entities import Out
from optionflow.models.trading_settings import Reason
from optionflow.states import DeliveryStatus, NoticeKind, Severity

ChannelName = Literal["sns", "slack", "discord", "telegram", "webhook", "console"]


class ChannelRules(Out):
    """Which notifications a channel gets: those at or above `min_severity` whose kind is not muted."""

    channel: ChannelName
    min_severity: Severity
    muted: list[NoticeKind]


class ChannelRulesPatch(BaseModel):
    """A change to one channel's rules; omitted fields keep their value. Recorded with who and why."""

    model_config = ConfigDict(extra="forbid")

    min_severity: Severity | None = Field(default=None, description="INFO, WARNING or CRITICAL")
    mute: list[NoticeKind] | None = Field(default=None, description="Kinds this channel stops getting")
    unmute: list[NoticeKind] | None = Field(default=None, description="Kinds this channel gets again")
    reason: Reason | None = Field(default=None, description="Why; kept with the change")

    @model_validator(mode="after")
    def _something(self) -> ChannelRulesPatch:
        if self.min_severity is None and not self.mute and not self.unmute:
            raise ValueError("name min_severity, mute or unmute")
        both = set(self.mute or ()) & set(self.unmute or ())
        if both:
            raise ValueError(f"{', '.join(sorted(both))} cannot be muted and unmuted at once")
        return self


class TestMessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: ChannelName = Field(description="The channel to send a test message to (it alone)")


class QueuedNotification(Out):
    notification_id: int
    channel: ChannelName


class Delivery(Out):
    """One notification on one channel."""

    notification_id: int
    channel: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    kind: NoticeKind
    severity: Severity
    facts: dict[str, Any]
    created_at: datetime


class RetriedDeliveries(Out):
    retried: int


DeliveryFilter = DeliveryStatus
# What GET /notifications lists when no status is asked for.
WAITING_OR_DEAD = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEAD)
