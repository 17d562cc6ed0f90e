"""The notification channel port: what the notifier sends through."""

from __future__ import annotations

from typing import Protocol

from optionflow.notify.messages import Message


class DeliveryFailed(Exception):
    """The channel did not take the message; the message is safe to store and log (no URL, no token).

    `permanent`: trying again cannot help (the channel refused the request itself: a revoked webhook, a
    wrong chat id, a channel not configured), so the delivery is DEAD at once instead of after every retry.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str  # slack, discord, telegram, webhook, sns, console

    def send(self, message: Message) -> None:
        """Deliver `message`, or raise DeliveryFailed. Returning means the channel accepted it."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """The values that must never appear in an error, a log line or a stored row."""
        ...
