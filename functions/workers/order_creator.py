"""Choose contract and size for accepted signals; create entry and exit orders."""

from __future__ import annotations

from optionflow.workers import ORDER_CREATOR

from workers import lambda_handler_for

lambda_handler = lambda_handler_for(ORDER_CREATOR)
