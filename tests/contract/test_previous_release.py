"""Expand, then contract: the previous release's code keeps working on this release's schema.

A deploy migrates first and updates the functions after, so for a while (and for good if the deploy rolls
back after the migrations) the previous release's functions run against the new schema. This test takes
the previous release's `shared/`, `functions/` and `events/` from git (the commit in PREVIOUS_RELEASE),
migrates a fresh database with *this* tree's migrations, and drives the old code through its handlers
(tests/contract/previous_release_driver.py): alerts, sweeps, every read route, settings changes, a pause
and a close. Every step must succeed.

At each release, write the commit being released into PREVIOUS_RELEASE once it is deployed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import psycopg2
import pytest
from optionflow.db.migrate import migrate

from tests.conftest import JWT_SECRET, MARKET_OPEN, ROOT, WEBHOOK_SECRET

HERE = Path(__file__).resolve().parent
PREVIOUS_RELEASE = (HERE / "PREVIOUS_RELEASE").read_text().split()[0]


def _previous_tree(destination: Path) -> Path:
    """The previous release's files, from this clone's history (CI clones with the whole history)."""
    try:
        archive = subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "archive",
                "--format=tar",
                PREVIOUS_RELEASE,
                "shared",
                "functions",
                "events",
            ],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.decode() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        pytest.fail(f"cannot read release {PREVIOUS_RELEASE} from git (a shallow clone?): {detail}")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    return destination


@pytest.fixture
def head_database(postgres_server_url: str) -> Iterator[str]:
    """A database migrated to this tree's head, dropped afterwards."""
    from urllib.parse import urlsplit, urlunsplit

    name = f"optionflow_previous_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(postgres_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(postgres_server_url)._replace(path="/" + name))
    conn = psycopg2.connect(url)
    migrate(conn)
    conn.close()
    try:
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def drive(tree: Path, database_url: str) -> list[dict[str, object]]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - only where a library looks for a home
        "PYTHONPATH": f"{tree / 'shared'}{os.pathsep}{tree / 'functions'}",
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "OPTIONFLOW_CLOCK_START": MARKET_OPEN.isoformat(),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "OptionFlow",
        "LOG_LEVEL": "ERROR",
    }
    done = subprocess.run(
        [sys.executable, str(HERE / "previous_release_driver.py")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    steps = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"step"')]
    assert steps, f"the driver reported nothing:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return steps


def test_the_previous_release_runs_its_whole_pipeline_and_api_on_this_releases_schema(
    head_database, tmp_path
):
    tree = _previous_tree(tmp_path / "previous")

    steps = drive(tree, head_database)

    failed = [step for step in steps if not step["ok"]]
    assert not failed, json.dumps(failed, indent=1)[:6000]
    assert {"webhook CLOSE SPY", "two positions opened", "sweep after the close: exit_monitor"} <= {
        str(step["step"]) for step in steps
    }


def test_the_driver_sees_a_contracting_migration_the_previous_release_cannot_live_with(
    head_database, tmp_path
):
    # Given a migration that renames a column the previous release reads (a contract step taken too early)
    tree = _previous_tree(tmp_path / "previous")
    conn = psycopg2.connect(head_database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ALTER TABLE signals RENAME COLUMN ticker TO symbol")
    conn.close()

    # Then driving the previous release reports the failure
    steps = drive(tree, head_database)

    assert any(not step["ok"] and "ticker" in str(step["detail"]) for step in steps)


def test_every_migration_of_the_previous_release_is_kept_unchanged(tmp_path):
    tree = _previous_tree(tmp_path / "previous")
    old = tree / "shared" / "optionflow" / "db" / "migrations"
    new = ROOT / "shared" / "optionflow" / "db" / "migrations"
    for migration in sorted(old.glob("*.sql")):
        assert (new / migration.name).read_bytes() == migration.read_bytes(), migration.name
