"""AWS calls a request waits on give up fast: short timeouts and at most one retry, for every client."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from optionflow import config
from optionflow.aws_clients import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, request_path_config
from optionflow.config import ConfigurationError, get_settings
from optionflow.events.worker_invoker import LambdaInvoker, WorkerInvokerUnavailable

# The standard retry mode waits a random 0-1 s before its one retry; a refused connection costs nothing.
# Each test times a second call: the first also builds the client (about 0.4 s of CPU, no waiting).
ONE_RETRY_AT_MOST = 1.0 + 0.5


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unreachable_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in (
        "DATABASE_URL",
        "JWT_SECRET",
        "WEBHOOK_SECRET",
        "AWS_PROFILE",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    config.reset_settings()
    yield endpoint
    config.reset_settings()


def test_request_path_clients_allow_at_most_one_retry():
    assert request_path_config(total_attempts=1).retries == {"total_max_attempts": 1, "mode": "standard"}
    two = request_path_config(total_attempts=2)
    assert two.retries == {"total_max_attempts": 2, "mode": "standard"}
    assert (two.connect_timeout, two.read_timeout) == (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)
    with pytest.raises(ValueError):
        request_path_config(total_attempts=3)


def test_an_unreachable_secrets_manager_fails_the_request_within_one_retry(unreachable_aws, monkeypatch):
    monkeypatch.setenv(
        "DATABASE_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:optionflow/db-AbCdEf"
    )
    for _ in range(2):
        started = time.perf_counter()
        with pytest.raises(ConfigurationError, match=r"^DATABASE_SECRET_ARN: cannot read secret"):
            get_settings()
    assert time.perf_counter() - started < ONE_RETRY_AT_MOST


def test_an_unreachable_ssm_fails_the_request_within_one_retry(unreachable_aws, monkeypatch):
    monkeypatch.setenv("JWT_SECRET_PARAMETER", "/optionflow/test/jwt-secret")
    for _ in range(2):
        started = time.perf_counter()
        with pytest.raises(ConfigurationError, match=r"^JWT_SECRET_PARAMETER: cannot read SSM parameter"):
            get_settings()
    assert time.perf_counter() - started < ONE_RETRY_AT_MOST


def test_an_unreachable_lambda_makes_a_trigger_unavailable_within_one_retry(unreachable_aws):
    invoker = LambdaInvoker({"signal_processor": "optionflow-test-signal-processor"})
    for _ in range(2):
        started = time.perf_counter()
        with pytest.raises(WorkerInvokerUnavailable, match="cannot invoke optionflow-test-signal-processor"):
            invoker.invoke("signal_processor", {"source": "optionflow.trigger"})
    assert time.perf_counter() - started < ONE_RETRY_AT_MOST
