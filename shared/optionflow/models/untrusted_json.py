"""Untrusted JSON: the one place where request bytes become data, and the limits on what is accepted.

Every JSON body the API reads comes through `loads`: the webhook's alerts and the bodies of the settings and
worker routes. Whatever it returns can be stored as Postgres jsonb, read back, listed and serialised again.
It refuses, naming the field (a dotted path such as `extra.levels[3]`) or `body` for the whole:

- a body over `MAX_BODY_BYTES` (16 KiB; the webhook's own limit is `Settings.max_webhook_bytes`, also
  16 KiB): 413;
- text that is not JSON, or objects and arrays nested deeper than `MAX_DEPTH` (32) levels: 400. Python's
  parser gives up near 1,000 levels, and the response serialiser near 255;
- a number written with more than `MAX_NUMBER_CHARS` (40) characters: 422. Python refuses to convert an
  integer of more than 4,300 digits, and no alert field needs more than 20;
- `NaN`, `Infinity`, `-Infinity` and numbers beyond a double's range such as `1e999`: 422. JSON has no such
  values and jsonb refuses them;
- an unpaired UTF-16 surrogate (`"\\ud800"` alone) in a string or a key: 422. It is not text: UTF-8 cannot
  encode it, so neither Postgres nor a log line can hold it;
- NUL (`"\\u0000"`) in a string or a key: 422. Postgres text and jsonb cannot hold it;
- a key repeated in one object: 422. Parsers disagree on which value wins (Python's takes the last, others
  the first), so `{"action":"BUY","action":"SELL"}` means different trades to different readers.

Rows stored before these limits existed are read back through `read_stored` and `within_depth`, so one
stored payload can never break a listing.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_BODY_BYTES = 16 * 1024
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 40
# A refusal names at most this much of the field's path: a hostile key can be kilobytes long.
_MAX_PATH_CHARS = 200
# What a stored value nested deeper than MAX_DEPTH shows instead, when read back.
TOO_DEEP = f"(nested deeper than {MAX_DEPTH} levels: not shown)"
UNREADABLE = "unreadable"


class RefusedJson(ValueError):
    """The body cannot be accepted. `status` is the HTTP answer; `field` is a dotted path or `body`."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


class _Refused:
    """A number the parser met that cannot be accepted; reported with its path once the walk finds it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a number JSON can carry; send a finite number or a string")


def _float(text: str) -> float | _Refused:
    if len(text) > MAX_NUMBER_CHARS:
        return _Refused(f"a number of {len(text)} characters is longer than {MAX_NUMBER_CHARS}")
    value = float(text)
    if not math.isfinite(value):
        return _Refused(f"{text} is beyond the range of a finite number")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any] | _Refused:
    value = dict(pairs)
    if len(value) == len(pairs):
        return value
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _Refused(f"the key {_printable(key)!r} appears more than once; send each key once")
        seen.add(key)
    raise AssertionError("unreachable: fewer keys than pairs means a key repeats")


def _int(text: str) -> int | _Refused:
    if len(text) > MAX_NUMBER_CHARS:
        return _Refused(f"a number of {len(text)} characters is longer than {MAX_NUMBER_CHARS}")
    return int(text)


def loads(raw: bytes | str, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """Parse a request body. Raises RefusedJson (413, 400 or 422) naming the field or `body`."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise RefusedJson(413, "body", f"is {size} bytes; the limit is {max_bytes}")
    try:
        value = json.loads(
            raw, parse_float=_float, parse_int=_int, parse_constant=_constant, object_pairs_hook=_object
        )
    except RecursionError:
        # the C parser stops itself cleanly near the interpreter's recursion limit (about 1,000 levels)
        raise RefusedJson(400, "body", f"is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError (bytes that are not UTF-8/16/32)
        raise RefusedJson(400, "body", f"is not valid JSON ({exc})") from None
    refusal = _first_refusal(value, "", 0)
    if refusal is not None:
        raise refusal
    return value


def _first_refusal(value: Any, path: str, depth: int) -> RefusedJson | None:
    """The first thing in `value` that cannot be accepted, depth first; at most MAX_DEPTH frames deep."""
    if isinstance(value, str):
        problem = _text_problem(value)
        return RefusedJson(422, path or "body", problem) if problem else None
    if isinstance(value, _Refused):
        return RefusedJson(422, path or "body", value.reason)
    if not isinstance(value, dict | list):
        return None
    if depth >= MAX_DEPTH:
        return RefusedJson(400, path or "body", f"is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_refusal(item, _at(path, f"[{index}]"), depth + 1)
            if found is not None:
                return found
        return None
    for key, item in value.items():
        here = _at(path, f".{_printable(key)}" if path else _printable(key))
        problem = _text_problem(key)
        if problem:
            return RefusedJson(422, here, f"the key {problem}")
        found = _first_refusal(item, here, depth + 1)
        if found is not None:
            return found
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired surrogate (such as \\ud800), which is not text"
    return None


def _printable(key: str) -> str:
    # The path goes into a problem document and a log line: neither may carry the characters refused here.
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def _at(path: str, step: str) -> str:
    joined = path + step
    return joined if len(joined) <= _MAX_PATH_CHARS else joined[: _MAX_PATH_CHARS - 1] + "…"


def read_stored(text: str | bytes) -> Any:
    """A jsonb value as the driver hands it over. A value this process cannot parse (stored before the
    limits above, nested past the interpreter's recursion limit) reads as a note instead of failing the
    whole query that returned it."""
    try:
        return json.loads(text)
    except (RecursionError, ValueError):
        return {UNREADABLE: f"stored JSON nested deeper than this API can read back (limit {MAX_DEPTH})"}


def within_depth(value: Any, depth: int = 0) -> Any:
    """`value` with whatever is nested deeper than MAX_DEPTH replaced by TOO_DEEP, so that it serialises."""
    if not isinstance(value, dict | list):
        return value
    if depth >= MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, list):
        return [within_depth(item, depth + 1) for item in value]
    return {key: within_depth(item, depth + 1) for key, item in value.items()}
