"""The import cost of each market-data adapter, as a cold Lambda pays it: `python -X importtime` in a fresh
interpreter, the adapter module alone and then with its first HTTP client built (which loads urllib3).

    python -m benchmarks.market_imports

Prints the median of several runs, in milliseconds, of the cumulative import time of the module each
line names (it and everything it pulls in, beyond what the interpreter loads at start). Adapters import
urllib3 only when their first request is made, so a cold start that never asks for a price never pays it.
Not a test: nothing here asserts.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 15

CASES = {
    "market.ports (the port)": "optionflow.market.ports",
    "market.simulated": "optionflow.market.simulated",
    "market.tradier": "optionflow.market.tradier",
    "market.alpaca": "optionflow.market.alpaca",
    "market.massive": "optionflow.market.massive",
    "urllib3 (loaded by an adapter's first request)": "urllib3",
}


def _cumulative_us(module: str) -> int:
    """Microseconds `import module` took in a fresh interpreter, everything it pulled in included."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "shared"), "PATH": ""},
    )
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[2].strip() == module and parts[1].strip().isdigit():
            return int(parts[1])
    raise RuntimeError(f"no import time line for {module}")


def main() -> None:
    print(f"{'import':42} {'median ms':>10} {'min ms':>8}  ({RUNS} fresh interpreters each)")
    for label, module in CASES.items():
        samples = [_cumulative_us(module) / 1000 for _ in range(RUNS)]
        print(f"{label:42} {statistics.median(samples):10.1f} {min(samples):8.1f}")


if __name__ == "__main__":
    main()
