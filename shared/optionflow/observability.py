"""Powertools Logger and Metrics, created once per process."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="optionflow")
metrics = Metrics(namespace="OptionFlow", service="optionflow")
