"""JSON over HTTPS for the market-data and broker adapters: explicit timeouts, bounded retries, no secrets
in errors or logs.

Built on urllib3, which botocore already depends on (so the Lambda layer gains one small wheel, pinned in
`layers/deps/requirements.txt`), rather than on a hand-written retry loop:

- every request has a connect and a read timeout (`Timeouts`);
- a 429 or a 5xx (502, 503, 504; 500 only for reads) is retried with exponential backoff and jitter, at
  most `retries` times, waiting what the provider's `Retry-After` says when it says it (up to
  `MAX_RETRY_AFTER_SECONDS`: a provider asking for a minute fails the call instead of stalling a worker);
- a POST/DELETE that placed or cancelled something is retried only on a 429 (the provider refused it before
  acting), never after a timeout or a 5xx, where the broker may have acted: callers that submit orders
  re-check by client order id instead (see `brokers/`);
- an answer that is not JSON, or a 4xx, raises `HttpError` naming the provider, the method, the path
  (never the query, which may carry a key) and the status.

Nothing is imported at module import beyond the standard library: urllib3 loads with the first client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT"})
MAX_RETRY_AFTER_SECONDS = 10.0  # a provider asking for longer fails the call instead of stalling a worker


@dataclass(frozen=True)
class Timeouts:
    connect: float = 2.0
    read: float = 5.0


class HttpError(Exception):
    """A provider call failed. `status` is the HTTP status, or None when no answer came (timeout, refused
    connection, retries used up); `retry_after` is the provider's Retry-After in seconds when it gave one."""

    def __init__(
        self,
        provider: str,
        method: str,
        path: str,
        status: int | None,
        message: str,
        *,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        self.retry_after = retry_after
        where = f"{provider} {method} {path}"
        super().__init__(f"{where}: HTTP {status}: {message}" if status else f"{where}: {message}")

    @property
    def unauthorized(self) -> bool:
        return self.status in (401, 403)

    @property
    def no_answer(self) -> bool:
        """True when the provider may or may not have acted: no status came back."""
        return self.status is None


def _message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "error", "errors", "fault", "detail"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300] if body else "no message"


class JsonClient:
    """One provider's base URL, headers and retry policy; `request` returns the decoded JSON body."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeouts: Timeouts = Timeouts(),
        retries: int = 3,
        backoff_factor: float = 0.5,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self._headers = {"Accept": "application/json", **headers}
        self._timeouts = timeouts
        self._retries = retries
        self._backoff = backoff_factor
        self._pool: Any = None

    def __repr__(self) -> str:  # headers hold keys: never show them
        return f"JsonClient({self.provider!r}, {self.base_url!r})"

    def _manager(self) -> Any:
        if self._pool is None:
            import urllib3

            self._pool = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=self._timeouts.connect, read=self._timeouts.read),
                retries=False,
            )
        return self._pool

    def _retry(self, method: str) -> Any:
        idempotent = method in IDEMPOTENT
        return _retry_class()(
            total=self._retries,
            connect=self._retries if idempotent else 0,
            read=self._retries if idempotent else 0,
            status=self._retries,
            other=0,
            allowed_methods=None,  # every method; which statuses retry depends on it, below
            status_forcelist=(429, 500, 502, 503, 504) if idempotent else (429,),
            backoff_factor=self._backoff,
            backoff_jitter=self._backoff / 2,
            respect_retry_after_header=True,
            raise_on_status=False,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        accept_text: bool = False,
    ) -> Any:
        """The JSON body of `method path` (2xx), or HttpError. `form` sends x-www-form-urlencoded (Tradier);
        `headers` are added to the client's for this call; with `accept_text` a 2xx answer that is not JSON
        (Slack's webhooks answer `ok`) is returned as text."""
        import urllib3
        from urllib3.exceptions import HTTPError as Urllib3Error

        method = method.upper()
        url = self.base_url + path
        if params:
            url += "?" + urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        headers = {**self._headers, **(headers or {})}
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode({k: v for k, v in form.items() if v is not None}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        retry = self._retry(method)
        try:
            response = self._manager().request(method, url, body=body, headers=headers, retries=retry)
        except RetryAfterTooLong as exc:
            raise HttpError(
                self.provider,
                method,
                path,
                429,
                f"rate limited; the provider asks to wait {exc.seconds:g} s",
                retry_after=exc.seconds,
            ) from None
        except urllib3.exceptions.MaxRetryError as exc:
            raise HttpError(
                self.provider, method, path, None, f"no answer: {type(exc.reason).__name__}"
            ) from None
        except Urllib3Error as exc:
            raise HttpError(self.provider, method, path, None, f"no answer: {type(exc).__name__}") from None
        return self._decode(method, path, response, accept_text)

    def _decode(self, method: str, path: str, response: Any, accept_text: bool = False) -> Any:
        raw = response.data
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            if 200 <= response.status < 300 and accept_text:
                return raw.decode("utf-8", "replace")
            if 200 <= response.status < 300:
                raise HttpError(
                    self.provider, method, path, response.status, "the answer is not JSON"
                ) from None
        if 200 <= response.status < 300:
            return body
        retry_after = _retry_after(response.headers.get("Retry-After"))
        message = _message(body if body is not None else raw.decode("utf-8", "replace"))
        raise HttpError(
            self.provider, method, path, response.status, message, body=body, retry_after=retry_after
        )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: urllib3 already waited it out when it retried


class RetryAfterTooLong(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"Retry-After {seconds:g} s")
        self.seconds = seconds


_RETRY: Any = None


def _retry_class() -> Any:
    """urllib3's Retry, refusing to sleep longer than MAX_RETRY_AFTER_SECONDS on a Retry-After."""
    global _RETRY
    if _RETRY is None:
        from urllib3.util.retry import Retry

        class BoundedRetry(Retry):
            def sleep_for_retry(self, response: Any) -> bool:
                wait = self.get_retry_after(response)
                if wait is not None and wait > MAX_RETRY_AFTER_SECONDS:
                    raise RetryAfterTooLong(wait)
                return bool(super().sleep_for_retry(response))

        _RETRY = BoundedRetry
    return _RETRY
