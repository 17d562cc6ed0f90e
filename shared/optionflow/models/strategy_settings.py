"""The strategy settings as the admin API shows and changes them: global (`default`) and per ticker.

The patch's bounds are the database's CHECK constraints (migration 011) and the columns' precision, so a
patch it accepts is one the database accepts. On the default row null turns a cap, rule or check off; on a
ticker's row null means "as the default row says".
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from optionflow.models.entities import Number, Out
from optionflow.models.trading_settings import Reason

Dollars = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]
Percent = Annotated[Decimal, Field(max_digits=6, decimal_places=2)]
Quantity = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]
Delta = Annotated[Decimal, Field(max_digits=4, decimal_places=3)]
Timeframe = Literal["5m", "15m", "1h", "1d"]
SizingMethod = Literal["FIXED", "DOLLAR_RISK", "VOLATILITY", "EQUITY_FRACTION"]

# A ticker's own exit rules: the global ones are the exit rules (PATCH /exit-rules).
TICKER_ONLY = ("profit_target_pct", "stop_loss_pct", "trailing_stop_pct", "time_stop_minutes")
# Overall caps and the account's equity bound the whole book: they are set on the default row only.
OVERALL_ONLY = (
    "account_equity",
    "max_heat_pct",
    "max_delta_shares",
    "max_delta_dollars",
    "max_gamma",
    "max_vega",
    "max_theta",
)


class StrategySettingsPatch(BaseModel):
    """A change to some strategy settings of one row; omitted fields keep their value, null turns a
    setting off (default row) or back to the default (a ticker's row)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = Field(default=None, description="Why; kept with the change")
    sizing_method: SizingMethod | None = Field(
        default=None,
        description="FIXED contracts, DOLLAR_RISK per trade, VOLATILITY-scaled budget, or EQUITY_FRACTION",
    )
    fixed_contracts: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    dollar_risk: Annotated[Dollars, Field(gt=0)] | None = Field(
        default=None, description="Dollars per trade (at most the risk limits' risk_per_trade)"
    )
    vol_measure: Literal["ATR", "IV"] | None = Field(
        default=None,
        description="VOLATILITY sizing scales by the underlying's daily ATR % or the contract's IV %",
    )
    vol_target_pct: Annotated[Percent, Field(gt=0)] | None = Field(
        default=None, description="The ATR % or IV % that gets the whole budget; wilder gets less"
    )
    equity_fraction_pct: Annotated[Percent, Field(gt=0, le=100)] | None = None
    account_equity: Annotated[Dollars, Field(gt=0)] | None = Field(
        default=None, description="Dollars; heat, concentration and EQUITY_FRACTION are shares of it"
    )
    max_heat_pct: Annotated[Percent, Field(ge=0)] | None = Field(
        default=None, description="Premium at risk (held and working entries) as % of account_equity"
    )
    max_delta_shares: Annotated[Quantity, Field(ge=0)] | None = None
    max_delta_dollars: Annotated[Dollars, Field(ge=0)] | None = None
    max_gamma: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)] | None = None
    max_vega: Annotated[Dollars, Field(ge=0)] | None = Field(default=None, description="Dollars per IV point")
    max_theta: Annotated[Dollars, Field(ge=0)] | None = Field(
        default=None, description="Dollars lost per day"
    )
    max_ticker_delta_shares: Annotated[Quantity, Field(ge=0)] | None = None
    max_ticker_delta_dollars: Annotated[Dollars, Field(ge=0)] | None = None
    max_ticker_gamma: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)] | None = None
    max_ticker_vega: Annotated[Dollars, Field(ge=0)] | None = None
    max_ticker_theta: Annotated[Dollars, Field(ge=0)] | None = None
    max_ticker_premium_pct: Annotated[Percent, Field(ge=0)] | None = None
    max_expiry_premium_pct: Annotated[Percent, Field(ge=0)] | None = None
    greek_exits_on: StrictBool | None = None
    exit_delta_itm: Annotated[Delta, Field(gt=0, le=1)] | None = None
    exit_delta_otm: Annotated[Delta, Field(gt=0, lt=1)] | None = None
    exit_theta_pct: Annotated[Percent, Field(gt=0)] | None = None
    exit_iv_crush_pct: Annotated[Percent, Field(gt=0, le=100)] | None = None
    plan_strike_delta: Annotated[Delta, Field(gt=0, lt=1)] | None = Field(
        default=None, description="Trade plans' strike by |delta| when the alert's plan names no strike rule"
    )
    plan_strike_steps: Annotated[StrictInt, Field(ge=-20, le=20)] | None = Field(
        default=None, description="Trade plans' strike, listed strikes from the money (+ out of it)"
    )
    plan_dte: Annotated[StrictInt, Field(ge=0, le=365)] | None = Field(
        default=None, description="Trade plans' days to expiry when the alert's plan names none"
    )
    profit_target_pct: Annotated[Percent, Field(gt=0)] | None = Field(
        default=None, description="A ticker's own profit target over the exit rules' (ticker rows only)"
    )
    stop_loss_pct: Annotated[Percent, Field(gt=0, le=100)] | None = None
    trailing_stop_pct: Annotated[Percent, Field(gt=0, le=100)] | None = None
    time_stop_minutes: Annotated[StrictInt, Field(ge=0, le=390)] | None = Field(
        default=None, description="Minutes before the close a ticker's positions close (ticker rows only)"
    )
    mtf_on: StrictBool | None = None
    mtf_timeframes: list[Timeframe] | None = Field(default=None, max_length=4)
    mtf_ema_fast: Annotated[StrictInt, Field(ge=1, le=500)] | None = None
    mtf_ema_slow: Annotated[StrictInt, Field(ge=2, le=500)] | None = None
    context_on: StrictBool | None = None
    max_spread_pct: Annotated[Percent, Field(gt=0)] | None = None
    max_price_move_pct: Annotated[Percent, Field(gt=0)] | None = None
    min_minutes_to_close: Annotated[StrictInt, Field(ge=0, le=390)] | None = None
    min_realized_vol_pct: Annotated[Percent, Field(ge=0)] | None = None
    max_realized_vol_pct: Annotated[Percent, Field(gt=0)] | None = None
    min_iv_pct: Annotated[Percent, Field(ge=0)] | None = None
    max_iv_pct: Annotated[Percent, Field(gt=0)] | None = None

    def changes(self) -> dict[str, object]:
        """The fields the request named (null included), without `reason`."""
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k != "reason"}

    @model_validator(mode="after")
    def _not_empty(self) -> StrategySettingsPatch:
        if not self.changes():
            raise ValueError("name at least one setting to change")
        return self


class StrategySettingsRow(Out):
    """One row of strategy settings: `default`, or a ticker's overrides (null: as the default says)."""

    name: str
    sizing_method: str | None
    fixed_contracts: int | None
    dollar_risk: Number | None
    vol_measure: str | None
    vol_target_pct: Number | None
    equity_fraction_pct: Number | None
    account_equity: Number | None
    max_heat_pct: Number | None
    max_delta_shares: Number | None
    max_delta_dollars: Number | None
    max_gamma: Number | None
    max_vega: Number | None
    max_theta: Number | None
    max_ticker_delta_shares: Number | None
    max_ticker_delta_dollars: Number | None
    max_ticker_gamma: Number | None
    max_ticker_vega: Number | None
    max_ticker_theta: Number | None
    max_ticker_premium_pct: Number | None
    max_expiry_premium_pct: Number | None
    greek_exits_on: bool | None
    exit_delta_itm: Number | None
    exit_delta_otm: Number | None
    exit_theta_pct: Number | None
    exit_iv_crush_pct: Number | None
    plan_strike_delta: Number | None
    plan_strike_steps: int | None
    plan_dte: int | None
    profit_target_pct: Number | None
    stop_loss_pct: Number | None
    trailing_stop_pct: Number | None
    time_stop_minutes: int | None
    mtf_on: bool | None
    mtf_timeframes: list[str] | None
    mtf_ema_fast: int | None
    mtf_ema_slow: int | None
    context_on: bool | None
    max_spread_pct: Number | None
    max_price_move_pct: Number | None
    min_minutes_to_close: int | None
    min_realized_vol_pct: Number | None
    max_realized_vol_pct: Number | None
    min_iv_pct: Number | None
    max_iv_pct: Number | None
    updated_at: datetime
