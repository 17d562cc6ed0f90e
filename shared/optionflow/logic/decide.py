"""Signal processor: decide every pending signal (session, shape, contract, risk) and write the decision trail.

Each signal is decided on its own: one that raises is FAILED with the error in its trail, and the rest of
the batch is decided as usual.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from optionflow import observability
from optionflow.calendar import NEW_YORK
from optionflow.db import book as book_db
from optionflow.db import notifications as notifications_db
from optionflow.db import signals as signals_db
from optionflow.db import strategy as strategy_db
from optionflow.db.connection import is_transient, savepoint
from optionflow.db.rows import RiskLimits, StrategySettings
from optionflow.db.signals import ClaimedSignal
from optionflow.events import names as events
from optionflow.logic.exits import Rules
from optionflow.logic.filters import MarketView, entry_filters
from optionflow.logic.results import DecideResult
from optionflow.logic.risk import (
    Book,
    Check,
    contract_check,
    entry_checks,
    entry_window_check,
    exit_target_check,
    market_session_check,
    signal_shape_check,
)
from optionflow.logic.runs import drain
from optionflow.observability import logger
from optionflow.states import SignalStatus

if TYPE_CHECKING:
    from optionflow.calendar import NyseCalendar
    from optionflow.composition import Dependencies
    from optionflow.market.ports import MarketData

BATCH = 500


class Moment:
    """What every signal decided at one instant shares: the session, whether it is open, the market_open
    line, and each contract's contract_listed line (a pure function of the contract and the instant), so a
    batch works them out once, not once a signal."""

    def __init__(self, now: datetime, calendar: NyseCalendar, market: MarketData) -> None:
        self.now, self.calendar, self.market = now, calendar, market
        self.now_et = now.astimezone(NEW_YORK)
        self.today = self.now_et.date()
        self.session = calendar.session(self.today)
        self.is_open = calendar.is_open(now)
        session_text = f"{self.session.open:%H:%M}-{self.session.close:%H:%M} ET" if self.session else None
        self.market_open = market_session_check(
            self.is_open, self.now_et.strftime("%Y-%m-%d %H:%M"), session_text
        )
        self._contracts: dict[tuple[Any, ...], Check] = {}

    def contract(self, signal: ClaimedSignal) -> Check:
        key = (signal.ticker, signal.direction, signal.strike, signal.expiry)
        check = self._contracts.get(key)
        if check is None:  # one that raises is not remembered: the next signal asks again
            check = self._contracts[key] = contract_check(signal, self.now, self.calendar, self.market)
        return check


def decide(
    signal: ClaimedSignal,
    *,
    now: datetime,
    calendar: NyseCalendar,
    market: MarketData,
    book: Book,
    limits: RiskLimits,
    open_to_close: int,
    rules: Rules | None = None,
    strategy: StrategySettings | None = None,
    view: MarketView | None = None,
    moment: Moment | None = None,
) -> list[Check]:
    """Every check for one signal, in order; all are evaluated so the trail shows every reason. `moment`
    (a batch's, at `now`) carries what every signal at that instant shares."""
    at = moment or Moment(now, calendar, market)
    session = at.session
    checks = [
        at.market_open,
        signal_shape_check(signal, at.today, limits.max_contracts_per_order),
    ]
    if signal.action == "BUY":
        checks.append(at.contract(signal))
        if rules and rules.close_minutes_before_close is not None and session and at.is_open:
            checks.append(entry_window_check(now, session.close, rules.close_minutes_before_close))
        checks += entry_checks(signal.ticker, book, limits)
        if strategy is not None and at.is_open:
            # the ticker's entry filters (logic/filters.py): trend alignment and market context
            checks += entry_filters(
                view or MarketView(market, calendar, now),
                signal,
                strategy,
                session.close if session else None,
            )
    else:
        checks.append(exit_target_check(open_to_close, signal.ticker, signal.direction))
    return checks


def process_pending(deps: Dependencies, now: datetime) -> DecideResult:
    """Decide every pending signal, a batch per transaction; returns how many were decided.

    Each run in Lambda also reports how long the oldest unhandled signal has waited: the stale-pipeline
    alarm fires when that grows, or when the metric stops arriving (the processor no longer runs)."""
    decided = drain(lambda batch: _decide_batch(deps, now, batch), BATCH)
    if observability.recording():
        age = deps.db.run_statement(lambda cur: signals_db.oldest_waiting_age_seconds(cur, now))
        observability.seconds(observability.OLDEST_WAITING_SIGNAL, age)
    return DecideResult(decided)


def _decide_batch(deps: Dependencies, now: datetime, batch: int) -> int:
    with deps.db.transaction() as cur:
        signals = signals_db.claim(cur, SignalStatus.PENDING, batch)
        if not signals:
            return 0
        limits = book_db.risk_limits(cur, lock=True)
        rules = book_db.exit_rules(cur)
        strategy = strategy_db.settings_for(cur, {s.ticker for s in signals if s.action == "BUY"})
        view = MarketView(deps.market, deps.calendar, now)
        moment = Moment(now, deps.calendar, deps.market)
        exposure = book_db.exposure(cur)
        # the daily loss limit counts from midnight New York time
        day_start = datetime.combine(now.astimezone(NEW_YORK).date(), time(0), NEW_YORK)
        pnl = book_db.day_pnl(cur, day_start)
        book = Book(exposure.total, dict(exposure.per_ticker), pnl.realized, pnl.unrealized)
        accepted = 0
        failed_checks: list[str] = []
        trail: list[tuple[Any, Check]] = []
        outcomes: list[tuple[Any, str, list[str] | None]] = []
        for signal in signals:
            try:
                open_to_close = 0
                if signal.action != "BUY":
                    # the only per-row SQL here; an entry's checks are pure, and need no savepoint
                    with savepoint(cur):
                        open_to_close = book_db.closable_count_for(
                            cur, signal.ticker, signal.direction, signal.seq
                        )
                checks = decide(
                    signal,
                    now=now,
                    calendar=deps.calendar,
                    market=deps.market,
                    book=book,
                    limits=limits,
                    open_to_close=open_to_close,
                    rules=rules,
                    strategy=strategy.get(signal.ticker),
                    view=view,
                    moment=moment,
                )
            except Exception as exc:
                if is_transient(exc):
                    raise
                logger.exception("signal could not be decided", extra={"correlation_id": str(signal.id)})
                error = Check("error", False, f"could not be decided: {type(exc).__name__}: {exc}")
                trail.append((signal.id, error))
                outcomes.append((signal.id, SignalStatus.FAILED, [error.detail]))
                failed_checks.append("error")
                continue
            failed = [c.detail for c in checks if not c.passed]
            failed_checks += [c.name for c in checks if not c.passed]
            trail += [(signal.id, check) for check in checks]
            outcomes.append((signal.id, SignalStatus.REJECTED if failed else SignalStatus.ACCEPTED, failed))
            if not failed:
                accepted += 1
                if signal.action == "BUY":
                    # the accepted entry counts against the limits for the rest of this batch
                    per_ticker = dict(book.open_per_ticker)
                    per_ticker[signal.ticker] = per_ticker.get(signal.ticker, 0) + 1
                    book = Book(book.open_total + 1, per_ticker, book.realized_today, book.unrealized)
        signals_db.record_decisions(cur, trail, now)
        signals_db.set_statuses(cur, outcomes, now)
        rejected = notifications_db.signals_rejected(
            cur, [s for s, st, _ in outcomes if st != SignalStatus.ACCEPTED], now
        )
    observability.signal_lines(
        "signal decided", [(sid, {"status": status, "reasons": reasons}) for sid, status, reasons in outcomes]
    )
    observability.count(observability.SIGNALS_ACCEPTED, accepted)
    observability.count_by(observability.SIGNALS_REJECTED, "Reason", failed_checks)
    if rejected:
        deps.publish(events.NOTICES_QUEUED, {"count": rejected})
    if accepted:
        deps.publish(events.SIGNAL_ACCEPTED, {"count": accepted})
    return len(signals)
