"""Every entity's states and the moves allowed between them, in one place.

The database's CHECK constraints list the same values (a test holds them together), and the repositories
call `require` before they write a status, so an illegal move raises before any SQL runs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class SignalStatus(StrEnum):
    PENDING = "PENDING"  # stored, waiting for a decision
    ACCEPTED = "ACCEPTED"  # every check passed, waiting for its order(s)
    REJECTED = "REJECTED"  # a check failed; the reasons say which
    ORDERED = "ORDERED"  # its order(s) are working
    EXECUTED = "EXECUTED"  # its order(s) filled, or a CLOSE did all it had to do
    FAILED = "FAILED"  # it could not be carried out (a bad contract, an expired DAY order)
    CANCELLED = "CANCELLED"  # a later CLOSE for its ticker arrived before it filled


class OrderStatus(StrEnum):
    PENDING = "PENDING"  # created; the paper executor fills it, the router sends it to the broker
    SUBMITTING = "SUBMITTING"  # broker modes: our intent is committed; the broker's answer is not (yet)
    SUBMITTED = "SUBMITTED"  # the broker has it, working, nothing filled
    PARTIALLY_FILLED = "PARTIALLY_FILLED"  # the broker has it, working, some contracts filled
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class DifferenceStatus(StrEnum):
    """A difference between the broker's book and ours, as the reconciler records it."""

    OPEN = "OPEN"  # seen on the reconciler's last run: someone has to look
    RESOLVED = "RESOLVED"  # no longer seen (the books agree again); kept for the record


class DifferenceKind(StrEnum):
    MANUAL_CLOSE = "MANUAL_CLOSE"  # we hold it, the broker does not: closed outside OptionFlow
    UNKNOWN_POSITION = "UNKNOWN_POSITION"  # the broker holds it, we do not
    EXERCISE_OR_ASSIGNMENT = "EXERCISE_OR_ASSIGNMENT"  # our option is gone and the broker holds its shares
    QUANTITY_MISMATCH = "QUANTITY_MISMATCH"  # both hold it, in different sizes
    UNKNOWN_ORDER = "UNKNOWN_ORDER"  # a working broker order with no order of ours behind it
    FILLED_AFTER_CANCEL = "FILLED_AFTER_CANCEL"  # we ended the order, the broker filled some of it


class BrokerOrderStatus(StrEnum):
    """A broker order's state, as every adapter reports it (each broker spells more states; these are what
    the router acts on)."""

    OPEN = "OPEN"  # accepted and working; may be partially filled (see filled_quantity)
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    REPLACED = "REPLACED"  # Alpaca: a replace made a new order (`replaced_by`); this one is done

    @property
    def final(self) -> bool:
        return self is not BrokerOrderStatus.OPEN


class PositionStatus(StrEnum):
    OPEN = "OPEN"
    CLOSING = "CLOSING"  # an exit order is working
    CLOSED = "CLOSED"


S, OS, P = SignalStatus, OrderStatus, PositionStatus  # short names for the tables below

SIGNAL_MOVES: dict[SignalStatus, frozenset[SignalStatus]] = {
    S.PENDING: frozenset({S.ACCEPTED, S.REJECTED, S.FAILED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.ORDERED, S.EXECUTED, S.REJECTED, S.FAILED, S.CANCELLED}),
    S.ORDERED: frozenset({S.EXECUTED, S.FAILED, S.CANCELLED}),
    S.REJECTED: frozenset(),
    S.EXECUTED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}
ORDER_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OS.PENDING: frozenset({OS.SUBMITTING, OS.SUBMITTED, OS.FILLED, OS.CANCELLED, OS.REJECTED, OS.EXPIRED}),
    # SUBMITTING -> PENDING: the broker said it never got it (a refused key, a 429): send it again
    OS.SUBMITTING: frozenset(
        {OS.PENDING, OS.SUBMITTED, OS.PARTIALLY_FILLED, OS.FILLED, OS.CANCELLED, OS.REJECTED, OS.EXPIRED}
    ),
    OS.SUBMITTED: frozenset({OS.PARTIALLY_FILLED, OS.FILLED, OS.CANCELLED, OS.REJECTED, OS.EXPIRED}),
    # a partial fill ends FILLED, or CANCELLED/EXPIRED keeping what filled (never REJECTED: it traded)
    OS.PARTIALLY_FILLED: frozenset({OS.FILLED, OS.CANCELLED, OS.EXPIRED}),
    OS.FILLED: frozenset(),
    OS.CANCELLED: frozenset(),
    OS.REJECTED: frozenset(),
    OS.EXPIRED: frozenset(),
}
POSITION_MOVES: dict[PositionStatus, frozenset[PositionStatus]] = {
    # OPEN -> CLOSED directly: an expiry settles without an exit order
    P.OPEN: frozenset({P.CLOSING, P.CLOSED}),
    # CLOSING -> OPEN: the exit order expired or was cancelled; the position is still held
    P.CLOSING: frozenset({P.OPEN, P.CLOSED}),
    P.CLOSED: frozenset(),
}

DIFFERENCE_MOVES: dict[DifferenceStatus, frozenset[DifferenceStatus]] = {
    DifferenceStatus.OPEN: frozenset({DifferenceStatus.RESOLVED}),
    DifferenceStatus.RESOLVED: frozenset(),
}

# States a row can wait in; every other state is final.
SIGNAL_WAITING = frozenset({S.PENDING, S.ACCEPTED, S.ORDERED})
ORDER_WORKING = frozenset({OS.PENDING, OS.SUBMITTING, OS.SUBMITTED, OS.PARTIALLY_FILLED})
POSITION_HELD = frozenset({P.OPEN, P.CLOSING})


_MACHINES: dict[str, tuple[dict[Any, frozenset[Any]], type[StrEnum]]] = {
    "signal": (SIGNAL_MOVES, SignalStatus),
    "order": (ORDER_MOVES, OrderStatus),
    "position": (POSITION_MOVES, PositionStatus),
    "difference": (DIFFERENCE_MOVES, DifferenceStatus),
}


class IllegalTransition(ValueError):
    """A status move the state machine does not allow: a bug, refused before it reaches the database."""


def require(entity: str, before: StrEnum | str, after: StrEnum | str) -> None:
    """Raise IllegalTransition unless `entity` ('signal', 'order', 'position') may move before -> after."""
    table, kind = _MACHINES[entity]
    if kind(after) not in table[kind(before)]:
        raise IllegalTransition(f"{entity} cannot move from {before} to {after}")


def allowed_sources(entity: str, after: StrEnum | str) -> list[str]:
    """The states from which `entity` may move to `after`: the WHERE clause of a guarded UPDATE."""
    table, _ = _MACHINES[entity]
    return sorted(str(before) for before, targets in table.items() if after in targets)


class Severity(StrEnum):
    """How much a notification matters; a channel receives the ones at or above its minimum."""

    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class NoticeKind(StrEnum):
    """What a notification reports. Each kind has one severity (`NOTICE_SEVERITY`)."""

    ENTRY_FILLED = "ENTRY_FILLED"
    POSITION_CLOSED = "POSITION_CLOSED"
    SIGNAL_REJECTED = "SIGNAL_REJECTED"
    ORDER_ENDED = "ORDER_ENDED"  # an order expired, or was rejected or cancelled, without filling
    WORKER_FAILING = "WORKER_FAILING"
    STALE_MARKS = "STALE_MARKS"
    KILL_SWITCH = "KILL_SWITCH"
    DAILY_SUMMARY = "DAILY_SUMMARY"
    TEST = "TEST"  # `optionflow notify test <channel>`
    RECONCILIATION_DIFFERENCE = "RECONCILIATION_DIFFERENCE"  # the broker's book and ours first disagree


NOTICE_SEVERITY: dict[NoticeKind, Severity] = {
    NoticeKind.ENTRY_FILLED: Severity.INFO,
    NoticeKind.POSITION_CLOSED: Severity.INFO,
    NoticeKind.SIGNAL_REJECTED: Severity.WARNING,
    NoticeKind.ORDER_ENDED: Severity.WARNING,
    NoticeKind.WORKER_FAILING: Severity.CRITICAL,
    NoticeKind.STALE_MARKS: Severity.WARNING,
    NoticeKind.KILL_SWITCH: Severity.CRITICAL,
    NoticeKind.DAILY_SUMMARY: Severity.INFO,
    NoticeKind.TEST: Severity.INFO,
    NoticeKind.RECONCILIATION_DIFFERENCE: Severity.CRITICAL,  # a person must decide
}


class DeliveryStatus(StrEnum):
    """One notification on one channel: claimed (SENDING, under a lease) before it is sent, marked after."""

    PENDING = "PENDING"  # waiting for its next attempt (next_attempt_at)
    SENDING = "SENDING"  # claimed; a lease that runs out without a mark makes it due again
    SENT = "SENT"
    DEAD = "DEAD"  # every attempt failed; shown by /health and `optionflow notify list`


D = DeliveryStatus
DELIVERY_MOVES: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    D.PENDING: frozenset({D.SENDING}),
    # SENDING -> SENDING: a lease ran out (the sender crashed) and another run claims it again
    D.SENDING: frozenset({D.SENDING, D.SENT, D.PENDING, D.DEAD}),
    D.SENT: frozenset(),
    D.DEAD: frozenset({D.PENDING}),  # an operator retries it
}
_MACHINES["delivery"] = (DELIVERY_MOVES, DeliveryStatus)
