"""The request body each channel expects, from a `Message`. Pure; tests hold each against the service's
documented example (tests/fixtures/http/<service>/)."""

from __future__ import annotations

from typing import Any

from optionflow.notify.messages import Message
from optionflow.states import Severity

_EMOJI = {
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.CRITICAL: ":rotating_light:",
}
# Discord embed colours (decimal RGB): blue, amber, red.
_COLOUR = {Severity.INFO: 0x3498DB, Severity.WARNING: 0xF1C40F, Severity.CRITICAL: 0xE74C3C}


def slack(message: Message) -> dict[str, Any]:
    """A Slack incoming webhook: `text` (the notification and fallback) and Block Kit `blocks`."""
    return {
        "text": f"{_EMOJI[message.severity]} {message.title}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(message.lines)[:3000]}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"{message.severity} · {message.kind} · {message.key}"}
                ],
            },
        ],
    }


def discord(message: Message) -> dict[str, Any]:
    """A Discord webhook: one embed; mentions parsed from the text are switched off."""
    embed: dict[str, Any] = {
        "title": message.title[:256],
        "description": "\n".join(message.lines)[:4096],
        "color": _COLOUR[message.severity],
        "footer": {"text": f"{message.severity} · {message.kind} · {message.key}"},
    }
    if message.created_at is not None:
        embed["timestamp"] = message.created_at.isoformat()
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def telegram(message: Message, chat_id: str) -> dict[str, Any]:
    """Telegram Bot API sendMessage: plain text (no parse_mode, so nothing in a reason needs escaping)."""
    return {"chat_id": chat_id, "text": message.text[:4096], "disable_web_page_preview": True}


def plain_json(message: Message) -> dict[str, Any]:
    """Plain JSON for anything else: the message and its facts; `id` is the idempotency key."""
    return {
        "id": message.key,
        "kind": str(message.kind),
        "severity": str(message.severity),
        "title": message.title,
        "text": message.text,
        "facts": message.facts,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }
