"""Schemathesis's own command line, with every check, against the document the local server serves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.api_events import token
from tests.conftest import WEBHOOK_SECRET

CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_with_every_check_finds_no_failure_in_the_served_document(api_server, market, tmp_path):
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{api_server}/openapi.json",
        "--header",
        f"Authorization: Bearer {token('admin')}",
        "--checks",
        "all",
        "--max-examples",
        "25",
        "--seed",
        "14",
    ]
    env = {**os.environ, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    # run from tmp_path: schemathesis writes its replay files (.schemathesis/) where it runs
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900, check=False
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
