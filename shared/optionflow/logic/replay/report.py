"""Replay's report: what became of each alert in the real book and in the replay's, whether the two are
the same, and both books summarized with the statistics the API serves. Money in dollars."""

from __future__ import annotations

import time as wall_time
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from optionflow.db.rows import SignalOutcome
from optionflow.logic.replay.walk import Window
from optionflow.states import POSITION_HELD, PositionStatus, SignalStatus


@dataclass(frozen=True)
class Outcome:
    """What became of one alert in one book. Money in dollars: P&L and cost basis for the whole position,
    entry and exit prices per share."""

    status: str
    reasons: list[str] = field(default_factory=list)
    position_status: str | None = None
    option_symbol: str | None = None
    quantity: int | None = None
    entry_price: Decimal | None = None
    exit_price: Decimal | None = None
    cost_basis: Decimal | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    exit_rule: str | None = None
    realized_pnl: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    closed_positions: int = 0
    # a position that was still open when the replay stopped and closed later, e.g. "STOP_LOSS -42.00"
    closed_later: str | None = None

    @classmethod
    def from_row(cls, row: SignalOutcome) -> Outcome:
        return cls(
            status=row.status,
            reasons=list(row.rejection_reasons or []),
            position_status=row.position_status,
            option_symbol=row.option_symbol,
            quantity=row.quantity,
            entry_price=row.entry_price,
            exit_price=row.exit_price,
            cost_basis=row.cost_basis,
            opened_at=row.opened_at,
            closed_at=row.closed_at,
            exit_rule=row.exit_reason,
            realized_pnl=row.realized_pnl,
            unrealized_pnl=row.unrealized_pnl,
            closed_positions=int(row.closed_positions or 0),
        )

    def as_of(self, until: datetime) -> Outcome:
        """This outcome as the book stood at `until`, where the replay stops: a position the live run closed
        after that was still open then. Compared with its later close, the replay would seem to differ
        under the very same rules. Its unrealized P&L at `until` is not recorded, so it counts as 0."""
        if self.position_status != PositionStatus.CLOSED or self.closed_at is None or self.closed_at <= until:
            return self
        return replace(
            self,
            position_status=PositionStatus.OPEN,
            exit_price=None,
            closed_at=None,
            exit_rule=None,
            realized_pnl=None,
            unrealized_pnl=None,
            closed_later=self.describe(),
        )

    def describe(self) -> str:
        """One line for the table, e.g. `STOP_LOSS -42.00`, `open +12.50`, `rejected: kill switch is ON`."""
        if self.position_status == PositionStatus.CLOSED:
            return f"{self.exit_rule} {self.realized_pnl:+,.2f}"
        if self.closed_later:
            return f"open (closed after the window: {self.closed_later})"
        if self.position_status is not None:
            return f"open {self.unrealized_pnl or 0:+,.2f}"
        if self.status in (SignalStatus.REJECTED, SignalStatus.FAILED, SignalStatus.CANCELLED):
            return f"{self.status.lower()}: {self.reasons[0] if self.reasons else 'no reason recorded'}"
        if self.status == SignalStatus.EXECUTED and self.closed_positions:
            plural = "s" if self.closed_positions != 1 else ""
            return f"closed {self.closed_positions} position{plural}"
        return self.status.lower()

    def same_as(self, other: Outcome) -> bool:
        """The same decision, contract, size and fill, and the same result as `describe()` words it: the
        exit and realized P&L of a closed position, the unrealized P&L of an open one. A position closed
        after the window has no P&L recorded where the replay stopped, so only its opening is compared."""
        # describe() shows an open position's unrealized P&L, a closed one's realized P&L only
        unrealized_shown = self.position_status != PositionStatus.CLOSED and not (
            self.closed_later or other.closed_later
        )
        return (
            self.status == other.status
            and self.position_status == other.position_status
            and self.option_symbol == other.option_symbol
            and self.quantity == other.quantity
            and self.entry_price == other.entry_price
            and self.exit_rule == other.exit_rule
            and self.realized_pnl == other.realized_pnl
            and (not unrealized_shown or (self.unrealized_pnl or 0) == (other.unrealized_pnl or 0))
            and self.closed_positions == other.closed_positions
        )


@dataclass(frozen=True)
class AlertRow:
    signal_id: str
    received_at: datetime
    ticker: str
    action: str
    direction: str | None
    actual: Outcome
    replay: Outcome | None  # None when the replay did not store it (see `note`)
    note: str | None = None

    @property
    def same(self) -> bool:
        return self.replay is not None and self.actual.same_as(self.replay)


StoppedBy = Literal["end of window", "now", "last stored alert"]


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    replayed_until: datetime | None
    # why the replay stopped at replayed_until: at the window's end, at `clock_at` (the present, which the
    # window reaches into), or after the last stored alert, when the clock is behind it
    stopped_by: StoppedBy | None
    clock_at: datetime | None
    risk_limits: dict[str, Any]
    exit_rules: dict[str, Any]
    alerts: list[AlertRow]
    actual: dict[str, Any]  # stats.summarize() of the window's alerts in the real book
    replay: dict[str, Any]  # the same for the scratch book
    seconds: float


def build_report(
    window: Window,
    risk_limits: dict[str, Any],
    exit_rules: dict[str, Any],
    rows: list[AlertRow],
    *,
    started: float,
    until: datetime | None = None,
    stopped_by: StoppedBy | None = None,
    clock_at: datetime | None = None,
) -> Report:
    """The report of `rows`, both books summarized; `until`, `stopped_by` and `clock_at` are None when the
    window held no alerts and nothing was replayed."""
    return Report(
        first=window.first,
        last=window.last,
        replayed_until=until,
        stopped_by=stopped_by,
        clock_at=clock_at,
        risk_limits=risk_limits,
        exit_rules=exit_rules,
        alerts=rows,
        actual=summary([(r.ticker, r.direction, r.actual) for r in rows]),
        replay=summary([(r.ticker, r.direction, r.replay) for r in rows if r.replay is not None]),
        seconds=wall_time.monotonic() - started,
    )


def summary(outcomes: list[tuple[str, str | None, Outcome]]) -> dict[str, Any]:
    """stats.summarize over the positions these alerts opened, plus how many alerts opened one."""
    from optionflow.logic.stats import ClosedTrade, exit_rule_of, summarize

    trades = [
        ClosedTrade(
            ticker=ticker,
            direction=direction or "",
            exit_rule=exit_rule_of(o.exit_rule),
            opened_at=o.opened_at,  # type: ignore[arg-type]  # a closed position has both times
            closed_at=o.closed_at,  # type: ignore[arg-type]
            realized_pnl=Decimal(o.realized_pnl or 0),
            cost_basis=Decimal(o.cost_basis or 0),
        )
        for ticker, direction, o in outcomes
        if o.position_status == PositionStatus.CLOSED
    ]
    still_open = [o for _, _, o in outcomes if o.position_status in POSITION_HELD]
    summary = summarize(
        trades,
        unrealized_pnl=sum((Decimal(o.unrealized_pnl or 0) for o in still_open), Decimal(0)),
        open_positions=len(still_open),
    )
    return {
        "alerts": len(outcomes),
        "positions": sum(o.position_status is not None for _, _, o in outcomes),
        **summary,
    }
