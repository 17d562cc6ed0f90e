"""Drive a release's code through its handlers, to run its queries against whatever schema DATABASE_URL has.

Run by tests/contract/test_previous_release.py with PYTHONPATH set to *another* release's `shared/` and
`functions/` (so it imports that release's optionflow, api and workers, never this tree's) and its working
directory in that release's tree (its `events/`). It uses only what a deployed release exposes: the API
Lambda with API Gateway events and tokens, and each worker's Lambda with its schedule's event. It prints
one JSON line per step, {"step", "ok", "detail"}, and exits 0 whatever happened; the test judges.
"""

from __future__ import annotations

import json
import sys
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

READS = (
    "/health",
    "/signals",
    "/orders",
    "/positions",
    "/trades",
    "/exit-signals",
    "/stats",
    "/risk-limits",
    "/exit-rules",
    "/settings/changes",
)


def _report(step: str, ok: bool, detail: Any = "") -> None:
    print(json.dumps({"step": step, "ok": ok, "detail": detail}, default=str), flush=True)


def main() -> None:
    from api.app import lambda_handler as api
    from optionflow.auth.tokens import mint
    from optionflow.config import get_settings
    from optionflow.local.http_bridge import to_event
    from optionflow.local.lambda_context import LocalContext
    from optionflow.workers import WORKERS

    settings = get_settings()

    def token(scope: str) -> str:
        return str(
            mint(
                secret=settings.jwt_secret,
                issuer="optionflow",
                audience="optionflow-api",
                scope=scope,
                ttl=timedelta(hours=1),
            )
        )

    def call(step: str, method: str, target: str, body: dict[str, Any] | None, scope: str | None) -> Any:
        headers = {"content-type": "application/json"}
        if scope:
            headers["authorization"] = f"Bearer {token(scope)}"
        raw = json.dumps(body).encode() if body is not None else b""
        try:
            result = api(to_event(method, target, headers, raw, "127.0.0.1"), LocalContext("ApiFunction"))
        except Exception:
            _report(step, False, traceback.format_exc())
            return None
        status = int(result["statusCode"])
        _report(step, 200 <= status < 300, f"{status} {str(result.get('body'))[:300]}")
        return json.loads(result["body"]) if result.get("body") else None

    def sweep(step: str) -> None:
        for worker in WORKERS:
            event = json.loads((Path("events") / "workers" / f"{worker.name}.json").read_text())
            module = __import__(worker.handler_module, fromlist=["lambda_handler"])
            try:
                result = module.lambda_handler(event, LocalContext(worker.function_id))
            except Exception:
                _report(f"{step}: {worker.name}", False, traceback.format_exc())
            else:
                _report(f"{step}: {worker.name}", True, json.dumps(result, default=str)[:300])

    secret = settings.webhook_secret
    alert = {"ticker": "SPY", "action": "BUY", "direction": "CALL", "timeframe": "5", "secret": secret}
    call("webhook BUY SPY CALL", "POST", "/webhook", alert, None)
    call("webhook BUY QQQ PUT", "POST", "/webhook", {**alert, "ticker": "QQQ", "direction": "PUT"}, None)
    call("webhook repeat (duplicate)", "POST", "/webhook", alert, None)
    sweep("sweep after the entries")
    positions = call("GET /positions", "GET", "/positions?status=OPEN", None, "read")
    opened = len(positions.get("items", positions.get("positions", []))) if isinstance(positions, dict) else 0
    _report("two positions opened", opened == 2, opened)
    for path in READS:
        call(f"GET {path}", "GET", path, None, "read")
    call("GET /workers", "GET", "/workers", None, "admin")
    call(
        "PATCH /risk-limits", "PATCH", "/risk-limits", {"max_open_positions": 15, "reason": "check"}, "admin"
    )
    call("PATCH /exit-rules", "PATCH", "/exit-rules", {"stop_loss_pct": 40, "reason": "check"}, "admin")
    call("kill switch on", "POST", "/kill-switch", {"on": True, "reason": "check"}, "admin")
    call("kill switch off", "POST", "/kill-switch", {"on": False}, "admin")
    call("pause exit_monitor", "POST", "/workers/exit_monitor/pause", {"reason": "check"}, "admin")
    call("resume exit_monitor", "POST", "/workers/exit_monitor/resume", {}, "admin")
    call(
        "webhook CLOSE SPY", "POST", "/webhook", {"ticker": "SPY", "action": "CLOSE", "secret": secret}, None
    )
    sweep("sweep after the close")
    sweep("a second sweep")
    for path in ("/trades", "/stats", "/signals"):
        call(f"GET {path} after the close", "GET", path, None, "read")


if __name__ == "__main__":
    try:
        main()
    except Exception:
        _report("driver", False, traceback.format_exc())
    sys.exit(0)
