"""The CloudFormation custom resource protocol: do the work, then always answer the ResponseURL in time.

CloudFormation waits for the answer (up to an hour by default) and a stack never recovers from one that
does not come, so every path (success, an exception, the time running out) sends SUCCESS or FAILED.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as WorkTimeout
from typing import Any
from urllib.request import Request, urlopen

from optionflow.observability import logger

# CloudFormation rejects a response body over 4 KiB; the reason is the only part that can grow.
_MAX_REASON = 1000
_PUT_TIMEOUT_SECONDS = 10


def is_custom_resource_event(event: Mapping[str, Any]) -> bool:
    return "RequestType" in event and "ResponseURL" in event


def handle(
    event: Mapping[str, Any],
    work: Callable[[], dict[str, str]],
    *,
    time_limit_seconds: float,
    log_stream: str = "",
) -> dict[str, Any]:
    """Run `work` for Create and Update (Delete does nothing: a schema outlives its stack), answer, and
    return the answer sent. `work` returns the resource's Data (string values, readable with !GetAtt).

    `work` runs on a thread so that an answer still goes out if it has not finished within
    `time_limit_seconds`; keep that a few seconds under the function's remaining time.
    """
    status, reason, data = "SUCCESS", "", {}
    if event["RequestType"] in ("Create", "Update"):
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custom-resource")
        try:
            data = executor.submit(work).result(timeout=max(time_limit_seconds, 0.0))
        except WorkTimeout:
            status, reason = "FAILED", f"did not finish within {time_limit_seconds:.1f} s"
        except Exception as exc:  # any failure must reach CloudFormation as FAILED, with its reason
            status, reason = "FAILED", f"{type(exc).__name__}: {exc}"
            logger.exception("custom resource failed")
        finally:
            executor.shutdown(wait=False)
    if status == "FAILED" and log_stream:
        reason = f"{reason} (log stream {log_stream})"
    answer = {
        "Status": status,
        "Reason": reason[:_MAX_REASON] or f"{event['RequestType']} done",
        "PhysicalResourceId": event.get("PhysicalResourceId") or f"{event['LogicalResourceId']}-schema",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": data,
    }
    send(str(event["ResponseURL"]), answer)
    return answer


def send(response_url: str, answer: dict[str, Any]) -> None:
    """PUT the answer to the pre-signed URL. Its signature covers an empty Content-Type, so send that."""
    body = json.dumps(answer).encode()
    if not response_url.startswith(("https://", "http://")):
        raise ValueError(f"ResponseURL must be http(s), not {response_url[:40]!r}")
    request = Request(  # noqa: S310 (scheme checked above)
        response_url,
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urlopen(request, timeout=_PUT_TIMEOUT_SECONDS) as response:  # noqa: S310
        logger.info(
            "answered CloudFormation",
            extra={"status": answer["Status"], "reason": answer["Reason"], "http_status": response.status},
        )
