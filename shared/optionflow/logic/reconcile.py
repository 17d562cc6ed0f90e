"""The reconciler: compares the broker's orders and positions with our book, adopts the orders it can match
by client id, and records every other difference in `reconciliation_differences` (shown in /health, on the
dashboard and as an alarm). It never rewrites the book: closing, adopting a stranger's position or
correcting a quantity is a person's decision.

Kinds of difference (`states.DifferenceKind`): MANUAL_CLOSE (we hold a contract the broker does not),
EXERCISE_OR_ASSIGNMENT (our contract is gone and the broker holds shares of its underlying),
UNKNOWN_POSITION, QUANTITY_MISMATCH, UNKNOWN_ORDER (a working broker order no order of ours placed) and
FILLED_AFTER_CANCEL (recorded by the router). A difference no longer seen is resolved on the next run.
A difference seen for the first time also gets a RECONCILIATION_DIFFERENCE notification, in the same
transaction; one still open on later runs gets none.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from optionflow import observability
from optionflow.db import notifications as notifications_db
from optionflow.db import reconciliation as reconciliation_db
from optionflow.events import names as events
from optionflow.logic.results import ReconcileResult
from optionflow.logic.routing import catch_up
from optionflow.observability import logger
from optionflow.states import DifferenceKind

if TYPE_CHECKING:
    from optionflow.brokers.ports import BrokerOrder, BrokerPosition
    from optionflow.composition import Dependencies

NOTHING_TO_RECONCILE = "BROKER=paper: the paper executor is the broker, so there is nothing to reconcile"


def reconcile(deps: Dependencies, now: datetime) -> ReconcileResult:
    """One reconciler run; returns what it adopted and found."""
    broker = deps.order_broker
    if broker is None:
        return ReconcileResult(note=NOTHING_TO_RECONCILE)
    caught = catch_up(deps, now)
    positions = broker.positions()
    orders = broker.orders()
    with deps.db.transaction() as cur:
        seen = _compare_positions(cur, broker.name, deps.settings.app_mode, positions, now)
        seen += _compare_orders(cur, broker.name, orders, now)
        resolved = reconciliation_db.resolve_unseen(cur, broker.name, seen, now)
        still_open = reconciliation_db.open_count(cur)
        noticed = notifications_db.differences_appeared(cur, seen, now)
    observability.count(observability.RECONCILIATION_DIFFERENCES, still_open)
    if noticed:
        deps.publish(events.NOTICES_QUEUED, {"count": noticed})
    if seen:
        logger.warning("broker and book differ", extra={"differences": len(seen), "broker": broker.name})
    return ReconcileResult(
        reconciled=len(positions) + len(orders),
        adopted=caught["adopted"],
        fills=caught["fills"],
        differences=len(seen),
        resolved=resolved,
        open_differences=still_open,
    )


def _compare_positions(
    cur: Any, broker: str, mode: str, positions: list[BrokerPosition], now: datetime
) -> list[UUID]:
    seen: list[UUID] = []
    theirs = {p.symbol: p for p in positions}
    ours = {lot.option_symbol: lot for lot in reconciliation_db.held_lots(cur, mode)}
    explained_shares: set[str] = set()
    for symbol, lot in ours.items():
        held = theirs.get(symbol)
        if held is not None and held.quantity == lot.quantity:
            continue
        if held is not None:
            seen.append(
                reconciliation_db.record(
                    cur,
                    broker,
                    DifferenceKind.QUANTITY_MISMATCH,
                    symbol,
                    detail=f"{broker} holds {held.quantity} contract(s) of {symbol}; our book holds {lot.quantity}",
                    broker_quantity=held.quantity,
                    book_quantity=lot.quantity,
                    at=now,
                )
            )
            continue
        shares = theirs.get(lot.ticker)
        if shares is not None and not shares.is_option:
            explained_shares.add(lot.ticker)
            seen.append(
                reconciliation_db.record(
                    cur,
                    broker,
                    DifferenceKind.EXERCISE_OR_ASSIGNMENT,
                    symbol,
                    detail=(
                        f"{broker} no longer holds {symbol} (expiry {lot.expiry}) and holds {shares.quantity} "
                        f"{lot.ticker} shares: an exercise or assignment; our book still holds {lot.quantity}"
                    ),
                    broker_quantity=0,
                    book_quantity=lot.quantity,
                    at=now,
                )
            )
            continue
        seen.append(
            reconciliation_db.record(
                cur,
                broker,
                DifferenceKind.MANUAL_CLOSE,
                symbol,
                detail=(
                    f"{broker} no longer holds {symbol}; our book holds {lot.quantity}: closed at the broker "
                    "outside OptionFlow?"
                ),
                broker_quantity=0,
                book_quantity=lot.quantity,
                at=now,
            )
        )
    for symbol, held in theirs.items():
        if symbol in ours or symbol in explained_shares:
            continue
        what = "contract(s)" if held.is_option else "shares"
        seen.append(
            reconciliation_db.record(
                cur,
                broker,
                DifferenceKind.UNKNOWN_POSITION,
                symbol,
                detail=f"{broker} holds {held.quantity} {what} of {symbol} that our book does not",
                broker_quantity=held.quantity,
                book_quantity=0,
                at=now,
            )
        )
    return seen


def _compare_orders(cur: Any, broker: str, orders: list[BrokerOrder], now: datetime) -> list[UUID]:
    working = [o for o in orders if o.live]
    ids = [o.client_id for o in working if o.client_id]
    ours = reconciliation_db.known_client_ids(cur, ids) if ids else set()
    seen: list[UUID] = []
    for order in working:
        if order.client_id and (order.client_id in ours or order.client_id.split("-r")[0] in ours):
            continue
        seen.append(
            reconciliation_db.record(
                cur,
                broker,
                DifferenceKind.UNKNOWN_ORDER,
                order.broker_id,
                detail=(
                    f"{broker} order {order.broker_id} ({order.option_symbol}, {order.quantity} contract(s), "
                    f"client id {order.client_id or 'none'}) is working and no order of ours placed it"
                ),
                broker_quantity=order.quantity,
                broker_order_id=order.broker_id,
                at=now,
            )
        )
    return seen
