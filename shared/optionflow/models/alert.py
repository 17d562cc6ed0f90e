"""The TradingView alert: what the webhook accepts, normalised to one shape.

TradingView sends whatever message template the trader wrote, so this accepts the seed's fields
(`ticker`, `action`, `direction`, `timeframe`) and the common aliases other bridges use (`symbol`, `side`,
`sentiment`, long/short, bullish/bearish), and names the field when something is wrong.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from optionflow.errors import FieldError

Action = Literal["BUY", "SELL", "CLOSE"]
Direction = Literal["CALL", "PUT"]

# A ticker that has an OCC option root (`pricing.occ.occ_root`): up to 6 letters or digits, or a class share
# whose root drops the dot (BRK.B -> BRKB). Anything else could never be traded, so it is refused at the door.
_TICKER = re.compile(r"^[A-Z][A-Z0-9]{0,5}$|^[A-Z]{1,5}\.[A-Z]$")
_BULLISH = {"CALL", "C", "CALLS", "LONG", "BULLISH", "BULL", "UP"}
_BEARISH = {"PUT", "P", "PUTS", "SHORT", "BEARISH", "BEAR", "DOWN"}
_ACTIONS = {"BUY": "BUY", "SELL": "SELL", "CLOSE": "CLOSE", "EXIT": "CLOSE", "FLAT": "CLOSE"}
# Every word read as an action or a direction, in any letter case (the API document lists them).
ACTION_WORDS = frozenset(_ACTIONS) | _BULLISH | _BEARISH
DIRECTION_WORDS = _BULLISH | _BEARISH | {"FLAT"}
# Fields whose value may arrive under another name; the first one present wins.
_ALIASES = {
    "ticker": ("ticker", "symbol", "underlying"),
    "action": ("action", "side", "order_action", "signal"),
    "direction": ("direction", "option_type", "type", "sentiment"),
    "alert_id": ("alert_id", "id", "idempotency_key"),
    "time": ("time", "timenow", "timestamp"),
    "expiry": ("expiry", "expiration", "exp"),
    "strike": ("strike", "strike_price", "strikePrice"),
    "quantity": ("quantity", "qty", "contracts"),
}
SECRET_FIELDS = ("secret", "passphrase", "token")


class AlertError(FieldError):
    """A field of the alert is missing or malformed (422)."""


def _unrendered(value: object) -> bool:
    """A TradingView placeholder that was not filled in, e.g. "{{close}}" or "NaN"."""
    return isinstance(value, str) and ("{{" in value or value.strip().lower() in {"nan", "null", "undefined"})


class Alert(BaseModel):
    """A validated alert. Prices are dollars per share; quantity is contracts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: str
    action: Action
    direction: Direction | None = None
    timeframe: str | None = Field(default=None, max_length=16)
    price: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=4)
    strike: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=3)
    expiry: date | None = None
    quantity: int | None = Field(default=None, ge=1, le=1000)
    alert_id: str | None = Field(default=None, min_length=1, max_length=128)
    time: datetime | None = None

    @field_validator("ticker")
    @classmethod
    def _ticker(cls, value: str) -> str:
        if not _TICKER.match(value):
            raise ValueError(
                "must be a ticker with an option root: 1-6 letters or digits starting with a letter (SPY), "
                "or a class share such as BRK.B"
            )
        return value

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+14:00 is in year 0 in UTC, 9999-12-31T23:59-14:00 in 10000
            raise ValueError("is outside the years 1 to 9999 once converted to UTC") from None

    @model_validator(mode="after")
    def _consistent(self) -> Alert:
        if self.action == "BUY" and self.direction is None:
            raise ValueError("direction: a BUY needs CALL or PUT (or long/short, bullish/bearish)")
        return self


def _pick(payload: dict[str, Any], field: str) -> Any:
    for name in _ALIASES.get(field, (field,)):
        if name in payload and payload[name] not in (None, ""):
            return payload[name]
    return None


def _direction_word(value: object) -> str | None:
    word = str(value).strip().upper()
    if word in _BULLISH:
        return "CALL"
    if word in _BEARISH:
        return "PUT"
    return None


def normalise(payload: dict[str, Any]) -> dict[str, Any]:
    """Map aliases and trader vocabulary onto the Alert fields. Raises AlertError naming the field."""
    fields: dict[str, Any] = {}
    for field in (
        "ticker",
        "action",
        "direction",
        "timeframe",
        "price",
        "strike",
        "expiry",
        "quantity",
        "alert_id",
        "time",
    ):
        value = _pick(payload, field)
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            # `"quantity": true` would otherwise count as one contract, `"ticker": true` as the ticker TRUE
            raise AlertError(field, f"must be a string or a number, not {_json_kind(value)}")
        if _unrendered(value):
            raise AlertError(field, f"{value!r} looks like a TradingView placeholder that was not filled in")
        if value is not None:
            fields[field] = value

    ticker = fields.get("ticker")
    if ticker is None:
        raise AlertError("ticker", "is required (or `symbol`)")
    # TradingView's {{ticker}} may carry the exchange, e.g. NASDAQ:AAPL.
    if not str(ticker).isascii():  # upper() would turn "ß" into the ticker SS
        raise AlertError("ticker", "must be ASCII letters and digits, e.g. SPY")
    fields["ticker"] = str(ticker).strip().upper().rsplit(":", 1)[-1]

    raw_action = fields.get("action")
    if raw_action is None:
        raise AlertError("action", "is required: BUY, SELL or CLOSE (or `side`: long/short)")
    action_word = str(raw_action).strip().upper()
    implied_direction = None
    if action_word in _ACTIONS:
        fields["action"] = _ACTIONS[action_word]
    elif (implied_direction := _direction_word(action_word)) is not None:
        # "side": "long" / "bearish": a directional entry.
        fields["action"] = "BUY"
    else:
        raise AlertError(
            "action", f"{raw_action!r} is not one of BUY, SELL, CLOSE, long, short, bullish, bearish"
        )

    raw_direction = fields.get("direction")
    if raw_direction is not None:
        if str(raw_direction).strip().upper() == "FLAT":
            fields["action"], direction = "CLOSE", None
        else:
            direction = _direction_word(raw_direction)
            if direction is None:
                raise AlertError("direction", f"{raw_direction!r} is not CALL or PUT (or long/short)")
        if implied_direction and direction and direction != implied_direction:
            raise AlertError("direction", f"{direction} contradicts action {raw_action!r}")
        fields["direction"] = direction
    elif implied_direction:
        fields["direction"] = implied_direction

    if "timeframe" in fields:
        fields["timeframe"] = str(fields["timeframe"]).strip()
    if "alert_id" in fields:
        fields["alert_id"] = str(fields["alert_id"]).strip()
    for money in ("price", "strike"):
        if money in fields:
            fields[money] = _decimal(money, fields[money])
    if "expiry" in fields and not isinstance(fields["expiry"], str):
        # pydantic would read a number as Unix seconds: 0 became 1970-01-01
        raise AlertError("expiry", f"{fields['expiry']!r} is not a date; write it YYYY-MM-DD")
    if "time" in fields:
        fields["time"] = _instant(fields["time"])
    if "quantity" in fields and isinstance(fields["quantity"], str):
        fields["quantity"] = fields["quantity"].strip()
    return fields


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def _decimal(field: str, value: object) -> Decimal:
    if isinstance(value, bool):
        raise AlertError(field, "must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise AlertError(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise AlertError(field, f"{value!r} is not a finite number")
    return number


def _instant(value: object) -> datetime | str:
    """TradingView's {{timenow}} is ISO 8601 UTC; epoch seconds or milliseconds are accepted too."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise AlertError("time", f"{value!r} is not a valid epoch time") from None
    return str(value)


def redact(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as stored: secrets replaced, everything else kept verbatim."""
    return {key: ("***" if key in SECRET_FIELDS else value) for key, value in payload.items()}
