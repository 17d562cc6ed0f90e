"""Contracts with the outside: the OpenAPI document, the SAM template and the event fixtures agree."""

from __future__ import annotations

import json

from optionflow.local.template import _CfnLoader, worker_specs
from optionflow.workers import NAMES

from tests.conftest import EVENTS, ROOT
from tests.contract.openapi_snapshot import SIMULATED_CLOCK, current_document, deployed_document

SNAPSHOT = ROOT / "tests" / "contract" / "openapi.json"


def _template() -> dict:
    import yaml

    return yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506


def test_openapi_document_matches_the_reviewed_snapshot():
    # If this fails the API changed: review the diff, then run `make openapi` to accept it.
    assert current_document() == json.loads(SNAPSHOT.read_text())


def test_every_template_route_is_served_by_the_api_and_documented():
    routes = set()
    for resource in _template()["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                routes.add((event["Properties"]["Method"].lower(), event["Properties"]["Path"]))
    documented = {(method, path) for path, ops in deployed_document()["paths"].items() for method in ops}
    assert routes == documented


def test_a_simulated_clock_adds_only_get_and_post_clock_which_aws_never_routes():
    added = current_document()[SIMULATED_CLOCK]["paths"]
    assert {(method, path) for path, ops in added.items() for method in ops} == {
        ("get", "/clock"),
        ("post", "/clock"),
    }


def test_every_worker_has_a_schedule_a_fast_path_rule_and_an_event_fixture():
    specs = worker_specs(ROOT / "template.yaml")
    assert {s.name for s in specs} == set(NAMES)
    for spec in specs:
        if spec.name == "reconciler":  # a slower sweep and no fast path: nothing wakes it early
            assert (spec.rate_seconds, spec.detail_types) == (300, ())
        else:
            assert spec.rate_seconds == 60
            assert spec.detail_types, spec.name
        fixture = json.loads((EVENTS / "workers" / f"{spec.name}.json").read_text())
        assert fixture["worker"] == spec.name
        assert set(json.loads(spec.schedule_input)) == set(fixture)


def test_env_json_only_sets_variables_the_template_declares():
    template = _template()
    declared = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for function_env in json.loads((ROOT / "env.json").read_text()).values():
        assert set(function_env) <= declared
