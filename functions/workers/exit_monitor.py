"""Evaluate exit rules on open positions; place exit orders for closing alerts."""

from __future__ import annotations

from optionflow.workers import EXIT_MONITOR

from workers import lambda_handler_for

lambda_handler = lambda_handler_for(EXIT_MONITOR)
