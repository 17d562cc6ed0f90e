"""Print the API's OpenAPI document, normalised (`make openapi` writes it to tests/contract/openapi.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

FUNCTIONS = str(Path(__file__).resolve().parents[2] / "functions")


def current_document() -> dict:
    if FUNCTIONS not in sys.path:
        sys.path.insert(0, FUNCTIONS)
    from api.app import openapi_document

    return dict(json.loads(openapi_document()))


if __name__ == "__main__":
    print(json.dumps(current_document(), indent=2, sort_keys=True))
