"""Serve the API Lambda over local HTTP: each request becomes an API Gateway HTTP API (v2) event."""

from __future__ import annotations

import base64
import email.parser
import http.client
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from optionflow.local.lambda_context import LocalContext
from optionflow.observability import logger

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_TEXT_TYPES = ("application/json", "text/", "application/problem+json", "application/x-www-form-urlencoded")


def to_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
) -> dict[str, Any]:
    """The payload API Gateway would hand the function (format 2.0)."""
    url = urlsplit(target)
    query: dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "")
    is_text = not body or content_type.startswith(_TEXT_TYPES) or content_type == ""
    try:
        text_body = body.decode("utf-8") if is_text else None
    except UnicodeDecodeError:
        text_body = None
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": text_body is None and bool(body),
    }
    if query:
        event["queryStringParameters"] = query
    if "cookie" in lowered:
        event["cookies"] = [c.strip() for c in lowered["cookie"].split(";")]
    if body:
        event["body"] = text_body if text_body is not None else base64.b64encode(body).decode()
    return event


# API Gateway's own limit on a request body; the API refuses far less (see untrusted_json), but the bridge
# must not read an unbounded body into memory first.
MAX_BODY_BYTES = 10 * 1024 * 1024
_DIGITS = re.compile(r"[0-9]{1,20}")
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}")  # a token (RFC 9110), as a method must be


# A header line the email package would read as exactly `name: value` (no continuation, no "From " line,
# no stray CR): the name is its characters before the first colon, the value what follows less leading
# blanks and the line end (the compat32 policy's reading).
_PLAIN_HEADER_LINE = re.compile(r"[\041-\071\073-\176]+:[^\r\n]*\r?\n")


def parse_headers(fp: Any) -> http.client.HTTPMessage:
    """What `http.client.parse_headers` returns, without running the email package's parser over the usual
    plain header lines (a fifth of an API process's Python time per webhook): the same limits on line
    length and count (the same exceptions), and anything unusual goes to the email package as before."""
    lines = http.client._read_headers(fp)  # type: ignore[attr-defined]  # LineTooLong / HTTPException
    message = http.client.HTTPMessage()
    for line in lines[:-1]:
        text = line.decode("iso-8859-1")
        if not _PLAIN_HEADER_LINE.fullmatch(text):
            whole = b"".join(lines).decode("iso-8859-1")
            return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(whole)
        name, _, value = text.partition(":")
        message.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
    if lines and lines[-1] not in (b"\r\n", b"\n"):  # the stream ended inside the headers
        whole = b"".join(lines).decode("iso-8859-1")
        return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(whole)
    return message


def problem_document(status: int, detail: str) -> bytes:
    """An RFC 9457 problem body, as the API's own errors have (api/problems.py), for what the bridge answers
    itself: malformed HTTP never reaches the function."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()


def make_server(
    host: str,
    port: int,
    handler: Handler,
    *,
    read_timeout_seconds: float = 30.0,
    listening: socket.socket | None = None,
    server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer,
) -> ThreadingHTTPServer:
    """Serve `handler` over HTTP/1.1. A client that stops sending mid-request is dropped after
    `read_timeout_seconds` (an idle keep-alive connection too).

    `listening`: a socket already bound and listening, shared by several API processes (the local stack's),
    each accepting the connections it is free to take; `host` and `port` are then ignored."""
    # A Lambda execution environment serves one request at a time, and the Powertools resolver keeps the
    # current event on itself: concurrent calls would read each other's requests. Connections are
    # accepted and read in parallel; the handler runs one request at a time, as in one Lambda instance.
    one_at_a_time = threading.Lock()

    class LambdaRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # A 100 Continue and the answer leave in separate writes; without this Nagle + delayed ACK add ~40 ms.
        disable_nagle_algorithm = True
        timeout = read_timeout_seconds

        def parse_request(self) -> bool:
            """http.server's own (identical in Python 3.11 to 3.13), except that the headers are read by
            `parse_headers` above rather than by the email package's parser."""
            self.command = None  # type: ignore[assignment]  # set in case of error on the first line
            self.request_version = version = self.default_request_version
            self.close_connection = True
            requestline = str(self.raw_requestline, "iso-8859-1")
            requestline = requestline.rstrip("\r\n")
            self.requestline = requestline
            words = requestline.split()
            if len(words) == 0:
                return False

            if len(words) >= 3:  # Enough to determine protocol version
                version = words[-1]
                try:
                    if not version.startswith("HTTP/"):
                        raise ValueError
                    base_version_number = version.split("/", 1)[1]
                    version_number = base_version_number.split(".")
                    if len(version_number) != 2:
                        raise ValueError
                    if any(not component.isdigit() for component in version_number):
                        raise ValueError("non digit in http version")
                    if any(len(component) > 10 for component in version_number):
                        raise ValueError("unreasonable length http version")
                    number = int(version_number[0]), int(version_number[1])
                except (ValueError, IndexError):
                    self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
                    return False
                if number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                    self.close_connection = False
                if number >= (2, 0):
                    self.send_error(
                        HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"Invalid HTTP version ({base_version_number})"
                    )
                    return False
                self.request_version = version

            if not 2 <= len(words) <= 3:
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({requestline!r})")
                return False
            command, path = words[:2]
            if len(words) == 2:
                self.close_connection = True
                if command != "GET":
                    self.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({command!r})")
                    return False
            self.command, self.path = command, path

            # gh-87389: '//' at the start would read as a URI without a scheme
            if self.path.startswith("//"):
                self.path = "/" + self.path.lstrip("/")  # Reduce to a single /

            try:
                self.headers = parse_headers(self.rfile)
            except http.client.LineTooLong as err:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(err))
                return False
            except http.client.HTTPException as err:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(err))
                return False

            conntype = self.headers.get("Connection", "")
            if conntype.lower() == "close":
                self.close_connection = True
            elif conntype.lower() == "keep-alive" and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            expect = self.headers.get("Expect", "")
            if (
                expect.lower() == "100-continue"
                and self.protocol_version >= "HTTP/1.1"
                and self.request_version >= "HTTP/1.1"
            ):
                return bool(self.handle_expect_100())
            return True

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            # http.server's own refusals (a header line over 64 KiB, a malformed request line, an unknown
            # method) and the bridge's: a problem document, not an HTML page, and the connection closes,
            # since what follows on it cannot be trusted to start a request.
            self.close_connection = True
            detail = explain or message or "refused"
            logger.warning("http request refused", extra={"status": code, "detail": detail})
            self._answer(
                code,
                {"content-type": "application/problem+json", "connection": "close"},
                problem_document(code, detail),
            )

        def _answer(
            self, status: int, headers: dict[str, str], data: bytes, cookies: Sequence[str] = ()
        ) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            for cookie in cookies:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(data)))
            # The headers and the body leave in one write (end_headers, then a write of the body, made
            # two system calls): what end_headers would send, then the body. An HTTP/0.9 answer has no
            # headers.
            answer = self.__dict__.pop("_headers_buffer", [])
            if self.request_version != "HTTP/0.9":
                answer.append(b"\r\n")
            if self.command != "HEAD" and status >= 200 and status not in (204, 304):
                answer.append(data)
            self.wfile.write(b"".join(answer))

        def _body(self) -> bytes | None:
            """The request body, or None once the request has been refused for its framing."""
            if self.headers.get("Transfer-Encoding"):
                self.send_error(
                    411, explain="send the body with a Content-Length; chunked bodies are not read"
                )
                return None
            lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
            if not lengths:
                return b""
            if len(lengths) > 1 or not _DIGITS.fullmatch(next(iter(lengths))):
                self.send_error(400, explain="Content-Length must be one whole number of bytes")
                return None
            length = int(next(iter(lengths)))
            if length > MAX_BODY_BYTES:
                self.send_error(413, explain=f"the body is {length} bytes; the limit is {MAX_BODY_BYTES}")
                return None
            try:
                body = self.rfile.read(length)
            except TimeoutError:
                body = b""
            if len(body) < length:
                self.send_error(
                    408,
                    explain=f"the body stopped at {len(body)} of {length} bytes; the connection is closed",
                )
                return None
            return body

        def _serve(self) -> None:
            body = self._body()
            if body is None:
                return
            try:
                event = to_event(
                    self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
                )
            except ValueError as exc:  # urlsplit refuses some targets, e.g. "http://[x/" (unclosed IPv6)
                self.send_error(400, explain=f"the request target is not a path: {exc}")
                return
            try:
                with one_at_a_time:
                    result = handler(event, LocalContext("ApiFunction", timeout_seconds=10))
            except Exception:
                # The Lambda runtime would log the traceback and API Gateway answer 502 (a proxy failed);
                # here the bridge is the runtime: it logs, and the error is the function's, a 500.
                request_id = event["requestContext"]["requestId"]
                logger.exception(
                    "unhandled error in the API function",
                    extra={"request_id": request_id, "method": self.command, "path": event["rawPath"]},
                )
                detail = f"internal error; the log has it under request id {request_id}"
                self._answer(500, {"content-type": "application/problem+json"}, problem_document(500, detail))
                return
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else str(payload).encode()
            headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
            self._answer(int(result.get("statusCode", 200)), headers, data, list(result.get("cookies") or []))

        def __getattr__(self, name: str) -> Any:
            # http.server looks up do_<METHOD> and answers 501 without one. Every method that is an HTTP
            # token (TRACE, QUERY, anything) reaches the function, which answers 405 where a path does not
            # serve it, as API Gateway would pass it on.
            if name.startswith("do_") and _METHOD.fullmatch(name[3:]):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the Lambda logger already writes one structured line per request

        def log_error(self, format: str, *args: Any) -> None:
            # only a timed-out connection reaches here (send_error logs its own): most are idle keep-alives
            logger.debug("http connection closed", extra={"reason": format % args})

    if listening is None:
        server = server_class((host, port), LambdaRequestHandler)
    else:
        server = server_class(listening.getsockname(), LambdaRequestHandler, bind_and_activate=False)
        server.socket.close()
        server.socket = listening
        server.server_address = listening.getsockname()
    server.daemon_threads = True
    return server
