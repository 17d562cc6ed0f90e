"""Trading statistics over closed trades: tables for the figures a trader reads, properties for the math."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.logic.stats import (
    ClosedTrade,
    OpenExposure,
    breakdown,
    by_direction,
    by_exit_rule,
    by_ticker,
    equity_curve,
    exit_rule_of,
    summarize,
)

START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def trade(
    pnl: str,
    minute: int = 0,
    *,
    ticker: str = "SPY",
    direction: str = "CALL",
    exit_rule: str = "CLOSE_ALERT",
    cost: str = "500",
) -> ClosedTrade:
    closed = START + timedelta(minutes=minute)
    return ClosedTrade(
        ticker=ticker,
        direction=direction,
        exit_rule=exit_rule,
        opened_at=closed - timedelta(minutes=30),
        closed_at=closed,
        realized_pnl=Decimal(pnl),
        cost_basis=Decimal(cost),
    )


def test_no_trades_has_no_rates_and_no_drawdown():
    assert summarize([]) == {
        "closed_trades": 0,
        "wins": 0,
        "losses": 0,
        "breakeven": 0,
        "win_rate": None,
        "average_win": None,
        "average_loss": None,
        "profit_factor": None,
        "expectancy": None,
        "max_drawdown": Decimal("0.00"),
        "realized_pnl": Decimal("0.00"),
        "fees": Decimal("0.00"),
        "realized_pnl_gross": Decimal("0.00"),
        "unrealized_pnl": Decimal("0.00"),
        "open_positions": 0,
    }


def test_two_wins_a_loss_and_a_breakeven_give_the_trader_s_figures():
    s = summarize(
        [trade("100", 1), trade("-50", 2), trade("0", 3), trade("200", 4)],
        unrealized_pnl=Decimal("-12.5"),
        open_positions=2,
    )
    assert (s["closed_trades"], s["wins"], s["losses"], s["breakeven"]) == (4, 2, 1, 1)
    assert s["win_rate"] == Decimal("0.5")
    assert s["average_win"] == Decimal("150.00")
    assert s["average_loss"] == Decimal("-50.00")
    assert s["profit_factor"] == Decimal("6")  # 300 won / 50 lost
    assert s["expectancy"] == Decimal("62.50")  # 250 over 4 trades
    assert s["max_drawdown"] == Decimal("50.00")
    assert s["realized_pnl"] == Decimal("250.00")
    assert (s["unrealized_pnl"], s["open_positions"]) == (Decimal("-12.50"), 2)


def test_only_wins_has_no_profit_factor_and_no_average_loss():
    s = summarize([trade("10", 1), trade("30", 2)])
    assert s["profit_factor"] is None and s["average_loss"] is None
    assert s["win_rate"] == 1 and s["max_drawdown"] == 0


def test_losing_from_the_first_trade_is_a_drawdown_from_zero():
    assert summarize([trade("-40", 1), trade("-60", 2), trade("30", 3)])["max_drawdown"] == Decimal("100.00")


@pytest.mark.parametrize(
    ("pnls", "drawdown"),
    [
        (["100", "-30", "50", "-80", "-10", "200"], "90.00"),  # peak 120, trough 30
        (["-5", "10", "-20"], "20.00"),  # peak 5, trough -15
        (["1", "2", "3"], "0.00"),
    ],
)
def test_max_drawdown_is_the_largest_fall_from_a_running_peak(pnls, drawdown):
    trades = [trade(p, i) for i, p in enumerate(pnls)]
    assert summarize(trades)["max_drawdown"] == Decimal(drawdown)


def test_money_is_rounded_to_cents_only_at_the_edge():
    # three trades of 0.01, 0.01, 0.02: the exact mean 0.01333 rounds to a cent, the total stays exact
    s = summarize([trade("0.01", 1), trade("0.01", 2), trade("0.02", 3)])
    assert s["expectancy"] == Decimal("0.01")
    assert s["realized_pnl"] == Decimal("0.04")
    assert summarize([trade("0.005", 1)])["realized_pnl"] == Decimal("0.01")  # half a cent rounds up
    assert summarize([trade("1", 1), trade("2", 2), trade("-3", 3)])["win_rate"] == Decimal("0.6667")


def test_equity_curve_follows_close_order_not_input_order():
    curve = equity_curve([trade("-20", 5), trade("50", 1), trade("10", 3)])
    assert curve == [
        {"at": START + timedelta(minutes=1), "equity": Decimal("50.00"), "drawdown": Decimal("0.00")},
        {"at": START + timedelta(minutes=3), "equity": Decimal("60.00"), "drawdown": Decimal("0.00")},
        {"at": START + timedelta(minutes=5), "equity": Decimal("40.00"), "drawdown": Decimal("20.00")},
    ]


def test_trades_closed_at_the_same_instant_keep_their_input_order():
    curve = equity_curve([trade("-20", 1), trade("50", 1)])
    assert [p["equity"] for p in curve] == [Decimal("-20.00"), Decimal("30.00")]
    assert [p["drawdown"] for p in curve] == [Decimal("20.00"), Decimal("0.00")]


def test_breakdown_summarises_each_group_in_name_order():
    trades = [
        trade("100", 1, ticker="SPY", direction="CALL", exit_rule="PROFIT_TARGET"),
        trade("-40", 2, ticker="QQQ", direction="PUT", exit_rule="STOP_LOSS"),
        trade("-10", 3, ticker="SPY", direction="PUT", exit_rule="STOP_LOSS"),
    ]
    tickers = breakdown(trades, by_ticker)
    assert list(tickers) == ["QQQ", "SPY"]
    assert tickers["SPY"]["realized_pnl"] == Decimal("90.00") and tickers["SPY"]["wins"] == 1
    assert tickers["QQQ"]["win_rate"] == 0
    directions = breakdown(trades, by_direction)
    assert directions["PUT"]["closed_trades"] == 2 and directions["PUT"]["realized_pnl"] == Decimal("-50.00")
    rules = breakdown(trades, by_exit_rule)
    assert rules["STOP_LOSS"]["average_loss"] == Decimal("-25.00")
    assert rules["PROFIT_TARGET"]["average_win"] == Decimal("100.00")


def test_breakdown_shows_a_group_with_only_open_positions():
    groups = breakdown(
        [trade("25", 1, ticker="SPY")],
        by_ticker,
        open_book={"QQQ": OpenExposure(2, Decimal("-7.255"))},
    )
    assert groups["QQQ"]["closed_trades"] == 0 and groups["QQQ"]["open_positions"] == 2
    assert groups["QQQ"]["unrealized_pnl"] == Decimal("-7.26")
    assert groups["SPY"]["open_positions"] == 0


@pytest.mark.parametrize(
    ("reason", "rule"),
    [
        ("STOP_LOSS", "STOP_LOSS"),
        ("PROFIT_TARGET", "PROFIT_TARGET"),
        ("CLOSE alert", "CLOSE_ALERT"),
        ("SELL alert", "SELL_ALERT"),
        ("  time   stop ", "TIME_STOP"),
        (None, "UNKNOWN"),
        ("", "UNKNOWN"),
    ],
)
def test_exit_reason_becomes_a_rule_name(reason, rule):
    assert exit_rule_of(reason) == rule


# --- properties -------------------------------------------------------------------------------------------

pnl = st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=2)
closed_trades = st.lists(
    st.builds(
        lambda p, minute, ticker, direction, rule: trade(
            str(p), minute, ticker=ticker, direction=direction, exit_rule=rule
        ),
        pnl,
        st.integers(0, 500),  # few distinct minutes, so ties in closed_at are common
        st.sampled_from(["SPY", "QQQ", "IWM"]),
        st.sampled_from(["CALL", "PUT"]),
        st.sampled_from(["STOP_LOSS", "PROFIT_TARGET", "CLOSE_ALERT", "EXPIRATION"]),
    ),
    max_size=40,
)


def brute_force_drawdown(trades: list[ClosedTrade]) -> Decimal:
    """Every pair (i <= j) of points on the curve, with the start at 0: the largest fall from i to j."""
    ordered = sorted(trades, key=lambda t: t.closed_at)
    equity = [Decimal(0)]
    for t in ordered:
        equity.append(equity[-1] + t.realized_pnl)
    return max(
        (equity[i] - equity[j] for i in range(len(equity)) for j in range(i, len(equity))),
        default=Decimal(0),
    )


@given(closed_trades)
def test_counts_add_up_and_win_rate_is_a_fraction(trades):
    s = summarize(trades)
    assert s["wins"] + s["losses"] + s["breakeven"] == s["closed_trades"] == len(trades)
    if trades:
        assert 0 <= s["win_rate"] <= 1
    else:
        assert s["win_rate"] is None


@given(closed_trades)
def test_expectancy_times_trades_is_the_realized_total(trades):
    s = summarize(trades)
    total = sum((t.realized_pnl for t in trades), Decimal(0))
    assert s["realized_pnl"] == total
    if trades:
        # expectancy is rounded to a cent, so n trades may be off by at most half a cent each
        assert abs(s["expectancy"] * len(trades) - total) <= Decimal("0.005") * len(trades)


@given(closed_trades)
def test_max_drawdown_is_the_brute_force_peak_to_trough(trades):
    s = summarize(trades)
    assert s["max_drawdown"] >= 0
    assert s["max_drawdown"] == brute_force_drawdown(trades)
    curve = equity_curve(trades)
    assert max((p["drawdown"] for p in curve), default=Decimal(0)) == s["max_drawdown"]


@given(closed_trades)
def test_the_last_equity_point_is_the_realized_total(trades):
    curve = equity_curve(trades)
    assert len(curve) == len(trades)
    assert [p["at"] for p in curve] == sorted(t.closed_at for t in trades)
    assert all(p["drawdown"] >= 0 for p in curve)
    if trades:
        assert curve[-1]["equity"] == summarize(trades)["realized_pnl"]


@given(closed_trades, st.sampled_from([by_ticker, by_direction, by_exit_rule]))
def test_breakdown_groups_add_up_to_the_overall_summary(trades, key):
    overall = summarize(trades)
    groups = breakdown(trades, key)
    for field in ("closed_trades", "wins", "losses", "breakeven", "realized_pnl"):
        assert sum(g[field] for g in groups.values()) == overall[field]
    assert all(g["closed_trades"] > 0 for g in groups.values())


@given(
    closed_trades,
    st.dictionaries(
        st.sampled_from(["SPY", "QQQ", "IWM", "DIA"]),
        st.builds(OpenExposure, st.integers(1, 20), pnl),
        max_size=4,
    ),
)
def test_open_book_by_ticker_adds_up_to_the_overall_open_book(trades, book):
    unrealized = sum((e.unrealized_pnl for e in book.values()), Decimal(0))
    positions = sum(e.positions for e in book.values())
    overall = summarize(trades, unrealized_pnl=unrealized, open_positions=positions)
    groups = breakdown(trades, by_ticker, open_book=book)
    assert set(groups) == {t.ticker for t in trades} | set(book)
    for field in ("unrealized_pnl", "open_positions", "closed_trades", "realized_pnl"):
        assert sum(g[field] for g in groups.values()) == overall[field]
