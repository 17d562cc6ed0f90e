"""`make profile`: where the webhook's and the pipeline's time goes, measured on the current code against a
real Postgres (DATABASE_URL or embedded, as `make bench`).

Prints three parts; nothing here asserts:
1. the webhook in process (no HTTP): Postgres (time inside the driver) against Python per request, Python
   split by cProfile into the handler's decorators, body parsing, alert validation, the insert call and the
   response; then the HTTP layer's own cost (the local bridge with a no-op handler) beside the bridge with
   the real handler;
2. the pipeline at scale (PROFILE_SIGNALS accepted signals, 3,000 by default): each stage's wall time,
   Python CPU, Postgres time, statements and round trips per signal, its top statements and its top Python
   functions;
3. the fast path one alert at a time (each worker run handles one alert, as when alerts arrive apart):
   round trips per alert, by worker and by statement.

Statements are counted by a connection subclass that every connection of this process is opened with
(psycopg2's own `connection_factory`): its cursors time `execute`, `executemany` and `copy_expert`, and a
BEGIN (which psycopg2 sends before the first statement of a transaction) and a COMMIT or ROLLBACK are
counted as the round trips they are. Timings are wall clock, so on a busy machine they move; the counts
and the proportions do not.
"""

from __future__ import annotations

import cProfile
import logging
import os
import pstats
import re
import statistics
import sys
import sysconfig
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from benchmarks.run import (
    MONDAY_10AM,
    PREFIX,
    ROOT,
    SECRET,
    alert_body,
    cpu_seconds,
    fresh_database,
    http_clients,
    http_floor,
    webhook_in_process,
)

WEBHOOK_REQUESTS = int(os.environ.get("PROFILE_REQUESTS", "2000"))
SIGNALS = int(os.environ.get("PROFILE_SIGNALS", "3000"))
FAST_PATH_ALERTS = int(os.environ.get("PROFILE_ALERTS", "50"))
WARM_UP = 200


# -- counting statements and round trips ----------------------------------------------------------------


class Tally:
    """What the driver did while this tally was the recorder's: statements (each call to the server, one
    round trip, even when its text holds two statements; an `executemany` of n rows is n), BEGINs and
    COMMITs/ROLLBACKs sent, wall seconds inside those calls, and per query text
    [count, seconds]."""

    def __init__(self) -> None:
        self.statements = 0
        self.begins = 0
        self.ends = 0
        self.seconds = 0.0
        self.queries: dict[str | bytes, list[float]] = {}
        self.wall = 0.0  # filled in by whoever drives the work (the fast path's worker runs)
        self.cpu = 0.0
        self.runs = 0

    @property
    def round_trips(self) -> int:
        return self.statements + self.begins + self.ends

    def add(self, other: Tally) -> None:
        self.statements += other.statements
        self.begins += other.begins
        self.ends += other.ends
        self.seconds += other.seconds
        self.wall += other.wall
        self.cpu += other.cpu
        self.runs += other.runs
        for query, (count, seconds) in other.queries.items():
            slot = self.queries.setdefault(query, [0, 0.0])
            slot[0] += count
            slot[1] += seconds


class Recorder:
    """The tally the counted connections write to now; `into` switches it for a stage or a worker run."""

    def __init__(self) -> None:
        self.tally = Tally()

    @contextmanager
    def into(self, tally: Tally) -> Iterator[Tally]:
        previous, self.tally = self.tally, tally
        try:
            yield tally
        finally:
            self.tally = previous

    def statement(self, query: str | bytes, count: int, begin: bool, seconds: float) -> None:
        tally = self.tally
        tally.statements += count
        tally.begins += begin
        tally.seconds += seconds
        slot = tally.queries.get(query)
        if slot is None:
            slot = tally.queries[query] = [0, 0.0]
        slot[0] += count
        slot[1] += seconds

    def end(self, seconds: float) -> None:
        self.tally.ends += 1
        self.tally.seconds += seconds


RECORDER = Recorder()


def _timed(cur: Any, query: Any, count: int, call: Callable[[], Any]) -> Any:
    conn = cur.connection
    # psycopg2 opens a transaction with its own BEGIN before the first statement outside autocommit
    begin = not conn.autocommit and conn.status == psycopg2.extensions.STATUS_READY
    start = time.perf_counter()
    try:
        return call()
    finally:
        elapsed = time.perf_counter() - start
        text = query if isinstance(query, str | bytes) else query.as_string(cur)  # psycopg2.sql
        RECORDER.statement(text, count, begin, elapsed)


class CountedCursor(psycopg2.extensions.cursor):
    """A cursor whose round trips are recorded; mixed into whatever cursor class the code asks for."""

    def execute(self, query: Any, vars: Any = None) -> Any:
        return _timed(self, query, 1, lambda: super(CountedCursor, self).execute(query, vars))

    def executemany(self, query: Any, vars_list: Any) -> Any:
        rows = list(vars_list)
        return _timed(self, query, len(rows), lambda: super(CountedCursor, self).executemany(query, rows))

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> Any:
        return _timed(self, sql, 1, lambda: super(CountedCursor, self).copy_expert(sql, file, size))


_COUNTED: dict[type, type] = {psycopg2.extensions.cursor: CountedCursor}


def _counted(cursor_class: type) -> type:
    counted = _COUNTED.get(cursor_class)
    if counted is None:
        counted = _COUNTED[cursor_class] = type(
            f"Counted{cursor_class.__name__}", (CountedCursor, cursor_class), {}
        )
    return counted


class CountedConnection(psycopg2.extensions.connection):
    """A connection whose cursors count their statements and whose COMMIT and ROLLBACK are counted when
    they are sent (psycopg2 sends nothing when no transaction is open)."""

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        requested: Any = kwargs.get("cursor_factory") or self.cursor_factory
        requested = requested or psycopg2.extensions.cursor
        kwargs["cursor_factory"] = _counted(requested)
        return super().cursor(*args, **kwargs)

    def commit(self) -> None:
        self._end(super().commit)

    def rollback(self) -> None:
        self._end(super().rollback)

    def _end(self, call: Callable[[], None]) -> None:
        if self.status != psycopg2.extensions.STATUS_BEGIN:
            call()
            return
        start = time.perf_counter()
        try:
            call()
        finally:
            RECORDER.end(time.perf_counter() - start)


@contextmanager
def counted_connections() -> Iterator[None]:
    """Every connection this thread opens meanwhile is a CountedConnection: the application connects
    through `psycopg2.connect`, which takes the class it is given. The thread's connection is closed on the
    way in and out, so the one the application holds is counted inside and plain again after."""
    from optionflow.db.connection import close_connection

    original = psycopg2.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("connection_factory", CountedConnection)
        return original(*args, **kwargs)

    close_connection()
    psycopg2.connect = connect
    try:
        yield
    finally:
        psycopg2.connect = original
        close_connection()


_NAMED = re.compile(r"%\(\w+\)s")
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w$.])-?\d+(?:\.\d+)?\b")
_LIST = re.compile(r"\?(?:\s*,\s*\?)+")
_ROWS = re.compile(r"\(([^()]*)\)(?:\s*,\s*\([^()]*\))+")
_SPACE = re.compile(r"\s+")


def normalised(query: str | bytes) -> str:
    """The statement without its values: literals and parameters as ?, lists and VALUES rows folded."""
    text = query.decode(errors="replace") if isinstance(query, bytes) else query
    text = _SPACE.sub(" ", text).strip().replace("%s", "?")
    text = _NAMED.sub("?", text)
    text = _NUMBER.sub("?", _LITERAL.sub("?", text))
    return _ROWS.sub(r"(\1), …", _LIST.sub("?, …", text))


def by_statement(tally: Tally) -> list[tuple[str, int, float]]:
    """(normalised text, count, seconds), most time first."""
    merged: dict[str, list[float]] = {}
    for query, (count, seconds) in tally.queries.items():
        slot = merged.setdefault(normalised(query), [0, 0.0])
        slot[0] += count
        slot[1] += seconds
    return sorted(((text, int(c), s) for text, (c, s) in merged.items()), key=lambda row: -row[2])


# -- helpers ----------------------------------------------------------------------------------------------


@contextmanager
def logs_discarded() -> Iterator[None]:
    """The application's log lines are formatted and written as usual (their cost is part of the
    profile), into /dev/null instead of this report."""
    from optionflow.observability import logger

    handlers = [h for h in logging.getLogger(logger.name).handlers if isinstance(h, logging.StreamHandler)]
    with open(os.devnull, "w") as sink:
        previous = [h.setStream(sink) for h in handlers]
        try:
            yield
        finally:
            for handler, stream in zip(handlers, previous, strict=True):
                if stream is not None:
                    handler.setStream(stream)


def use_database(url: str) -> None:
    """Point this process at `url`, with a clock read afresh from that book (each book keeps its own)."""
    from optionflow import clock
    from optionflow.db.connection import set_database_url

    set_database_url(url)
    clock.set_clock(None)


def scalar(sql: str) -> Any:
    """One value read on the process's database, outside any tally."""
    from optionflow.db.connection import get_connection

    with RECORDER.into(Tally()):
        conn = get_connection()
        with conn.cursor() as cur:
            cur.execute(sql)
            row = cur.fetchone()
        conn.rollback()
    return None if row is None else row[0]


def backend_cpu() -> float | None:
    """CPU seconds of the Postgres backend serving this thread's connection (None: not on this machine)."""
    from optionflow.db.connection import get_connection

    with RECORDER.into(Tally()):
        pid = get_connection().info.backend_pid
    return cpu_seconds(pid)


def code_key(function: Any) -> tuple[str, int, str] | None:
    """The key cProfile files `function` under, or None when it has no code of its own."""
    code = getattr(function, "__code__", None)
    return None if code is None else (code.co_filename, code.co_firstlineno, code.co_name)


def attribute(module: str, name: str) -> Any:
    """`module.name`, or None when the code has moved (this script reads the code it profiles, which
    changes under it)."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def where(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        # Python 3.11's cProfile files a C method called from a Python method of a C type's subclass (the
        # driver's execute, called from a cursor's) under the caller's name
        return f"C code called by {name.split(' at 0x')[0][10:]}" if name.startswith("<function ") else name
    for marker in ("site-packages/", str(ROOT) + "/", sysconfig.get_paths()["stdlib"] + "/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({name})"


_DRIVER_CALLS = ("<function CountedCursor.", "<function CountedConnection.")  # see `where`


def top_functions(profile: cProfile.Profile, count: int) -> list[tuple[str, int, float, float]]:
    """(function, calls, own seconds, cumulative seconds), most own time first; the driver's round trips
    (the Postgres time, reported apart) left out."""
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    here = CountedCursor.execute.__code__.co_filename  # this file's wrappers hold the round trips
    python = [
        item for item in stats.items() if item[0][0] != here and not item[0][2].startswith(_DRIVER_CALLS)
    ]
    rows = sorted(python, key=lambda item: -item[1][2])[:count]
    return [(where(key), calls, own, cumulative) for key, (_, calls, own, cumulative, _) in rows]


def us(seconds: float, per: int) -> str:
    return f"{seconds / max(per, 1) * 1e6:8.1f} µs"


# -- 1. the webhook ---------------------------------------------------------------------------------------


def webhook_profile(url: str, n: int) -> None:
    from api.app import lambda_handler
    from optionflow import observability
    from optionflow.db import connection
    from optionflow.events.bus import NullBus, set_bus
    from optionflow.local.http_bridge import make_server, to_event
    from optionflow.local.lambda_context import LocalContext

    stored = fresh_database(url, f"{PREFIX}_profile_webhook")
    use_database(stored)
    # as a local API process runs it (see optionflow.local.api_process): metrics off, one connection, the
    # INSERT prepared once on it
    observability.keep_metrics(False)
    connection.one_connection_per_process()
    prepare = attribute("optionflow.db.signals", "prepare_inserts")
    if prepare is not None:
        prepare()
    set_bus(NullBus())  # the handler alone, without waking workers
    ctx = LocalContext("ApiFunction")
    headers = {"content-type": "application/json"}

    def events(start: int, count: int) -> list[dict[str, Any]]:
        return [
            to_event("POST", "/webhook", headers, alert_body(i), "127.0.0.1")
            for i in range(start, start + count)
        ]

    for event in events(0, WARM_UP):
        lambda_handler(event, ctx)

    # timed: each request's wall time and the time inside the driver
    walls, inside = [], []
    total = Tally()
    batch = events(WARM_UP, n)
    cpu = time.process_time()
    with RECORDER.into(total):
        for event in batch:
            before = total.seconds
            start = time.perf_counter()
            answer = lambda_handler(event, ctx)
            walls.append(time.perf_counter() - start)
            inside.append(total.seconds - before)
            assert answer["statusCode"] == 202, answer  # a refused alert would profile the wrong path
    cpu = time.process_time() - cpu

    # profiled: the same requests again, for the proportions within Python
    batch = events(WARM_UP + n, n)
    profile = cProfile.Profile()
    profiled = Tally()
    with RECORDER.into(profiled):
        profile.enable()
        for event in batch:
            lambda_handler(event, ctx)
        profile.disable()
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]

    def cumulative(function: Any) -> float | None:
        key = code_key(function)
        return None if key is None or key not in stats else float(stats[key][3])

    # Medians: on a busy machine a few requests wait on the scheduler for milliseconds, and a mean would
    # mostly tell how busy it was. The shares are of the median parts' sum.
    python = [w - d for w, d in zip(walls, inside, strict=True)]
    db_median, python_median = statistics.median(inside), statistics.median(python)
    parts_sum = db_median + python_median
    print(f"\n1. THE WEBHOOK, in process (no HTTP): {n} requests after {WARM_UP} warm-up, each a new alert")
    print("   per request              median      mean   share of the medians")
    print(
        f"   total                  {statistics.median(walls) * 1e6:7.0f} µs {statistics.fmean(walls) * 1e6:7.0f} µs"
    )
    print(
        f"   Postgres (driver)      {db_median * 1e6:7.0f} µs {statistics.fmean(inside) * 1e6:7.0f} µs  "
        f"{db_median / parts_sum:5.0%}   statements {total.statements / n:.2f}, BEGIN {total.begins / n:.2f}, "
        f"COMMIT {total.ends / n:.2f} per request:"
    )
    for text, count, seconds in by_statement(total)[:3]:
        print(f"{'':>44} {count / n:5.2f}/request {seconds / count * 1e6:6.0f} µs each  {text[:60]}")
    print(
        f"   Python                 {python_median * 1e6:7.0f} µs {statistics.fmean(python) * 1e6:7.0f} µs  "
        f"{python_median / parts_sum:5.0%}"
    )
    print(
        f"   process CPU (Python and the driver, time.process_time): {cpu / n * 1e6:.0f} µs per request (mean)"
    )

    # The parts, from the profiled run: each part's cumulative time as a share of the profiled Python time,
    # applied to the unprofiled Python median (cProfile slows Python, not Postgres).
    layers = []
    function = lambda_handler
    while hasattr(function, "__wrapped__"):
        layers.append(function)
        function = function.__wrapped__
    handler_body = function
    outer = cumulative(lambda_handler)
    driver = (cumulative(CountedCursor.execute) or 0.0) + (cumulative(CountedConnection._end) or 0.0)
    if outer is None:
        print("   (the profile found no handler: nothing to split)")
        return
    python_profiled = outer - driver
    parts: list[tuple[str, float | None]] = []
    for layer, inner in zip(layers, [*layers[1:], handler_body], strict=True):
        own, inside_layer = cumulative(layer), cumulative(inner)
        code = getattr(layer, "__code__", None)  # __qualname__ is the handler's, copied by functools.wraps
        label = getattr(code, "co_qualname", "?").split(".<locals>", 1)[0]
        parts.append(
            (f"decorator {label}", None if own is None or inside_layer is None else own - inside_layer)
        )
    receive_event = attribute("api.routes.webhook", "receive_event")
    receive = attribute("optionflow.logic.intake", "receive")
    children = {
        "body parsing (intake.read_payload: untrusted_json)": attribute(
            "optionflow.logic.intake", "read_payload"
        ),
        "secret check (auth.webhook.is_authentic, HMAC)": attribute(
            "optionflow.auth.webhook", "is_authentic"
        ),
        "alert normalise + validation (intake.parse_alert)": attribute(
            "optionflow.logic.intake", "parse_alert"
        ),
        "the insert call (intake.store), Postgres excluded": attribute("optionflow.logic.intake", "store"),
    }
    body, receive_event_ct, receive_ct = (
        cumulative(handler_body),
        cumulative(receive_event),
        cumulative(receive),
    )
    if body is not None and receive_event_ct is not None:
        parts.append(("routing + the response (handler body outside receive_event)", body - receive_event_ct))
    if receive_event_ct is not None and receive_ct is not None:
        parts.append(("event to body and headers (webhook.receive_event)", receive_event_ct - receive_ct))
    accounted = 0.0
    for label, function in children.items():
        value = cumulative(function)
        if value is not None and "insert call" in label:
            value -= driver
        accounted += value or 0.0
        parts.append((label, value))
    if receive_ct is not None:
        rest = receive_ct - accounted - driver
        parts.append(("rest of intake.receive (size and type checks, publish, log/trace/metric)", rest))
    print(
        f"   within Python (cProfile cumulative as shares of Python, applied to the {python_median * 1e6:.0f} µs median):"
    )
    for label, value in parts:
        if value is None:
            print(f"     {'n/a':>8}        {label} (not found in this code)")
            continue
        share = value / python_profiled
        print(f"     {share * python_median * 1e6:6.0f} µs {share:5.0%}  {label}")
    print("   top 8 functions by own time (cProfile tottime, profiled µs per request, round trips left out):")
    for name, calls, own, _ in top_functions(profile, 8):
        print(f"     {own / n * 1e6:6.1f} µs {calls / n:5.1f} calls  {name}")

    # HTTP: the bridge's own cost, and the bridge with the real handler (clients in another process)
    floor = http_floor(n)
    server = make_server("127.0.0.1", 0, lambda_handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        over_http = http_clients(server.server_address[1], n, 1)
    finally:
        server.shutdown()
        server.server_close()
    print(f"   HTTP, 1 client in another process, {n} requests:")
    print(
        f"     the local bridge with a no-op handler:   p50 {floor['p50_ms'] * 1000:5.0f} µs  p99 {floor['p99_ms'] * 1000:5.0f} µs"
    )
    print(
        f"     the local bridge with the real handler:  p50 {over_http['p50_ms'] * 1000:5.0f} µs  p99 {over_http['p99_ms'] * 1000:5.0f} µs"
    )
    print(
        f"     so per request: HTTP layer ~{floor['p50_ms'] * 1000:.0f} µs + handler ~{statistics.median(walls) * 1e6:.0f} µs "
        f"in process = {floor['p50_ms'] * 1000 + statistics.median(walls) * 1e6:.0f} µs (measured {over_http['p50_ms'] * 1000:.0f} µs)"
    )
    row_against_the_floor(stored, n)


def row_against_the_floor(url: str, n: int) -> None:
    """What storing a signal costs Postgres against the floor's one-column row: the two INSERTs (each its
    own commit, autocommit) alternated on one connection, with the WAL each writes."""
    import hashlib
    import json
    import uuid
    from datetime import UTC, datetime

    from optionflow.db import signals as signals_db
    from optionflow.logic.intake import dedupe_keys, parse_alert
    from psycopg2.extras import RealDictCursor

    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor(cursor_factory=RealDictCursor)
    cur.execute("CREATE TABLE IF NOT EXISTS profile_floor (id bigserial PRIMARY KEY, body text NOT NULL)")
    samples: dict[str, list[float]] = {"floor": [], "signal": []}
    wal = dict.fromkeys(samples, 0.0)

    def floor_row(body: bytes, payload: dict[str, Any], alert: Any) -> None:
        cur.execute("INSERT INTO profile_floor (body) VALUES (%s) RETURNING id", (body.decode(),))
        cur.fetchone()

    def signal_row(body: bytes, payload: dict[str, Any], alert: Any) -> None:
        # the webhook's keys: each body is unique (an alert_id would make a key of another shape)
        digest = hashlib.sha256(body + uuid.uuid4().bytes).hexdigest()
        received_at = datetime.now(UTC)
        key, offset_key = dedupe_keys(alert, digest, received_at, 30)
        signals_db.insert_if_new(
            cur,
            alert=alert,
            dedupe_key=key,
            raw_payload=payload,
            body_sha256=digest,
            received_at=received_at,
            offset_key=offset_key,
        )

    for round_ in range(4):  # alternated, so a busier minute falls on both
        for name, insert in (("floor", floor_row), ("signal", signal_row)):
            cur.execute("SELECT pg_current_wal_lsn() AS lsn")
            lsn = cur.fetchone()["lsn"]
            for i in range(n // 4):
                body = alert_body(round_ * n + i)
                payload = json.loads(body)
                alert = parse_alert(payload)  # the handler's Python, not timed here
                start = time.perf_counter()
                insert(body, payload, alert)
                samples[name].append(time.perf_counter() - start)
            cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s) AS bytes", (lsn,))
            wal[name] += float(cur.fetchone()["bytes"])
    conn.close()
    print(f"   the row itself, one connection, {n} INSERTs each with its commit, alternated in 4 rounds:")
    for name, label in (
        ("floor", "the floor's row (one text column, one index)"),
        ("signal", "a signal (insert_if_new, prepared as locally)"),
    ):
        count = len(samples[name])
        print(
            f"     {label:<46} p50 {statistics.median(samples[name]) * 1e6:5.0f} µs"
            f"  WAL {wal[name] / count:6.0f} bytes each"
        )


# -- 2. the pipeline at scale ----------------------------------------------------------------------------


def pipeline_stages() -> list[Any]:
    """The five pipeline workers, from the registry (their use cases as the Lambdas call them)."""
    from optionflow import workers

    return [
        workers.SIGNAL_PROCESSOR,
        workers.ORDER_CREATOR,
        workers.PAPER_EXECUTOR,
        workers.POSITION_REFRESHER,
        workers.EXIT_MONITOR,
    ]


def seeded_book(url: str, n: int) -> int:
    """A fresh book holding about n pending signals, stored through the webhook's handler; their count."""
    from optionflow.events.bus import NullBus, set_bus

    use_database(fresh_database(url, f"{PREFIX}_profile_scale"))
    set_bus(NullBus())  # each stage is run on its own
    with RECORDER.into(Tally()):
        webhook_in_process(max(n - WARM_UP, 1))  # it stores n plus its warm-up
    return int(scalar("SELECT count(*) FROM signals WHERE status = 'PENDING'"))


def pipeline_profile(url: str, n: int) -> None:
    from optionflow.composition import for_process

    stages = pipeline_stages()
    # First pass: timed and counted, no profiler.
    signals = seeded_book(url, n)
    deps = for_process()
    now = deps.clock.now()
    timed: list[tuple[Any, Tally, float, float, float | None, Any]] = []
    for worker in stages:
        stage = worker.stage()
        tally = Tally()
        backend = backend_cpu()
        wall, cpu = time.perf_counter(), time.process_time()
        with RECORDER.into(tally):
            result = stage(deps, now, None)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = backend_cpu()
        timed.append(
            (worker, tally, wall, cpu, None if backend is None or after is None else after - backend, result)
        )
    filled = scalar("SELECT count(*) FROM signals WHERE status = 'EXECUTED'")
    # Second pass, on a book seeded alike: the same stages under cProfile, for their Python functions.
    seeded_book(url, n)
    deps = for_process()
    now = deps.clock.now()
    profiles = []
    for worker in stages:
        stage = worker.stage()
        profile = cProfile.Profile()
        with RECORDER.into(Tally()):
            profile.enable()
            stage(deps, now, None)
            profile.disable()
        profiles.append(profile)

    print(
        f"\n2. THE PIPELINE AT SCALE: {signals} pending signals (PROFILE_SIGNALS), each stage once over all of them; {filled} filled"
    )
    print(
        "   stage                wall s  Python CPU s  Postgres s (driver)  backend CPU s  statements  round trips  per signal"
    )
    total = Tally()
    total_wall = total_cpu = 0.0
    total_backend: float | None = 0.0
    for worker, tally, wall, cpu, backend, _ in timed:
        total.add(tally)
        total_wall += wall
        total_cpu += cpu
        total_backend = None if backend is None or total_backend is None else total_backend + backend
        print(
            f"   {worker.name:<20} {wall:6.2f}  {cpu:12.2f}  {tally.seconds:19.2f}  {_maybe(backend):>13}  "
            f"{tally.statements / signals:10.2f}  {tally.round_trips / signals:11.2f}"
        )
    print(
        f"   {'all five':<20} {total_wall:6.2f}  {total_cpu:12.2f}  {total.seconds:19.2f}  {_maybe(total_backend):>13}  "
        f"{total.statements / signals:10.2f}  {total.round_trips / signals:11.2f}"
    )
    print(
        f"   per signal: wall {us(total_wall, signals)}, Python CPU {us(total_cpu, signals)}, "
        f"Postgres (driver) {us(total.seconds, signals)}"
        + ("" if total_backend is None else f", backend CPU {us(total_backend, signals)}")
    )
    for (worker, tally, _, _, _, result), profile in zip(timed, profiles, strict=True):
        print(f"\n   {worker.name} ({worker.use_case}): {str(result)[:110]}")
        print("     top 5 statements by time:  count   ms total   µs each  statement")
        for text, count, seconds in by_statement(tally)[:5]:
            print(f"     {count:>29} {seconds * 1000:10.1f} {seconds / count * 1e6:9.0f}  {text[:80]}")
        print(
            "     top 8 Python functions by own time (cProfile tottime, profiled pass, round trips left out):"
        )
        for name, calls, own, _ in top_functions(profile, 8):
            print(f"     {own * 1000:8.1f} ms {calls:8} calls  {name[:100]}")


def _maybe(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# -- 3. the fast path, one alert at a time ----------------------------------------------------------------


def fast_path_profile(url: str, alerts: int) -> None:
    from api.app import lambda_handler
    from optionflow.events.bus import InProcessBus, set_bus
    from optionflow.local.http_bridge import to_event
    from optionflow.local.lambda_context import LocalContext
    from optionflow.local.runner import WorkerRunner, registry_specs

    class Inline(WorkerRunner):
        """The local worker process's runner, except that a triggered run waits in a queue for this
        thread to run it: every wake-up is one run, each alert's runs happen before the next alert."""

        def __init__(self) -> None:
            super().__init__(registry_specs())
            self.waiting: deque[tuple[str, dict[str, Any]]] = deque()

        def trigger(self, name: str, event: dict[str, Any] | None = None) -> None:
            self.waiting.append((name, event or self.schedule_event(name)))

    use_database(fresh_database(url, f"{PREFIX}_profile_fast"))
    runner = Inline()
    set_bus(InProcessBus(runner.dispatch))
    ctx = LocalContext("ApiFunction")
    tallies: dict[str, Tally] = {}
    failed = 0

    def one_alert(i: int, tallies: dict[str, Tally]) -> None:
        nonlocal failed
        event = to_event("POST", "/webhook", {"content-type": "application/json"}, alert_body(i), "127.0.0.1")
        work: deque[tuple[str, dict[str, Any]]] = deque([("webhook", event)])
        while work:
            name, payload = work.popleft()
            tally = tallies.setdefault(name, Tally())
            wall, cpu = time.perf_counter(), time.process_time()
            with RECORDER.into(tally):
                answer = lambda_handler(payload, ctx) if name == "webhook" else runner.invoke(name, payload)
            tally.wall += time.perf_counter() - wall
            tally.cpu += time.process_time() - cpu
            tally.runs += 1
            failed += answer is None  # the runner logs a failed run and answers None
            work.extend(runner.waiting)
            runner.waiting.clear()

    for i in range(5):  # warm-up: imports, the first connection, the prepared INSERT
        one_alert(i, {})
    failed = 0
    for i in range(5, 5 + alerts):
        one_alert(i, tallies)
    runner.stop()
    filled = scalar("SELECT count(*) FROM signals WHERE status = 'EXECUTED'")
    print(
        f"\n3. THE FAST PATH, ONE ALERT AT A TIME: {alerts} alerts (PROFILE_ALERTS) after 5 warm-up, each through"
    )
    print(
        f"   the webhook and every worker run it wakes before the next arrives; {filled} filled, {failed} runs failed"
    )
    print(
        "   per alert             runs  statements  BEGIN  COMMIT/ROLLBACK  round trips  Postgres µs  wall µs  CPU µs"
    )
    total = Tally()
    for name, tally in tallies.items():
        total.add(tally)
        print(
            f"   {name:<20} {tally.runs / alerts:5.2f}  {tally.statements / alerts:10.2f}  {tally.begins / alerts:5.2f}  "
            f"{tally.ends / alerts:15.2f}  {tally.round_trips / alerts:11.2f}  {tally.seconds / alerts * 1e6:11.0f}  "
            f"{tally.wall / alerts * 1e6:7.0f}  {tally.cpu / alerts * 1e6:6.0f}"
        )
    print(
        f"   {'all':<20} {total.runs / alerts:5.2f}  {total.statements / alerts:10.2f}  {total.begins / alerts:5.2f}  "
        f"{total.ends / alerts:15.2f}  {total.round_trips / alerts:11.2f}  {total.seconds / alerts * 1e6:11.0f}  "
        f"{total.wall / alerts * 1e6:7.0f}  {total.cpu / alerts * 1e6:6.0f}"
    )
    # A statement most worker runs make is the run's own bookkeeping (worker_runs, the pause check, the
    # clock), paid once per run whatever it moves; the rest is each worker's work for the alert.
    seen: dict[str, list[tuple[str, int, float]]] = {}
    for name, tally in tallies.items():
        for text, count, seconds in by_statement(tally):
            seen.setdefault(text, []).append((name, count, seconds))
    runs = [name for name in tallies if name != "webhook"]
    shared = {text: rows for text, rows in seen.items() if len(rows) >= max(2, len(runs) - 1)}
    print("   statements most worker runs make (a run's bookkeeping), per alert in all runs:")
    for text, rows in sorted(shared.items(), key=lambda item: -sum(r[1] for r in item[1])):
        count, seconds = sum(r[1] for r in rows), sum(r[2] for r in rows)
        print(
            f"     {count / alerts:5.2f} in {len(rows)} workers {seconds / count * 1e6:6.0f} µs each  {text[:70]}"
        )
    print("   each run's own statements per alert (the 3 slowest shown):")
    for name, tally in tallies.items():
        own = [row for row in by_statement(tally) if row[0] not in shared]
        print(f"     {name}: {sum(row[1] for row in own) / alerts:.2f}")
        for text, count, seconds in own[:3]:
            print(f"       {count / alerts:5.2f} {seconds / count * 1e6:6.0f} µs each  {text[:80]}")


# -- main -------------------------------------------------------------------------------------------------


def main() -> None:
    # this checkout's code, whatever an installed copy of the package says
    sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "shared")]
    from optionflow import config, observability
    from optionflow.config import Settings
    from optionflow.local import embedded_postgres

    data_dir = Path(tempfile.mkdtemp(prefix="optionflow-profile-"))
    url = embedded_postgres.url_for(os.environ.get("DATABASE_URL") or None, data_dir)
    config.use_settings(
        Settings(
            database_url=url,
            data_dir=data_dir,
            jwt_secret="profile-jwt-secret-" + "x" * 32,
            webhook_secret=SECRET,
            clock_start=MONDAY_10AM,
        )
    )
    observability.keep_metrics(False)  # as the local stack runs
    print(
        f"database: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded'}; "
        f"Python {sys.version.split()[0]}; {os.cpu_count()} cores; load average "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    started = time.perf_counter()
    with counted_connections(), logs_discarded():
        webhook_profile(url, WEBHOOK_REQUESTS)
        pipeline_profile(url, SIGNALS)
        fast_path_profile(url, FAST_PATH_ALERTS)
    print(
        f"\n(profiled in {time.perf_counter() - started:.0f} s; load average now "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
        + ")"
    )


if __name__ == "__main__":
    main()
