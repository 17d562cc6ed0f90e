"""Plain-text tables for the command line: aligned columns, numbers to the right."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
    return str(value)


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def render(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], headers: Sequence[str] | None = None
) -> str:
    """`rows` as a table of `columns` (dict keys), titled by `headers` (default: the keys)."""
    titles = list(headers or columns)
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(t)] + [len(r[i]) for r in cells]) for i, t in enumerate(titles)]
    right = [any(_numeric(row.get(col)) for row in rows) for col in columns]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ).rstrip()

    out = [line(titles), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)
