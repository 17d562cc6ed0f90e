"""Read models for the query API."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from optionflow.db import exit_signals as exit_db
from optionflow.db import health as health_db
from optionflow.db import listing
from optionflow.db import notifications as notifications_db
from optionflow.db import reconciliation as reconciliation_db
from optionflow.db import signals as signals_db
from optionflow.db import stats as stats_db
from optionflow.db.connection import Database, DatabaseUnavailable
from optionflow.errors import FieldError
from optionflow.logic import stats
from optionflow.models.entities import Page, SignalDetail
from optionflow.models.stats import StatsReport
from optionflow.states import DeliveryStatus

if TYPE_CHECKING:
    from optionflow.config import Settings

M = TypeVar("M", bound=BaseModel)


def list_page(db: Database, name: str, model: type[M], filters: listing.Filters) -> Page[M]:
    """One page of a listing. Raises BadWindow for a since/until no timestamp column can hold."""
    filters = replace(
        filters, since=_window_bound("since", filters.since), until=_window_bound("until", filters.until)
    )
    items, next_cursor = db.run_in_transaction(
        lambda cur: listing.page(cur, name, filters, model.model_validate)
    )
    return Page[model](items=items, count=len(items), next_cursor=next_cursor)  # type: ignore[valid-type]


def signal_detail(db: Database, signal_id: UUID) -> SignalDetail | None:
    def read(cur: Any) -> SignalDetail | None:
        trail = [asdict(decision) for decision in signals_db.decisions(cur, signal_id)]
        return signals_db.get(
            cur, signal_id, lambda row: SignalDetail.model_validate({**row, "decisions": trail})
        )

    return db.run_in_transaction(read)


def health(db: Database, settings: Settings | None = None) -> tuple[bool, dict[str, Any]]:
    """(healthy, report): the trading mode (see `optionflow.trading_mode`) and market-data source, whether
    the database answers, when each worker last ran, and the reconciler's open differences between the
    broker's book and ours."""
    mode = {"trading_mode": settings.trading_mode, "market_data": settings.market_data} if settings else {}
    try:
        db_now, runs, stale, differences, deliveries = db.run_in_transaction(
            lambda cur: (
                health_db.database_time(cur),
                health_db.worker_runs(cur),
                health_db.stale_marks(cur),
                reconciliation_db.open_differences(cur),
                notifications_db.delivery_counts(cur),
            )
        )
    except DatabaseUnavailable as exc:
        return False, {
            "status": "unavailable",
            **mode,
            "database": {"reachable": False, "error": str(exc)},
            "workers": {},
        }
    workers = {
        run.worker: {
            "last_trigger": run.trigger,
            "last_started_at": run.started_at.isoformat(),
            "last_finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "last_processed": run.processed,
            "last_succeeded": run.succeeded,
            "last_error": run.error,
            "runs_total": run.runs_total,
        }
        for run in runs
    }
    return True, {
        "status": "ok",
        **mode,
        "database": {"reachable": True, "time": db_now.isoformat()},
        "workers": workers,
        # positions whose stops and targets wait for a fresh mark (the dashboard and /exit-signals list them)
        "stale_marks": stale,
        "trading": {
            "app_mode": settings.app_mode if settings else None,
            "broker": settings.broker if settings else None,
        },
        # where the broker's book and ours differ: a person decides; the book is never rewritten for them
        "reconciliation": {
            "open_differences": len(differences),
            "differences": [
                {
                    "kind": d.kind,
                    "broker": d.broker,
                    "subject": d.subject,
                    "broker_quantity": d.broker_quantity,
                    "book_quantity": d.book_quantity,
                    "detail": d.detail,
                    "first_seen_at": d.first_seen_at.isoformat(),
                    "last_seen_at": d.last_seen_at.isoformat(),
                }
                for d in differences
            ],
        },
        # notifications waiting to go out, and those that failed every attempt (`optionflow notify list`)
        "notifications": {
            "pending": deliveries[DeliveryStatus.PENDING]
            + deliveries[DeliveryStatus.SENDING]
            + deliveries["UNROUTED"],
            "dead": deliveries["DEAD"],
        },
    }


def exit_signals_report(db: Database, now: Any) -> dict[str, Any]:
    """The seed's /exit-signals shape: active alerts plus a summary."""
    import time

    started = time.perf_counter()
    alerts, open_count = db.run_in_transaction(
        lambda cur: (exit_db.active_exit_alerts(cur), exit_db.open_position_count(cur))
    )
    by_priority = {p: sum(1 for a in alerts if a.priority == p) for p in ("CRITICAL", "HIGH", "MEDIUM")}
    return {
        "alerts": [
            {
                "id": str(a.id),
                "position_id": str(a.position_id),
                "symbol": a.ticker,
                "option_symbol": a.option_symbol,
                "priority": a.priority,
                "reason": a.rule,
                "details": a.details,
                "recommended_action": a.recommended_action,
                "urgency": a.urgency,
                "metrics": a.metrics,
                "exit_order_id": str(a.exit_order_id) if a.exit_order_id else None,
                "first_seen_at": a.first_seen_at.isoformat(),
                "last_seen_at": a.last_seen_at.isoformat(),
            }
            for a in alerts
        ],
        "summary": {
            "total_positions": open_count,
            "positions_with_alerts": len({a.position_id for a in alerts}),
            "critical_alerts": by_priority["CRITICAL"],
            "high_alerts": by_priority["HIGH"],
            "medium_alerts": by_priority["MEDIUM"],
        },
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "timestamp": now.isoformat(),
    }


class BadWindow(FieldError):
    """A since/until pair no statistics can be read for; `field` names the parameter at fault (422)."""


def _window_bound(field: str, at: datetime | None) -> datetime | None:
    """Naive means UTC. Normalised here because Postgres takes offsets only up to ±15:59."""
    if at is None:
        return None
    try:
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except OverflowError:
        raise BadWindow(field, "is outside the years 1 to 9999 once converted to UTC") from None


def stats_report(db: Database, since: datetime | None, until: datetime | None, now: datetime) -> StatsReport:
    """Trading statistics of the positions closed in [since, until), and the open book as of now.

    The window bounds closed trades only: unrealized P&L and open positions are always today's book.
    """
    since, until = _window_bound("since", since), _window_bound("until", until)
    if since is not None and until is not None and until <= since:
        raise BadWindow("until", "must be later than since")
    closed, book = db.run_in_transaction(
        lambda cur: (stats_db.closed_positions(cur, since, until), stats_db.open_book(cur))
    )
    trades = [
        stats.ClosedTrade(
            ticker=row.ticker,
            direction=row.direction,
            exit_rule=stats.exit_rule_of(row.exit_reason),
            opened_at=row.opened_at,
            closed_at=row.closed_at,
            realized_pnl=Decimal(row.realized_pnl),
            fees=Decimal(row.fees or 0),
            cost_basis=Decimal(row.cost_basis),
        )
        for row in closed
    ]

    def exposure(group: str) -> dict[str, stats.OpenExposure]:
        totals: dict[str, stats.OpenExposure] = {}
        for row in book:
            key = row.ticker if group == "ticker" else row.direction
            seen = totals.get(key, stats.OpenExposure(0, Decimal(0)))
            totals[key] = stats.OpenExposure(
                seen.positions + row.positions, seen.unrealized_pnl + Decimal(row.unrealized_pnl)
            )
        return totals

    return StatsReport.model_validate(
        {
            "as_of": now,
            "since": since,
            "until": until,
            "overall": stats.summarize(
                trades,
                unrealized_pnl=sum((Decimal(r.unrealized_pnl) for r in book), Decimal(0)),
                open_positions=sum(r.positions for r in book),
            ),
            "by_ticker": stats.breakdown(trades, stats.by_ticker, open_book=exposure("ticker")),
            "by_direction": stats.breakdown(trades, stats.by_direction, open_book=exposure("direction")),
            # open positions have no exit rule yet, so this breakdown is of closed trades only
            "by_exit_rule": stats.breakdown(trades, stats.by_exit_rule),
            "equity_curve": stats.equity_curve(trades),
        }
    )
