"""What GET /stats returns. Money is dollars for whole positions, a JSON number; ratios are 0..1 or more."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from optionflow.models.entities import Money, Number, Out


class Summary(Out):
    closed_trades: int
    wins: int
    losses: int
    breakeven: int
    win_rate: Number | None = Field(description="wins / closed trades, 0..1; null without trades")
    average_win: Money | None = Field(description="dollars per winning trade")
    average_loss: Money | None = Field(description="dollars per losing trade, negative")
    profit_factor: Number | None = Field(description="gross win / |gross loss|; null without losses")
    expectancy: Money | None = Field(description="mean realized P&L per trade, dollars")
    max_drawdown: Money = Field(description="largest fall of cumulative realized P&L from its peak, dollars")
    realized_pnl: Money = Field(description="realized P&L net of fees, dollars")
    fees: Money = Field(
        default=Decimal(0), description="commission and regulatory fees paid on these trades, dollars"
    )
    realized_pnl_gross: Money = Field(default=Decimal(0), description="realized P&L before fees, dollars")
    unrealized_pnl: Money = Field(description="open positions' unrealized P&L now, dollars")
    open_positions: int


class EquityPoint(Out):
    at: datetime
    equity: Money = Field(description="cumulative realized P&L after this close, dollars")
    drawdown: Money = Field(description="dollars below the running peak (which starts at 0)")


class StatsReport(Out):
    as_of: datetime
    since: datetime | None
    until: datetime | None
    overall: Summary
    by_ticker: dict[str, Summary]
    by_direction: dict[str, Summary]
    by_exit_rule: dict[str, Summary]
    equity_curve: list[EquityPoint]
