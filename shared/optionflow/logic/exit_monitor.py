"""Exit monitor: evaluate open positions, keep the exit alerts current, and place exit orders once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from optionflow import observability
from optionflow.config import get_settings
from optionflow.db import book as book_db
from optionflow.db import exit_signals as exit_db
from optionflow.db import orders as orders_db
from optionflow.db import positions as positions_db
from optionflow.db.connection import transaction
from optionflow.events import bus
from optionflow.logic.exits import PositionView, Rules, evaluate
from optionflow.logic.orders import exit_order
from optionflow.market.calendar import NEW_YORK
from optionflow.market.provider import get_calendar

PAGE = 1000


def monitor(now: datetime, only: list[str] | None = None) -> dict[str, int]:
    """Evaluate every open position (or just those in `only`, after a fast-path refresh)."""
    calendar = get_calendar()
    today = now.astimezone(NEW_YORK).date()
    session = calendar.session(today)
    market_open = calendar.is_open(now)
    mode = get_settings().app_mode
    counts = {"evaluated": 0, "alerts": 0, "exit_orders": 0}
    after: UUID | None = None
    placed: list[tuple[dict[str, Any], Any]] = []
    while True:
        with transaction() as cur:
            rules = Rules.from_row(book_db.exit_rules(cur))
            page = positions_db.claim_open(cur, PAGE, after, only)
            if not page:
                break
            firing: list[tuple[Any, str]] = []
            for position in page:
                view = PositionView(
                    position["entry_price"],
                    position["mark"],
                    position["high_water_mark"],
                    position["price_stale"],
                    position["expiry"],
                    position["opened_at"],
                )
                alerts = evaluate(
                    view, rules, today=today, now=now, session_close=session.close if session else None
                )
                firing += [(position["id"], a.rule) for a in alerts]
                closing = None
                for alert in alerts:
                    alert_id = exit_db.upsert_active(cur, position["id"], alert, now)
                    if alert.closes and closing is None:
                        closing = (alert, alert_id)
                counts["alerts"] += len(alerts)
                # Exit orders only while the market is open (a DAY order placed after the close would
                # just expire); the unique index allows one live exit order per position.
                if closing and market_open and position["status"] == "OPEN":
                    alert, alert_id = closing
                    order_id = orders_db.insert(cur, exit_order(position, mode, alert.rule, now))
                    if order_id:
                        positions_db.set_status(cur, position["id"], "CLOSING", now)
                        exit_db.attach_order(cur, alert_id, order_id)
                        counts["exit_orders"] += 1
                        placed.append((position, alert))
            exit_db.resolve_not_firing(cur, [p["id"] for p in page], firing, now)
            counts["evaluated"] += len(page)
            after = page[-1]["id"]
    observability.signal_lines(
        "exit rule fired, exit order placed",
        [
            (p["signal_id"] or p["id"], {"position_id": str(p["id"]), "rule": a.rule, "details": a.details})
            for p, a in placed
        ],
    )
    observability.count_by(observability.EXITS, "Rule", [a.rule for _, a in placed])
    if counts["exit_orders"]:
        bus.publish(bus.ORDER_CREATED, {"count": counts["exit_orders"]})
    return counts
