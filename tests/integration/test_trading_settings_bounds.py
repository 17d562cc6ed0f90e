"""The patch models and the database's CHECK constraints agree: whatever patch the API accepts, Postgres
stores exactly; whatever the API refuses, it refuses with a 422 naming a field. There is no 5xx path."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optionflow.models.trading_settings import ExitRulesPatch, RiskLimitsPatch

from tests.api_events import call, request
from tests.pipeline_support import one

# Mostly inside the bounds (so many patches are stored), around every bound, past every column's
# precision, and some wild values.
counts = st.integers(min_value=0, max_value=50) | st.integers(min_value=-2, max_value=10_002) | st.integers()
dollars = (
    st.decimals(min_value=0, max_value=2000, places=2)
    | st.decimals(min_value=-1, max_value=Decimal("1e12"), places=2)
    | st.decimals(min_value=-1, max_value=Decimal("1e13"), places=4)
    | st.floats(allow_nan=False, allow_infinity=False)
)
percents = (
    st.decimals(min_value=Decimal("0.01"), max_value=100, places=2)
    | st.decimals(min_value=-1, max_value=10_001, places=2)
    | st.decimals(min_value=-1, max_value=101, places=3)
    | st.floats(min_value=-1, max_value=20_000)
    | st.none()
)
days = (
    st.integers(min_value=1, max_value=30)
    | st.integers(min_value=-2, max_value=400)
    | st.integers()
    | st.none()
)

risk_patches = st.fixed_dictionaries(
    {},
    optional={
        "max_open_positions": counts,
        "max_daily_loss": dollars,
        "max_positions_per_ticker": counts,
        "max_contracts_per_order": counts,
        "risk_per_trade": dollars,
    },
)
rule_patches = st.fixed_dictionaries(
    {},
    optional={
        "profit_target_pct": percents,
        "stop_loss_pct": percents,
        "trailing_stop_pct": percents,
        "min_dte": days,
        "max_hold_days": days,
        "close_minutes_before_close": days,
    },
)


def as_json(patch: dict[str, Any]) -> str:
    # what a client sends: decimals as JSON numbers, written out digit for digit
    def number(value: Any) -> str:
        return str(value) if isinstance(value, Decimal) else json.dumps(value)

    return "{" + ", ".join(f"{json.dumps(k)}: {number(v)}" for k, v in patch.items()) + "}"


def check_patch(db: Any, path: str, table: str, model: Any, patch: dict[str, Any]) -> None:
    text = as_json(patch)
    before = one(db, f"SELECT * FROM {table}")
    status, answer = call(request("PATCH", path, body=text, scope="admin"))
    assert status in (200, 422), (text, status, answer)
    after = one(db, f"SELECT * FROM {table}")
    if status == 422:
        assert answer["errors"] and all(e["field"] for e in answer["errors"]), answer
        assert after == before
        return
    accepted = model.model_validate(json.loads(text)).changes()
    for field, value in accepted.items():
        assert after[field] == value, (field, value, after[field])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patch=risk_patches)
def test_any_risk_limits_patch_is_stored_exactly_or_refused_with_a_422(db, patch):
    check_patch(db, "/risk-limits", "risk_limits", RiskLimitsPatch, patch)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patch=rule_patches)
def test_any_exit_rules_patch_is_stored_exactly_or_refused_with_a_422(db, patch):
    check_patch(db, "/exit-rules", "exit_rules", ExitRulesPatch, patch)
