"""boto3 clients for code that runs inside a request: short timeouts and at most one retry.

botocore's defaults are a 60 s connect timeout, a 60 s read timeout and, in the legacy retry mode, four
retries with backoff: with EventBridge unreachable the webhook took 9.3 s, and TradingView gives up on an
alert after about 3 s. An AWS API in the same region connects in milliseconds and answers these calls
(put_events, an asynchronous invoke, one secret) in tens of milliseconds, so half a second to connect and
one second to read only ever cut off a call that was not going to succeed.

Retries use botocore's `standard` mode with `total_max_attempts` (which counts the first attempt;
`max_attempts` in the same dict counts retries only). The standard mode waits a random 0-1 s before its
first retry, so a call allowed one retry can take connect + read + 1 s + connect + read in the worst case.

boto3 is imported here only when a client is built: it is half of a cold start.
"""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT_SECONDS = 0.5
READ_TIMEOUT_SECONDS = 1.0


def request_path_config(*, total_attempts: int) -> Any:
    """A botocore `Config` for a call a caller waits on; `total_attempts` counts the first try (1 or 2)."""
    if total_attempts not in (1, 2):
        raise ValueError(f"a request-path client makes one or two attempts, not {total_attempts}")
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": total_attempts, "mode": "standard"},
    )


def request_path_client(service: str, *, total_attempts: int) -> Any:
    """A boto3 client for `service` with `request_path_config` (region and endpoint from the environment)."""
    import boto3

    from optionflow.observability import tracer

    tracer.trace_aws_calls()
    config = request_path_config(total_attempts=total_attempts)
    return boto3.client(service, config=config)  # type: ignore[call-overload]  # any service name
