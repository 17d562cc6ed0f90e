"""Fill working paper orders; open and close positions."""

from __future__ import annotations

from optionflow.workers import PAPER_EXECUTOR

from workers import lambda_handler_for

lambda_handler = lambda_handler_for(PAPER_EXECUTOR)
