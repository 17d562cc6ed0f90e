"""Each channel's request body has the shape of the service's documented example
(tests/fixtures/http/<service>/), and says what the trader needs in the words of the message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from optionflow.notify import formats
from optionflow.notify.messages import dollars, render, signed

from tests.http_sink import recorded

CLOSED = {
    "position_id": "p-1",
    "ticker": "SPY",
    "option_symbol": "SPY   261204C00600000",
    "quantity": 2,
    "entry_price": 3.1,
    "exit_price": 4.65,
    "reason": "PROFIT_TARGET",
    "realized_pnl": 308.7,
    "fees": 1.3,
    "cost_basis": 620.0,
    "return_pct": 49.79,
    "opened_at": "2026-11-23T15:00:00+00:00",
    "closed_at": "2026-11-23T18:30:00+00:00",
}
AT = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)


def conforms(ours: Any, example: Any, where: str = "body") -> None:
    """Every key we send is one the documented example uses, with a value of the same JSON type, all the
    way down (a list's items against the example's items)."""
    if isinstance(example, dict):
        assert isinstance(ours, dict), where
        for key, value in ours.items():
            assert key in example, f"{where}.{key} is not in the documented example"
            conforms(value, example[key], f"{where}.{key}")
    elif isinstance(example, list):
        assert isinstance(ours, list), where
        for i, item in enumerate(ours):
            kinds = [e for e in example if not isinstance(e, dict) or e.get("type") == _type(item)] or example
            conforms(item, kinds[0], f"{where}[{i}]")
    elif isinstance(example, bool):
        assert isinstance(ours, bool), where
    elif isinstance(example, (int, float)):
        assert isinstance(ours, (int, float)) and not isinstance(ours, bool), where
    else:
        assert isinstance(ours, type(example)), where


def _type(item: Any) -> Any:
    return item.get("type") if isinstance(item, dict) else None


def example(service: str, name: str) -> dict[str, Any]:
    body = dict(recorded(service, name))
    body.pop("_source")
    return body


@pytest.fixture
def message() -> Any:
    return render("optionflow-dev-7", "POSITION_CLOSED", "INFO", CLOSED, AT)


def test_a_closed_position_says_the_rule_prices_and_pnl_in_dollars(message):
    assert message.title == "Position closed: SPY   261204C00600000 +$308.70"
    assert "Rule: PROFIT_TARGET" in message.text
    assert "2 contracts, entry 3.10, exit 4.65" in message.text
    assert "Realized P&L +$308.70 (+49.79%) net of $1.30 fees" in message.text
    assert "Held 2026-11-23 10:00 ET to 2026-11-23 13:30 ET" in message.text


def test_money_is_shown_with_sign_and_cents():
    assert (dollars(-12), signed(-12), signed(0), dollars(1234.5)) == (
        "-$12.00",
        "-$12.00",
        "+$0.00",
        "$1,234.50",
    )


def test_slack_body_is_an_incoming_webhook_body_with_text_and_blocks(message):
    body = formats.slack(message)
    conforms(body, example("slack", "incoming_webhook_request"))
    assert body["text"].endswith(message.title)
    assert body["blocks"][0]["text"]["text"] == message.title
    assert "Realized P&L +$308.70" in body["blocks"][1]["text"]["text"]


def test_discord_body_is_an_execute_webhook_body_with_one_embed_and_no_mentions(message):
    body = formats.discord(message)
    conforms(body, example("discord", "execute_webhook_request"))
    (embed,) = body["embeds"]
    assert embed["title"] == message.title and "PROFIT_TARGET" in embed["description"]
    assert embed["timestamp"] == "2026-11-23T18:30:00+00:00"
    assert body["allowed_mentions"] == {"parse": []}


def test_telegram_body_is_a_send_message_body_with_the_chat_and_plain_text(message):
    body = formats.telegram(message, "-1001234567890")
    conforms(body, example("telegram", "send_message_request"))
    assert body["chat_id"] == "-1001234567890"
    assert body["text"].splitlines()[0] == message.title and "parse_mode" not in body


def test_plain_json_carries_the_idempotency_key_and_every_fact(message):
    body = formats.plain_json(message)
    assert body["id"] == "optionflow-dev-7"
    assert body["facts"] == CLOSED
    assert (body["kind"], body["severity"]) == ("POSITION_CLOSED", "INFO")


@pytest.mark.parametrize(
    ("kind", "facts", "expected"),
    [
        (
            "ENTRY_FILLED",
            {
                "option_symbol": "SPY 1",
                "ticker": "SPY",
                "quantity": 3,
                "strike": 600,
                "option_type": "CALL",
                "expiry": "2026-12-04",
                "entry_price": 2.5,
                "cost_basis": 750,
                "fees": 1.95,
            },
            [
                "Entry filled: SPY 1 x3",
                "Bought 3 SPY 600.00 CALL expiring 2026-12-04 at 2.50",
                "Cost $750.00, fees $1.95",
            ],
        ),
        (
            "SIGNAL_REJECTED",
            {
                "ticker": "QQQ",
                "action": "BUY",
                "direction": "PUT",
                "status": "REJECTED",
                "reasons": ["kill switch is ON", "max 5 open positions reached"],
            },
            ["Signal rejected: BUY QQQ PUT", "- kill switch is ON", "- max 5 open positions reached"],
        ),
        (
            "KILL_SWITCH",
            {"on": True, "actor": "admin", "reason": "FOMC"},
            ["Kill switch ON: no new entries (exits still run)", "By admin", "Reason: FOMC"],
        ),
        (
            "DAILY_SUMMARY",
            {
                "session": "2026-11-27",
                "close": "13:00 ET",
                "early_close": True,
                "fills": 4,
                "opened": 2,
                "closed": 2,
                "winners": 1,
                "realized_pnl": -40.5,
                "open_positions": 1,
                "unrealized_pnl": 12,
                "attention": ["1 open position(s) with a stale mark"],
            },
            [
                "Daily summary 2026-11-27 (early close 13:00 ET)",
                "Fills 4, opened 2, closed 2 (win rate 50%)",
                "Realized P&L -$40.50",
                "Open positions 1, unrealized P&L +$12.00",
                "- 1 open position(s) with a stale mark",
            ],
        ),
    ],
)
def test_each_kind_says_what_happened_with_its_numbers(kind, facts, expected):
    text = render("k", kind, "INFO", facts).text
    for line in expected:
        assert line in text.splitlines()


DIFFERENCE = {
    "difference_id": "d-1",
    "broker": "alpaca",
    "difference": "MANUAL_CLOSE",
    "subject": "SPY261204C00600000",
    "broker_quantity": 0,
    "book_quantity": 2,
    "order_id": None,
    "broker_order_id": None,
    "detail": "alpaca no longer holds SPY261204C00600000; our book holds 2: closed at the broker outside OptionFlow?",
    "first_seen_at": "2026-11-23T18:30:00+00:00",
}


def test_a_reconciliation_difference_says_broker_kind_subject_and_both_quantities():
    message = render("optionflow-dev-9", "RECONCILIATION_DIFFERENCE", "CRITICAL", DIFFERENCE, AT)
    lines = message.text.splitlines()
    assert message.title == "Broker and book differ (manual close): SPY261204C00600000"
    assert "alpaca holds 0; our book holds 2" in lines
    assert DIFFERENCE["detail"] in lines
    assert "First seen 2026-11-23 13:30 ET" in lines
    assert not any(line.startswith("Order ") for line in lines)  # no order is involved

    ordered = render(
        "k",
        "RECONCILIATION_DIFFERENCE",
        "CRITICAL",
        {**DIFFERENCE, "difference": "UNKNOWN_ORDER", "book_quantity": None, "broker_order_id": "b-77"},
    )
    assert "alpaca holds 0; our book holds n/a" in ordered.text.splitlines()
    assert "Order none of ours, broker order b-77" in ordered.text.splitlines()


def test_a_reconciliation_difference_fits_every_channels_format():
    message = render("optionflow-dev-9", "RECONCILIATION_DIFFERENCE", "CRITICAL", DIFFERENCE, AT)
    slack = formats.slack(message)
    conforms(slack, example("slack", "incoming_webhook_request"))
    assert "alpaca holds 0; our book holds 2" in slack["blocks"][1]["text"]["text"]
    discord = formats.discord(message)
    conforms(discord, example("discord", "execute_webhook_request"))
    assert discord["embeds"][0]["title"] == message.title
    telegram = formats.telegram(message, "-100")
    conforms(telegram, example("telegram", "send_message_request"))
    assert "alpaca holds 0; our book holds 2" in telegram["text"]
    plain = formats.plain_json(message)
    assert (plain["kind"], plain["severity"], plain["facts"]) == (
        "RECONCILIATION_DIFFERENCE",
        "CRITICAL",
        DIFFERENCE,
    )
