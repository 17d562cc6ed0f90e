"""What each notification says: a title and a few lines with the numbers a trader needs, from the facts
the outbox row holds (money in dollars; prices per share). Pure: the channels' formats wrap these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from optionflow.calendar import NEW_YORK
from optionflow.states import NoticeKind, OrderStatus, Severity


@dataclass(frozen=True)
class Message:
    key: str  # unique per notification: the idempotency key where a channel takes one
    kind: NoticeKind
    severity: Severity
    title: str
    lines: tuple[str, ...]
    facts: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def text(self) -> str:
        """The title and lines as plain text."""
        return "\n".join((self.title, *self.lines))


def dollars(value: Any) -> str:
    """$1,234.50 / -$12.00 / n/a."""
    if value is None:
        return "n/a"
    number = float(value)
    return f"-${-number:,.2f}" if number < 0 else f"${number:,.2f}"


def signed(value: Any) -> str:
    """+$12.00 / -$12.00: a P&L."""
    if value is None:
        return "n/a"
    number = float(value)
    return f"+${number:,.2f}" if number >= 0 else f"-${-number:,.2f}"


def price(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):,.2f}"


def _et(value: Any) -> str:
    if not value:
        return "n/a"
    at = datetime.fromisoformat(str(value)) if not isinstance(value, datetime) else value
    return at.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M ET")


def render(
    key: str, kind: str, severity: str, facts: dict[str, Any], created_at: datetime | None = None
) -> Message:
    """The message for one notification."""
    notice = NoticeKind(kind)
    title, lines = _RENDER[notice](facts)
    return Message(key, notice, Severity(severity), title, tuple(lines), facts, created_at)


def _entry(f: dict[str, Any]) -> tuple[str, list[str]]:
    return (
        f"Entry filled: {f['option_symbol']} x{f['quantity']}",
        [
            f"Bought {f['quantity']} {f['ticker']} {price(f.get('strike'))} {f.get('option_type', '')} "
            f"expiring {f.get('expiry')} at {price(f['entry_price'])}",
            f"Cost {dollars(f.get('cost_basis'))}, fees {dollars(f.get('fees'))}",
            f"Opened {_et(f.get('opened_at'))}",
        ],
    )


def _closed(f: dict[str, Any]) -> tuple[str, list[str]]:
    ret = f" ({float(f['return_pct']):+.2f}%)" if f.get("return_pct") is not None else ""
    return (
        f"Position closed: {f['option_symbol']} {signed(f.get('realized_pnl'))}",
        [
            f"Rule: {f.get('reason') or 'closing alert'}",
            f"{f['quantity']} contracts, entry {price(f.get('entry_price'))}, exit {price(f.get('exit_price'))}",
            f"Realized P&L {signed(f.get('realized_pnl'))}{ret} net of {dollars(f.get('fees'))} fees",
            f"Held {_et(f.get('opened_at'))} to {_et(f.get('closed_at'))}",
        ],
    )


def _rejected(f: dict[str, Any]) -> tuple[str, list[str]]:
    what = " ".join(str(p) for p in (f.get("action"), f.get("ticker"), f.get("direction")) if p)
    word = "rejected" if f.get("status") == OrderStatus.REJECTED else "failed"
    reasons = [str(r) for r in f.get("reasons") or []] or ["no reason recorded"]
    return (f"Signal {word}: {what}", [f"- {r}" for r in reasons] + [f"Received {_et(f.get('received_at'))}"])


def _order_ended(f: dict[str, Any]) -> tuple[str, list[str]]:
    return (
        f"{str(f.get('purpose', '')).title()} order {str(f.get('status', '')).lower()}: {f['option_symbol']}",
        [
            f"{f.get('side')} x{f.get('quantity')}",
            f"Reason: {f.get('reason') or 'none given'}",
        ],
    )


def _worker(f: dict[str, Any]) -> tuple[str, list[str]]:
    return (
        f"Worker failing: {f['worker']}",
        [f"Error: {f.get('error')}", f"Trigger: {f.get('trigger')}", "Later failures are not repeated."],
    )


def _stale(f: dict[str, Any]) -> tuple[str, list[str]]:
    positions = f.get("positions") or []
    lines = [
        f"- {p.get('option_symbol')}: last mark {price(p.get('mark'))} at {_et(p.get('priced_at'))}"
        for p in positions[:10]
    ]
    if len(positions) > 10:
        lines.append(f"... and {len(positions) - 10} more")
    return (f"Stale marks: {f.get('count')} position(s); price exits wait for a fresh mark", lines)


def _kill_switch(f: dict[str, Any]) -> tuple[str, list[str]]:
    state = "ON: no new entries (exits still run)" if f.get("on") else "OFF: entries resume"
    return (f"Kill switch {state}", [f"By {f.get('actor')}", f"Reason: {f.get('reason') or 'none given'}"])


def _summary(f: dict[str, Any]) -> tuple[str, list[str]]:
    closed = int(f.get("closed") or 0)
    win_rate = f"{int(f.get('winners') or 0) / closed:.0%}" if closed else "n/a"
    lines = [
        f"Fills {f.get('fills')}, opened {f.get('opened')}, closed {closed} (win rate {win_rate})",
        f"Realized P&L {signed(f.get('realized_pnl'))}",
        f"Open positions {f.get('open_positions')}, unrealized P&L {signed(f.get('unrealized_pnl'))}",
    ]
    attention = [str(a) for a in f.get("attention") or []]
    lines += (
        ["Needs attention:", *[f"- {a}" for a in attention]] if attention else ["Nothing needs attention."]
    )
    close = f" (early close {f['close']})" if f.get("early_close") else ""
    return (f"Daily summary {f.get('session')}{close}", lines)


def _test(f: dict[str, Any]) -> tuple[str, list[str]]:
    return ("OptionFlow test message", [f"Channel {f.get('channel')} is set up; sent by {f.get('actor')}."])


def _difference(f: dict[str, Any]) -> tuple[str, list[str]]:
    kind = str(f.get("difference") or "").replace("_", " ").lower()
    lines = [
        f"{f.get('broker')} holds {_quantity(f.get('broker_quantity'))}; our book holds "
        f"{_quantity(f.get('book_quantity'))}",
        f"{f.get('detail')}",
    ]
    if f.get("order_id") or f.get("broker_order_id"):
        lines.append(
            f"Order {f.get('order_id') or 'none of ours'}, broker order {f.get('broker_order_id') or 'n/a'}"
        )
    lines += [
        f"First seen {_et(f.get('first_seen_at'))}",
        "OptionFlow does not change the book: a person decides.",
    ]
    return (f"Broker and book differ ({kind}): {f.get('subject')}", lines)


def _quantity(value: Any) -> str:
    return "n/a" if value is None else str(value)


_RENDER = {
    NoticeKind.ENTRY_FILLED: _entry,
    NoticeKind.POSITION_CLOSED: _closed,
    NoticeKind.SIGNAL_REJECTED: _rejected,
    NoticeKind.ORDER_ENDED: _order_ended,
    NoticeKind.WORKER_FAILING: _worker,
    NoticeKind.STALE_MARKS: _stale,
    NoticeKind.KILL_SWITCH: _kill_switch,
    NoticeKind.DAILY_SUMMARY: _summary,
    NoticeKind.TEST: _test,
    NoticeKind.RECONCILIATION_DIFFERENCE: _difference,
}
