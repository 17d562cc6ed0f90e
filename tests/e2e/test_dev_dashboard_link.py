"""`optionflow dev` (what `make run` starts) prints a dashboard link that opens the board with its token."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.conftest import ROOT


def read_banner(process: subprocess.Popen[str], timeout: float = 60.0) -> list[str]:
    """The lines `optionflow dev` prints up to 'Ctrl-C stops it.' (read on a thread: readline blocks)."""
    assert process.stdout is not None
    stdout = process.stdout
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, name="dev-stdout", daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if line.startswith("Ctrl-C stops it."):
            return seen
    raise AssertionError("optionflow dev printed no banner:\n" + "\n".join(seen[-20:]))


def get(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    return response.status, response.headers.get("Content-Type", ""), body


def test_dev_prints_a_dashboard_link_whose_page_and_token_work(database_url, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"JWT_SECRET", "WEBHOOK_SECRET", "EVENT_BUS_NAME", "OPTIONFLOW_CLOCK_START"}
    }
    env.update({"DATABASE_URL": database_url, "PORT": "0", "OPTIONFLOW_DATA_DIR": str(tmp_path)})
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("optionflow")), "dev"],  # the command `make run` runs
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = read_banner(process)
        link = next(line.split()[1] for line in banner if line.strip().startswith("dashboard "))
        api = next(line.split()[1] for line in banner if line.strip().startswith("API "))
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == api and parts.path == "/"
        token = parse_qs(parts.fragment)["token"][0]

        status, content_type, page = get(link, "/")
        assert status == 200 and content_type.startswith("text/html") and 'id="board"' in page
        status, _, body = get(link, "/positions?status=OPEN", {"Authorization": f"Bearer {token}"})
        assert status == 200, body
        # the token reads the book (which other tests on this database may have filled)
        assert isinstance(json.loads(body)["items"], list)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
