"""Serve the API Lambda over local HTTP: each request becomes an API Gateway HTTP API (v2) event."""

from __future__ import annotations

import base64
import contextlib
import email.parser
import email.utils
import http.client
import json
import re
import selectors
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
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
# http.client's limits on a header block, which http.server applies to a request's (and its request line
# to the same length).
_MAX_LINE = 65536
_MAX_HEADERS = 100


def _plain_pairs(lines: Sequence[bytes]) -> list[tuple[str, str]] | None:
    """The (name, value) pairs of a header block read up to and including its blank line, or None when a
    line is anything but plain (the email package must read those)."""
    pairs = []
    for line in lines[:-1]:
        text = line.decode("iso-8859-1")
        if not _PLAIN_HEADER_LINE.fullmatch(text):
            return None
        name, _, value = text.partition(":")
        pairs.append((name, value.lstrip(" \t").rstrip("\r\n")))
    if lines and lines[-1] not in (b"\r\n", b"\n"):  # the stream ended inside the headers
        return None
    return pairs


def _email_parse(lines: Sequence[bytes]) -> http.client.HTTPMessage:
    whole = b"".join(lines).decode("iso-8859-1")
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(whole)


def header_pairs(lines: Sequence[bytes]) -> list[tuple[str, str]]:
    """What `parse_headers(...).items()` gives for these lines, as the bridge reads a request's headers:
    plain lines without building a message, anything unusual through the email package as before."""
    pairs = _plain_pairs(lines)
    return pairs if pairs is not None else _email_parse(lines).items()


def parse_headers(fp: Any) -> http.client.HTTPMessage:
    """What `http.client.parse_headers` returns, without running the email package's parser over the usual
    plain header lines (a fifth of an API process's Python time per webhook): the same limits on line
    length and count (the same exceptions), and anything unusual goes to the email package as before."""
    lines = http.client._read_headers(fp)  # type: ignore[attr-defined]  # LineTooLong / HTTPException
    pairs = _plain_pairs(lines)
    if pairs is None:
        return _email_parse(lines)
    message = http.client.HTTPMessage()
    for name, value in pairs:
        message.set_raw(name, value)
    return message


def problem_document(status: int, detail: str) -> bytes:
    """An RFC 9457 problem body, as the API's own errors have (api/problems.py), for what the bridge answers
    itself: malformed HTTP never reaches the function."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()


# What http.server's BaseHTTPRequestHandler sends: its Server header and its reason phrases.
_SERVER = f"{BaseHTTPRequestHandler.server_version} {BaseHTTPRequestHandler.sys_version}"
_REASONS = {code: phrase for code, (phrase, _) in BaseHTTPRequestHandler.responses.items()}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_PROBLEM_HEADERS = {"content-type": "application/problem+json", "connection": "close"}
# How far a connection has got with its request.
_REQUEST_LINE, _HEADERS, _BODY, _CLOSING, _LINGERING = range(5)
# After a refusal the bridge stops writing and reads what the client was still sending, for this long at
# most, before it closes: closing with unread bytes would send a reset that can destroy the answer.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 1024 * 1024


class _Connection:
    """One client connection and the request it is in the middle of."""

    __slots__ = (
        "active",
        "buffer",
        "close",
        "command",
        "discarded",
        "eof",
        "length",
        "lines",
        "out",
        "pairs",
        "path",
        "peer",
        "pos",
        "sock",
        "step",
        "version",
    )

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self.sock = sock
        self.peer = peer
        self.buffer = bytearray()
        self.pos = 0  # what the request so far has taken from the buffer
        self.eof = False  # the client has finished sending
        self.out = b""  # what the socket has not yet taken of an answer
        self.step = _REQUEST_LINE
        self.active = time.monotonic()  # when bytes last moved either way
        self.lines: list[bytes] = []
        self.pairs: list[tuple[str, str]] = []
        self.command: str | None = None
        self.path = ""
        self.version = "HTTP/0.9"
        self.close = True
        self.length = 0
        self.discarded = 0

    def readline(self, limit: int = _MAX_LINE + 1) -> bytes | None:
        """What `rfile.readline(limit)` would return once it could, or None while it would still wait."""
        buffer, pos = self.buffer, self.pos
        end = buffer.find(b"\n", pos, pos + limit)
        if end >= 0:
            self.pos = end + 1
        elif len(buffer) - pos >= limit:
            self.pos = pos + limit
        elif self.eof:
            self.pos = len(buffer)
            return bytes(buffer[pos:])
        else:
            return None
        return bytes(buffer[pos : self.pos])


class BridgeServer:
    """Serves `handler` over HTTP/1.1 from one thread: non-blocking sockets and a selector. A Lambda
    execution environment serves one request at a time, and the Powertools resolver keeps the current event
    on itself, so one thread serving every connection is what one instance is; a connection's bytes are
    read as they come, so a client that sends half a request holds up no other.

    What a client sees is what http.server's BaseHTTPRequestHandler gave it (the same request-line and
    header rules and limits, status lines and Server and Date headers, HTTP/0.9 answers, 100 Continue,
    keep-alive and `Connection: close`), except that every refusal is a problem document and closes the
    connection. A connection that sends nothing for `read_timeout_seconds` is closed; one that stops
    within a body is answered 408."""

    def __init__(
        self, listening: socket.socket, handler: Handler, read_timeout_seconds: float = 30.0
    ) -> None:
        self.socket = listening
        self.server_address = listening.getsockname()
        self.handler = handler
        self.timeout = read_timeout_seconds
        listening.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(listening, selectors.EVENT_READ, None)
        self._listening_paused_until = 0.0
        self._waker, self._wake = socket.socketpair()
        self._waker.setblocking(False)
        self._selector.register(self._waker, selectors.EVENT_READ, self._waker)
        self._connections: dict[socket.socket, _Connection] = {}
        self._again: list[_Connection] = []  # connections with another request already buffered
        self._shutdown_request = False
        self._is_shut_down = threading.Event()
        self._is_shut_down.set()
        self._date = (0, "")

    # Accepting: a subclass may hold back (FairShare, several processes on one socket).

    def accepting(self) -> bool:
        """Whether to accept a waiting connection now; False steps back for a millisecond."""
        return True

    def opened(self) -> None:
        """A connection was accepted."""

    def closed(self) -> None:
        """A connection was closed."""

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    def serve_forever(self, poll_interval: float = 0.5, until: Callable[[], bool] | None = None) -> None:
        """Serve until `shutdown()`, or until `until()` (asked every `poll_interval`) is true."""
        self._is_shut_down.clear()
        select = self._selector.select
        sweep_every = max(0.01, min(1.0, self.timeout / 4, poll_interval))
        next_sweep = time.monotonic() + sweep_every
        try:
            while not self._shutdown_request:
                if self._again:
                    timeout = 0.0
                else:
                    timeout = max(0.0, next_sweep - time.monotonic())
                    if self._listening_paused_until:
                        timeout = min(timeout, 0.001)
                for key, events in select(timeout):
                    connection = key.data
                    if connection is None:
                        self._accept()
                    elif connection is self._waker:
                        with contextlib.suppress(OSError):
                            self._waker.recv(64)
                    else:
                        if events & selectors.EVENT_WRITE:
                            self._flush(connection)
                        if events & selectors.EVENT_READ:
                            self._read(connection)
                if self._again:
                    again, self._again = self._again, []
                    for connection in again:
                        if connection.sock in self._connections:
                            self._advance(connection)
                now = time.monotonic()
                if self._listening_paused_until and now >= self._listening_paused_until:
                    self._listening_paused_until = 0.0
                    self._selector.register(self.socket, selectors.EVENT_READ, None)
                if now >= next_sweep:
                    next_sweep = now + sweep_every
                    self._sweep(now)
                    if until is not None and until():
                        break
        finally:
            self._shutdown_request = False
            self._is_shut_down.set()

    def shutdown(self) -> None:
        """Stop serve_forever (from another thread) and wait until it has."""
        self._shutdown_request = True
        with contextlib.suppress(OSError):
            self._wake.send(b"x")
        self._is_shut_down.wait()

    def server_close(self) -> None:
        for connection in list(self._connections.values()):
            self._close(connection)
        self._selector.close()
        self.socket.close()
        self._waker.close()
        self._wake.close()

    def _accept(self) -> None:
        if not self.accepting():
            self._selector.unregister(self.socket)
            self._listening_paused_until = time.monotonic() + 0.001
            return
        try:
            sock, address = self.socket.accept()
        except (BlockingIOError, InterruptedError):
            return  # another process took it
        except OSError as exc:  # out of descriptors, or the client gave up: try again shortly
            logger.warning("http accept failed", extra={"error": str(exc)})
            self._selector.unregister(self.socket)
            self._listening_paused_until = time.monotonic() + 0.05
            return
        sock.setblocking(False)
        # A 100 Continue and the answer leave in separate writes; without this Nagle + delayed ACK add ~40 ms.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = _Connection(sock, str(address[0]) if isinstance(address, tuple) else "")
        self._connections[sock] = connection
        self._selector.register(sock, selectors.EVENT_READ, connection)
        self.opened()

    def _read(self, connection: _Connection) -> None:
        try:
            data = connection.sock.recv(262144)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(connection)
            return
        connection.active = time.monotonic()
        if connection.step == _LINGERING:
            connection.discarded += len(data)
            if not data or connection.discarded > _LINGER_BYTES:
                self._close(connection)
            return
        if data:
            connection.buffer += data
        else:
            connection.eof = True  # what is buffered is served; then the connection closes
        self._advance(connection)

    def _advance(self, connection: _Connection) -> None:
        """Take the connection's request as far as its bytes allow; one request per call, so that a client
        with several buffered waits its turn behind the other connections."""
        while not connection.out:
            step = connection.step
            if step == _REQUEST_LINE:
                line = connection.readline()
                if line is None:
                    return
                if not self._request_line(connection, line):
                    return
            elif step == _HEADERS:
                while True:
                    line = connection.readline()
                    if line is None:
                        return
                    if len(line) > _MAX_LINE:
                        detail = f"got more than {_MAX_LINE} bytes when reading header line"
                        self._refuse(connection, 431, detail)
                        return
                    connection.lines.append(line)
                    if len(connection.lines) > _MAX_HEADERS:
                        self._refuse(connection, 431, f"got more than {_MAX_HEADERS} headers")
                        return
                    if line in (b"\r\n", b"\n", b""):
                        break
                if not self._head(connection):
                    return
            elif step == _BODY:
                end = connection.pos + connection.length
                if len(connection.buffer) < end:
                    if connection.eof:
                        self._short_body(connection)
                    return
                body = bytes(connection.buffer[connection.pos : end])
                del connection.buffer[:end]
                connection.pos = 0
                self._respond(connection, body)
                if connection.step == _REQUEST_LINE and (connection.buffer or connection.eof):
                    self._again.append(connection)
                return
            else:
                return

    def _request_line(self, connection: _Connection, raw: bytes) -> bool:
        """http.server's handle_one_request and parse_request up to the headers: False when the connection
        was refused or closed."""
        connection.command = None
        connection.version = version = "HTTP/0.9"
        connection.close = True
        if len(raw) > _MAX_LINE:
            connection.version = connection.command = ""
            self._refuse(connection, 414, "refused")
            return False
        if not raw:  # the client closed between requests
            self._close(connection)
            return False
        requestline = str(raw, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) == 0:
            self._close(connection)
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
                self._refuse(connection, 400, f"Bad request version ({version!r})")
                return False
            if number >= (1, 1):
                connection.close = False
            if number >= (2, 0):
                self._refuse(connection, 505, f"Invalid HTTP version ({base_version_number})")
                return False
            connection.version = version
        if not 2 <= len(words) <= 3:
            self._refuse(connection, 400, f"Bad request syntax ({requestline!r})")
            return False
        command, path = words[:2]
        if len(words) == 2:
            connection.close = True
            if command != "GET":
                self._refuse(connection, 400, f"Bad HTTP/0.9 request type ({command!r})")
                return False
        # gh-87389: '//' at the start would read as a URI without a scheme
        if path.startswith("//"):
            path = "/" + path.lstrip("/")  # Reduce to a single /
        connection.command, connection.path = command, path
        connection.lines = []
        connection.step = _HEADERS
        return True

    def _head(self, connection: _Connection) -> bool:
        """The rest of parse_request, then the body's framing: False when the connection was refused."""
        pairs = connection.pairs = header_pairs(connection.lines)
        connection.lines = []
        first: dict[str, str] = {}  # each name's first value, as Message.get reads it
        lengths = set()
        for name, value in pairs:
            lowered = name.lower()
            if lowered == "content-length":
                lengths.add(value.strip())
            elif lowered not in first:
                first[lowered] = value
        conntype, expect = first.get("connection", "").lower(), first.get("expect", "").lower()
        if conntype == "close":
            connection.close = True
        elif conntype == "keep-alive":
            connection.close = False
        if expect == "100-continue" and connection.version >= "HTTP/1.1":
            self._send(connection, _CONTINUE)
        command = connection.command or ""
        if not _METHOD.fullmatch(command):
            # http.server answered 501 for a method it had no do_ method for; every HTTP token reaches
            # the function, which answers 405 where a path does not serve it, as API Gateway would.
            self._refuse(connection, 501, f"Unsupported method ({command!r})")
            return False
        if first.get("transfer-encoding"):
            self._refuse(connection, 411, "send the body with a Content-Length; chunked bodies are not read")
            return False
        length = 0
        if lengths:
            if len(lengths) > 1 or not _DIGITS.fullmatch(next(iter(lengths))):
                self._refuse(connection, 400, "Content-Length must be one whole number of bytes")
                return False
            length = int(next(iter(lengths)))
            if length > MAX_BODY_BYTES:
                self._refuse(connection, 413, f"the body is {length} bytes; the limit is {MAX_BODY_BYTES}")
                return False
        del connection.buffer[: connection.pos]
        connection.pos = 0
        connection.length = length
        connection.step = _BODY
        return True

    def _short_body(self, connection: _Connection) -> None:
        have, length = len(connection.buffer) - connection.pos, connection.length
        detail = f"the body stopped at {have} of {length} bytes; the connection is closed"
        self._refuse(connection, 408, detail)

    def _respond(self, connection: _Connection, body: bytes) -> None:
        """Run the handler on the request and answer it."""
        command = connection.command or ""
        try:
            event = to_event(command, connection.path, dict(connection.pairs), body, connection.peer)
        except ValueError as exc:  # urlsplit refuses some targets, e.g. "http://[x/" (unclosed IPv6)
            self._refuse(connection, 400, f"the request target is not a path: {exc}")
            return
        connection.step = _REQUEST_LINE
        try:
            result = self.handler(event, LocalContext("ApiFunction", timeout_seconds=10))
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else str(payload).encode()
            headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
            answer = self._answer(
                connection,
                int(result.get("statusCode", 200)),
                headers,
                data,
                list(result.get("cookies") or []),
            )
        except Exception:
            # The Lambda runtime would log the traceback and API Gateway answer 502 (a proxy failed);
            # here the bridge is the runtime: it logs, and the error is the function's, a 500.
            request_id = event["requestContext"]["requestId"]
            logger.exception(
                "unhandled error in the API function",
                extra={"request_id": request_id, "method": command, "path": event["rawPath"]},
            )
            detail = f"internal error; the log has it under request id {request_id}"
            headers = {"content-type": "application/problem+json"}
            answer = self._answer(connection, 500, headers, problem_document(500, detail))
        if connection.close:
            connection.step = _CLOSING
        self._send(connection, answer)

    def _answer(
        self,
        connection: _Connection,
        status: int,
        headers: dict[str, str],
        data: bytes,
        cookies: Sequence[str] = (),
    ) -> bytes:
        """The answer's bytes as BaseHTTPRequestHandler's send_response, send_header and end_headers wrote
        them, the body in the same write. An HTTP/0.9 answer has no headers."""
        parts = []
        if connection.version != "HTTP/0.9":
            parts.append(f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nServer: {_SERVER}\r\n")
            parts.append(f"Date: {self._http_date()}\r\n")
        for name, value in headers.items():
            self._header(connection, parts, name, value)
        for cookie in cookies:
            self._header(connection, parts, "Set-Cookie", cookie)
        self._header(connection, parts, "Content-Length", str(len(data)))
        head = "".join(parts).encode("latin-1")
        if connection.version != "HTTP/0.9":
            head += b"\r\n"
        if connection.command != "HEAD" and status >= 200 and status not in (204, 304):
            return head + data
        return head

    @staticmethod
    def _header(connection: _Connection, parts: list[str], name: str, value: str) -> None:
        if connection.version != "HTTP/0.9":
            parts.append(f"{name}: {value}\r\n")
        if name.lower() == "connection":
            if value.lower() == "close":
                connection.close = True
            elif value.lower() == "keep-alive":
                connection.close = False

    def _http_date(self) -> str:
        now = time.time()
        second, text = self._date
        if int(now) != second:
            text = email.utils.formatdate(now, usegmt=True)
            self._date = (int(now), text)
        return text

    def _refuse(self, connection: _Connection, status: int, detail: str) -> None:
        """A problem document for what the bridge refuses itself, and the connection closes, since what
        follows on it cannot be trusted to start a request."""
        connection.close = True
        logger.warning("http request refused", extra={"status": status, "detail": detail})
        answer = self._answer(connection, status, _PROBLEM_HEADERS, problem_document(status, detail))
        connection.step = _CLOSING
        self._send(connection, answer)

    def _send(self, connection: _Connection, data: bytes) -> None:
        if connection.out:
            connection.out += data
            return
        try:
            sent = connection.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:  # the client has gone
            self._close(connection)
            return
        connection.active = time.monotonic()
        if sent < len(data):
            connection.out = data[sent:]
            self._selector.modify(connection.sock, selectors.EVENT_WRITE, connection)
        elif connection.step == _CLOSING:
            self._linger(connection)

    def _flush(self, connection: _Connection) -> None:
        try:
            sent = connection.sock.send(connection.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(connection)
            return
        connection.active = time.monotonic()
        connection.out = connection.out[sent:]
        if connection.out:
            return
        if connection.step == _CLOSING:
            self._linger(connection)
            return
        self._selector.modify(connection.sock, selectors.EVENT_READ, connection)
        self._advance(connection)

    def _linger(self, connection: _Connection) -> None:
        """The answer has gone: end the stream, and read what the client still sends until it closes."""
        if connection.eof:
            self._close(connection)
            return
        try:
            connection.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(connection)
            return
        connection.step = _LINGERING
        connection.buffer = bytearray()
        connection.pos = 0
        self._selector.modify(connection.sock, selectors.EVENT_READ, connection)

    def _close(self, connection: _Connection) -> None:
        if self._connections.pop(connection.sock, None) is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)
        connection.sock.close()
        self.closed()

    def _sweep(self, now: float) -> None:
        """Time out connections that have not moved for the read timeout (lingering ones sooner)."""
        for connection in list(self._connections.values()):
            idle = now - connection.active
            if connection.step == _LINGERING:
                if idle >= min(_LINGER_SECONDS, self.timeout):
                    self._close(connection)
            elif idle < self.timeout:
                continue
            elif connection.step == _BODY and not connection.out:
                self._short_body(connection)
            else:
                # an idle keep-alive, a request that stopped before its headers ended, or a client that
                # does not read its answer
                logger.debug("http connection closed", extra={"reason": "Request timed out"})
                self._close(connection)


def make_server(
    host: str,
    port: int,
    handler: Handler,
    *,
    read_timeout_seconds: float = 30.0,
    listening: socket.socket | None = None,
    server_class: type[BridgeServer] = BridgeServer,
) -> BridgeServer:
    """Serve `handler` over HTTP/1.1 (`serve_forever`). A client that stops sending mid-request is dropped
    after `read_timeout_seconds` (an idle keep-alive connection too).

    `listening`: a socket already bound and listening, shared by several API processes (the local stack's),
    each accepting the connections it is free to take; `host` and `port` are then ignored."""
    if listening is None:
        listening = socket.create_server((host, port), backlog=128)
    return server_class(listening, handler, read_timeout_seconds)
