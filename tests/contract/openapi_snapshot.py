"""Print the API's OpenAPI document, normalised (`make openapi` writes it to tests/contract/openapi.json).

The document is the deployed API's. GET and POST /clock exist only on a simulated clock
(OPTIONFLOW_CLOCK_START), never in AWS, so they are kept apart under `x-simulated-clock`: the paths and
schemas a simulated clock adds, and nothing else may change. A process that has served a simulated clock
keeps its routes, so the document is built in a fresh interpreter (`current_document`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# this checkout's code, ahead of any installed copy of the package
SOURCES = (str(ROOT / "shared"), str(ROOT / "functions"))
SIMULATED_CLOCK = "x-simulated-clock"


def build() -> dict[str, Any]:
    """The document as reviewed; only in a process that has not served a simulated clock."""
    for source in reversed(SOURCES):
        if source not in sys.path:
            sys.path.insert(0, source)
    from api import app

    deployed = json.loads(app.openapi_document())
    if "/clock" in deployed["paths"]:
        raise RuntimeError("this process has served a simulated clock; build the document in a fresh one")
    app.include_clock_routes()
    simulated = json.loads(app.openapi_document())
    paths = {path: item for path, item in simulated["paths"].items() if path not in deployed["paths"]}
    schemas = {
        name: schema
        for name, schema in simulated["components"]["schemas"].items()
        if name not in deployed["components"]["schemas"]
    }
    for name in schemas:
        del simulated["components"]["schemas"][name]
    for path in paths:
        del simulated["paths"][path]
    if simulated != deployed:
        raise RuntimeError("the clock routes change more of the document than their own paths and schemas")
    return {**deployed, SIMULATED_CLOCK: {"paths": paths, "schemas": schemas}}


@lru_cache(maxsize=1)
def current_document() -> dict[str, Any]:
    """`build()` in a fresh interpreter, exactly as `make openapi` writes the snapshot."""
    printed = subprocess.run(
        [sys.executable, "-m", "tests.contract.openapi_snapshot"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(printed.stdout))


def deployed_document() -> dict[str, Any]:
    """The document a deployed API serves: without the simulated clock's routes."""
    return {key: value for key, value in current_document().items() if key != SIMULATED_CLOCK}


if __name__ == "__main__":
    print(json.dumps(build(), indent=2, sort_keys=True))
