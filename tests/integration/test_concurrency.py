"""Two copies of every worker running at once never double-order, double-fill or double-close."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from decimal import Decimal

from optionflow.db import connection

from tests.pipeline_support import alert, one, run

# `make soak` multiplies the work; CI runs the bounded size
N = 1000 * int(os.environ.get("OPTIONFLOW_SOAK", "1"))


def twice_at_once(work: Callable[[], object], rounds: int = 3) -> None:
    """Run `work` in two threads (two connections) started together, a few times over."""
    errors: list[BaseException] = []

    def worker(barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            work()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close_connection()

    for _ in range(rounds):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=worker, args=(barrier,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors


def test_overlapping_workers_produce_exactly_one_order_fill_and_close_per_signal(db, market):
    db.execute("""UPDATE risk_limits SET max_open_positions = 100000, max_positions_per_ticker = 100000,
                  risk_per_trade = 100000, max_contracts_per_order = 1""")
    for i in range(N):
        alert(["SPY", "QQQ", "IWM"][i % 3], "BUY", ["CALL", "PUT"][i % 2], alert_id=f"c{i}")

    for worker in ("signal_processor", "order_creator", "paper_executor"):
        twice_at_once(lambda w=worker: run(w))

    assert one(db, "SELECT count(*) AS n FROM signals WHERE status = 'EXECUTED'")["n"] == N
    assert one(db, "SELECT count(*) AS n, count(DISTINCT signal_id) AS d FROM orders") == {"n": N, "d": N}
    assert one(db, "SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM trades") == {"n": N, "d": N}
    assert one(db, "SELECT count(*) AS n FROM positions WHERE status = 'OPEN'")["n"] == N

    market.factor = Decimal(3)  # every position passes its profit target
    twice_at_once(lambda: run("position_refresher"), rounds=1)
    for worker in ("exit_monitor", "paper_executor"):
        twice_at_once(lambda w=worker: run(w))

    assert one(db, "SELECT count(*) AS n FROM positions WHERE status = 'CLOSED'")["n"] == N
    assert one(
        db, "SELECT count(*) AS n, count(DISTINCT position_id) AS d FROM orders WHERE purpose = 'EXIT'"
    ) == {"n": N, "d": N}
    assert one(db, "SELECT count(*) AS n FROM trades")["n"] == 2 * N
