"""The Powertools Logger, created once per process."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="optionflow")
