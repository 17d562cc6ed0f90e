"""The migrate function answers CloudFormation on every path, in time, and migrates the real database."""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import psycopg2
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from migrate.app import ANSWER_MARGIN_SECONDS, lambda_handler
from optionflow.cli import main
from optionflow.cli import stack as cli_stack
from optionflow.db import connection
from optionflow.db.migrate import _MIGRATION_LOCK, available_migrations
from optionflow.local.lambda_context import LocalContext

from tests.conftest import _with_database, load_event

ALL_VERSIONS = [m.version for m in available_migrations()]


class CloudFormationStandIn:
    """A local HTTP server in place of the pre-signed S3 URL CloudFormation waits on."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.content_types: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.content_types.append(self.headers.get("Content-Type"))
                outer.answers.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = (
            f"http://127.0.0.1:{self.server.server_address[1]}/stack%7CDatabaseMigrations?X-Amz-Signature=ab"
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cloudformation() -> Iterator[CloudFormationStandIn]:
    stand_in = CloudFormationStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def empty_database(postgres_server_url: str, settings: Any) -> Iterator[str]:
    """A new database with no tables, which the function under test is pointed at."""
    name = f"optionflow_migrate_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(postgres_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(postgres_server_url, name)
    connection.set_database_url(url)
    yield url
    connection.set_database_url(settings.database_url)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _event(name: str, response_url: str) -> dict[str, Any]:
    event = load_event(f"migrate/{name}.json")
    event["ResponseURL"] = response_url
    return event


def _applied_versions(url: str) -> list[str]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM schema_migrations ORDER BY version")
        versions = [row[0] for row in cur.fetchall()]
    conn.close()
    return versions


def test_create_migrates_the_empty_database_and_answers_success_with_what_it_applied(
    cloudformation, empty_database
):
    event = _event("create", cloudformation.url)

    returned = lambda_handler(event, LocalContext("MigrateFunction", timeout_seconds=300))

    assert cloudformation.answers == [returned]
    answer = returned
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"] == {"Applied": ",".join(ALL_VERSIONS), "Latest": ALL_VERSIONS[-1]}
    assert answer["RequestId"] == event["RequestId"] and answer["StackId"] == event["StackId"]
    assert answer["LogicalResourceId"] == "DatabaseMigrations" and answer["PhysicalResourceId"]
    assert _applied_versions(empty_database) == ALL_VERSIONS
    # the pre-signed URL's signature covers an empty content type; anything else is refused by S3
    assert cloudformation.content_types == [""]


def test_update_on_an_up_to_date_database_succeeds_applying_nothing_and_keeps_the_resource_id(
    cloudformation, settings
):
    event = _event("update", cloudformation.url)

    answer = lambda_handler(event, LocalContext("MigrateFunction", timeout_seconds=300))

    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["Applied"] == "none"
    assert answer["PhysicalResourceId"] == event["PhysicalResourceId"]
    assert cloudformation.answers == [answer]


def test_delete_succeeds_without_touching_the_database(cloudformation, settings):
    connection.set_database_url("postgresql://postgres@127.0.0.1:1/unreachable")
    try:
        answer = lambda_handler(
            _event("delete", cloudformation.url), LocalContext("MigrateFunction", timeout_seconds=300)
        )
    finally:
        connection.set_database_url(settings.database_url)

    assert answer["Status"] == "SUCCESS" and answer["Data"] == {}
    assert answer["PhysicalResourceId"] == "DatabaseMigrations-schema"
    assert cloudformation.answers == [answer]


def test_an_unreachable_database_answers_failed_with_the_reason(cloudformation, settings):
    connection.set_database_url("postgresql://postgres@127.0.0.1:1/unreachable")
    try:
        answer = lambda_handler(
            _event("create", cloudformation.url), LocalContext("MigrateFunction", timeout_seconds=300)
        )
    finally:
        connection.set_database_url(settings.database_url)

    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("DatabaseUnavailable: cannot connect to Postgres")
    assert "log stream local" in answer["Reason"]
    assert cloudformation.answers == [answer]


def test_migrations_that_cannot_finish_in_time_still_answer_failed_before_the_function_times_out(
    cloudformation, empty_database
):
    # Another migrator (a second deploy, someone's CLI) holds the migration lock and does not let go.
    holder = psycopg2.connect(empty_database)
    holder.autocommit = True
    with holder.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        context = LocalContext("MigrateFunction", timeout_seconds=ANSWER_MARGIN_SECONDS + 1.5)
        answer = lambda_handler(_event("update", cloudformation.url), context)
        remaining = context.get_remaining_time_in_millis() / 1000
    finally:
        holder.close()

    assert answer["Status"] == "FAILED"
    assert re.match(r"did not finish within 1\.\d s", answer["Reason"])
    assert cloudformation.answers == [answer]
    assert remaining > ANSWER_MARGIN_SECONDS - 1  # answered with the margin left, not at the deadline


def test_a_direct_invocation_returns_what_it_applied(empty_database):
    result = lambda_handler(
        {"source": "optionflow.cli", "action": "migrate"}, LocalContext("MigrateFunction")
    )

    assert result == {"applied": ALL_VERSIONS, "latest": ALL_VERSIONS[-1]}
    assert _applied_versions(empty_database) == ALL_VERSIONS


# ------------------------------------------------------- `optionflow db migrate --stack` (recorded AWS answers)


def _stubbed_clients(payload: dict[str, Any], *, function_error: str | None = None) -> tuple[Any, Any]:
    keys = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    cfn, lam = boto3.client("cloudformation", **keys), boto3.client("lambda", **keys)
    cfn_stub, lam_stub = Stubber(cfn), Stubber(lam)
    cfn_stub.add_response(
        "describe_stack_resource",
        {
            "StackResourceDetail": {
                "LogicalResourceId": "MigrateFunction",
                "PhysicalResourceId": "optionflow-MigrateFunction-Q3n8X2r1bT0v",
                "ResourceType": "AWS::Lambda::Function",
                "LastUpdatedTimestamp": "2026-11-23T15:00:00Z",
                "ResourceStatus": "UPDATE_COMPLETE",
            }
        },
        {"StackName": "optionflow", "LogicalResourceId": "MigrateFunction"},
    )
    body = json.dumps(payload).encode()
    response: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}
    if function_error:
        response["FunctionError"] = function_error
    lam_stub.add_response(
        "invoke",
        response,
        {
            "FunctionName": "optionflow-MigrateFunction-Q3n8X2r1bT0v",
            "InvocationType": "RequestResponse",
            "Payload": b'{"source": "optionflow.cli", "action": "migrate"}',
        },
    )
    cfn_stub.activate()
    lam_stub.activate()
    return cfn, lam


def test_db_migrate_stack_invokes_the_stacks_function_and_prints_what_it_applied(monkeypatch, capsys):
    clients = _stubbed_clients({"applied": ["003"], "latest": "003"})
    monkeypatch.setattr(cli_stack, "_clients", lambda region: clients)

    assert main(["db", "migrate", "--stack", "optionflow"]) == 0

    assert capsys.readouterr().out.strip() == "optionflow: applied 003"


def test_db_migrate_stack_reports_the_functions_error_in_one_line(monkeypatch, capsys):
    error = {"errorType": "DatabaseUnavailable", "errorMessage": "cannot connect to Postgres: timeout"}
    clients = _stubbed_clients(error, function_error="Unhandled")
    monkeypatch.setattr(cli_stack, "_clients", lambda region: clients)

    assert main(["db", "migrate", "--stack", "optionflow"]) == 2

    assert capsys.readouterr().err.strip() == (
        "optionflow: optionflow-MigrateFunction-Q3n8X2r1bT0v failed: "
        "DatabaseUnavailable: cannot connect to Postgres: timeout"
    )
