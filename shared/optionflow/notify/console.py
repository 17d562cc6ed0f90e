"""The local stack's console: every message printed where the stack's output is."""

from __future__ import annotations

import sys
from typing import TextIO

from optionflow.notify.messages import Message


class ConsoleChannel:
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def secrets(self) -> tuple[str, ...]:
        return ()

    def send(self, message: Message) -> None:
        stream = self._stream or sys.stdout
        lines = "".join(f"\n    {line}" for line in message.lines)
        stream.write(f"[notify {message.severity}] {message.title}{lines}\n")
        stream.flush()
