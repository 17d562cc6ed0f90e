"""Portfolio caps on entries: a burst of correlated alerts stops at the heat and delta caps, each rejected
signal saying which cap and with what numbers; racing order creators never both take the last unit."""

from __future__ import annotations

import threading
from decimal import Decimal

from optionflow.composition import for_process
from optionflow.db import connection
from optionflow.logic import orders

from tests.conftest import MARKET_OPEN
from tests.pipeline_support import alert, one, rows, run, run_entry_chain


def one_contract_entries(db, **caps) -> None:
    db.execute("""UPDATE risk_limits SET max_open_positions = 1000, max_positions_per_ticker = 1000,
                  risk_per_trade = 100000, max_contracts_per_order = 10, max_daily_loss = 100000""")
    db.execute(
        "UPDATE strategy_settings SET sizing_method = 'FIXED', fixed_contracts = 1 WHERE name = 'default'"
    )
    for column, value in caps.items():
        db.execute(f"UPDATE strategy_settings SET {column} = %s WHERE name = 'default'", (value,))


def first_entry(db) -> dict:
    alert("SPY", "BUY", "CALL", alert_id="first")
    run_entry_chain()
    return one(db, "SELECT premium, delta, quantity, multiplier FROM entry_plans")


def burst(n: int) -> list[str]:
    return [alert("SPY", "BUY", "CALL", alert_id=f"burst-{i}") for i in range(n)]


def test_a_burst_of_correlated_alerts_stops_at_the_heat_cap_and_says_so(db, market):
    one_contract_entries(db)
    first = first_entry(db)
    per_entry = first["premium"] * 100
    equity = Decimal(10000)
    # room for exactly three entries in all (the first one included), not four
    cap_pct = (per_entry * Decimal("3.5") / equity * 100).quantize(Decimal("0.01"))
    db.execute(
        "UPDATE strategy_settings SET account_equity = %s, max_heat_pct = %s WHERE name = 'default'",
        (equity, cap_pct),
    )

    ids = burst(5)
    run_entry_chain()

    statuses = [one(db, "SELECT status FROM signals WHERE id = %s", i)["status"] for i in ids]
    assert statuses == ["EXECUTED", "EXECUTED", "REJECTED", "REJECTED", "REJECTED"]
    for rejected in ids[2:]:
        heat = one(
            db,
            "SELECT passed, detail, inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'portfolio_heat'",
            rejected,
        )
        assert heat["passed"] is False
        assert f"over the {cap_pct}% cap" in heat["detail"]
        assert Decimal(str(heat["inputs"]["pct_after"])) > cap_pct
        reasons = one(db, "SELECT rejection_reasons FROM signals WHERE id = %s", rejected)[
            "rejection_reasons"
        ]
        assert any("premium at risk" in r for r in reasons)
    admitted = one(
        db, "SELECT inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'portfolio_heat'", ids[1]
    )
    assert Decimal(str(admitted["inputs"]["pct_after"])) <= cap_pct
    held = one(db, "SELECT sum(entry_price * quantity * 100) AS premium FROM positions WHERE status = 'OPEN'")
    assert held["premium"] / equity * 100 <= cap_pct


def test_a_burst_stops_at_the_net_delta_cap_in_shares(db, market):
    one_contract_entries(db)
    first = first_entry(db)
    per_entry = first["delta"] * 100
    db.execute(
        "UPDATE strategy_settings SET max_delta_shares = %s WHERE name = 'default'",
        (round(per_entry * 2.5, 2),),
    )

    ids = burst(3)
    run_entry_chain()

    statuses = [one(db, "SELECT status FROM signals WHERE id = %s", i)["status"] for i in ids]
    assert statuses == ["EXECUTED", "REJECTED", "REJECTED"]
    check = one(
        db,
        "SELECT passed, detail, inputs FROM decision_lines WHERE signal_id = %s AND check_name = 'portfolio_delta_shares'",
        ids[1],
    )
    assert check["passed"] is False and "net delta" in check["detail"] and "shares" in check["detail"]
    numbers = check["inputs"]
    assert float(numbers["after"]) > float(numbers["cap"]) > float(numbers["before"])


def test_a_put_that_hedges_the_book_passes_a_delta_cap_the_calls_have_used_up(db, market):
    one_contract_entries(db)
    first = first_entry(db)
    db.execute(
        "UPDATE strategy_settings SET max_delta_shares = %s WHERE name = 'default'",
        (round(first["delta"] * 50, 2),),
    )  # the book is already over
    blocked = alert("SPY", "BUY", "CALL", alert_id="more-calls")
    hedge = alert("SPY", "BUY", "PUT", alert_id="hedge")
    run_entry_chain()
    assert one(db, "SELECT status FROM signals WHERE id = %s", blocked)["status"] == "REJECTED"
    assert one(db, "SELECT status FROM signals WHERE id = %s", hedge)["status"] == "EXECUTED"


def test_a_rejected_entry_leaves_the_book_unchanged_and_exits_are_never_capped(db, market):
    one_contract_entries(db, account_equity=10000, max_heat_pct=Decimal("0.01"))
    db.execute("UPDATE strategy_settings SET max_heat_pct = NULL WHERE name = 'default'")
    first_entry(db)
    db.execute(
        "UPDATE strategy_settings SET max_heat_pct = 0.01, max_delta_shares = 0 WHERE name = 'default'"
    )
    before = rows(db, "SELECT id, status, quantity FROM positions ORDER BY id")
    blocked = alert("SPY", "BUY", "CALL", alert_id="blocked")
    run_entry_chain()
    assert one(db, "SELECT status FROM signals WHERE id = %s", blocked)["status"] == "REJECTED"
    assert one(db, "SELECT count(*) AS n FROM orders WHERE signal_id = %s", blocked)["n"] == 0
    assert one(db, "SELECT count(*) AS n FROM entry_plans WHERE signal_id = %s", blocked)["n"] == 0
    assert rows(db, "SELECT id, status, quantity FROM positions ORDER BY id") == before

    close = alert("SPY", "CLOSE", None, alert_id="close")
    run_entry_chain()
    assert one(db, "SELECT status FROM signals WHERE id = %s", close)["status"] == "EXECUTED"
    assert one(db, "SELECT status FROM positions")["status"] == "CLOSED"


def test_order_creators_racing_for_the_last_unit_of_heat_admit_exactly_what_fits(db, market, frozen_clock):
    one_contract_entries(db)
    first = first_entry(db)
    per_entry = first["premium"] * 100
    equity = Decimal(10000)
    fits = 3  # the first one and two more
    cap_pct = (per_entry * (fits + Decimal("0.5")) / equity * 100).quantize(Decimal("0.01"))
    db.execute(
        "UPDATE strategy_settings SET account_equity = %s, max_heat_pct = %s WHERE name = 'default'",
        (equity, cap_pct),
    )
    racers = 12
    burst(racers)
    run("signal_processor")
    assert one(db, "SELECT count(*) AS n FROM signals WHERE status = 'ACCEPTED'")["n"] == racers

    barrier = threading.Barrier(racers)
    errors: list[BaseException] = []

    def race() -> None:
        try:
            deps = for_process()
            barrier.wait()
            # one signal each, in its own transaction, all at once
            orders._order_batch(deps, MARKET_OPEN, 1)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close_connection()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors

    assert one(db, "SELECT count(*) AS n FROM signals WHERE status = 'ORDERED'")["n"] == fits - 1
    assert one(db, "SELECT count(*) AS n FROM signals WHERE status = 'REJECTED'")["n"] == racers - fits + 1
    at_risk = one(db, """SELECT sum(e.premium * e.quantity * 100) AS premium FROM entry_plans e""")["premium"]
    assert at_risk / equity * 100 <= cap_pct
