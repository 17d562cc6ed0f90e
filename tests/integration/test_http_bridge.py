"""The local HTTP server (`make run`) as a raw client sees it: malformed framing gets a 4xx problem document
and the connection closes, no thread waits for a body that never comes, and an unhandled error is logged
with its traceback and answered 500."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
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
