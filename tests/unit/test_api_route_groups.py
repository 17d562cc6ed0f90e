"""The API imports a router on the first request to one of its paths: the table that says which router
serves which paths matches the routes the routers declare, and a webhook imports no other router."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

from tests.conftest import ROOT


def _declared_paths(group: str) -> set[str]:
    router = importlib.import_module(f"api.routes.{group}").router
    return {rule for rule, *_ in router._routes}


def test_every_router_serves_exactly_the_paths_its_row_in_the_table_names():
    from api.app import ROUTE_GROUPS

    assert set(ROUTE_GROUPS) | {"clock"} == {
        path.stem for path in (ROOT / "functions" / "api" / "routes").glob("*.py") if path.stem != "__init__"
    }
    for group, segments in ROUTE_GROUPS.items():
        firsts = {path.lstrip("/").split("/", 1)[0] for path in _declared_paths(group)}
        assert firsts == set(segments), group


def test_a_webhook_imports_only_the_webhook_router_and_the_document_imports_them_all():
    script = (
        "import sys, json; from api.app import lambda_handler, openapi_document; "
        "from optionflow.local.http_bridge import to_event; "
        "from optionflow.local.lambda_context import LocalContext; "
        "event = to_event('POST', '/webhook', {'content-type': 'application/json'}, b'{}', '127.0.0.1'); "
        "status = lambda_handler(event, LocalContext('ApiFunction'))['statusCode']; "
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith('api.routes.')); "
        "print(status, loaded()); openapi_document(); print(len(loaded()))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("shared", "functions")),
        "JWT_SECRET": "j" * 32,
        "WEBHOOK_SECRET": "w" * 16,
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
    }
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    first, second = out.stdout.splitlines()[-2:]
    assert first == "401 ['api.routes.webhook']"  # refused (no secret) before the database is touched
    from api.app import ROUTE_GROUPS

    assert int(second) == len(ROUTE_GROUPS)


def _loaded_after_import(initialization: str) -> str:
    script = (
        "import sys; import api.app; "
        "print(len([m for m in sys.modules if m.startswith('api.routes.')]), 'botocore.client' in sys.modules)"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("shared", "functions")),
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[-1]


def test_an_instance_initialised_ahead_of_requests_loads_everything_at_import_and_an_on_demand_one_nothing():
    from api.app import ROUTE_GROUPS

    everything = f"{len(ROUTE_GROUPS)} True"
    assert _loaded_after_import("on-demand") == "0 False"
    assert _loaded_after_import("snap-start") == everything
    assert _loaded_after_import("provisioned-concurrency") == everything
