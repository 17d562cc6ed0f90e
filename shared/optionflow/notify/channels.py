"""The channels configured in `Settings`: a channel is on when its address (and, for Telegram, its chat)
is set. Built per notifier run from the resolved settings, so a rotated secret is picked up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optionflow.notify import webhooks
from optionflow.notify.console import ConsoleChannel
from optionflow.notify.ports import Channel
from optionflow.notify.sns import SnsChannel

if TYPE_CHECKING:
    from optionflow.config import Settings

# Every channel name, in the order `optionflow notify channels` lists them.
NAMES = ("sns", "slack", "discord", "telegram", "webhook", "console")


def configured(settings: Settings) -> dict[str, Channel]:
    timeout = settings.notify_timeout_seconds
    found: dict[str, Channel] = {}
    if settings.notify_sns_topic_arn:
        found["sns"] = SnsChannel(settings.notify_sns_topic_arn)
    if settings.notify_slack_webhook_url:
        found["slack"] = webhooks.slack(settings.notify_slack_webhook_url, timeout)
    if settings.notify_discord_webhook_url:
        found["discord"] = webhooks.discord(settings.notify_discord_webhook_url, timeout)
    if settings.notify_telegram_bot_token and settings.notify_telegram_chat_id:
        found["telegram"] = webhooks.telegram(
            settings.notify_telegram_api_url,
            settings.notify_telegram_bot_token,
            settings.notify_telegram_chat_id,
            timeout,
        )
    if settings.notify_webhook_url:
        found["webhook"] = webhooks.plain_json(settings.notify_webhook_url, timeout)
    if settings.notify_console:
        found["console"] = ConsoleChannel()
    return found
