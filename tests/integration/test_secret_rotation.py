"""A rotated database password: the first login the server refuses with the cached secret fetches the secret
once more, past its cache, and logs in with it; a secret that still fails is a 503, after one fetch.

The shared test server trusts every local login, so this starts its own embedded Postgres that asks
passwords (scram-sha-256) of every role but its superuser, and keeps the secret in moto's Secrets Manager.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import psycopg2
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from optionflow import config
from optionflow.db import connection
from optionflow.db.connection import PROCESS_DATABASE, DatabaseUnavailable

REGION = "us-east-1"
ROLE = "trader"


class PasswordServer:
    """An embedded Postgres whose role `trader` logs in only with its current password."""

    def __init__(self) -> None:
        from optionflow.local import embedded_postgres

        self.data_dir = Path(tempfile.mkdtemp(prefix="optionflow-rotation-pg-"))
        self.admin_url, self.server = embedded_postgres.start(self.data_dir, database="rotation")
        admin = psycopg2.connect(self.admin_url)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SHOW hba_file")
            [hba_file] = cur.fetchone()
            Path(hba_file).write_text("local all postgres trust\nlocal all all scram-sha-256\n")
            cur.execute("SELECT pg_reload_conf()")
            cur.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD 'first-password'")
        admin.close()

    def url(self, password: str) -> str:
        parts = urlsplit(self.admin_url)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{ROLE}:{password}@{host}"))

    def rotate(self, password: str) -> None:
        admin = psycopg2.connect(self.admin_url)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f"ALTER ROLE {ROLE} PASSWORD %s", (password,))
        admin.close()

    def stop(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server() -> Iterator[PasswordServer]:
    started = PasswordServer()
    yield started
    started.stop()


@pytest.fixture
def secret(server: PasswordServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The process's database is the secret's (no plain DATABASE_URL); `fetches` counts GetSecretValue."""
    for name in ("DATABASE_URL", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "JWT_SECRET": "j" * 32,
        "WEBHOOK_SECRET": "w" * 16,
    }.items():
        monkeypatch.setenv(name, value)
    server.rotate("first-password")
    state: dict[str, Any] = {"fetches": 0}
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        state["arn"] = client.create_secret(
            Name="optionflow/test/db", SecretString=server.url("first-password")
        )["ARN"]
        state["client"] = client
        monkeypatch.setenv("DATABASE_SECRET_ARN", state["arn"])
        parameters.clear_caches()
        config.reset_settings()
        connection.set_database_url(None)
        boto3.setup_default_session(region_name=REGION)  # the app's clients come from the default session
        boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
            "provide-client-params.secrets-manager.GetSecretValue",
            lambda **_: state.__setitem__("fetches", state["fetches"] + 1),
        )
        try:
            yield state
        finally:
            connection.close_connection()
            parameters.clear_caches()
            config.reset_settings()
            boto3.DEFAULT_SESSION = None


def _whoami() -> str:
    return str(
        PROCESS_DATABASE.run_statement(
            lambda cur: (cur.execute("SELECT current_user AS u"), cur.fetchone())[1]
        )["u"]
    )


def test_a_login_refused_after_rotation_fetches_the_secret_once_more_and_logs_in_with_it(server, secret):
    assert _whoami() == ROLE and secret["fetches"] == 1
    # Given RDS rotated the password: the server and the secret have the new one; the cache the old
    server.rotate("second-password")
    secret["client"].put_secret_value(SecretId=secret["arn"], SecretString=server.url("second-password"))
    connection.close_connection()  # a new connection is needed (a new instance, or the old one dropped)

    # When the next request connects, within the cache's max age
    assert _whoami() == ROLE

    # Then the secret was fetched once more, and the next connection uses it from the cache
    assert secret["fetches"] == 2
    connection.close_connection()
    assert _whoami() == ROLE and secret["fetches"] == 2


def test_a_secret_that_still_fails_is_fetched_only_once_more_and_answers_unavailable(server, secret):
    assert _whoami() == ROLE
    server.rotate("third-password")  # the server rotated, the secret not yet
    connection.close_connection()

    with pytest.raises(DatabaseUnavailable, match="password authentication failed"):
        _whoami()

    assert secret["fetches"] == 2


def test_a_plain_database_url_is_never_fetched_again(server, secret, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", server.url("wrong-password"))
    config.reset_settings()

    with pytest.raises(DatabaseUnavailable, match="password authentication failed"):
        _whoami()

    assert secret["fetches"] == 0
