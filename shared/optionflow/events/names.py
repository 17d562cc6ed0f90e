"""The names on the event bus: its source and the detail-types the stages publish.

Apart from `bus` so that the worker registry (read by `config` and the command line) can name the events
its workers listen to without importing the bus, which brings in Powertools.
"""

from __future__ import annotations

SOURCE = "optionflow"

SIGNAL_RECEIVED = "signal.received"
SIGNAL_ACCEPTED = "signal.accepted"
ORDER_CREATED = "order.created"
POSITION_OPENED = "position.opened"
POSITIONS_REFRESHED = "positions.refreshed"
NOTICES_QUEUED = "notifications.queued"  # a transaction wrote outbox rows: the notifier sends them
