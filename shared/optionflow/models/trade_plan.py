"""A per-alert trade plan: the `plan` object of an alert's message, which overrides the ticker's settings
(then the global ones) for this one trade, within the configured limits.

Every field is optional; a missing one falls back. The plan in force (what the alert said, filled in from
the settings at order time) is stored with the position, so a later settings change never rewrites an open
trade. A bad field is refused at the webhook with a 422 naming it (e.g. `plan.stop_loss_pct`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from optionflow.errors import FieldError

Percent = Annotated[Decimal, Field(max_digits=6, decimal_places=2)]


class PlanError(FieldError):
    """A field of the alert's plan is malformed (422); the field is named `plan.<name>`."""


class TradePlan(BaseModel):
    """Prices are percent of the entry price (50 = 50 %); money is dollars; delta is per share, 0-1."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strike_delta: Annotated[Decimal, Field(gt=0, lt=1, max_digits=4, decimal_places=3)] | None = Field(
        default=None, description="Strike whose |delta| is nearest this (0.30 = 30-delta)"
    )
    strike_steps: Annotated[StrictInt, Field(ge=-20, le=20)] | None = Field(
        default=None, description="Listed strikes away from the money: +1 one step out of the money, -1 in"
    )
    dte: Annotated[StrictInt, Field(ge=0, le=365)] | None = Field(
        default=None, description="Calendar days to expiry wanted (0: same-day expiry where listed)"
    )
    quantity: Annotated[StrictInt, Field(ge=1, le=1000)] | None = Field(
        default=None, description="Contracts; within max_contracts_per_order and risk_per_trade"
    )
    dollar_risk: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)] | None = Field(
        default=None, description="Dollars of premium to spend; at most risk_per_trade"
    )
    profit_target_pct: Annotated[Percent, Field(gt=0)] | None = None
    stop_loss_pct: Annotated[Percent, Field(gt=0, le=100)] | None = None
    trailing_stop_pct: Annotated[Percent, Field(gt=0, le=100)] | None = None
    time_stop_minutes: Annotated[StrictInt, Field(ge=0, le=390)] | None = Field(
        default=None, description="Close this many minutes before the session's close"
    )

    @property
    def chooses_contract(self) -> bool:
        """The plan picks the strike or the expiry (from the listed chain)."""
        return self.strike_delta is not None or self.strike_steps is not None or self.dte is not None

    @model_validator(mode="after")
    def _one_way_to_size_and_strike(self) -> TradePlan:
        if self.strike_delta is not None and self.strike_steps is not None:
            raise ValueError("strike_delta: give strike_delta or strike_steps, not both")
        if self.quantity is not None and self.dollar_risk is not None:
            raise ValueError("dollar_risk: give quantity or dollar_risk, not both")
        return self


def parse_plan(value: Any) -> TradePlan:
    """The alert's `plan` as a TradePlan; raises PlanError naming `plan.<field>`. Numbers may arrive as
    strings (a TradingView placeholder renders as text); true/false is never a number."""
    if not isinstance(value, dict):
        raise PlanError("plan", "must be an object of plan fields")
    cleaned: dict[str, Any] = {}
    for key, raw in value.items():
        if not isinstance(key, str) or key not in TradePlan.model_fields:
            raise PlanError(f"plan.{key}", f"is not a plan field; one of {', '.join(TradePlan.model_fields)}")
        if raw is None or raw == "":
            continue
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise PlanError(f"plan.{key}", "must be a number")
        if isinstance(raw, str):
            text = raw.strip()
            if "{{" in text:
                raise PlanError(
                    f"plan.{key}", f"{raw!r} looks like a TradingView placeholder that was not filled in"
                )
            raw = _number(key, text)
        if isinstance(raw, float):
            raw = _number(key, repr(raw))
        cleaned[key] = raw
    try:
        return TradePlan.model_validate(cleaned)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(p) for p in error["loc"]]
        message = str(error["msg"]).removeprefix("Value error, ")
        field = loc[0] if loc else message.split(":", 1)[0]
        if not loc and ":" in message:
            message = message.split(":", 1)[1].strip()
        raise PlanError(f"plan.{field}", message) from None


def _number(key: str, text: str) -> int | Decimal:
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise PlanError(f"plan.{key}", f"{text!r} is not a number") from None
    if not number.is_finite():
        raise PlanError(f"plan.{key}", f"{text!r} is not a finite number")
    field = TradePlan.model_fields[key]
    if "int" in str(field.annotation) and number == number.to_integral_value():
        return int(number)
    return number
