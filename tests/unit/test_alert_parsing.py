"""The alert parser understands what TradingView users send, and names the field when it cannot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optionflow.logic.intake import dedupe_keys, parse_alert
from optionflow.models.alert import AlertError, redact


def test_seed_payload_is_read_as_is():
    alert = parse_alert({"ticker": "SPY", "action": "BUY", "direction": "CALL", "timeframe": "5m"})
    assert (alert.ticker, alert.action, alert.direction, alert.timeframe) == ("SPY", "BUY", "CALL", "5m")


@pytest.mark.parametrize(
    ("payload", "action", "direction"),
    [
        ({"symbol": "QQQ", "side": "long"}, "BUY", "CALL"),
        ({"symbol": "QQQ", "side": "short"}, "BUY", "PUT"),
        ({"ticker": "QQQ", "action": "buy", "sentiment": "bullish"}, "BUY", "CALL"),
        ({"ticker": "QQQ", "action": "buy", "direction": "bearish"}, "BUY", "PUT"),
        ({"ticker": "QQQ", "action": "sell", "sentiment": "flat"}, "CLOSE", None),
        ({"ticker": "QQQ", "action": "exit"}, "CLOSE", None),
        ({"ticker": "QQQ", "action": "SELL", "direction": "P"}, "SELL", "PUT"),
    ],
)
def test_aliases_and_trader_words_map_to_action_and_direction(payload, action, direction):
    alert = parse_alert(payload)
    assert (alert.action, alert.direction) == (action, direction)


def test_exchange_prefix_is_dropped_from_the_ticker():
    assert parse_alert({"ticker": "NASDAQ:aapl", "side": "long"}).ticker == "AAPL"


def test_optional_fields_are_parsed_into_exact_types():
    alert = parse_alert(
        {
            "ticker": "SPY",
            "side": "long",
            "price": "601.255",
            "strike": 600,
            "expiry": "2026-12-18",
            "quantity": "3",
            "time": "2026-11-23T15:00:00Z",
            "alert_id": " a-1 ",
        }
    )
    assert alert.price == Decimal("601.255")
    assert alert.strike == Decimal("600")
    assert str(alert.expiry) == "2026-12-18"
    assert alert.quantity == 3
    assert alert.time == datetime(2026, 11, 23, 15, tzinfo=UTC)
    assert alert.alert_id == "a-1"


def test_epoch_milliseconds_are_accepted_as_time():
    assert parse_alert({"ticker": "SPY", "side": "long", "time": 1_795_000_000_000}).time.year == 2026


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "BUY", "direction": "CALL"}, "ticker"),
        ({"ticker": "SPY"}, "action"),
        ({"ticker": "SPY", "action": "HOLD"}, "action"),
        ({"ticker": "SPY", "action": "BUY"}, "direction"),
        ({"ticker": "SPY", "action": "BUY", "direction": "SIDEWAYS"}, "direction"),
        ({"ticker": "SPY", "side": "long", "direction": "PUT"}, "direction"),
        ({"ticker": "SPY", "side": "long", "price": "{{close}}"}, "price"),
        ({"ticker": "SPY", "side": "long", "price": "NaN"}, "price"),
        ({"ticker": "SPY", "side": "long", "price": "-3"}, "price"),
        ({"ticker": "SPY", "side": "long", "quantity": 0}, "quantity"),
        ({"ticker": "SPY", "side": "long", "expiry": "next friday"}, "expiry"),
        ({"ticker": "SPY", "side": "long", "time": "yesterday"}, "time"),
        ({"ticker": "TOO-LONG-TICKER", "side": "long"}, "ticker"),
    ],
)
def test_bad_fields_are_named(payload, field):
    with pytest.raises(AlertError) as error:
        parse_alert(payload)
    assert error.value.field == field


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "ticker",
                "symbol",
                "action",
                "side",
                "direction",
                "sentiment",
                "price",
                "strike",
                "expiry",
                "quantity",
                "time",
                "alert_id",
                "timeframe",
                "x",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=True),
            st.text(max_size=20),
            st.lists(st.integers(), max_size=2),
        ),
    )
)
def test_any_payload_parses_or_fails_with_a_named_field(payload):
    try:
        alert = parse_alert(payload)
    except AlertError as error:
        assert error.field
    else:
        assert alert.action in {"BUY", "SELL", "CLOSE"}


def test_secrets_are_redacted_before_storage():
    assert redact({"ticker": "SPY", "secret": "s", "passphrase": "p"}) == {
        "ticker": "SPY",
        "secret": "***",
        "passphrase": "***",
    }


def test_an_alert_id_is_the_dedupe_key_whatever_the_body_or_arrival():
    alert = parse_alert({"ticker": "SPY", "side": "long", "alert_id": "a-1"})
    at = datetime(2026, 11, 23, 15, 0, 1, tzinfo=UTC)
    assert dedupe_keys(alert, "f" * 64, at, 30) == ("id:a-1", None)
    assert dedupe_keys(alert, "0" * 64, at + timedelta(hours=1), 30) == ("id:a-1", None)


@given(start=st.integers(0, 10**9), gap=st.integers(0, 10**4), window=st.integers(1, 600))
def test_a_body_shares_a_key_within_the_window_and_none_two_windows_apart(start, gap, window):
    alert = parse_alert({"ticker": "SPY", "side": "long", "timeframe": "5"})
    first = dedupe_keys(alert, "a" * 64, datetime.fromtimestamp(start, UTC), window)
    later = dedupe_keys(alert, "a" * 64, datetime.fromtimestamp(start + gap, UTC), window)
    shared = first[0] == later[0] or first[1] == later[1]
    if gap < window:
        assert shared  # a retry, even across a bucket boundary
    if gap >= 2 * window:
        assert not shared  # an identical alert later is a new alert
    assert dedupe_keys(alert, "b" * 64, datetime.fromtimestamp(start, UTC), window)[0] != first[0]
