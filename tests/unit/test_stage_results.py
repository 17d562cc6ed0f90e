"""Each stage's run returns its own result type: what the run worked on (`processed`, which worker_runs records)
is the result's to say, and the run record shows it in the shape the API and the logs have always had."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest
from optionflow.logic.results import (
    DecideResult,
    ExecutionResult,
    ExitsResult,
    MarksResult,
    OrdersResult,
    StageResult,
)
from optionflow.logic.runs import _num, _processed, _shown

MARKS = MarksResult(
    refreshed=3,
    stale=1,
    expired=2,
    priced_as_of="2026-11-23T15:00:00+00:00",
    open_positions=4,
    total_unrealized_pnl=Decimal("12.50"),
    market_value=Decimal("830.00"),
    delta_shares=Decimal("41.2"),
)


@pytest.mark.parametrize(
    ("result", "processed"),
    [
        (DecideResult(7), 7),
        (OrdersResult(5), 5),
        # every order it looked at, those left waiting or failing a quote included
        (ExecutionResult(opened=2, closed=1, expired=1, cancelled=1, waiting=3, failed_quotes=1), 9),
        (MARKS, 3),  # re-priced, not stale or expired
        (ExitsResult(evaluated=6, alerts=4, exit_orders=2, settled=1, stale=1), 6),  # positions evaluated
    ],
)
def test_a_stage_result_says_how_many_rows_its_run_worked_on(result: StageResult, processed: int) -> None:
    assert _processed(result) == result.processed == processed


def test_work_that_is_not_a_stage_processed_nothing_and_is_shown_as_it_is() -> None:
    assert _processed("2026-11-23T15:00:00+00:00") == 0
    assert _shown({"any": "thing"}) == {"any": "thing"}


def test_the_run_record_shows_each_result_in_the_shape_it_always_had() -> None:
    def shown(result: StageResult) -> str:
        return json.dumps(_shown(result), default=_num)

    assert shown(DecideResult(7)) == "7"
    assert shown(OrdersResult(5)) == "5"
    assert shown(ExecutionResult(opened=2, waiting=3)) == (
        '{"opened": 2, "closed": 0, "expired": 0, "cancelled": 0, "waiting": 3, "failed_quotes": 0}'
    )
    assert shown(MARKS) == (
        '{"refreshed": 3, "stale": 1, "expired": 2, "priced_as_of": "2026-11-23T15:00:00+00:00",'
        ' "open_positions": 4, "total_unrealized_pnl": 12.5, "market_value": 830.0, "delta_shares": 41.2}'
    )
    assert shown(ExitsResult(evaluated=6, exit_orders=2)) == (
        '{"evaluated": 6, "alerts": 0, "exit_orders": 2, "settled": 0, "stale": 0, "exit_orders_deferred": 0}'
    )


def test_results_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        DecideResult(1).decided = 2  # type: ignore[misc]
