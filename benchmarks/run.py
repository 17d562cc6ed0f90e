"""`make bench`: the figures in the README, measured against a real Postgres (DATABASE_URL or embedded).

Prints a table and writes benchmarks/results/latest.json. Not a test: nothing here asserts.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook-secret"
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("America/New_York"))
# The scratch databases beside DATABASE_URL's; another prefix lets two benches share one server.
PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "optionflow_bench")


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def alert_body(i: int) -> bytes:
    return json.dumps(
        {
            "ticker": "SPY",
            "action": "BUY",
            "direction": "CALL",
            "timeframe": "5",
            "secret": SECRET,
            "alert_id": f"bench-{uuid.uuid4().hex}-{i}",
        }
    ).encode()


def webhook_in_process(n: int) -> dict[str, float]:
    from api.app import lambda_handler
    from optionflow.events.bus import NullBus, set_bus
    from optionflow.local.http_bridge import to_event
    from optionflow.local.lambda_context import LocalContext

    set_bus(NullBus())  # the handler alone, without waking workers
    ctx = LocalContext("ApiFunction")
    samples = []
    for i in range(n + 200):
        event = to_event("POST", "/webhook", {"content-type": "application/json"}, alert_body(i), "127.0.0.1")
        start = time.perf_counter()
        result = lambda_handler(event, ctx)
        elapsed = (time.perf_counter() - start) * 1000
        assert result["statusCode"] == 202, result
        if i >= 200:
            samples.append(elapsed)
    return {"p50_ms": pct(samples, 50), "p99_ms": pct(samples, 99), "n": n}


def post(conn: HTTPConnection, body: bytes) -> int:
    conn.request("POST", "/webhook", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    if response.status >= 500:
        print(f"webhook answered {response.status}: {payload[:300]!r}", file=sys.stderr)
    return response.status


def webhook_over_http(url_port: int, n: int, clients: int) -> dict[str, float]:
    samples: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(count: int) -> None:
        conn = HTTPConnection("127.0.0.1", url_port, timeout=10)
        local, codes = [], {}
        for i in range(count):
            start = time.perf_counter()
            status = post(conn, alert_body(i))
            local.append((time.perf_counter() - start) * 1000)
            codes[status] = codes.get(status, 0) + 1
        with lock:
            samples.extend(local)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(n // clients,)) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "p50_ms": pct(samples, 50),
        "p99_ms": pct(samples, 99),
        "req_per_s": len(samples) / wall,
        "n": len(samples),
        "clients": clients,
        "5xx": sum(v for k, v in statuses.items() if k >= 500),
    }


def _noop(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 202, "headers": {"Content-Type": "application/json"}, "body": "{}"}


def http_floor(n: int) -> dict[str, float]:
    """The local HTTP bridge with a handler that does nothing: what HTTP itself costs here."""
    from optionflow.local.http_bridge import make_server

    server = make_server("127.0.0.1", 0, _noop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return http_clients(server.server_address[1], n, 1)
    finally:
        server.shutdown()
        server.server_close()


def _serve_floor(url: str, ready: Any) -> None:
    """The floor: a stdlib threading HTTP server whose handler stores the body with one INSERT and its commit,
    in its own process (as the API is its own process): what any webhook on this machine must at least cost."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import psycopg2

    local = threading.local()

    class Store(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the clients and the local bridge use
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = psycopg2.connect(url)
                conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("INSERT INTO bench_floor (body) VALUES (%s) RETURNING id", (body.decode(),))
                cur.fetchone()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    setup = psycopg2.connect(url)
    setup.autocommit = True
    with setup.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_floor")
        cur.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, body text NOT NULL)")
    setup.close()
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), Store)
    ready.put(server.server_address[1])
    server.serve_forever()


def floor_server(url: str, n: int) -> dict[str, dict[str, float]]:
    """The floor measured with the same clients as the webhook, one and eight at a time."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=_serve_floor, args=(url, ready), daemon=True)
    process.start()
    try:
        port = ready.get(timeout=30)
        return {"1_client": http_clients(port, n, 1), "8_clients": http_clients(port, n, 8)}
    finally:
        process.terminate()
        process.join(10)


def http_clients(port: int, n: int, clients: int) -> dict[str, float]:
    """The HTTP load comes from another process, like curl or TradingView: a client thread inside the
    server's interpreter would compete with it for the GIL and inflate the server's latency."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return dict(pool.apply(webhook_over_http, (port, n, clients)))


def alert_to_fill(port: int, n: int) -> dict[str, float]:
    from optionflow.db.connection import connect

    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    db = connect()
    db.autocommit = True
    cur = db.cursor()
    samples = []
    for i in range(n):
        body = alert_body(i)
        start = time.perf_counter()
        conn.request("POST", "/webhook", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        signal_id = json.loads(response.read())["signal_id"]
        deadline = time.monotonic() + 30
        while True:
            cur.execute("SELECT status, rejection_reasons FROM signals WHERE id = %s", (signal_id,))
            status, reasons = cur.fetchone()
            if status == "EXECUTED":
                break
            if status in ("REJECTED", "FAILED") or time.monotonic() > deadline:
                raise RuntimeError(f"signal {signal_id} ended {status}: {reasons}")
            time.sleep(0.0005)
        samples.append((time.perf_counter() - start) * 1000)
    db.close()
    return {"p50_ms": pct(samples, 50), "p95_ms": pct(samples, 95), "max_ms": max(samples), "n": n}


def raw_insert_commit(n: int) -> dict[str, float]:
    """The machine's ceiling: one single-row INSERT and its commit, on the same database."""
    from optionflow.db.connection import connect

    db = connect()
    db.autocommit = True
    cur = db.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS bench_ceiling (id serial PRIMARY KEY, k text UNIQUE)")
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        cur.execute(
            "INSERT INTO bench_ceiling (k) VALUES (%s) ON CONFLICT DO NOTHING RETURNING id",
            (uuid.uuid4().hex,),
        )
        cur.fetchone()
        samples.append((time.perf_counter() - start) * 1000)
    cur.execute("DROP TABLE bench_ceiling")
    db.close()
    return {"p50_ms": pct(samples[200:], 50), "p99_ms": pct(samples[200:], 99), "n": n}


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Each webhook and pipeline figure as a multiple of the floor measured in the same run: a slower machine
    moves both, so a regression shows here whatever the day. Latency: webhook / floor (lower is better);
    throughput: webhook or alerts filled / floor requests per second (higher is better)."""
    one, eight = results["floor_stdlib_http_insert_1_client"], results["floor_stdlib_http_insert_8_clients"]
    live = results["pipeline_live_8_clients"]
    out = {
        "webhook_1_client_p50": results["webhook_http_1_client"]["p50_ms"] / one["p50_ms"],
        "webhook_8_clients_req_per_s": results["webhook_http_8_clients"]["req_per_s"] / eight["req_per_s"],
        "pipeline_live_8_clients_filled_per_s": live["filled_per_s"] / eight["req_per_s"],
    }
    if "webhook_http_1_client_pipeline_on" in results:
        out["webhook_1_client_p50_pipeline_on"] = (
            results["webhook_http_1_client_pipeline_on"]["p50_ms"] / one["p50_ms"]
        )
    return {key: round(value, 2) for key, value in out.items()}


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The throughput issue's targets: (what, measured, held)."""
    r, rss = results["ratios_to_the_floor"], results["peak_rss_mb"]
    eight, live, scale = (
        results["webhook_http_8_clients"],
        results["pipeline_live_8_clients"],
        results["pipeline_at_scale"],
    )
    per_10k = 10_000 / scale["n"]
    return [
        (
            "webhook 1 client: p50 <= 1.3x floor",
            f"{r['webhook_1_client_p50']:.2f}x",
            r["webhook_1_client_p50"] <= 1.3,
        ),
        (
            "webhook 8 clients: >= 0.7x floor req/s",
            f"{r['webhook_8_clients_req_per_s']:.2f}x",
            r["webhook_8_clients_req_per_s"] >= 0.7,
        ),
        ("webhook 8 clients: p99 <= 15 ms", f"{eight['p99_ms']:.1f} ms", eight["p99_ms"] <= 15),
        (
            "pipeline live, 8 clients: filled/s >= 0.4x floor req/s",
            f"{r['pipeline_live_8_clients_filled_per_s']:.2f}x",
            r["pipeline_live_8_clients_filled_per_s"] >= 0.4 and live["unfinished"] == 0,
        ),
        (
            "pipeline live, 8 clients: webhook p99 <= 50 ms",
            f"{live['webhook_p99_ms']:.1f} ms",
            live["webhook_p99_ms"] <= 50,
        ),
        (
            "10,000 signals -> filled <= 5 s",
            f"{scale['signals_to_filled_s'] * per_10k:.2f} s",
            scale["signals_to_filled_s"] * per_10k <= 5,
        ),
        (
            "refresher, 10,000 positions <= 1 s",
            f"{scale['position_refresher_s'] * per_10k:.2f} s",
            scale["position_refresher_s"] * per_10k <= 1,
        ),
        (
            "exit monitor, 10,000 positions <= 0.5 s",
            f"{scale['exit_monitor_s'] * per_10k:.2f} s",
            scale["exit_monitor_s"] * per_10k <= 0.5,
        ),
        (
            "peak memory < 96 MB per process",
            f"{max(rss.values()):.0f} MB",
            max(rss.values()) < 96,
        ),
    ]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process on this machine (None when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def backends(cur: Any) -> list[int]:
    """The Postgres server processes serving this database (on this machine, if the server is local)."""
    cur.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    return [pid for (pid,) in cur.fetchall()]


def pipeline_live(running: Any, n: int, clients: int) -> dict[str, Any]:
    """`clients` clients send n alerts while the pipeline fills each as it arrives: the webhook's figures,
    alerts filled per second (until the last is filled), and the machine's CPU time per filled alert:
    the API processes, the worker process and the Postgres sessions of this database."""
    from optionflow.db.connection import connect

    db = connect(running.settings.database_url)
    db.autocommit = True
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM signals WHERE status = 'EXECUTED'")
    (before,) = cur.fetchone()
    processes = [*running.api.pids, running.workers.pid]
    sessions = backends(cur)
    cpu_before = {pid: cpu_seconds(pid) for pid in processes + sessions}
    start = time.perf_counter()
    webhook = http_clients(running.port, n, clients)
    deadline = time.monotonic() + 120
    while True:
        cur.execute("SELECT count(*) FROM signals WHERE status IN ('PENDING', 'ACCEPTED', 'ORDERED')")
        (unfinished,) = cur.fetchone()
        if not unfinished or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    cur.execute("SELECT count(*) FROM signals WHERE status = 'EXECUTED'")
    (after,) = cur.fetchone()
    for pid in backends(cur):
        cpu_before.setdefault(pid, 0.0)  # a session opened meanwhile
    used = {pid: (cpu_seconds(pid) or 0.0) - (was or 0.0) for pid, was in cpu_before.items()}
    db.close()
    filled = after - before
    python = sum(used[pid] for pid in processes)
    postgres = sum(v for pid, v in used.items() if pid not in processes)
    readable = all(cpu_before[pid] is not None for pid in sessions)
    return {
        "webhook_p50_ms": webhook["p50_ms"],
        "webhook_p99_ms": webhook["p99_ms"],
        "webhook_req_per_s": webhook["req_per_s"],
        "5xx": webhook["5xx"],
        "filled": filled,
        "unfinished": unfinished,
        "filled_per_s": filled / elapsed,
        "cpu_ms_per_filled_alert_python": python / max(filled, 1) * 1000,
        "cpu_ms_per_filled_alert_postgres": postgres / max(filled, 1) * 1000 if readable else float("nan"),
    }


def empty_database(url: str, name: str) -> str:
    """A new database beside `url`'s (dropped first if an earlier run left it); returns its URL."""
    from urllib.parse import urlsplit, urlunsplit

    from optionflow.db.connection import connect

    admin = connect(url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def fresh_database(url: str, name: str) -> str:
    """A new, migrated database beside `url`'s, so each pipeline figure starts from an empty book."""
    from optionflow.db.connection import connect
    from optionflow.db.migrate import migrate

    fresh = empty_database(url, name)
    conn = connect(fresh)
    migrate(conn)
    with conn.cursor() as cur:
        cur.execute("""UPDATE risk_limits SET max_open_positions = 1000000, max_positions_per_ticker = 1000000,
                       max_daily_loss = 1000000000, risk_per_trade = 1000000, max_contracts_per_order = 1""")
    conn.commit()
    conn.close()
    return fresh


def pipeline_at_scale(url: str, n: int) -> dict[str, Any]:
    """n accepted alerts to filled positions, then one refresher and one exit-monitor pass over them."""
    from optionflow.composition import for_process
    from optionflow.db.connection import set_database_url
    from optionflow.events.bus import NullBus, set_bus
    from optionflow.logic.decide import process_pending
    from optionflow.logic.execution import execute_pending
    from optionflow.logic.exit_monitor import monitor
    from optionflow.logic.marks import refresh_all
    from optionflow.logic.orders import create_pending

    set_database_url(fresh_database(url, f"{PREFIX}_scale"))
    set_bus(NullBus())  # each stage is timed on its own
    webhook_in_process(n)  # the alerts, stored through the real handler
    deps = for_process()
    now = deps.clock.now()
    timings: dict[str, Any] = {"n": n}
    start = time.perf_counter()
    decided = process_pending(deps, now)
    ordered = create_pending(deps, now)
    filled = execute_pending(deps, now)
    timings["signals_to_filled_s"] = time.perf_counter() - start
    assert decided.decided == ordered.handled == filled.opened >= n, (decided, ordered, filled)
    timings["n"] = decided.decided  # n plus the handler benchmark's warm-up alerts
    start = time.perf_counter()
    refreshed = refresh_all(deps, now).refreshed
    timings["position_refresher_s"] = time.perf_counter() - start
    start = time.perf_counter()
    evaluated = monitor(deps, now).evaluated
    timings["exit_monitor_s"] = time.perf_counter() - start
    assert refreshed == evaluated == decided.decided
    return timings


def worker_peak_rss(url: str) -> dict[str, float]:
    """Peak resident memory of a fresh process running the position refresher over the scale book."""
    from urllib.parse import urlsplit, urlunsplit

    scale_url = urlunsplit(urlsplit(url)._replace(path=f"/{PREFIX}_scale"))
    code = (
        "import resource, sys; sys.path[:0] = ['functions', 'shared'];"
        "from optionflow import config; from optionflow.config import Settings;"
        # the scale book's clock: at today's real date its weekly options would long have expired
        f"config.use_settings(Settings(database_url={scale_url!r}, clock_start={MONDAY_10AM.isoformat()!r}));"
        "from workers.position_refresher import lambda_handler;"
        "from optionflow.local.lambda_context import LocalContext;"
        "r = lambda_handler({'source': 'optionflow.schedule'}, LocalContext('PositionRefresherFunction'));"
        "print(r['result']['refreshed'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING", "OPTIONFLOW_CLOCK_START": MONDAY_10AM.isoformat()}
    out = subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, env=env, text=True).split()
    return {"rows": int(out[-2]), "peak_rss_mb": int(out[-1]) / 1024}


def replay_one_day(url: str, n: int) -> dict[str, Any]:
    """`optionflow replay` of one session holding n alerts (six tickers, calls and puts, spread over the day),
    stepping every minute: the scratch book's creation and migration, every alert, every sweep."""
    from datetime import timedelta

    from api.app import lambda_handler
    from optionflow import clock
    from optionflow.composition import for_process
    from optionflow.db.connection import set_database_url
    from optionflow.events.bus import NullBus, set_bus
    from optionflow.local.http_bridge import to_event
    from optionflow.local.lambda_context import LocalContext
    from optionflow.logic.replay import Window, replay

    stored = fresh_database(url, f"{PREFIX}_replay")
    set_database_url(stored)
    set_bus(NullBus())
    before = clock.get_clock()
    day_open = MONDAY_10AM.replace(hour=9, minute=31)
    frozen = clock.FrozenClock(day_open)
    clock.set_clock(frozen)
    tickers = ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA")
    try:
        for i in range(n):
            frozen.set(day_open + timedelta(minutes=380 * i / n))
            body = json.dumps(
                {
                    "ticker": tickers[i % len(tickers)],
                    "action": "BUY",
                    "direction": "CALL" if i % 2 else "PUT",
                    "timeframe": "5",
                    "secret": SECRET,
                    "alert_id": f"bench-replay-{i}",
                }
            ).encode()
            event = to_event("POST", "/webhook", {"content-type": "application/json"}, body, "127.0.0.1")
            assert lambda_handler(event, LocalContext("ApiFunction"))["statusCode"] == 202
        day = MONDAY_10AM.date()
        start = time.perf_counter()
        report = replay(
            for_process(), database_url=stored, window=Window(day, day), now=MONDAY_10AM + timedelta(days=1)
        )
        elapsed = time.perf_counter() - start
    finally:
        clock.set_clock(before)
    opened = sum(1 for row in report.alerts if row.replay is not None and row.replay.position_status)
    return {"alerts": len(report.alerts), "positions": opened, "seconds": elapsed}


def cold_imports() -> dict[str, float]:
    modules = ["api.app"] + [
        f"workers.{w}"
        for w in ("signal_processor", "order_creator", "paper_executor", "position_refresher", "exit_monitor")
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT / "shared")])}
    out = {}
    for module in modules:
        runs = []
        for _ in range(3):
            code = f"import time; s=time.perf_counter(); import {module}; print(time.perf_counter()-s)"
            runs.append(float(subprocess.check_output([sys.executable, "-c", code], env=env)) * 1000)
        out[module] = statistics.median(runs)
    return out


def target_round(running: Any, conn_url: str, n: int, scale: int, *, first: bool) -> dict[str, Any]:
    """One measurement of everything issue 20's targets judge, the floor first, all in the same minutes:
    the floor (one and eight clients), the webhook alone (one and eight), the pipeline live from eight
    clients, and the scale pipeline on a fresh database. The `first` round also takes, where earlier
    benches took them (the stack's book still empty), the alert-to-fill latency and one client's webhook with
    the pipeline on: each round leaves n more open positions behind, and the pipeline's reads grow with the
    book."""
    from optionflow.db.connection import connect, set_database_url

    set_database_url(conn_url)  # the scale pipeline of an earlier round pointed this process elsewhere
    port = running.port
    out: dict[str, Any] = {}
    floor = floor_server(running.settings.database_url, n)
    out["floor_stdlib_http_insert_1_client"] = floor["1_client"]
    out["floor_stdlib_http_insert_8_clients"] = floor["8_clients"]
    # The webhook alone (fast path off), to separate its cost from the pipeline's.
    running.set_fast_path(False)
    out["webhook_http_1_client"] = http_clients(port, n, 1)
    out["webhook_http_8_clients"] = http_clients(port, n, 8)
    db = connect(conn_url)
    with db.cursor() as cur:  # those alerts are not the pipeline's to work through
        cur.execute(
            "UPDATE signals SET status = 'REJECTED', rejection_reasons = '{benchmark}' WHERE status = 'PENDING'"
        )
    db.commit()
    db.close()
    # Then with the pipeline running: every alert is decided, ordered, filled, marked and checked at once.
    running.set_fast_path(True)
    if first:
        out["alert_to_open_position"] = alert_to_fill(port, 200)
        out["webhook_http_1_client_pipeline_on"] = http_clients(port, n, 1)
    out["pipeline_live_8_clients"] = pipeline_live(running, n, 8)
    out["pipeline_at_scale"] = pipeline_at_scale(running.settings.database_url, scale)
    return out


def main() -> None:
    # this checkout's code, whichever checkout a shared environment installed: the stack's processes inherit it
    sys.path[:0] = [str(ROOT / "shared"), str(ROOT / "functions")]
    from optionflow.config import Settings
    from optionflow.local import stack

    data_dir = Path(tempfile.mkdtemp(prefix="optionflow-bench-"))
    # The stack gets a database of its own, empty: run in DATABASE_URL's own database it would start from the
    # book every earlier run left there (79,200 open positions once), and figures that read the book, such
    # as alert-to-fill, would drift from run to run. The embedded Postgres starts empty in its new data_dir.
    url = os.environ.get("DATABASE_URL")
    settings = Settings(
        database_url=empty_database(url, f"{PREFIX}_stack") if url else None,
        data_dir=data_dir,
        port=0,
        jwt_secret="bench-jwt-secret-" + "x" * 32,
        webhook_secret=SECRET,
        clock_start=MONDAY_10AM,
    )
    running = stack.start(settings, schedules=False)
    try:
        results = measure(running, settings)
    finally:
        running.stop()  # an error must not leave the stack's processes holding the bench open
    report(results)


def measure(running: Any, settings: Any) -> dict[str, Any]:
    from optionflow.db.connection import get_connection, set_database_url

    url = running.settings.database_url
    conn = get_connection()
    with conn.cursor() as cur:  # room for every benchmark alert to become a position
        cur.execute("""UPDATE risk_limits SET max_open_positions = 1000000, max_positions_per_ticker = 1000000,
                       max_daily_loss = 1000000000""")
    conn.commit()
    n = int(os.environ.get("BENCH_ALERTS", "5000"))
    scale = int(os.environ.get("BENCH_SCALE", "10000"))
    runs = max(1, int(os.environ.get("BENCH_RUNS", "1")))
    results: dict[str, Any] = {"database": "DATABASE_URL" if settings.database_url else "embedded"}
    results["ceiling_raw_insert_commit"] = raw_insert_commit(n)
    results["ceiling_http_noop_handler"] = http_floor(n)
    results["webhook_in_process"] = webhook_in_process(n)
    rounds = []
    for i in range(runs):
        rounds.append(target_round(running, url, n, scale, first=i == 0))
        rounds[-1]["ratios_to_the_floor"] = ratios(rounds[-1])
    results.update(rounds[0])  # the first round's figures are the table's; every round is judged below
    results["rounds"] = rounds
    set_database_url(url)
    results["peak_rss_mb"] = {
        f"{name} (pid {pid})": peak_rss_mb(pid) or 0.0
        for name, pid in [*(("api", p) for p in running.api.pids), ("workers", running.workers.pid)]
    }
    results["worker_peak_rss"] = worker_peak_rss(url)
    results["peak_rss_mb"]["refresher over the scale book"] = results["worker_peak_rss"]["peak_rss_mb"]
    results["replay_one_day"] = replay_one_day(url, 100)
    return results


def report(results: dict[str, Any]) -> None:
    runs = len(results["rounds"])
    results["cold_import_ms"] = cold_imports()
    results["ratios_to_the_floor"] = ratios(results)

    earlier_targets = {
        "webhook_in_process": "p50 <= 5 ms, p99 <= 20 ms",
        "alert_to_open_position": "<= 1 s (0.1 s aim)",
        "webhook_http_1_client": "p50 <= 1.07 ms (half the seed's)",
        "pipeline_at_scale": "signals_to_filled <= 10 s, refresher <= 2 s, exit monitor <= 1 s",
        "worker_peak_rss": "<= 128 MB",
    }
    seed = {
        "pipeline_at_scale": "100 signals per run, 2-3 min to fill",
        "worker_peak_rss": "100-200 MB",
        "webhook_in_process": "ingestion < 100 ms",
        "alert_to_open_position": "52 s at best",
        "webhook_http_1_client": "2.15 ms p50",
        "webhook_http_8_clients": "742 req/s, 500s at every tick",
    }
    print(f"\n{'figure':<36} {'measured':<80} seed")
    for key, value in results.items():
        if isinstance(value, dict) and key not in ("cold_import_ms", "ratios_to_the_floor", "peak_rss_mb"):
            shown = ", ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items()
            )
            print(f"{key:<36} {shown:<80} {seed.get(key, '')}")
            if key in earlier_targets:
                print(f"{'':<36} earlier target: {earlier_targets[key]}")
    print("\nas multiples of the floor (stdlib HTTP + one INSERT and commit, same run; 1.0 = the floor):")
    for key, value in results["ratios_to_the_floor"].items():
        print(f"  {key:<44} {value:.2f}x")
    rounds = results["rounds"]
    judged = [targets({**results, **one}) for one in rounds]
    results["targets"] = [
        {"target": what, "measured": [r[i][1] for r in judged], "held": sum(r[i][2] for r in judged)}
        for i, (what, _, _) in enumerate(judged[0])
    ]
    results["rounds"] = rounds
    print(
        f"\ntargets (issue 20), in {runs} round{'s' if runs > 1 else ''} (BENCH_RUNS), each against its own floor:"
    )
    for row in results["targets"]:
        held = row["held"] == runs
        print(
            f"  {'PASS' if held else 'FAIL'}  {row['target']:<56} {' | '.join(row['measured']):<30} "
            f"held {row['held']}/{runs}"
        )
    for module, ms in results["cold_import_ms"].items():
        print(f"{'cold import ' + module:<36} {ms:.0f} ms   (target <= 300 ms)")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
