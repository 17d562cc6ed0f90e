"""What each pipeline stage's run returns: one frozen result type per worker.

Each says how many rows its run worked on (`processed`, what worker_runs records and /health shows) and how
the run record shows it (`as_json`, the `result` of a worker's summary: the API's and the logs' shape).
Money is dollars.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any


class StageResult:
    """The result of one stage's run."""

    @property
    def processed(self) -> int:
        """The rows this run worked on."""
        raise NotImplementedError

    def as_json(self) -> Any:
        """The run record's `result` (Decimals are written as numbers by the run's summary)."""
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class DecideResult(StageResult):
    """Signal processor: how many pending signals were decided (accepted, rejected or failed)."""

    decided: int

    @property
    def processed(self) -> int:
        return self.decided

    def as_json(self) -> int:
        return self.decided


@dataclass(frozen=True)
class OrdersResult(StageResult):
    """Order creator: how many accepted signals were handled (ordered, executed, failed or cancelled)."""

    handled: int

    @property
    def processed(self) -> int:
        return self.handled

    def as_json(self) -> int:
        return self.handled


@dataclass(frozen=True)
class ExecutionResult(StageResult):
    """Paper executor: what became of the working orders it looked at."""

    opened: int = 0  # entries filled, a position opened for each
    closed: int = 0  # exits filled
    expired: int = 0  # DAY orders whose session ended
    cancelled: int = 0  # entries cancelled by the kill switch
    waiting: int = 0  # outside the session, left working
    failed_quotes: int = 0  # left working for the next run

    @property
    def processed(self) -> int:
        return self.opened + self.closed + self.expired + self.cancelled + self.waiting + self.failed_quotes

    @property
    def fills(self) -> int:
        return self.opened + self.closed


@dataclass(frozen=True)
class MarksResult(StageResult):
    """Position refresher: the positions re-priced, and the held book's totals after it (None after a run
    scoped to the positions an event names: totalling the whole book there cost a read of every open
    position per fast-path run; the sweep reports them)."""

    refreshed: int
    stale: int  # quotes that failed: those positions are flagged stale
    expired: int  # contracts past expiry, left for the exit monitor to settle
    priced_as_of: str  # ISO instant the marks are for
    open_positions: int | None
    total_unrealized_pnl: Decimal | None
    market_value: Decimal | None
    delta_shares: Decimal | None

    @property
    def processed(self) -> int:
        return self.refreshed


@dataclass(frozen=True)
class ExitsResult(StageResult):
    """Exit monitor: positions evaluated, alerts raised, exit orders placed, expiries settled."""

    evaluated: int = 0
    alerts: int = 0
    exit_orders: int = 0
    settled: int = 0
    stale: int = 0  # positions whose price rules wait for a fresh mark
    # exits waiting for the next run: the executor held the position's entry order, whose working rest
    # must be cancelled first (last, so that a run record keeps the order of the keys it always had)
    exit_orders_deferred: int = 0

    @property
    def processed(self) -> int:
        return self.evaluated


@dataclass(frozen=True)
class RoutingResult(StageResult):
    """The executor in a broker mode: orders sent, resolved and polled at the broker, and what became of
    them."""

    submitted: int = 0
    adopted: int = 0  # found at the broker by client order id after a lost answer
    resubmitted: int = 0
    unresolved: int = 0  # the broker could not say yet; asked again next run
    fills: int = 0  # fill events recorded (a partial fill is one)
    filled: int = 0  # orders completely filled
    partially_filled: int = 0
    rejected: int = 0
    cancelled: int = 0
    expired: int = 0
    repriced: int = 0
    waiting: int = 0
    capped: int = 0  # refused by a LIVE notional cap
    errors: int = 0

    @property
    def processed(self) -> int:
        return (
            self.submitted
            + self.adopted
            + self.resubmitted
            + self.fills
            + self.rejected
            + self.cancelled
            + self.expired
            + self.repriced
            + self.capped
        )


@dataclass(frozen=True)
class ReconcileResult(StageResult):
    """Reconciler: the broker's positions and orders compared with the book, and the differences."""

    reconciled: int = 0  # broker positions and orders looked at
    adopted: int = 0
    fills: int = 0
    differences: int = 0  # seen this run
    resolved: int = 0  # differences no longer seen
    open_differences: int = 0
    note: str | None = None  # why there was nothing to compare

    @property
    def processed(self) -> int:
        return self.reconciled


@dataclass(frozen=True)
class DeliveryResult(StageResult):
    """Notifier: notifications routed to channels, and deliveries sent, retrying, dead or postponed."""

    routed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    postponed: int = 0  # not tried: their channel failed earlier in the run
    summaries: int = 0  # daily summaries queued
    pruned: int = 0  # delivered notifications past NOTIFY_RETENTION_DAYS, deleted

    @property
    def processed(self) -> int:
        return self.routed + self.sent + self.retrying + self.dead
