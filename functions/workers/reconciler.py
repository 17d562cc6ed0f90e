"""Compare the broker's orders and positions with the book; record every difference."""

from __future__ import annotations

from optionflow.workers import RECONCILER

from workers import lambda_handler_for

lambda_handler = lambda_handler_for(RECONCILER)
