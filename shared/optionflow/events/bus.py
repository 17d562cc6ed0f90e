"""The event bus port: EventBridge in AWS, an in-process bus locally, nothing when neither is configured.

Publishing is best effort. A lost event costs one schedule interval (the next sweep finds the row), never
a signal, so a failure to publish is logged and never turns a stored signal into an error response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from optionflow.events.names import (  # noqa: F401 - the stages publish them as bus.SIGNAL_RECEIVED, ...
    ORDER_CREATED,
    POSITION_OPENED,
    POSITIONS_REFRESHED,
    SIGNAL_ACCEPTED,
    SIGNAL_RECEIVED,
    SOURCE,
)
from optionflow.observability import count, logger


class EventBus(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class NullBus:
    """No fast path: the schedules alone move work along."""

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        return None


class EventBridgeBus:
    def __init__(self, bus_name: str) -> None:
        self._bus_name = bus_name
        self._client: Any = None

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self._client is None:
            from optionflow.aws_clients import request_path_client

            # No retry: the webhook waits on this call, and the next sweep is the retry.
            self._client = request_path_client("events", total_attempts=1)
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, default=str),
            "EventBusName": self._bus_name,
        }
        response = self._client.put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused {detail_type}: {response['Entries']}")


class InProcessBus:
    """Hands events to a dispatcher (the local stack routes them to worker handlers)."""

    def __init__(self, dispatch: Callable[[str, dict[str, Any]], None]) -> None:
        self._dispatch = dispatch

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self._dispatch(detail_type, detail)


_bus: EventBus | None = None


def get_bus() -> EventBus:
    global _bus
    if _bus is None:
        from optionflow.config import get_settings

        name = get_settings().event_bus_name
        _bus = EventBridgeBus(name) if name else NullBus()
    return _bus


def set_bus(bus: EventBus | None) -> None:
    global _bus
    _bus = bus


def publish(detail_type: str, detail: dict[str, Any]) -> bool:
    """Publish a wake-up on the process bus; returns False (and logs) when the bus failed."""
    return publish_on(get_bus(), detail_type, detail)


def publish_on(target: EventBus, detail_type: str, detail: dict[str, Any]) -> bool:
    """Publish a wake-up on `target`, best effort: returns False (and logs) when the bus failed."""
    try:
        target.publish(detail_type, detail)
    except Exception:
        logger.exception(
            "event publish failed; the schedule will sweep it", extra={"detail_type": detail_type}
        )
        count("EventPublishFailures")
        return False
    return True
