"""The worker-invoker port: "run worker NAME now with this event", without waiting for the run.

`POST /workers/{name}/trigger` must wake the worker where it lives (its own Lambda in AWS, the worker
process locally), never run it inside the API request: a run may take up to its function's timeout, and
the API's is ten seconds. In AWS this is an asynchronous Lambda invoke of the worker's function (names
from the template, through config); the local stack and tests install their own invoker.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from optionflow.errors import Unavailable


class WorkerInvokerUnavailable(Unavailable):
    """No way to wake this worker is configured here; the message says what is missing."""


class WorkerInvoker(Protocol):
    def invoke(self, worker: str, event: dict[str, Any]) -> None: ...


class LambdaInvoker:
    """Asynchronous invokes (InvocationType=Event) of the worker functions: Lambda queues the event and
    answers at once; the function's own retry and on-failure destination apply as to any trigger."""

    def __init__(self, functions: dict[str, str], client: Any = None) -> None:
        self._functions = functions
        self._client = client

    def invoke(self, worker: str, event: dict[str, Any]) -> None:
        function = self._functions.get(worker)
        if not function:
            raise WorkerInvokerUnavailable(f"no function configured for worker {worker}")
        if self._client is None:
            from optionflow.aws_clients import request_path_client

            # An Event invoke answers in milliseconds; botocore's defaults (60 s reads, retries) could
            # outlast the API function's 10 s timeout and turn a throttle into a 502 instead of a 503.
            self._client = request_path_client("lambda", total_attempts=2)
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.invoke(
                FunctionName=function, InvocationType="Event", Payload=json.dumps(event, default=str).encode()
            )
        except (ClientError, BotoCoreError) as exc:
            # Throttled, not permitted, or gone: the operator gets why (503), not a bare 500.
            raise WorkerInvokerUnavailable(f"cannot invoke {function}: {exc}") from exc


class CallbackInvoker:
    """Hands (worker, event) to a callback: the local stack's queue to its worker process, or a test's runner."""

    def __init__(self, callback: Callable[[str, dict[str, Any]], None]) -> None:
        self._callback = callback

    def invoke(self, worker: str, event: dict[str, Any]) -> None:
        self._callback(worker, event)


class UnconfiguredInvoker:
    def invoke(self, worker: str, event: dict[str, Any]) -> None:
        raise WorkerInvokerUnavailable(
            "this API cannot wake workers: no worker functions are configured (<WORKER>_FUNCTION_NAME)"
        )


_invoker: WorkerInvoker | None = None


def get_invoker() -> WorkerInvoker:
    global _invoker
    if _invoker is None:
        from optionflow.config import get_settings

        functions = get_settings().worker_functions()
        _invoker = LambdaInvoker(functions) if functions else UnconfiguredInvoker()
    return _invoker


def set_invoker(invoker: WorkerInvoker | None) -> None:
    global _invoker
    _invoker = invoker
