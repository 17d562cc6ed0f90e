"""Outgoing webhooks: Slack, Discord, Telegram and plain JSON, over `http_json` with short timeouts and no
retries of its own (the notifier retries with backoff, so a failing channel never holds a run for long).

The URLs and the bot token are secrets. They are kept out of `repr`, and every error is scrubbed of them
before anyone sees it: an HttpError names only the path, and Telegram's path holds the token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optionflow.http_json import HttpError, JsonClient, Timeouts
from optionflow.notify import formats
from optionflow.notify.messages import Message
from optionflow.notify.ports import DeliveryFailed


def _refused(status: int | None) -> bool:
    """A 4xx other than a timeout or a rate limit: the service refused the request itself."""
    return status is not None and 400 <= status < 500 and status not in (408, 409, 425, 429)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class WebhookChannel:
    """POST a JSON body to one URL."""

    def __init__(
        self,
        name: str,
        url: str,
        body: Callable[[Message], dict[str, Any]],
        *,
        timeout_seconds: float,
        idempotency_header: bool = False,
        secret_parts: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self._url = url
        self._body = body
        self._client = JsonClient(
            name, url, {}, timeouts=Timeouts(connect=timeout_seconds, read=timeout_seconds), retries=0
        )
        self._idempotency_header = idempotency_header
        self._secrets = (url, *secret_parts)

    def __repr__(self) -> str:
        return f"WebhookChannel({self.name!r})"

    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def send(self, message: Message) -> None:
        headers = {"Idempotency-Key": message.key} if self._idempotency_header else None
        try:
            answer = self._client.request(
                "POST", "", json_body=self._body(message), headers=headers, accept_text=True
            )
        except HttpError as exc:
            raise DeliveryFailed(scrub(str(exc), self._secrets), permanent=_refused(exc.status)) from None
        if isinstance(answer, dict) and answer.get("ok") is False:  # Telegram says so in the body too
            raise DeliveryFailed(scrub(f"{self.name}: {answer.get('description')}", self._secrets))


def slack(url: str, timeout_seconds: float) -> WebhookChannel:
    return WebhookChannel("slack", url, formats.slack, timeout_seconds=timeout_seconds)


def discord(url: str, timeout_seconds: float) -> WebhookChannel:
    return WebhookChannel("discord", url, formats.discord, timeout_seconds=timeout_seconds)


def telegram(api_url: str, token: str, chat_id: str, timeout_seconds: float) -> WebhookChannel:
    url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
    return WebhookChannel(
        "telegram",
        url,
        lambda message: formats.telegram(message, chat_id),
        timeout_seconds=timeout_seconds,
        secret_parts=(token,),
    )


def plain_json(url: str, timeout_seconds: float) -> WebhookChannel:
    return WebhookChannel(
        "webhook", url, formats.plain_json, timeout_seconds=timeout_seconds, idempotency_header=True
    )
