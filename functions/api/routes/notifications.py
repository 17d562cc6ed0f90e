"""Notifications: each channel's rules (changed with an admin token and recorded), the deliveries waiting
or dead, a test message, and a retry of the dead ones."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from optionflow.composition import for_process
from optionflow.logic import notification_settings
from optionflow.models.notifications import (
    WAITING_OR_DEAD,
    ChannelName,
    ChannelRules,
    ChannelRulesPatch,
    Delivery,
    DeliveryFilter,
    QueuedNotification,
    RetriedDeliveries,
    TestMessageRequest,
)

from api.routes.queries import Limit
from api.security import ADMIN, BEARER, READ, current_principal

router = APIGatewayHttpRouter()


def _actor() -> str:
    return current_principal(router).subject


@router.get(
    "/notifications/channels",
    middlewares=READ,
    security=BEARER,
    summary="Each notification channel's minimum severity and muted kinds",
)
def list_notification_channels() -> list[ChannelRules]:
    return notification_settings.channels(for_process())


@router.patch(
    "/notifications/channels/<channel>",
    middlewares=ADMIN,
    security=BEARER,
    summary="Change which notifications a channel gets; the change is recorded",
)
def patch_notification_channel(
    channel: Annotated[ChannelName, Path(description="sns, slack, discord, telegram, webhook or console")],
    patch: ChannelRulesPatch,
) -> ChannelRules:
    return notification_settings.change(for_process(), channel, patch, actor=_actor())


@router.get(
    "/notifications",
    middlewares=READ,
    security=BEARER,
    summary="Notification deliveries, newest first (default: waiting and dead)",
)
def list_notifications(
    limit: Limit = 50,
    status: Annotated[
        list[DeliveryFilter] | None, Query(description="Only deliveries in these states")
    ] = None,
) -> list[Delivery]:
    return notification_settings.deliveries(for_process(), list(status or WAITING_OR_DEAD), limit)


@router.post(
    "/notifications/test",
    middlewares=ADMIN,
    security=BEARER,
    summary="Queue a test message for one channel; the notifier sends it",
)
def send_test_notification(request: TestMessageRequest) -> QueuedNotification:
    return notification_settings.send_test(for_process(), request.channel, actor=_actor())


@router.post(
    "/notifications/retry",
    middlewares=ADMIN,
    security=BEARER,
    summary="Try every dead notification again (of one channel, or all)",
)
def retry_dead_notifications(
    channel: Annotated[ChannelName | None, Query(description="Only this channel's")] = None,
) -> RetriedDeliveries:
    return RetriedDeliveries(retried=notification_settings.retry_dead(for_process(), channel))
