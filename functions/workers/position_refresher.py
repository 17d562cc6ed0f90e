"""Re-price open positions: mark, Greeks, unrealized P&L."""

from __future__ import annotations

from optionflow.workers import POSITION_REFRESHER

from workers import lambda_handler_for

lambda_handler = lambda_handler_for(POSITION_REFRESHER)
