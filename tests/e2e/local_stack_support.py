"""The local stack as `make run` starts it, for end-to-end tests: embedded Postgres, HTTP, worker process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from optionflow import clock, config, observability
from optionflow.config import Settings
from optionflow.db import connection
from optionflow.events import bus, worker_invoker

from tests.conftest import JWT_SECRET, MARKET_OPEN, WEBHOOK_SECRET


@contextmanager
def outside_basetemp(prefix: str) -> Iterator[Path]:
    """A scratch directory for an embedded Postgres, not under pytest's basetemp: another pytest session on
    the machine prunes old basetemps, and would pull a running server's files from under it."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def running_local_stack(prefix: str) -> Iterator[Any]:
    """Always the embedded database, whatever DATABASE_URL says: this is the path a new user takes. The
    clock starts at a Monday's open; everything the stack installs in this process is undone after."""
    with outside_basetemp(prefix) as data_dir, _running(data_dir) as running:
        yield running


@contextmanager
def _running(data_dir: Path) -> Iterator[Any]:
    from optionflow.local import stack as local_stack

    settings = Settings(
        database_url=None,
        data_dir=data_dir,
        port=0,
        jwt_secret=JWT_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        clock_start=MARKET_OPEN,
    )
    running = local_stack.start(settings)
    try:
        yield running
    finally:
        running.stop()
        bus.set_bus(None)
        worker_invoker.set_invoker(None)
        clock.set_clock(None)
        config.reset_settings()
        connection.set_database_url(None)
        observability.keep_metrics(True)  # the stack turns them off for its terminal
