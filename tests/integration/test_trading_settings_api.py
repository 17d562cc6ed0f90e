"""Risk limits, exit rules and the kill switch through the admin API: validated field by field, refused
without the admin scope, and every accepted change recorded with who made it, before and after."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.api_events import call, request, token
from tests.pipeline_support import one, rows


def patch(path: str, body: dict[str, Any], scope: str = "admin", **overrides: Any) -> tuple[int, Any]:
    bearer = token(scope, **overrides)  # type: ignore[arg-type]
    return call(request("PATCH", path, body=body, headers={"authorization": f"Bearer {bearer}"}))


def changes(db: Any) -> list[dict[str, Any]]:
    return rows(db, "SELECT * FROM settings_changes ORDER BY id")


def test_risk_limits_and_exit_rules_are_readable_with_a_read_token(db):
    status, limits = call(request("GET", "/risk-limits", scope="read"))
    assert status == 200
    assert limits | {"updated_at": None} == {
        "name": "default",
        "max_open_positions": 20,
        "max_daily_loss": 1000.0,
        "max_positions_per_ticker": 5,
        "max_contracts_per_order": 10,
        "risk_per_trade": 500.0,
        "kill_switch": False,
        "updated_at": None,
    }
    status, rules = call(request("GET", "/exit-rules", scope="read"))
    assert status == 200
    assert (rules["stop_loss_pct"], rules["trailing_stop_pct"], rules["min_dte"]) == (50.0, None, 1)


def test_patching_risk_limits_applies_the_named_fields_and_records_who_changed_what(db, frozen_clock):
    status, body = patch(
        "/risk-limits",
        {"max_open_positions": 10, "risk_per_trade": 250.5, "reason": "smaller book"},
        subject="ana",
    )
    assert status == 200, body
    assert (body["max_open_positions"], body["risk_per_trade"], body["max_daily_loss"]) == (10, 250.5, 1000.0)
    stored = one(db, "SELECT max_open_positions, risk_per_trade, updated_at FROM risk_limits")
    assert (stored["max_open_positions"], str(stored["risk_per_trade"])) == (10, "250.50")
    assert stored["updated_at"] == frozen_clock.now()
    [change] = changes(db)
    assert change["actor"] == "ana"
    assert (change["what"], change["name"], change["reason"]) == ("risk_limits", "default", "smaller book")
    assert change["before"] == {"max_open_positions": 20, "risk_per_trade": 500.0}
    assert change["after"] == {"max_open_positions": 10, "risk_per_trade": 250.5}
    assert change["changed_at"] == frozen_clock.now()


def test_null_turns_an_exit_rule_off_and_omitted_rules_keep_their_value(db):
    status, body = patch("/exit-rules", {"stop_loss_pct": 30, "trailing_stop_pct": 15, "max_hold_days": None})
    assert status == 200, body
    assert (body["stop_loss_pct"], body["trailing_stop_pct"], body["max_hold_days"]) == (30.0, 15.0, None)
    assert (body["profit_target_pct"], body["min_dte"]) == (50.0, 1)
    [change] = changes(db)
    assert change["before"] == {"stop_loss_pct": 50.0, "trailing_stop_pct": None, "max_hold_days": 5}
    assert change["after"] == {"stop_loss_pct": 30.0, "trailing_stop_pct": 15.0, "max_hold_days": None}
    assert change["actor"] == "optionflow-user"  # the token's subject


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/risk-limits", "max_open_positions", -1),
        ("/risk-limits", "max_open_positions", 10_001),
        ("/risk-limits", "max_open_positions", None),  # limits cannot be switched off, only set
        ("/risk-limits", "max_open_positions", True),
        ("/risk-limits", "max_open_positions", "ten"),
        ("/risk-limits", "max_daily_loss", -0.01),
        ("/risk-limits", "max_daily_loss", 1e12),
        ("/risk-limits", "max_positions_per_ticker", -1),
        ("/risk-limits", "max_contracts_per_order", 0),
        ("/risk-limits", "risk_per_trade", 0),
        ("/risk-limits", "risk_per_trade", 0.001),  # NUMERIC(14, 2) would round it to a refused 0
        ("/risk-limits", "kill_switch", True),  # has its own route, which asks for a reason
        ("/exit-rules", "profit_target_pct", 0),
        ("/exit-rules", "profit_target_pct", 10_000),
        ("/exit-rules", "stop_loss_pct", 0),
        ("/exit-rules", "stop_loss_pct", 100.01),
        ("/exit-rules", "stop_loss_pct", 12.345),
        ("/exit-rules", "trailing_stop_pct", -5),
        ("/exit-rules", "trailing_stop_pct", 101),
        ("/exit-rules", "min_dte", -1),
        ("/exit-rules", "max_hold_days", 0),
        ("/exit-rules", "close_minutes_before_close", -1),
        ("/exit-rules", "close_minutes_before_close", 391),  # longer than a session: closes at once
    ],
)
def test_each_out_of_bounds_field_is_a_422_naming_it_and_changes_nothing(db, path, field, value):
    table = path.strip("/").replace("-", "_")
    before = one(db, f"SELECT * FROM {table}")
    status, body = patch(path, {field: value})
    assert status == 422, body
    assert [e["field"] for e in body["errors"]] == [field]
    assert field in body["detail"]
    assert one(db, f"SELECT * FROM {table}") == before
    assert changes(db) == []


@pytest.mark.parametrize("path", ["/risk-limits", "/exit-rules"])
def test_unknown_field_is_a_422_naming_it(db, path):
    status, body = patch(path, {"stop_los_pct": 30, "max_open_positons": 3})
    assert status == 422
    assert {e["field"] for e in body["errors"]} == {"stop_los_pct", "max_open_positons"}
    assert changes(db) == []


@pytest.mark.parametrize("body", [{}, {"reason": "nothing else"}])
def test_a_patch_that_changes_nothing_is_a_422(db, body):
    status, answer = patch("/exit-rules", body)
    assert status == 422
    assert "at least one setting" in answer["detail"]


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("PATCH", "/risk-limits", {"max_open_positions": 3, "reason": "nul \u0000 here"}),
        ("PATCH", "/exit-rules", {"stop_loss_pct": 30, "reason": "nul \u0000 here"}),
        ("POST", "/kill-switch", {"on": True, "reason": "nul \u0000 here"}),
    ],
)
def test_a_reason_with_a_nul_character_is_a_422_naming_it_not_a_500(db, method, path, body):
    # Postgres text cannot hold NUL: unchecked, the driver raises and the change is a bare 500.
    status, answer = call(request(method, path, body=body, scope="admin"))
    assert status == 422, answer
    assert [e["field"] for e in answer["errors"]] == ["reason"]
    assert changes(db) == []


@pytest.mark.parametrize("subject", ["", "  ", "nul \u0000 here"])
def test_a_token_without_a_usable_subject_is_a_401_since_a_change_must_say_who(db, subject):
    # Every change is recorded with the token's subject (actor <> ''): unchecked, this was a 500.
    status, answer = patch("/risk-limits", {"max_open_positions": 3}, subject=subject)
    assert status == 401 and "subject" in answer["detail"], answer
    assert changes(db) == []


def test_a_body_that_is_not_json_is_a_4xx_not_a_5xx(db):
    bearer = token("admin")
    event = request("PATCH", "/risk-limits", body="{not json", headers={"authorization": f"Bearer {bearer}"})
    assert 400 <= call(event)[0] < 500


def test_a_body_that_is_not_utf8_is_a_400_naming_the_body(db):
    bearer = token("admin")
    event = request("PATCH", "/exit-rules", body=b"\x80\xff", headers={"authorization": f"Bearer {bearer}"})
    status, body = call(event)
    assert (status, body["errors"][0]["field"]) == (400, "body")


def test_a_budget_above_the_daily_loss_limit_is_refused_naming_the_field_just_set(db):
    status, body = patch("/risk-limits", {"risk_per_trade": 1500})
    assert status == 422
    assert body["errors"][0]["field"] == "risk_per_trade"
    assert "$1,500.00 budget per trade (risk_per_trade) is above the $1,000.00 daily loss" in body["detail"]
    status, body = patch("/risk-limits", {"max_daily_loss": 400})
    assert (status, body["errors"][0]["field"]) == (422, "max_daily_loss")
    # both at once, consistent: accepted
    assert patch("/risk-limits", {"max_daily_loss": 400, "risk_per_trade": 200})[0] == 200
    assert len(changes(db)) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/risk-limits", {"max_open_positions": 1}),
        ("PATCH", "/exit-rules", {"stop_loss_pct": 10}),
        ("POST", "/kill-switch", {"on": True, "reason": "x"}),
        ("GET", "/risk-limits", None),
        ("GET", "/exit-rules", None),
        ("GET", "/settings/changes", None),
    ],
)
def test_every_settings_route_refuses_a_request_without_a_token(db, method, path, body):
    status, answer = call(request(method, path, body=body))
    assert status == 401
    assert "Bearer" in answer["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/risk-limits", {"max_open_positions": 1}),
        ("PATCH", "/exit-rules", {"stop_loss_pct": 10}),
        ("POST", "/kill-switch", {"on": True, "reason": "x"}),
    ],
)
def test_a_read_token_cannot_change_settings(db, method, path, body):
    before = (one(db, "SELECT * FROM risk_limits"), one(db, "SELECT * FROM exit_rules"))
    status, answer = call(request(method, path, body=body, scope="read"))
    assert status == 403
    assert "admin" in answer["detail"]
    assert (one(db, "SELECT * FROM risk_limits"), one(db, "SELECT * FROM exit_rules")) == before
    assert changes(db) == []


def test_kill_switch_on_needs_a_reason_and_is_recorded_with_it(db):
    status, body = call(request("POST", "/kill-switch", body={"on": True}, scope="admin"))
    assert status == 422
    assert body["errors"][0]["field"] == "reason"
    assert call(request("POST", "/kill-switch", body={"on": True, "reason": "  "}, scope="admin"))[0] == 422
    assert one(db, "SELECT kill_switch FROM risk_limits")["kill_switch"] is False
    assert changes(db) == []

    bearer = token("admin", subject="risk-desk")
    status, body = call(
        request(
            "POST",
            "/kill-switch",
            body={"on": True, "reason": "FOMC in 5 minutes"},
            headers={"authorization": f"Bearer {bearer}"},
        )
    )
    assert (status, body["kill_switch"]) == (200, True)
    [change] = changes(db)
    assert (change["actor"], change["reason"]) == ("risk-desk", "FOMC in 5 minutes")
    assert (change["before"], change["after"]) == ({"kill_switch": False}, {"kill_switch": True})


def test_kill_switch_off_needs_no_reason_and_repeating_a_setting_records_nothing(db):
    call(request("POST", "/kill-switch", body={"on": True, "reason": "halt"}, scope="admin"))
    assert (
        call(request("POST", "/kill-switch", body={"on": True, "reason": "again"}, scope="admin"))[0] == 200
    )
    status, body = call(request("POST", "/kill-switch", body={"on": False}, scope="admin"))
    assert (status, body["kill_switch"]) == (200, False)
    assert [(c["after"], c["reason"]) for c in changes(db)] == [
        ({"kill_switch": True}, "halt"),
        ({"kill_switch": False}, None),
    ]


def test_the_kill_switch_is_not_refused_when_other_limits_are_odd(db):
    # set outside the API, e.g. by hand in SQL: the sanity check must not stand between an operator
    # and the kill switch
    db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
    status, body = call(request("POST", "/kill-switch", body={"on": True, "reason": "halt"}, scope="admin"))
    assert (status, body["kill_switch"]) == (200, True)


def test_changes_are_listed_newest_first_filtered_and_limited(db, frozen_clock):
    from datetime import timedelta

    patch("/risk-limits", {"max_open_positions": 7})
    frozen_clock.advance(timedelta(minutes=1))
    patch("/exit-rules", {"stop_loss_pct": 25})
    frozen_clock.advance(timedelta(minutes=1))
    call(request("POST", "/kill-switch", body={"on": True, "reason": "halt"}, scope="admin"))

    status, listed = call(request("GET", "/settings/changes", scope="read"))
    assert status == 200
    assert [(c["what"], c["after"]) for c in listed] == [
        ("risk_limits", {"kill_switch": True}),
        ("exit_rules", {"stop_loss_pct": 25.0}),
        ("risk_limits", {"max_open_positions": 7}),
    ]
    status, limited = call(request("GET", "/settings/changes?limit=1&what=exit_rules", scope="read"))
    assert [c["after"] for c in limited] == [{"stop_loss_pct": 25.0}]
    assert call(request("GET", "/settings/changes?limit=0", scope="read"))[0] == 422
    assert call(request("GET", "/settings/changes?what=signals", scope="read"))[0] == 422


def test_the_change_record_is_append_only(db):
    import psycopg2

    patch("/risk-limits", {"max_open_positions": 7})
    with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="append-only"):
        db.execute("UPDATE settings_changes SET actor = 'someone else'")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="append-only"):
        db.execute("DELETE FROM settings_changes")
    assert [c["actor"] for c in changes(db)] == ["optionflow-user"]


def test_concurrent_changes_apply_one_after_another_and_each_record_starts_where_the_last_ended(db):
    from concurrent.futures import ThreadPoolExecutor

    from optionflow.composition import for_process
    from optionflow.db.connection import close_connection
    from optionflow.logic.trading_settings import change_risk_limits
    from optionflow.models.trading_settings import RiskLimitsPatch

    def change(value: int) -> None:
        try:  # each thread has its own connection, as each Lambda instance has
            change_risk_limits(for_process(), RiskLimitsPatch(max_open_positions=value), actor=f"op-{value}")
        finally:
            close_connection()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(change, range(1, 17)))

    recorded = changes(db)
    assert len(recorded) == 16
    assert recorded[0]["before"] == {"max_open_positions": 20}
    for previous, following in itertools.pairwise(recorded):
        assert following["before"] == previous["after"]
    final = one(db, "SELECT max_open_positions FROM risk_limits")
    assert final == recorded[-1]["after"]


def test_the_kill_switch_event_fixture_drives_the_handler(db, lambda_context):
    # the file `sam local invoke ApiFunction -e events/api/post_kill_switch.json` sends
    from api.app import lambda_handler

    from tests.conftest import load_event

    event = load_event("api/post_kill_switch.json")
    event["headers"]["authorization"] = f"Bearer {token('admin', subject='sam-local')}"
    result = lambda_handler(event, lambda_context)
    assert result["statusCode"] == 200, result
    [change] = changes(db)
    assert (change["actor"], change["after"]) == ("sam-local", {"kill_switch": True})
