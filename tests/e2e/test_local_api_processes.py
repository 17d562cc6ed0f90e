"""The local stack serves the API from several processes on one port, as AWS runs several instances of the
function: concurrent clients are spread over them, and stopping the stack ends every one."""

from __future__ import annotations

import os
import threading
import time
from http.client import HTTPConnection
from typing import Any

import pytest
from optionflow.config import ConfigurationError, Settings, settings_from_env

from tests.conftest import JWT_SECRET, MARKET_OPEN, WEBHOOK_SECRET
from tests.e2e.local_stack_support import outside_basetemp


def test_local_api_workers_is_read_from_the_environment_and_zero_means_one_per_core_up_to_four():
    assert settings_from_env({"LOCAL_API_WORKERS": "3"}).api_processes() == 3
    cores = len(os.sched_getaffinity(0))
    assert Settings().api_processes() == max(1, min(4, cores))
    with pytest.raises(ConfigurationError, match="LOCAL_API_WORKERS"):
        settings_from_env({"LOCAL_API_WORKERS": "-1"})
    with pytest.raises(ConfigurationError, match="LOCAL_WORKER_NICE"):
        settings_from_env({"LOCAL_WORKER_NICE": "20"})


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_eight_clients_at_once_are_answered_by_three_api_processes_sharing_the_connections_and_stop_ends_them_all():
    from optionflow import clock, config, observability
    from optionflow.db import connection
    from optionflow.events import bus, worker_invoker
    from optionflow.local import stack as local_stack

    with outside_basetemp("optionflow-api-processes") as data_dir:
        settings = Settings(
            data_dir=data_dir,
            port=0,
            jwt_secret=JWT_SECRET,
            webhook_secret=WEBHOOK_SECRET,
            clock_start=MARKET_OPEN,
            local_api_workers=3,
        )
        running = local_stack.start(settings, schedules=False)
        try:
            pids = running.api.pids
            assert len(pids) == 3 and all(_alive(pid) for pid in pids)
            statuses: list[int] = []
            lock = threading.Lock()

            def client(n: int) -> None:
                conn = HTTPConnection("127.0.0.1", running.port, timeout=10)
                for i in range(5):
                    body = (
                        f'{{"ticker":"SPY","action":"BUY","direction":"CALL","secret":"{WEBHOOK_SECRET}",'
                        f'"alert_id":"many-{n}-{i}"}}'
                    )
                    conn.request("POST", "/webhook", body=body, headers={"Content-Type": "application/json"})
                    response = conn.getresponse()
                    response.read()
                    with lock:
                        statuses.append(response.status)
                conn.close()

            threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert statuses == [202] * 40

            # A client keeps its connection: eight open ones are shared out, none left to a busy process.
            deadline = time.monotonic() + 10
            while sum(running.api.open_connections()) and time.monotonic() < deadline:
                time.sleep(0.02)  # the clients above have closed theirs
            held = []
            for _ in range(8):
                conn = HTTPConnection("127.0.0.1", running.port, timeout=10)
                conn.request("GET", "/health")
                conn.getresponse().read()
                held.append(conn)
            shares = running.api.open_connections()
            for conn in held:
                conn.close()
            assert sum(shares) == 8 and min(shares) >= 1, shares
            stored: Any = connection.run_in_transaction(
                lambda cur: (cur.execute("SELECT count(*) AS n FROM signals"), cur.fetchone())[1]
            )
            assert stored["n"] == 40
        finally:
            running.stop()
            bus.set_bus(None)
            worker_invoker.set_invoker(None)
            clock.set_clock(None)
            config.reset_settings()
            connection.set_database_url(None)
            observability.keep_metrics(True)
        assert not any(_alive(pid) for pid in pids)


def test_a_port_in_use_is_a_clear_error_naming_port(settings):
    import socket

    from optionflow import clock, config, observability
    from optionflow.db import connection
    from optionflow.events import bus, worker_invoker
    from optionflow.local import stack as local_stack

    taken = socket.create_server(("127.0.0.1", 0))
    with outside_basetemp("optionflow-api-port") as data_dir:
        busy = settings.model_copy(update={"data_dir": data_dir, "port": taken.getsockname()[1]})
        try:
            with pytest.raises(ConfigurationError, match=f"PORT {busy.port}: cannot listen"):
                local_stack.start(busy, schedules=False)
        finally:
            taken.close()
            bus.set_bus(None)
            worker_invoker.set_invoker(None)
            clock.set_clock(None)
            config.reset_settings()
            connection.set_database_url(None)
            observability.keep_metrics(True)


def test_the_api_and_worker_processes_do_not_outlive_a_stack_killed_outright(settings, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, time; sys.path[:0] = ['functions', 'shared'];"
        "from optionflow.config import Settings; from optionflow.local import stack;"
        f"s = stack.start(Settings(database_url={settings.database_url!r}, data_dir={str(tmp_path)!r}, port=0,"
        f" jwt_secret={JWT_SECRET!r}, webhook_secret={WEBHOOK_SECRET!r}, local_api_workers=2), schedules=False);"
        "print(*s.api.pids, s.workers.pid, flush=True); time.sleep(120)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 3 and all(_alive(pid) for pid in pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in pids)
    finally:
        if parent.poll() is None:
            parent.kill()
