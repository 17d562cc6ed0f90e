"""`optionflow dev` / `make run`: the whole app on one machine.

Embedded Postgres (unless DATABASE_URL is set), migrations, the API Lambda behind a local HTTP server in
several processes on one port (LOCAL_API_WORKERS, by default one per core up to 4), the worker Lambdas in a
process of their own on their schedules (the worker registry's, which a test holds to template.yaml's), and
a queue from the API processes to the workers for the fast path.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import sys
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from optionflow.config import ConfigurationError, Settings


def project_root() -> Path:
    """The checkout holding template.yaml: the current directory or one above it, else the package's."""
    for folder in (Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[3]):
        if (folder / "template.yaml").is_file() and (folder / "functions").is_dir():
            return folder
    raise FileNotFoundError("run this from the OptionFlow checkout (no template.yaml found)")


def local_secrets(settings: Settings) -> Settings:
    """Fill missing JWT and webhook secrets from (or into) <data_dir>/secrets.json, so tokens survive restarts;
    notifications also print to the console unless NOTIFY_CONSOLE turned that off."""
    path = settings.data_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    changed = False
    for field in ("jwt_secret", "webhook_secret"):
        if not stored.get(field):
            stored[field] = secrets.token_urlsafe(32)
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return settings.model_copy(
        update={
            "jwt_secret": settings.jwt_secret or stored["jwt_secret"],
            "webhook_secret": settings.webhook_secret or stored["webhook_secret"],
            # notifications print to the stack's console unless NOTIFY_CONSOLE says otherwise
            "notify_console": True if settings.notify_console is None else settings.notify_console,
        }
    )


@dataclass
class LocalStack:
    settings: Settings
    url: str
    api: Any  # ApiProcesses
    workers: Any  # WorkerProcess
    postgres: Any
    clock_note: str | None = None  # why a simulated clock did not start at OPTIONFLOW_CLOCK_START

    @property
    def port(self) -> int:
        return int(self.api.server_address[1])

    def set_fast_path(self, on: bool) -> None:
        """Whether the webhook wakes the workers at once (on by default); off, the schedules alone move
        work along (the benchmarks measure the webhook alone so)."""
        self.workers.handoff.fast_path.value = 1 if on else 0

    def stop(self) -> None:
        self.api.stop()
        self.workers.stop()
        if self.postgres is not None:
            self.postgres.cleanup()


def start(settings: Settings, *, schedules: bool = True, host: str = "127.0.0.1") -> LocalStack:
    """Start everything and return once the API is listening (serving happens on a background thread)."""
    from optionflow import clock, config, observability
    from optionflow.db.connection import get_connection, set_database_url
    from optionflow.db.migrate import migrate
    from optionflow.events.bus import InProcessBus, set_bus
    from optionflow.events.worker_invoker import CallbackInvoker, set_invoker
    from optionflow.local.api_process import ApiProcesses
    from optionflow.local.worker_process import WorkerProcess

    root = project_root()
    sys.path.insert(0, str(root / "functions"))
    settings = local_secrets(settings)
    postgres = None
    if not settings.database_url:
        from optionflow.local import embedded_postgres

        url, postgres = embedded_postgres.start(settings.data_dir)
        settings = settings.model_copy(update={"database_url": url})
    observability.keep_metrics(False)
    config.use_settings(settings)
    # a broker mode builds its adapter now, and LIVE passes its gate now: a refused key, an account not
    # approved for options or a missing confirmation stops the stack before it serves anything
    from optionflow.brokers.provider import order_broker

    try:
        order_broker(config.get_settings())
    except ConfigurationError:
        if postgres is not None:
            postgres.cleanup()
        raise
    clock.set_clock(None)
    set_database_url(settings.database_url)
    migrate(get_connection())

    clock_note = None
    if settings.clock_start is not None:
        from optionflow.composition import for_process
        from optionflow.logic import clock_control

        _, started = clock_control.start(for_process(), settings.clock_start)
        if not started:
            clock_note = (
                f"this book's clock had passed OPTIONFLOW_CLOCK_START ({settings.clock_start.isoformat()}) "
                "and carries on: it never goes back"
            )
    workers = WorkerProcess(settings, root, schedules=schedules)
    # This process only starts and stops the others; what it publishes (nothing, today) goes the same way.
    set_bus(InProcessBus(workers.dispatch))
    set_invoker(CallbackInvoker(workers.run))
    try:
        api = ApiProcesses(settings, root, settings.api_processes(), workers.handoff, host)
    except OSError as exc:
        workers.stop()
        if postgres is not None:
            postgres.cleanup()
        raise ConfigurationError(
            f"PORT {settings.port}: cannot listen on {host} ({exc.strerror}); set PORT"
        ) from None
    except BaseException:
        workers.stop()
        if postgres is not None:
            postgres.cleanup()
        raise
    url = f"http://{host}:{api.server_address[1]}"
    return LocalStack(settings, url, api, workers, postgres, clock_note)


def serve(settings: Settings) -> None:
    """Run until Ctrl-C / SIGTERM, printing what a user needs to send the first alert."""
    from optionflow.auth.tokens import mint
    from optionflow.clock import get_clock

    stack = start(settings)
    s = stack.settings
    token = mint(
        secret=s.require_jwt_secret(),
        issuer=s.jwt_issuer,
        audience=s.jwt_audience,
        scope="admin",
        ttl=timedelta(days=7),
    )
    where = "embedded Postgres in " + str(s.data_dir / "pgdata") if stack.postgres else "DATABASE_URL"
    clock = get_clock().now().isoformat()
    if s.clock_start is not None:
        clock += " (simulated: `optionflow clock` shows and drives it)"
        if stack.clock_note:
            clock += f"\n                  {stack.clock_note}"
    # The dashboard link carries the token in the fragment: a browser never sends a fragment to the server,
    # and the page takes it out of the address bar once read.
    print(
        f"""
OptionFlow is running ({s.app_mode} mode, trading mode {s.trading_mode}, broker {s.broker}, database: {where})
  processes       {s.api_processes()} for the API (LOCAL_API_WORKERS), one for the workers at niceness {s.local_worker_nice}
  clock           {clock}
  API             {stack.url}
  webhook URL     {stack.url}/webhook
  webhook secret  {s.webhook_secret}
  admin token     {token}
  dashboard       {stack.url}/#token={token}

Send an alert:
  curl -s -X POST {stack.url}/webhook -H 'Content-Type: application/json' \\
    -d '{{"ticker":"SPY","action":"BUY","direction":"CALL","timeframe":"5","secret":"{s.webhook_secret}"}}'
Read it back:
  curl -s {stack.url}/signals -H 'Authorization: Bearer {token}'

Ctrl-C stops it.""",
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    print("\nstopping…", flush=True)
    stack.stop()
