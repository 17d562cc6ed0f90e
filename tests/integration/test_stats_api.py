"""GET /stats reads what the real pipeline closed: exits by rule, alerts, and the open book."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.api_events import call, request
from tests.pipeline_support import alert, one, rows, run, run_entry_chain


def _exit_by_price(market: Any, factor: str) -> None:
    """Move option prices by `factor` and let the refresher, exit monitor and executor act on it."""
    market.factor = Decimal(factor)
    run("position_refresher")
    run("exit_monitor")
    run("paper_executor")
    market.factor = Decimal(1)


@pytest.fixture
def traded_book(db, market, frozen_clock) -> dict[str, Any]:
    """A SPY call closed at its profit target, a QQQ put closed by its stop loss, an IWM call closed by a
    CLOSE alert, and an open SPY put: each step a few minutes after the last, so closes are ordered."""
    alert("SPY", "BUY", "CALL", alert_id="win")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=5))
    _exit_by_price(market, "2")

    frozen_clock.advance(timedelta(minutes=5))
    alert("QQQ", "BUY", "PUT", alert_id="loss")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=5))
    _exit_by_price(market, "0.4")

    frozen_clock.advance(timedelta(minutes=5))
    alert("IWM", "BUY", "CALL", alert_id="alert-open")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=5))
    alert("IWM", "CLOSE", None, alert_id="alert-close")
    run_entry_chain()

    frozen_clock.advance(timedelta(minutes=5))
    alert("SPY", "BUY", "PUT", alert_id="still-open")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=1))
    run("position_refresher")

    closed = {
        r["ticker"]: r
        for r in rows(
            db, "SELECT ticker, exit_reason, realized_pnl, closed_at FROM positions WHERE status = 'CLOSED'"
        )
    }
    assert {t: r["exit_reason"] for t, r in closed.items()} == {
        "SPY": "PROFIT_TARGET",
        "QQQ": "STOP_LOSS",
        "IWM": "CLOSE alert",
    }
    open_position = one(db, "SELECT unrealized_pnl FROM positions WHERE status = 'OPEN'")
    return {"closed": closed, "unrealized": open_position["unrealized_pnl"]}


def test_stats_report_the_closed_trades_and_the_open_book(traded_book, frozen_clock):
    closed, unrealized = traded_book["closed"], traded_book["unrealized"]
    win, loss, by_alert = (closed[t]["realized_pnl"] for t in ("SPY", "QQQ", "IWM"))
    assert win > 0 > loss

    status, body = call(request("GET", "/stats", scope="read"))

    assert status == 200
    assert body["as_of"] == frozen_clock.now().isoformat().replace("+00:00", "Z")
    assert (body["since"], body["until"]) == (None, None)
    overall = body["overall"]
    assert overall["closed_trades"] == 3
    assert overall["wins"] + overall["losses"] + overall["breakeven"] == 3
    assert overall["realized_pnl"] == pytest.approx(float(win + loss + by_alert))
    assert overall["expectancy"] == pytest.approx(
        float(((win + loss + by_alert) / 3).quantize(Decimal("0.01")))
    )
    assert overall["unrealized_pnl"] == pytest.approx(float(unrealized))
    assert overall["open_positions"] == 1
    # the win closes first, so the loss falls from the win's peak; the alert's close may fall further
    assert overall["max_drawdown"] == pytest.approx(float(-loss + max(Decimal(0), -by_alert)))

    assert set(body["by_ticker"]) == {"SPY", "QQQ", "IWM"}
    assert body["by_ticker"]["SPY"]["closed_trades"] == 1
    assert body["by_ticker"]["SPY"]["open_positions"] == 1  # the SPY put is still open
    assert body["by_ticker"]["QQQ"]["average_loss"] == pytest.approx(float(loss))
    assert body["by_direction"]["CALL"]["closed_trades"] == 2
    assert body["by_direction"]["PUT"]["closed_trades"] == 1
    assert body["by_direction"]["PUT"]["open_positions"] == 1
    assert set(body["by_exit_rule"]) == {"PROFIT_TARGET", "STOP_LOSS", "CLOSE_ALERT"}
    assert body["by_exit_rule"]["PROFIT_TARGET"]["win_rate"] == 1
    assert body["by_exit_rule"]["STOP_LOSS"]["win_rate"] == 0

    curve = body["equity_curve"]
    assert [p["equity"] for p in curve] == pytest.approx(
        [float(win), float(win + loss), float(win + loss + by_alert)]
    )
    assert curve[1]["drawdown"] == pytest.approx(-float(loss))
    assert [p["at"] for p in curve] == sorted(p["at"] for p in curve)


def test_since_and_until_bound_the_close_time(traded_book):
    closed = traded_book["closed"]
    stop_loss_at = closed["QQQ"]["closed_at"]
    since = stop_loss_at.isoformat().replace("+00:00", "Z")
    until = (stop_loss_at + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")

    _, only_the_stop = call(request("GET", f"/stats?since={since}&until={until}", scope="read"))
    assert only_the_stop["overall"]["closed_trades"] == 1
    assert list(only_the_stop["by_exit_rule"]) == ["STOP_LOSS"]
    assert only_the_stop["since"] == since
    # the open book is today's, whatever the window
    assert only_the_stop["overall"]["open_positions"] == 1

    _, before_the_stop = call(request("GET", f"/stats?until={since}", scope="read"))
    assert before_the_stop["overall"]["closed_trades"] == 1
    assert list(before_the_stop["by_exit_rule"]) == ["PROFIT_TARGET"]


def test_offsets_are_normalised_and_naive_times_mean_utc(traded_book):
    stop_loss_at = traded_book["closed"]["QQQ"]["closed_at"]
    naive = stop_loss_at.replace(tzinfo=None).isoformat()
    new_york = stop_loss_at.astimezone(ZoneInfo("America/New_York")).isoformat()
    for since in (naive, new_york.replace("+", "%2B")):
        status, body = call(request("GET", f"/stats?since={since}", scope="read"))
        assert status == 200
        assert body["overall"]["closed_trades"] == 2  # the stop loss and the CLOSE alert


def test_no_closed_trades_is_an_empty_report_not_an_error(db):
    status, body = call(request("GET", "/stats", scope="read"))
    assert status == 200
    assert body["overall"]["closed_trades"] == 0 and body["overall"]["win_rate"] is None
    assert body["by_ticker"] == {} and body["equity_curve"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("since=2026-11-24&until=2026-11-23", "until"),
        ("since=2026-11-23T00:00:00Z&until=2026-11-23T00:00:00Z", "until"),
        ("since=0001-01-01T00:00:00%2B23:00", "since"),
    ],
)
def test_a_bad_window_is_a_422_naming_the_field(db, query, field):
    status, body = call(request("GET", f"/stats?{query}", scope="read"))
    assert status == 422
    assert [e["field"] for e in body["errors"]] == [field]


def test_stats_need_a_token(db):
    assert call(request("GET", "/stats"))[0] == 401
