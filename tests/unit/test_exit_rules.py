"""Exit rules, evaluated on one position at one instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from optionflow.logic.exits import PositionView, Rules, evaluate

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 New York
CLOSE = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
SEED_RULES = Rules(Decimal(50), Decimal(50), None, 1, 5, None)


def view(
    mark: str | None,
    *,
    entry: str = "2.00",
    hwm: str | None = None,
    stale: bool = False,
    expiry: date = date(2026, 12, 4),
    opened: datetime = NOW - timedelta(hours=1),
) -> PositionView:
    return PositionView(
        Decimal(entry), Decimal(mark) if mark else None, Decimal(hwm or mark or entry), stale, expiry, opened
    )


def rules_fired(position: PositionView, rules: Rules = SEED_RULES, now: datetime = NOW) -> set[str]:
    return {a.rule for a in evaluate(position, rules, today=now.date(), now=now, session_close=CLOSE)}


def test_stop_loss_closes_position_when_mark_falls_half():
    [alert] = evaluate(view("1.00"), SEED_RULES, today=NOW.date(), now=NOW, session_close=CLOSE)
    assert (alert.rule, alert.priority, alert.closes) == ("STOP_LOSS", "CRITICAL", True)


def test_profit_target_closes_position_when_mark_rises_half():
    [alert] = evaluate(view("3.00"), SEED_RULES, today=NOW.date(), now=NOW, session_close=CLOSE)
    assert (alert.rule, alert.priority, alert.closes) == ("PROFIT_TARGET", "HIGH", True)


def test_small_moves_fire_nothing():
    assert rules_fired(view("2.20")) == set()
    assert rules_fired(view("1.80")) == set()


def test_stale_mark_never_trips_a_price_rule():
    assert rules_fired(view("0.50", stale=True)) == set()
    assert rules_fired(view(None)) == set()


def test_trailing_stop_fires_from_the_high_water_mark():
    rules = Rules(None, None, Decimal(25), None, None, None)
    assert rules_fired(view("3.00", hwm="4.00"), rules) == {"TRAILING_STOP"}
    assert rules_fired(view("3.10", hwm="4.00"), rules) == set()


def test_expiration_within_min_dte_closes():
    assert rules_fired(view("2.00", expiry=date(2026, 11, 24))) == {"EXPIRATION"}
    assert rules_fired(view("2.00", expiry=date(2026, 11, 23))) == {"EXPIRATION"}


def test_time_stop_closes_in_the_last_minutes_of_the_session():
    rules = Rules(None, None, None, None, None, 15)
    assert rules_fired(view("2.00"), rules, now=CLOSE - timedelta(minutes=10)) == {"TIME_STOP"}
    assert rules_fired(view("2.00"), rules, now=CLOSE - timedelta(minutes=30)) == set()


def test_max_hold_is_advice_not_a_close():
    [alert] = evaluate(
        view("2.00", opened=NOW - timedelta(days=6)),
        SEED_RULES,
        today=NOW.date(),
        now=NOW,
        session_close=CLOSE,
    )
    assert (alert.rule, alert.priority, alert.closes) == ("MAX_HOLD", "MEDIUM", False)


@given(
    entry=st.decimals(min_value=Decimal("0.05"), max_value=Decimal(50), places=2),
    move=st.decimals(min_value=Decimal(-99), max_value=Decimal(300), places=1),
)
def test_price_rules_fire_exactly_at_their_thresholds(entry, move):
    mark = (entry * (1 + move / 100)).quantize(Decimal("0.0001"))
    fired = rules_fired(PositionView(entry, mark, mark, False, date(2026, 12, 31), NOW))
    pnl = (mark - entry) / entry * 100
    assert ("STOP_LOSS" in fired) == (pnl <= -50)
    assert ("PROFIT_TARGET" in fired) == (pnl >= 50)
