"""Drive the pipeline through its Lambda handlers with the events/workers fixtures."""

from __future__ import annotations

import dataclasses
import importlib
from decimal import Decimal
from typing import Any

from optionflow.local.lambda_context import LocalContext
from optionflow.workers import BY_NAME, NAMES, ORDER_CREATOR, PAPER_EXECUTOR, SIGNAL_PROCESSOR

from tests.api_events import call, request
from tests.conftest import WEBHOOK_SECRET, load_event

WORKERS = NAMES


def run(worker: str) -> dict[str, Any]:
    """Invoke a worker's lambda_handler with the exact payload its schedule sends."""
    handler = importlib.import_module(BY_NAME[worker].handler_module).lambda_handler
    return dict(handler(load_event(f"workers/{worker}.json"), LocalContext(worker)))


def sweep() -> None:
    """Every worker once, in pipeline order: what the minute's schedules do."""
    for worker in WORKERS:
        run(worker)


def run_entry_chain() -> None:
    for worker in (SIGNAL_PROCESSOR, ORDER_CREATOR, PAPER_EXECUTOR):
        run(worker.name)


def alert(ticker: str = "SPY", action: str = "BUY", direction: str | None = "CALL", **extra: Any) -> str:
    body = {"ticker": ticker, "action": action, "secret": WEBHOOK_SECRET, **extra}
    if direction:
        body["direction"] = direction
    status, answer = call(request("POST", "/webhook", body=body))
    assert status == 202, answer
    return str(answer["signal_id"])


def advance(duration: str) -> dict[str, Any]:
    """POST /clock {"advance": duration} on the simulated clock (the `simulated_clock` fixture): every sweep
    due on the way has run when it returns. Returns the clock as the API answers it."""
    status, answer = call(request("POST", "/clock", body={"advance": duration}, scope="admin"))
    assert status == 200, answer
    return dict(answer)


class ShiftedMarket:
    """The simulated market with option prices multiplied by `factor` (to hit targets and stops on demand),
    or failing for chosen tickers (to see stale marks)."""

    def __init__(
        self, inner: Any, factor: Decimal = Decimal(1), failing: frozenset[str] = frozenset()
    ) -> None:
        self.inner = inner
        self.factor = factor
        self.failing = failing

    def underlying_price(self, ticker: str, at: Any) -> Decimal:
        return Decimal(self.inner.underlying_price(ticker, at))

    def volatility(self, ticker: str) -> float:
        return float(self.inner.volatility(ticker))

    def __getattr__(self, name: str) -> Any:
        # the rest of the port (expirations, option chains, bars) as the simulator has it
        return getattr(self.inner, name)

    def option_quote(self, ticker: str, option_type: str, strike: Decimal, expiry: Any, at: Any) -> Any:
        if ticker in self.failing:
            raise ConnectionError(f"no quote for {ticker}")
        quote = self.inner.option_quote(ticker, option_type, strike, expiry, at)
        cent = Decimal("0.01")
        return dataclasses.replace(
            quote,
            bid=(quote.bid * self.factor).quantize(cent),
            ask=(quote.ask * self.factor).quantize(cent),
            mid=(quote.mid * self.factor).quantize(cent),
        )


def one(db: Any, sql: str, *args: Any) -> dict[str, Any]:
    db.execute(sql, args)
    row = db.fetchone()
    assert row is not None, sql
    return dict(row)


def rows(db: Any, sql: str, *args: Any) -> list[dict[str, Any]]:
    db.execute(sql, args)
    return [dict(r) for r in db.fetchall()]
