"""Trading statistics over closed trades: pure functions, no SQL and no I/O.

Money is Decimal dollars for a whole position (quantity × multiplier already applied), summed exactly and
rounded to cents only in what these functions return. Ratios are Decimal, rounded to 4 places.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
UNKNOWN_EXIT = "UNKNOWN"


@dataclass(frozen=True)
class ClosedTrade:
    """One closed position. `realized_pnl` and `cost_basis` are dollars for the whole position."""

    ticker: str
    direction: str  # CALL or PUT
    exit_rule: str  # normalised exit reason, see exit_rule_of
    opened_at: datetime
    closed_at: datetime
    realized_pnl: Decimal  # net of fees
    cost_basis: Decimal
    fees: Decimal = Decimal(0)  # commission and regulatory fees on its fills


@dataclass(frozen=True)
class OpenExposure:
    """Open positions of one group: how many, and their unrealized P&L in dollars (whole positions)."""

    positions: int
    unrealized_pnl: Decimal


def exit_rule_of(reason: str | None) -> str:
    """A position's exit_reason as a rule name.

    The exit monitor writes the rule itself (STOP_LOSS, PROFIT_TARGET, TRAILING_STOP, EXPIRATION, TIME_STOP,
    ...); a closing alert writes "<ACTION> alert" ("CLOSE alert", "SELL alert"), which becomes CLOSE_ALERT or
    SELL_ALERT so every group key looks alike.
    """
    if reason is None or not reason.strip():
        return UNKNOWN_EXIT
    return "_".join(reason.strip().upper().split())


def cents(amount: Decimal) -> Decimal:
    """Dollars rounded to the cent, halves away from zero (as Postgres round() does)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(value: Decimal) -> Decimal:
    return value.quantize(RATIO, rounding=ROUND_HALF_UP)


def _by_close(trades: Sequence[ClosedTrade]) -> list[ClosedTrade]:
    # sorted() is stable, so trades closed at the same instant keep their input order
    return sorted(trades, key=lambda t: t.closed_at)


def _walk(trades: Sequence[ClosedTrade]) -> list[tuple[ClosedTrade, Decimal, Decimal]]:
    """(trade, cumulative realized P&L, drawdown from the running peak) in close order, exact dollars.

    The peak starts at 0: losing from the first trade on is a drawdown from the starting equity.
    """
    equity = Decimal(0)
    peak = Decimal(0)
    points = []
    for trade in _by_close(trades):
        equity += trade.realized_pnl
        peak = max(peak, equity)
        points.append((trade, equity, peak - equity))
    return points


def summarize(
    trades: Sequence[ClosedTrade], *, unrealized_pnl: Decimal = Decimal(0), open_positions: int = 0
) -> dict[str, Any]:
    """Win rate, average win and loss, profit factor, expectancy and max drawdown of `trades`.

    Keys: closed_trades, wins, losses, breakeven (counts; breakeven is a realized P&L of exactly 0);
    win_rate (wins / closed_trades, 0..1; None without trades); average_win, average_loss (dollars per
    trade; average_loss is negative; None without wins / losses); profit_factor (gross win / |gross loss|;
    None without losses); expectancy (mean realized P&L per trade, dollars; None without trades);
    max_drawdown (dollars >= 0, the largest fall of cumulative realized P&L from its running peak, the peak
    starting at 0); realized_pnl (dollars); unrealized_pnl and open_positions (passed through, for the open
    book the caller read).
    """
    pnls = [t.realized_pnl for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_win = sum(wins, Decimal(0))
    gross_loss = sum(losses, Decimal(0))
    realized = gross_win + gross_loss
    n = len(pnls)
    walk = _walk(trades)
    return {
        "closed_trades": n,
        "wins": len(wins),
        "losses": len(losses),
        "breakeven": n - len(wins) - len(losses),
        "win_rate": _ratio(Decimal(len(wins)) / n) if n else None,
        "average_win": cents(gross_win / len(wins)) if wins else None,
        "average_loss": cents(gross_loss / len(losses)) if losses else None,
        "profit_factor": _ratio(gross_win / -gross_loss) if losses else None,
        "expectancy": cents(realized / n) if n else None,
        "max_drawdown": cents(max((dd for _, _, dd in walk), default=Decimal(0))),
        "realized_pnl": cents(realized),
        "fees": cents(sum((t.fees for t in trades), Decimal(0))),
        "realized_pnl_gross": cents(realized + sum((t.fees for t in trades), Decimal(0))),
        "unrealized_pnl": cents(unrealized_pnl),
        "open_positions": open_positions,
    }


def equity_curve(trades: Sequence[ClosedTrade]) -> list[dict[str, Any]]:
    """One point per trade, in close order (ties in input order): {"at": closed_at, "equity": cumulative
    realized P&L in dollars, "drawdown": dollars >= 0 below the running peak (which starts at 0)}."""
    return [
        {"at": trade.closed_at, "equity": cents(equity), "drawdown": cents(drawdown)}
        for trade, equity, drawdown in _walk(trades)
    ]


def breakdown(
    trades: Sequence[ClosedTrade],
    key: Callable[[ClosedTrade], str],
    *,
    open_book: Mapping[str, OpenExposure] | None = None,
) -> dict[str, dict[str, Any]]:
    """`summarize` for each group `key` puts trades in, groups in name order.

    `open_book` gives each group's open positions; a group with open positions and no closed trade still
    appears, so the groups' counts and P&L add up to the overall summary.
    """
    groups: dict[str, list[ClosedTrade]] = {}
    for trade in trades:
        groups.setdefault(key(trade), []).append(trade)
    book = open_book or {}
    return {
        name: summarize(
            groups.get(name, []),
            unrealized_pnl=book[name].unrealized_pnl if name in book else Decimal(0),
            open_positions=book[name].positions if name in book else 0,
        )
        for name in sorted(groups.keys() | book.keys())
    }


def by_ticker(trade: ClosedTrade) -> str:
    return trade.ticker


def by_direction(trade: ClosedTrade) -> str:
    return trade.direction


def by_exit_rule(trade: ClosedTrade) -> str:
    return trade.exit_rule
