"""The strategy engine at order time: size an accepted entry by the method in force, hold it to the portfolio
caps against the book as it will be after the fill, and fill in and keep the trade plan it is bought on.

One `EntryStrategy` serves one order-creator batch, inside the transaction that claims the batch's signals.
It locks the strategy settings' default row before it reads the book, so two order creators take their
entries one after the other: the second sees the first's orders, and two signals cannot both squeeze under
the last unit of a cap. Entries admitted earlier in the batch count against the caps of later ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from optionflow.calendar import NEW_YORK
from optionflow.db import strategy as strategy_db
from optionflow.db.rows import BookLine, ExitRules, RiskLimits, StrategySettings
from optionflow.logic.portfolio import CAPS, BookExposure, portfolio_checks
from optionflow.logic.risk import Check, entry_window_check
from optionflow.logic.sizing import SizingPlan, size_entry
from optionflow.models.trade_plan import PlanError, TradePlan, parse_plan
from optionflow.strategy.indicators import atr

if TYPE_CHECKING:
    from optionflow.calendar import NyseCalendar
    from optionflow.composition import Dependencies
    from optionflow.db.signals import ClaimedSignal
    from optionflow.market.ports import MarketData, OptionQuote

ATR_PERIOD = 14
# Daily bars fetched for the ATR: enough calendar days to hold ATR_PERIOD + 1 sessions across holidays.
ATR_LOOKBACK_DAYS = 40
EXIT_PLAN_FIELDS = ("profit_target_pct", "stop_loss_pct", "trailing_stop_pct", "time_stop_minutes")
# the plan of an alert that carried none (a TradePlan is frozen: one instance serves every such entry)
NO_PLAN = TradePlan()


def atr_pct(market: MarketData, ticker: str, now: datetime) -> tuple[Decimal | None, dict[str, Any]]:
    """Wilder's ATR of the last completed daily bars as a percent of the last close, and its inputs."""
    today = now.astimezone(NEW_YORK).date()
    # only sessions that have closed: today's bar would read prices from later in the day
    bars = [
        b
        for b in market.bars(ticker, "1d", now - timedelta(days=ATR_LOOKBACK_DAYS), now)
        if b.start.astimezone(NEW_YORK).date() < today
    ]
    values = atr(
        [float(b.high) for b in bars],
        [float(b.low) for b in bars],
        [float(b.close) for b in bars],
        ATR_PERIOD,
    )
    last = values[-1] if values else None
    if last is None:
        return None, {"atr_bars": len(bars)}
    close = float(bars[-1].close)
    pct = Decimal(str(round(last / close * 100, 4)))
    return pct, {"atr": round(last, 4), "atr_period": ATR_PERIOD, "atr_close": close, "atr_bars": len(bars)}


@dataclass
class EntryStrategy:
    """Settings per ticker, the locked book, and each admitted entry's terms waiting to be written."""

    settings: dict[str, StrategySettings]
    exposure: BookExposure
    plans: dict[UUID, TradePlan | PlanError]
    pending: list[dict[str, Any]] = field(default_factory=list)
    # whether any ticker's settings set a portfolio cap: with none, no entry is held to the book, and the
    # book (not read) need not follow the batch's entries either
    capped: bool = True

    @classmethod
    def open(cls, cur: Any, signals: list[ClaimedSignal]) -> EntryStrategy:
        """Lock the settings, then read them and the book (in that order: see the module's docstring)."""
        entries = [s for s in signals if s.action == "BUY"]
        if not entries:
            return cls({}, BookExposure(), {})
        strategy_db.strategy_settings(cur, lock=True)
        settings = strategy_db.settings_for(cur, {s.ticker for s in entries})
        plans: dict[UUID, TradePlan | PlanError] = {}
        for alert in strategy_db.alert_plans(cur, [s.id for s in entries]):
            try:
                plans[alert.signal_id] = parse_plan(alert.plan)
            except PlanError as exc:  # validated at the webhook; a row stored before then is its own problem
                plans[alert.signal_id] = exc
        # the book is read only when a cap will look at it: with none set, sizing needs no book
        capped = any(getattr(s, cap) is not None for s in settings.values() for cap in CAPS)
        return cls(
            settings, BookExposure(strategy_db.book_lines(cur) if capped else ()), plans, capped=capped
        )

    def time_stop_window(self, signal: ClaimedSignal, now: datetime, calendar: NyseCalendar) -> Check | None:
        """No entry inside the end-of-day window its own time stop (the alert plan's, else its ticker's)
        would close it in: the decision step checks only the global one. None when neither sets one."""
        minutes = _first(
            self.plan_for(signal).time_stop_minutes, self.settings[signal.ticker].time_stop_minutes
        )
        session = calendar.session(now.astimezone(NEW_YORK).date())
        if minutes is None or session is None:
            return None
        check = entry_window_check(now, session.close, minutes)
        return Check("plan_entry_window", check.passed, check.detail, check.inputs)

    def contract_plan(self, signal: ClaimedSignal) -> TradePlan:
        """The alert's plan with the contract fields it leaves out taken from the ticker's (then the
        default) strategy settings: its strike rule (delta or steps) and its days to expiry."""
        plan = self.plan_for(signal)
        s = self.settings[signal.ticker]
        fill: dict[str, Any] = {}
        if plan.strike_delta is None and plan.strike_steps is None:
            if s.plan_strike_delta is not None:
                fill["strike_delta"] = s.plan_strike_delta
            elif s.plan_strike_steps is not None:
                fill["strike_steps"] = s.plan_strike_steps
        if plan.dte is None and s.plan_dte is not None:
            fill["dte"] = s.plan_dte
        return plan.model_copy(update=fill) if fill else plan

    def plan_for(self, signal: ClaimedSignal) -> TradePlan:
        """The alert's plan (empty when it carried none); raises its PlanError when it cannot be read."""
        plan = self.plans.get(signal.id, NO_PLAN)
        if isinstance(plan, PlanError):
            raise plan
        return plan

    def size(
        self,
        deps: Dependencies,
        signal: ClaimedSignal,
        *,
        quote: OptionQuote,
        worst: Decimal,
        expiry: date,
        limits: RiskLimits,
        now: datetime,
    ) -> tuple[list[Check], int]:
        """The sizing check and every configured cap's check for this entry; the contracts it may buy
        (0: rejected, the failing checks say why). An admitted entry joins the book for the batch."""
        s = self.settings[signal.ticker]
        plan = self.plan_for(signal)
        volatility: Decimal | None = None
        extra: dict[str, Any] = {}
        if s.sizing_method == "VOLATILITY" and plan.quantity is None:
            if s.vol_measure == "ATR":
                volatility, extra = atr_pct(deps.market, signal.ticker, now)
            else:
                volatility = Decimal(str(round(quote.iv * 100, 4)))
        requested = plan.quantity if plan.quantity is not None else signal.quantity
        sized = size_entry(
            SizingPlan(
                method=s.sizing_method,
                premium=worst,
                max_contracts=limits.max_contracts_per_order,
                risk_per_trade=limits.risk_per_trade,
                fee_per_contract=deps.broker.fee_per_contract,
                requested=requested,
                fixed_contracts=s.fixed_contracts,
                dollar_risk=plan.dollar_risk if plan.dollar_risk is not None else s.dollar_risk,
                vol_measure=s.vol_measure,
                volatility_pct=volatility,
                vol_target_pct=s.vol_target_pct,
                equity_fraction_pct=s.equity_fraction_pct,
                account_equity=s.account_equity,
            )
        )
        inputs = {**sized.inputs, **extra, "underlying": quote.underlying, "bid": quote.bid, "ask": quote.ask}
        if signal.id in self.plans:
            inputs["alert_plan"] = plan.model_dump(mode="json", exclude_none=True)
        checks = [Check("sizing", sized.contracts > 0, sized.reason, inputs)]
        if sized.contracts == 0:
            return checks, 0
        if not self.capped:  # portfolio_checks has no cap to check, and nothing reads the book
            return checks, sized.contracts
        g = quote.greeks
        line = BookLine(
            signal.ticker,
            expiry,
            sized.contracts,
            100,
            worst,
            quote.underlying,
            g.delta,
            g.gamma,
            g.theta_per_day,
            g.vega_per_point,
        )
        caps = portfolio_checks(self.exposure, line, s)
        checks += caps
        if not all(c.passed for c in caps):
            return checks, 0
        self.exposure.add(line)
        return checks, sized.contracts

    def keep(
        self,
        signal: ClaimedSignal,
        *,
        contracts: int,
        worst: Decimal,
        quote: OptionQuote,
        rules: ExitRules,
        chosen: dict[str, Any],
        now: datetime,
    ) -> None:
        """Remember the terms of an entry about to be ordered: its Greeks and the plan in force (the
        alert's fields, else the exit rules' and the settings' values now), written after its order."""
        plan = self.plan_for(signal)
        s = self.settings[signal.ticker]
        in_force: dict[str, Any] = {
            "profit_target_pct": _first(plan.profit_target_pct, s.profit_target_pct, rules.profit_target_pct),
            "stop_loss_pct": _first(plan.stop_loss_pct, s.stop_loss_pct, rules.stop_loss_pct),
            "trailing_stop_pct": _first(plan.trailing_stop_pct, s.trailing_stop_pct, rules.trailing_stop_pct),
            "time_stop_minutes": _first(
                plan.time_stop_minutes, s.time_stop_minutes, rules.close_minutes_before_close
            ),
            "quantity": contracts,
            "sizing_method": "ALERT_QUANTITY" if plan.quantity or signal.quantity else s.sizing_method,
            "dollar_risk": _first(plan.dollar_risk, s.dollar_risk),
            **chosen,
            "from_alert": sorted(plan.model_dump(exclude_none=True)),
        }
        if self.contract_plan(signal).dte is not None and chosen.get("dte") is not None:
            # an expiry the alert chose inside the days-to-expiry window (0DTE) is held to the end of the
            # day by its time stop and expiry settlement, not closed on the monitor's first pass
            keep_min_dte = rules.min_dte is not None and chosen["dte"] > rules.min_dte
            in_force["min_dte"] = rules.min_dte if keep_min_dte else None
            in_force["from_alert"] = sorted([*in_force["from_alert"], "min_dte"])
        g = quote.greeks
        self.pending.append(
            {
                "signal_id": signal.id,
                "quantity": contracts,
                "premium": worst,
                "underlying": quote.underlying,
                "iv": quote.iv,
                "delta": g.delta,
                "gamma": g.gamma,
                "theta": g.theta_per_day,
                "vega": g.vega_per_point,
                "plan": in_force,
                "created_at": now,
            }
        )

    def flush(self, cur: Any) -> None:
        """Write the kept terms; call after their orders are inserted (the terms find them by signal)."""
        strategy_db.record_entry_plans(cur, self.pending)
        self.pending = []


def _first(*values: Any) -> Any:
    for value in values:  # a loop, not next(generator): six times per entry order
        if value is not None:
            return value
    return None


def plan_contract_settings(
    deps: Dependencies, plan: TradePlan, exit_min_dte: int | None
) -> tuple[Dependencies, int | None, dict[str, Any]]:
    """The contract choice an alert's plan asks for, as the chain-based choice (orders.choose_listed_contract)
    reads it: the plan's strike by delta or steps and its DTE over the configured ones. An expiry the plan
    puts inside the exit rules' DTE window (0DTE) is allowed: the position is held by its time stop and
    settlement instead (`keep` stores the plan's min_dte so). Returns the dependencies to choose with, the
    exit DTE to keep clear of, and what the plan chose (for the stored plan)."""
    settings = deps.settings
    update: dict[str, Any] = {}
    chosen: dict[str, Any] = {}
    if plan.strike_delta is not None:
        update |= {"strike_selection": "delta", "target_delta": plan.strike_delta}
        chosen["strike_delta"] = plan.strike_delta
    elif plan.strike_steps is not None:
        update |= {"strike_selection": "steps", "strike_steps": plan.strike_steps}
        chosen["strike_steps"] = plan.strike_steps
    if plan.dte is not None:
        update |= {"contract_min_dte": plan.dte, "contract_max_dte": max(plan.dte, settings.contract_max_dte)}
        if exit_min_dte is not None and plan.dte <= exit_min_dte:
            exit_min_dte = None
    if not update:
        return deps, exit_min_dte, chosen
    return deps.replace(settings=settings.model_copy(update=update)), exit_min_dte, chosen
