"""Which trading mode runs, named once from the three settings that decide it, so the dashboard, /health
and the logs say the same thing.

| mode                | prices from                  | fills                                              |
|---------------------|------------------------------|----------------------------------------------------|
| `simulated`         | the simulator (MARKET_DATA=simulated) | paper, at the simulated bid/ask              |
| `paper-real-quotes` | a real provider (alpaca, tradier, massive) | paper, at the real bid/ask + slippage and fees |
| `broker-paper`      | any                          | a broker's paper/sandbox account (BROKER set, APP_MODE=PAPER) |
| `live`              | any                          | a broker's live account (BROKER set, APP_MODE=LIVE) |
"""

from __future__ import annotations

SIMULATED = "simulated"
PAPER_REAL_QUOTES = "paper-real-quotes"
BROKER_PAPER = "broker-paper"
LIVE = "live"
MODES = (SIMULATED, PAPER_REAL_QUOTES, BROKER_PAPER, LIVE)


def trading_mode(market_data: str, broker: str, app_mode: str) -> str:
    """The mode for MARKET_DATA `market_data`, BROKER `broker` ("paper" or empty: the paper executor) and
    APP_MODE `app_mode` (PAPER or LIVE)."""
    if broker and broker.lower() != "paper":
        return LIVE if app_mode.upper() == "LIVE" else BROKER_PAPER
    return SIMULATED if market_data.lower() == "simulated" else PAPER_REAL_QUOTES
