"""A worker handler that records each event and holds its first run until released, so a test can queue
wake-ups behind a run in progress (the local runner coalesces them)."""

from __future__ import annotations

import threading
from typing import Any

events: list[dict[str, Any]] = []
started = threading.Event()
release = threading.Event()


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    events.append(event)
    started.set()
    release.wait(10)
