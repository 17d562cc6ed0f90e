"""The daily summary: after each session's close (13:00 on an early close), one message with the session's
trades, realized and unrealized P&L, win rate, open positions and whatever needs attention.

Queued by the notifier on its first run after the close; the session date is the notification's dedupe
key, so each session gets exactly one however many runs, retries or notifiers see it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from optionflow.calendar import NEW_YORK, NyseCalendar, Session
from optionflow.db import notifications as notifications_db
from optionflow.states import NoticeKind

if TYPE_CHECKING:
    from optionflow.composition import Dependencies


def last_closed_session(now: datetime, calendar: NyseCalendar) -> Session:
    """The latest session whose close is at or before `now`."""
    day = now.astimezone(NEW_YORK).date()
    session = calendar.session(day)
    if session is None or now < session.close:
        session = calendar.session(calendar.previous_trading_day(day))
    assert session is not None
    return session


def key_for(session: Session) -> str:
    return f"daily-summary:{session.date.isoformat()}"


def queue_if_due(deps: Dependencies, now: datetime) -> bool:
    """Queue the summary of the last closed session unless it was queued already; True if queued now."""
    session = last_closed_session(now, deps.calendar)
    key = key_for(session)

    def work(cur: Any) -> bool:
        if notifications_db.recorded(cur, key):
            return False
        start = datetime.combine(session.date, time(0), NEW_YORK)
        # to now: an expiry settles at the close itself, and the summary is queued right after it
        end = max(now, session.close + timedelta(seconds=1))
        figures = notifications_db.session_figures(cur, start, end)
        facts: dict[str, Any] = dataclasses.asdict(figures)
        counts = notifications_db.delivery_counts(cur)
        attention = []
        if figures.stale:
            attention.append(f"{figures.stale} open position(s) with a stale mark")
        if counts["DEAD"]:
            attention.append(
                f"{counts['DEAD']} notification(s) could not be delivered (optionflow notify list)"
            )
        failing = notifications_db.failing_workers(cur)
        if failing:
            attention.append(f"failing worker(s): {', '.join(failing)}")
        facts.update(
            session=session.date.isoformat(),
            close=session.close.strftime("%H:%M ET"),
            early_close=session.early_close,
            win_rate=round(figures.winners / figures.closed, 4) if figures.closed else None,
            attention=attention,
        )
        return notifications_db.record(cur, NoticeKind.DAILY_SUMMARY, facts, now, dedupe_key=key) is not None

    return bool(deps.db.run_in_transaction(work))
