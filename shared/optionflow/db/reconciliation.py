"""The reconciler's record: where the broker's book and ours differ (`reconciliation_differences`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from psycopg2.extras import RealDictCursor

from optionflow.db.rows import HeldLot, OpenDifference


def record(
    cur: RealDictCursor,
    broker: str,
    kind: str,
    subject: str,
    *,
    detail: str,
    at: datetime,
    broker_quantity: int | None = None,
    book_quantity: int | None = None,
    order_id: UUID | None = None,
    broker_order_id: str | None = None,
) -> UUID:
    """Record a difference, or refresh the open one of the same kind about the same subject; its id."""
    cur.execute(
        """INSERT INTO reconciliation_differences (broker, kind, subject, broker_quantity, book_quantity,
                                                   order_id, broker_order_id, detail, first_seen_at, last_seen_at)
           VALUES (%(broker)s, %(kind)s, %(subject)s, %(bq)s, %(oq)s, %(oid)s, %(boid)s, %(detail)s, %(at)s, %(at)s)
           ON CONFLICT (broker, kind, subject) WHERE status = 'OPEN'
           DO UPDATE SET broker_quantity = EXCLUDED.broker_quantity, book_quantity = EXCLUDED.book_quantity,
                         detail = EXCLUDED.detail, last_seen_at = EXCLUDED.last_seen_at,
                         order_id = COALESCE(EXCLUDED.order_id, reconciliation_differences.order_id),
                         broker_order_id = COALESCE(EXCLUDED.broker_order_id,
                                                    reconciliation_differences.broker_order_id)
           RETURNING id""",
        {
            "broker": broker,
            "kind": kind,
            "subject": subject,
            "bq": broker_quantity,
            "oq": book_quantity,
            "oid": str(order_id) if order_id else None,
            "boid": broker_order_id,
            "detail": detail,
            "at": at,
        },
    )
    row = cur.fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def resolve_unseen(cur: RealDictCursor, broker: str, seen: list[UUID], at: datetime) -> int:
    """Resolve the open position and order differences of `broker` this run no longer found; how many.
    (A fill after a cancel is a fact about the past: it stays open until someone resolves it.)"""
    cur.execute(
        """UPDATE reconciliation_differences SET status = 'RESOLVED', resolved_at = %s
           WHERE broker = %s AND status = 'OPEN' AND kind <> 'FILLED_AFTER_CANCEL'
             AND NOT (id = ANY(%s::uuid[]))""",
        (at, broker, [str(i) for i in seen]),
    )
    return int(cur.rowcount)


def open_differences(cur: RealDictCursor, limit: int = 100) -> list[OpenDifference]:
    cur.execute(
        """SELECT id, broker, kind, subject, broker_quantity, book_quantity, order_id, broker_order_id, detail,
                  first_seen_at, last_seen_at
           FROM reconciliation_differences WHERE status = 'OPEN' ORDER BY last_seen_at DESC, id DESC LIMIT %s""",
        (limit,),
    )
    return [OpenDifference(**row) for row in cur.fetchall()]


def open_count(cur: RealDictCursor) -> int:
    cur.execute("SELECT count(*) AS n FROM reconciliation_differences WHERE status = 'OPEN'")
    row = cur.fetchone()
    return int(row["n"]) if row else 0


def held_lots(cur: RealDictCursor, mode: str) -> list[HeldLot]:
    """Our held contracts of `mode`, summed per OCC symbol (lots split by partial closes add up)."""
    cur.execute(
        """SELECT p.option_symbol, p.ticker, p.expiry, SUM(p.quantity)::int AS quantity
           FROM positions p JOIN orders o ON o.id = p.entry_order_id
           WHERE p.status IN ('OPEN', 'CLOSING') AND o.mode = %s
           GROUP BY p.option_symbol, p.ticker, p.expiry ORDER BY p.option_symbol""",
        (mode,),
    )
    return [HeldLot(**row) for row in cur.fetchall()]


def known_client_ids(cur: RealDictCursor, client_ids: list[str]) -> set[str]:
    """Which of these client order ids are ours: an order's current one, or the order id it started from."""
    cur.execute(
        """SELECT client_order_id AS cid FROM orders WHERE client_order_id = ANY(%s)
           UNION SELECT id::text FROM orders WHERE id::text = ANY(%s)""",
        (client_ids, client_ids),
    )
    return {row["cid"] for row in cur.fetchall()}
