"""Cold start of the Lambda functions on the layout `sam build` produces, without Docker.

    sam build && python -m benchmarks.cold_start [--build-dir .aws-sam/build] [--python python3.12] [--runs 7]

Each figure is a fresh interpreter of the functions' runtime version with the function's code as its
working directory and the two layers on sys.path, in Lambda's order (/var/task, then /opt/python), then
boto3 as the runtime provides it. It reports the CPU and wall time of the function's import (the init
phase) for the API and each worker, and the X-Ray Tracer's set-up on the first invocation, as medians:

- "sources only": layers without .pyc files (what `sam build` ships when it finds no Python 3.12, see
  layers/deps/Makefile); Lambda's file system is read-only, so every cold start compiles every module
  it imports;
- "with .pyc": the same files compiled by this interpreter, as `sam build` ships them with a Python 3.12;
- "floor": only the third-party imports the API cannot do without (Powertools' resolver with
  validation, pydantic, psycopg2), with .pyc;
- "SnapStart init": the API's import as SnapStart runs it before the snapshot (everything loaded ahead):
  what a restored instance no longer pays. The restore itself cannot be measured without AWS.

CPU time is the steadier figure on a shared machine; wall time includes waiting for the disk and the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six")

_MEASURE = """
import json, os, time
cpu, wall = time.process_time(), time.perf_counter()
{code}
print(json.dumps({{"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}}))
"""

FLOOR = (
    "import psycopg2, pydantic\n"
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
    "APIGatewayHttpResolver(enable_validation=True)"
)
TRACER = (
    "import api.app\n"
    "from optionflow.observability import tracer\n"
    "cpu, wall = time.process_time(), time.perf_counter()\n"
    "tracer.get()"
)


def runtime_dir(target: Path) -> Path:
    """boto3 and its dependencies as the Lambda runtime provides them (the layer does not ship them)."""
    import boto3

    site = Path(boto3.__file__).resolve().parents[1]
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        source = site / name if (site / name).is_dir() else site / f"{name}.py"
        (target / source.name).symlink_to(source)
    return target


def layout(build: Path, scratch: Path, *, compiled: bool, python: str) -> dict[str, Path]:
    """A copy of the function code and layers, without .pyc files or compiled for `python`."""
    copy = scratch / ("compiled" if compiled else "sources")
    parts = ["DepsLayer", "DomainLayer", *(p.name for p in build.iterdir() if p.name.endswith("Function"))]
    for part in parts:
        shutil.copytree(build / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    if compiled:
        subprocess.run([python, "-m", "compileall", "-q", str(copy)], check=True, stdout=subprocess.DEVNULL)
    return {"root": copy, "deps": copy / "DepsLayer" / "python", "domain": copy / "DomainLayer" / "python"}


def measure(
    python: str,
    where: dict[str, Path],
    function: str,
    code: str,
    runs: int,
    runtime: Path,
    initialization: str = "on-demand",
) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - where pyenv and pip look for a home
        "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's code and layers are read-only
        "PYTHONPATH": os.pathsep.join(str(p) for p in (where["deps"], where["domain"], runtime)),
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_REGION": "us-east-1",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization,
    }
    if "PYENV_VERSION" in os.environ:
        env["PYENV_VERSION"] = os.environ["PYENV_VERSION"]
    cpu, wall = [], []
    for _ in range(runs):
        done = subprocess.run(
            [python, "-c", _MEASURE.format(code=code)],
            cwd=where["root"] / function,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"{function}: {done.stderr[-2000:]}")
        figures = json.loads(done.stdout.splitlines()[-1])
        cpu.append(figures["cpu"] * 1000)
        wall.append(figures["wall"] * 1000)
    return {"cpu_ms": round(statistics.median(cpu)), "wall_ms": round(statistics.median(wall))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build")
    parser.add_argument("--python", default="python3.12", help="an interpreter of the functions' runtime")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.build_dir / "ApiFunction").is_dir():
        raise SystemExit(f"no ApiFunction under {args.build_dir}: run `sam build` first")
    version = subprocess.run(
        [args.python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ,
    )
    if version.returncode != 0:
        raise SystemExit(f"{args.python} does not run: {version.stderr.strip()}")
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="optionflow-cold-start-") as scratch_name:
        scratch = Path(scratch_name)
        runtime = runtime_dir(scratch / "runtime")
        workers = sorted(p.name for p in args.build_dir.iterdir() if p.name.endswith("Function"))
        for compiled in (False, True):
            where = layout(args.build_dir, scratch, compiled=compiled, python=args.python)
            mode = "with .pyc" if compiled else "sources only"
            results[mode] = {
                "api.app": measure(args.python, where, "ApiFunction", "import api.app", args.runs, runtime),
                "tracer set-up": measure(args.python, where, "ApiFunction", TRACER, args.runs, runtime),
            }
            for function in workers:
                if function in ("ApiFunction", "MigrateFunction"):
                    continue
                module = "workers." + "_".join(
                    part.lower() for part in _split_camel(function.removesuffix("Function"))
                )
                results[mode][module] = measure(
                    args.python, where, function, f"import {module}", args.runs, runtime
                )
            if compiled:
                results[mode]["floor"] = measure(args.python, where, "ApiFunction", FLOOR, args.runs, runtime)
                # ApiSnapStart=true: the init that the snapshot holds (every router, Tracer, boto3 models)
                results[mode]["api.app, SnapStart init"] = measure(
                    args.python, where, "ApiFunction", "import api.app", args.runs, runtime, "snap-start"
                )
    if args.json:
        print(json.dumps({"python": version.stdout.strip(), "runs": args.runs, "results": results}, indent=2))
        return 0
    print(f"cold start on the sam build layout, Python {version.stdout.strip()}, median of {args.runs}")
    for mode, figures in results.items():
        print(f"\n{mode}:")
        for what, figure in figures.items():
            print(f"  {what:32} {figure['cpu_ms']:5d} ms CPU  {figure['wall_ms']:5d} ms wall")
    return 0


def _split_camel(name: str) -> list[str]:
    parts, current = [], ""
    for char in name:
        if char.isupper() and current:
            parts.append(current)
            current = char
        else:
            current += char
    return [*parts, current]


if __name__ == "__main__":
    sys.exit(main())
