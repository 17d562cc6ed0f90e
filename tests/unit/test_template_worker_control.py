"""template.yaml and the worker-control code agree: names, stack outputs, and the API's right to wake workers."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from optionflow.cli.stack_workers import output_key
from optionflow.config import settings_from_env
from optionflow.local.template import _CfnLoader, worker_specs
from optionflow.logic.worker_control import WORKERS, schedule_name

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader))  # noqa: S506


def test_the_template_workers_are_the_workers_the_api_controls_under_the_same_schedule_names():
    specs = {spec.name: spec for spec in worker_specs(ROOT / "template.yaml", stage="dev")}
    assert sorted(specs) == sorted(WORKERS)
    for worker in WORKERS:
        assert specs[worker].schedule_name == schedule_name(worker, "dev")


def test_every_schedule_name_and_the_bus_are_stack_outputs_the_cli_reads(template):
    outputs = template["Outputs"]
    for worker in WORKERS:
        assert outputs[output_key(worker)]["Value"] == "optionflow-${Stage}-" + worker.replace("_", "-")
    assert outputs["EventBusName"]["Value"] == "EventBus"


def test_the_api_function_knows_and_may_invoke_every_worker_function(template):
    api = template["Resources"]["ApiFunction"]["Properties"]
    env = api["Environment"]["Variables"]
    functions = {spec.name: spec.logical_id for spec in worker_specs(ROOT / "template.yaml", stage="dev")}
    settings = settings_from_env({f"{w.upper()}_FUNCTION_NAME": functions[w] for w in WORKERS})
    assert settings.worker_functions() == functions
    for worker, logical_id in functions.items():
        assert env[f"{worker.upper()}_FUNCTION_NAME"] == logical_id
    invokable = {
        p["LambdaInvokePolicy"]["FunctionName"] for p in api["Policies"] if "LambdaInvokePolicy" in p
    }
    assert invokable == set(functions.values())


def test_every_worker_route_is_an_api_event(template):
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events}
    assert {
        ("GET", "/workers"),
        ("POST", "/workers/{name}/pause"),
        ("POST", "/workers/{name}/resume"),
        ("POST", "/workers/{name}/trigger"),
    } <= routes
