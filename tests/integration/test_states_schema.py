"""The database's status CHECK constraints list exactly the states of optionflow.states."""

from __future__ import annotations

import re
from typing import Any

import pytest
from optionflow.states import (
    DeliveryStatus,
    DifferenceKind,
    DifferenceStatus,
    NoticeKind,
    OrderStatus,
    PositionStatus,
    Severity,
    SignalStatus,
)


@pytest.mark.parametrize(
    ("table", "kind"),
    [
        ("signals", SignalStatus),
        ("orders", OrderStatus),
        ("positions", PositionStatus),
        ("reconciliation_differences", DifferenceStatus),
        ("notification_deliveries", DeliveryStatus),
    ],
)
def test_the_status_check_of_each_table_lists_exactly_the_state_module(
    db: Any, table: str, kind: Any
) -> None:
    db.execute(
        """SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
           WHERE conrelid = %s::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%%status%%'
             AND pg_get_constraintdef(oid) NOT LIKE '%%<>%%'""",
        (table,),
    )
    (definition,) = [row["def"] for row in db.fetchall()]
    assert set(re.findall(r"'([A-Z_]+)'::text", definition)) == {s.value for s in kind}


def test_the_reconciler_records_exactly_the_kinds_of_difference_the_state_module_names(db: Any) -> None:
    db.execute(
        """SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
           WHERE conrelid = 'reconciliation_differences'::regclass AND contype = 'c'
             AND pg_get_constraintdef(oid) LIKE '%%kind%%'"""
    )
    (definition,) = [row["def"] for row in db.fetchall()]
    assert set(re.findall(r"'([A-Z_]+)'::text", definition)) == {k.value for k in DifferenceKind}


@pytest.mark.parametrize(
    ("table", "column", "kind"),
    [
        ("notifications", "kind", NoticeKind),
        ("notifications", "severity", Severity),
        ("notification_channel_settings", "min_severity", Severity),
    ],
)
def test_the_notification_checks_list_exactly_the_state_module(
    db: Any, table: str, column: str, kind: Any
) -> None:
    db.execute(
        """SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
           WHERE conrelid = %s::regclass AND contype = 'c' AND conname = %s""",
        (table, f"{table}_{column}_check"),
    )
    (definition,) = [row["def"] for row in db.fetchall()]
    assert set(re.findall(r"'([A-Z_]+)'::text", definition)) == {s.value for s in kind}
