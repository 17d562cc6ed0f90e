"""Send queued notifications; queue the daily summary after each close."""

from __future__ import annotations

from optionflow.workers import NOTIFIER

from workers import lambda_handler_for

lambda_handler = lambda_handler_for(NOTIFIER)
