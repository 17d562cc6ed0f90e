"""Free text an operator types (why a worker was paused, why a setting changed), as Postgres can store it."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _no_nul(value: str) -> str:
    # Postgres text cannot hold NUL; refused here it is a 422 naming the field, not a driver error (a 500).
    if "\x00" in value:
        raise ValueError("text cannot contain NUL (\\u0000) characters")
    return value


OperatorText = Annotated[str, AfterValidator(_no_nul)]
