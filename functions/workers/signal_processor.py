"""Decide pending signals: market session, shape and risk checks, with a decision trail."""

from __future__ import annotations

from optionflow.workers import SIGNAL_PROCESSOR

from workers import lambda_handler_for

lambda_handler = lambda_handler_for(SIGNAL_PROCESSOR)
