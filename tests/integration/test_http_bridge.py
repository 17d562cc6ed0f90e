"""The local HTTP server (`make run`) as a raw client sees it: malformed framing gets a 4xx problem document
and the connection closes, nothing waits for a body that never comes, a slow client holds up no other, and
an unhandled error is logged with its traceback and answered 500."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.client import HTTPResponse
from typing import Any
from urllib.parse import urlsplit

import pytest
from optionflow import observability
from optionflow.local.http_bridge import make_server

from tests.api_events import token


def address(base: str) -> tuple[str, int]:
    url = urlsplit(base)
    return str(url.hostname), int(url.port or 80)


class Answer:
    def __init__(self, sock: socket.socket, method: str) -> None:
        response = HTTPResponse(sock, method=method)
        response.begin()
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()
        sock.settimeout(2)
        try:
            self.closed = sock.recv(1) == b""
        except TimeoutError:
            self.closed = False

    def problem(self) -> dict[str, Any]:
        assert self.headers["Content-Type"] == "application/problem+json"
        document = json.loads(self.body)
        assert document["status"] == self.status
        return dict(document)


def exchange(base: str, raw: bytes, method: str = "GET") -> Answer:
    with socket.create_connection(address(base), timeout=10) as sock:
        sock.sendall(raw)
        return Answer(sock, method)


@pytest.fixture
def server_of() -> Iterator[Any]:
    """Start a bridge around any handler, with a short read timeout."""
    servers = []

    def start(handler: Any, read_timeout_seconds: float = 0.5) -> str:
        server = make_server("127.0.0.1", 0, handler, read_timeout_seconds=read_timeout_seconds)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_200_kb_token_is_a_431_problem_document_not_an_html_page(api_server):
    answer = exchange(
        api_server, b"GET /signals HTTP/1.1\r\nAuthorization: Bearer " + b"e" * 200_000 + b"\r\n\r\n"
    )
    assert answer.status == 431
    assert answer.problem()["title"] == "Request Header Fields Too Large"
    assert answer.closed


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "0x10", "\u00b2"])
def test_a_content_length_that_is_not_a_whole_number_is_a_400_and_the_connection_closes(api_server, length):
    raw = f"POST /webhook HTTP/1.1\r\nContent-Length: {length}\r\n\r\n{{}}".encode("latin-1")
    answer = exchange(api_server, raw)
    assert answer.status == 400
    assert "Content-Length" in answer.problem()["detail"]
    assert answer.closed


def test_two_different_content_lengths_are_a_400(api_server):
    answer = exchange(
        api_server, b"POST /webhook HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    )
    assert answer.status == 400
    assert answer.closed


def test_a_chunked_body_is_a_411_asking_for_a_content_length(api_server):
    raw = b"POST /webhook HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    answer = exchange(api_server, raw)
    assert answer.status == 411
    assert answer.closed


def test_a_content_length_past_the_body_limit_is_a_413_without_reading_it(api_server):
    answer = exchange(api_server, b"POST /webhook HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\n{}")
    assert answer.status == 413
    assert answer.closed


def test_a_body_shorter_than_its_content_length_is_a_408_after_the_read_timeout(server_of):
    from api.app import lambda_handler

    base = server_of(lambda_handler, read_timeout_seconds=0.5)
    answer = exchange(base, b"POST /webhook HTTP/1.1\r\nContent-Length: 100\r\n\r\n{}")
    assert answer.status == 408
    assert answer.closed


@pytest.mark.parametrize("method", ["QUERY", "BREW", "PROPFIND"])
def test_a_method_http_server_does_not_know_reaches_the_api_and_is_a_405_with_allow(api_server, method):
    answer = exchange(api_server, f"{method} /health HTTP/1.1\r\nConnection: close\r\n\r\n".encode())
    assert (answer.status, answer.headers["Allow"]) == (405, "GET, HEAD, OPTIONS")
    assert answer.problem()["title"] == "Method not allowed"


def test_a_method_that_is_not_an_http_token_is_a_501_problem_document(api_server):
    answer = exchange(api_server, b"GET(x) /health HTTP/1.1\r\n\r\n")
    assert answer.status == 501
    assert answer.problem()["title"] == "Not Implemented"


def test_a_request_target_that_is_not_a_path_is_a_400(api_server):
    answer = exchange(api_server, b"GET http://[x/ HTTP/1.1\r\n\r\n")
    assert answer.status == 400
    assert answer.closed


def test_trace_is_a_405_problem_head_answers_as_get_and_options_lists_methods(api_server):
    trace = exchange(api_server, b"TRACE /health HTTP/1.1\r\nConnection: close\r\n\r\n", "TRACE")
    assert (trace.status, trace.headers["Allow"]) == (405, "GET, HEAD, OPTIONS")
    assert trace.problem()["title"] == "Method not allowed"

    head = exchange(api_server, b"HEAD /health HTTP/1.1\r\nConnection: close\r\n\r\n", "HEAD")
    assert head.status == 200
    assert int(head.headers["Content-Length"]) > 0 and head.body == b""

    auth = f"Authorization: Bearer {token('read')}\r\n".encode()
    options = exchange(
        api_server, b"OPTIONS /signals HTTP/1.1\r\n" + auth + b"Connection: close\r\n\r\n", "OPTIONS"
    )
    assert (options.status, options.headers["Allow"]) == (204, "GET, HEAD, OPTIONS")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.logger.registered_formatter)
    observability.logger.addHandler(handler)
    yield stream
    observability.logger.removeHandler(handler)


def test_an_unhandled_exception_is_logged_with_traceback_and_request_id_and_answered_500(
    server_of, log_lines
):
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("the handler broke")

    answer = exchange(server_of(broken), b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert answer.status == 500  # not 502: no proxy failed, the function did
    detail = answer.problem()["detail"]
    logged = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.startswith("{")]
    (line,) = [entry for entry in logged if entry["message"] == "unhandled error in the API function"]
    assert line["request_id"] in detail
    assert "RuntimeError: the handler broke" in line["exception"]
    assert "the handler broke" not in detail


def test_a_keep_alive_connection_serves_one_request_after_another(api_server):
    with socket.create_connection(address(api_server), timeout=10) as sock:
        for _ in range(2):
            sock.sendall(b"GET /health HTTP/1.1\r\n\r\n")
            response = HTTPResponse(sock)
            response.begin()
            assert response.status == 200
            response.read()


def test_an_api_process_s_request_threads_share_one_database_connection_as_one_lambda_instance(db):
    import threading

    from optionflow.db import connection

    seen: list[int] = []

    def request() -> None:
        seen.append(id(connection.get_connection()))

    connection.one_connection_per_process()
    try:
        threads = [threading.Thread(target=request) for _ in range(3)]
        for thread in threads:
            thread.start()
            thread.join()
        assert len(set(seen)) == 1
    finally:
        connection._local = threading.local()
        connection.set_database_url(connection._url_override)


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A handler that answers with what it was given."""
    seen = {"method": event["requestContext"]["http"]["method"], "path": event["rawPath"]}
    seen["body"] = event.get("body")
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(seen)}


def test_a_client_that_sends_half_a_request_holds_up_no_other_connection(server_of):
    base = server_of(echo, read_timeout_seconds=5)
    with (
        socket.create_connection(address(base), timeout=10) as half_line,
        socket.create_connection(address(base), timeout=10) as half_body,
    ):
        half_line.sendall(b"GET /hea")
        half_body.sendall(b"POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.1)
        started = time.monotonic()
        answer = exchange(base, b"GET /other HTTP/1.1\r\nConnection: close\r\n\r\n")
        assert answer.status == 200 and json.loads(answer.body)["path"] == "/other"
        assert time.monotonic() - started < 2  # not after the other two's 5 s read timeout
        half_line.sendall(b"lth HTTP/1.1\r\nConnection: close\r\n\r\n")
        assert Answer(half_line, "GET").status == 200


def test_a_request_that_arrives_a_byte_at_a_time_is_answered_as_if_sent_whole(server_of):
    base = server_of(echo, read_timeout_seconds=5)
    raw = b"POST /slow?x=1 HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    with socket.create_connection(address(base), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(raw)):
            sock.sendall(raw[i : i + 1])
            time.sleep(0.001)
        answer = Answer(sock, "POST")
    assert answer.status == 200
    assert json.loads(answer.body) == {"method": "POST", "path": "/slow", "body": "hello"}
    assert answer.closed


def test_an_idle_keep_alive_connection_is_closed_after_the_read_timeout(server_of):
    base = server_of(echo, read_timeout_seconds=0.3)
    with socket.create_connection(address(base), timeout=10) as sock:
        sock.sendall(b"GET /a HTTP/1.1\r\n\r\n")
        response = HTTPResponse(sock)
        response.begin()
        response.read()
        assert response.status == 200
        started = time.monotonic()
        assert sock.recv(1) == b""  # the server closed it
        assert 0.25 < time.monotonic() - started < 3


def test_connection_close_is_honoured_and_pipelined_requests_are_answered_in_order(server_of):
    base = server_of(echo)
    raw = (
        b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /3 HTTP/1.1\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n"
    )
    with socket.create_connection(address(base), timeout=10) as sock:
        sock.sendall(raw)
        received = sock.makefile("rb").read()  # until the server closes the connection

    class Kept(io.BytesIO):
        def close(self) -> None:  # HTTPResponse closes its file after each body
            pass

    stream = Kept(received)

    class Stream:
        def makefile(self, mode: str) -> Any:
            return stream

    seen = []
    for _ in range(3):
        response = HTTPResponse(Stream())  # type: ignore[arg-type]
        response.begin()
        seen.append(json.loads(response.read()))
    assert stream.read() == b""  # nothing after the third: /never was not answered
    assert [(s["method"], s["path"], s["body"]) for s in seen] == [
        ("GET", "/1", None),
        ("POST", "/2", "abc"),
        ("GET", "/3", None),
    ]


def test_expect_100_continue_is_answered_before_the_body_is_sent(server_of):
    base = server_of(echo)
    with socket.create_connection(address(base), timeout=10) as sock:
        sock.sendall(
            b"POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"{}")
        answer = Answer(sock, "POST")
    assert answer.status == 200 and json.loads(answer.body)["body"] == "{}"


def test_http_0_9_gets_a_bare_body_and_http_2_0_a_bare_505_problem_document(server_of):
    # as http.server answers them: an HTTP/0.9 answer has no status line or headers, and a request line
    # whose version is refused is answered before a version was accepted, so in the same way
    base = server_of(echo)
    with socket.create_connection(address(base), timeout=10) as sock:
        sock.sendall(b"GET /old\r\n\r\n")
        assert json.loads(sock.makefile("rb").read()) == {"method": "GET", "path": "/old", "body": None}
    with socket.create_connection(address(base), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/2.0\r\n\r\n")
        document = json.loads(sock.makefile("rb").read())
    assert (document["status"], document["title"]) == (505, "HTTP Version Not Supported")


def test_a_request_line_over_64_kib_is_a_414_and_over_100_header_lines_a_431(server_of):
    base = server_of(echo)
    answer = exchange(base, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
    assert answer.status == 414 and answer.problem()["title"] == "Request-URI Too Long"
    assert answer.closed
    many = b"".join(b"X%d: y\r\n" % i for i in range(100))
    answer = exchange(base, b"GET / HTTP/1.1\r\n" + many + b"\r\n")
    assert answer.status == 431 and answer.problem()["detail"] == "got more than 100 headers"
    assert answer.closed


def test_a_refusal_reaches_a_client_that_is_still_sending_its_body(server_of):
    base = server_of(echo)
    with socket.create_connection(address(base), timeout=10) as sock:
        sock.sendall(b"POST /big HTTP/1.1\r\nContent-Length: 20000000\r\n\r\n")
        time.sleep(0.2)  # the server answers 413 meanwhile; the client sends on before it looks
        for _ in range(64):
            sock.sendall(b"z" * 8192)
        time.sleep(0.2)
        answer = Answer(sock, "POST")
    assert answer.status == 413 and answer.closed
