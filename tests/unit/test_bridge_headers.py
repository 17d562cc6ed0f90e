"""The local bridge reads request headers itself (http_bridge.parse_headers, and header_pairs as its server
does) and must read them exactly as http.client.parse_headers does: the same names and values in the same
order, the same refusals."""

from __future__ import annotations

import http.client
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optionflow.local.http_bridge import header_pairs, parse_headers


def both(raw: bytes) -> tuple[object, object]:
    def read(parse: object) -> object:
        try:
            message = parse(io.BytesIO(raw))  # type: ignore[operator]
        except http.client.HTTPException as exc:
            return type(exc), str(exc)
        return (
            message.items(),
            [message.get_all(name) for name in ("Content-Length", "content-length", "Host", "X")],
            message.get("Connection", ""),
            message.get("Expect", ""),
        )

    return read(parse_headers), read(http.client.parse_headers)


CASES = [
    b"\r\n",
    b"Host: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n",
    b"content-length:  7  \r\nX:\r\nX:\t tab\r\n\r\n",
    b"Host: x\nConnection: close\n\n",
    b"X: folded\r\n  continuation\r\n\r\n",
    b"\tleading tab\r\nX: y\r\n\r\n",
    b"From someone\r\nX: y\r\n\r\n",
    b"From : x\r\n\r\n",
    b"no colon here\r\nX: y\r\n\r\n",
    b": no name\r\nX: y\r\n\r\n",
    b"X: bare\rcr\r\n\r\n",
    b"X: a\r\r\n\r\n",
    b"Name With Space: v\r\n\r\n",
    b"X: caf\xe9 \x85 \x0b\x0c\r\n\r\n",
    b"X: y\r\n",  # the stream ends before the blank line
    b"X: y",
    b"",
    b"X: " + b"e" * 70_000 + b"\r\n\r\n",  # LineTooLong
    b"".join(b"X%d: y\r\n" % i for i in range(101)) + b"\r\n",  # too many headers
    b"Expect: 100-continue\r\nConnection: keep-alive\r\n\r\n",
]


def pairs_as_http_client_reads_them(raw: bytes) -> None:
    try:
        stdlib = http.client.parse_headers(io.BytesIO(raw)).items()
    except http.client.HTTPException:
        return  # refused before the lines are read as headers (the server's limits: test_http_bridge)
    lines = http.client._read_headers(io.BytesIO(raw))  # type: ignore[attr-defined]
    assert header_pairs(lines) == stdlib


@pytest.mark.parametrize("raw", CASES)
def test_each_header_block_reads_as_http_client_reads_it(raw):
    lean, stdlib = both(raw)
    assert lean == stdlib
    pairs_as_http_client_reads_them(raw)


LINE = st.text(alphabet=st.sampled_from(list("Xx-: \t\r\nF\xe9om;\x0b\x85")), max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE, max_size=6))
def test_any_header_block_reads_as_http_client_reads_it(lines):
    raw = "".join(lines).encode("iso-8859-1") + b"\r\n\r\n"
    lean, stdlib = both(raw)
    assert lean == stdlib
    pairs_as_http_client_reads_them(raw)
