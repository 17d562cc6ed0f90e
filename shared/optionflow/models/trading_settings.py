"""Risk limits and exit rules as the admin API shows and changes them, and the record of each change.

The patch models' bounds are the database's CHECK constraints (migration 001), plus the column's precision
(a NUMERIC(14, 2) rounds a third decimal away, which could turn 0.001 into a 0 the CHECK refuses) and an
upper bound where a larger value could only be a typo; so a patch they accept is one the database accepts.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from optionflow.models.entities import Money, Number, Out
from optionflow.models.text import OperatorText

What = Literal["risk_limits", "exit_rules", "notifications", "strategy_settings"]

# Dollars, as NUMERIC(14, 2) holds them.
Dollars = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]
# Percent of the entry price, as NUMERIC(6, 2) holds it.
Percent = Annotated[Decimal, Field(max_digits=6, decimal_places=2)]
# The refresher and exit monitor are measured over about 10,000 open positions (README, Performance);
# a limit above that is a typo, not a plan.
BOOK_CEILING = 10_000
# A regular NYSE session is 390 minutes: a time stop longer than that would close every position the
# moment it opened.
SESSION_MINUTES = 390
Reason = Annotated[OperatorText, Field(min_length=1, max_length=500)]
# The default of a field that may be omitted but not null; typed Any so a non-optional field may hold it.
OMITTED: Any = None


class RiskLimits(Out):
    """The limits every new entry is checked against. Money in dollars."""

    name: str
    max_open_positions: int
    max_daily_loss: Money = Field(
        description="Dollars: today's realized plus unrealized loss that stops entries"
    )
    max_positions_per_ticker: int
    max_contracts_per_order: int
    risk_per_trade: Money = Field(
        description="Dollars per entry order: premium (price per share x 100 x contracts) it may spend"
    )
    kill_switch: bool = Field(description="On: no new entries. Exits always run.")
    updated_at: datetime


class ExitRules(Out):
    """When the exit monitor closes a position. Percentages are of the entry price; null means the rule is off."""

    name: str
    profit_target_pct: Number | None
    stop_loss_pct: Number | None
    trailing_stop_pct: Number | None
    min_dte: int | None
    max_hold_days: int | None
    close_minutes_before_close: int | None
    updated_at: datetime


class _Patch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = Field(default=None, description="Why; kept with the change")

    def changes(self) -> dict[str, Any]:
        """The fields the request named (null included: it turns a rule off), without `reason`."""
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k != "reason"}

    @model_validator(mode="after")
    def _not_empty(self) -> _Patch:
        if not self.changes():
            raise ValueError("name at least one setting to change")
        return self


class RiskLimitsPatch(_Patch):
    """A change to some risk limits; omitted fields keep their value. Money in dollars."""

    # Typed without None but defaulting to it: omitted means unchanged, and an explicit null is refused
    # with the field's name (these limits cannot be switched off, only set).
    max_open_positions: Annotated[StrictInt, Field(ge=0, le=BOOK_CEILING)] = Field(
        default=OMITTED, description="Open plus pending entries across all tickers; 0 stops entries"
    )
    max_daily_loss: Annotated[Dollars, Field(ge=0)] = Field(
        default=OMITTED, description="Dollars: entries stop once today's P&L reaches minus this"
    )
    max_positions_per_ticker: Annotated[StrictInt, Field(ge=0, le=BOOK_CEILING)] = Field(default=OMITTED)
    max_contracts_per_order: Annotated[StrictInt, Field(ge=1, le=BOOK_CEILING)] = Field(default=OMITTED)
    risk_per_trade: Annotated[Dollars, Field(gt=0)] = Field(
        default=OMITTED, description="Dollars of premium one entry order may spend"
    )
    # Not patchable: turning entries off must say why, so it has its own route. Declared (hidden from the
    # schema) only so the refusal names the field and the way to do it.
    kill_switch: SkipJsonSchema[Any] = Field(default=None, exclude=True)

    @field_validator("kill_switch", mode="before")
    @classmethod
    def _kill_switch_has_its_own_route(cls, value: Any) -> Any:
        raise ValueError("the kill switch is set with POST /kill-switch (it needs a reason)")


class ExitRulesPatch(_Patch):
    """A change to some exit rules; omitted fields keep their value, null turns that rule off."""

    profit_target_pct: Annotated[Percent, Field(gt=0)] | None = Field(
        default=None, description="Close when the mark is this % above the entry price"
    )
    stop_loss_pct: Annotated[Percent, Field(gt=0, le=100)] | None = Field(
        default=None, description="Close when the mark is this % below the entry price"
    )
    trailing_stop_pct: Annotated[Percent, Field(gt=0, le=100)] | None = Field(
        default=None, description="Close when the mark falls this % below its high since entry"
    )
    min_dte: Annotated[StrictInt, Field(ge=0, le=365)] | None = Field(
        default=None, description="Close at this many calendar days to expiry; entries pick a later expiry"
    )
    max_hold_days: Annotated[StrictInt, Field(gt=0, le=365)] | None = Field(
        default=None, description="Advise a review after this many days held"
    )
    close_minutes_before_close: Annotated[StrictInt, Field(ge=0, le=SESSION_MINUTES)] | None = Field(
        default=None, description="Close this many minutes before the session ends"
    )


class KillSwitchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: StrictBool = Field(description="true: no new entries (exits still run); false: entries resume")
    # validate_default: a missing reason is checked too, not only a given one
    reason: Reason | None = Field(default=None, validate_default=True, description="Required to turn it on")

    @field_validator("reason")
    @classmethod
    def _reason_to_turn_on(cls, value: str | None, info: Any) -> str | None:
        if value is not None:
            value = value.strip()
        if info.data.get("on") and not value:
            raise ValueError("say why the kill switch goes on; the reason is kept with the change")
        return value or None


class SettingsChange(Out):
    """One recorded change: the changed fields' values before and after, who made it, and why."""

    id: int
    changed_at: datetime
    actor: str
    what: What
    name: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str | None
