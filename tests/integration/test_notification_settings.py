"""Which notifications each channel gets, set through the API and `optionflow notify`, recorded in the
settings audit trail; and the test message, the listing and the retry of dead deliveries."""

from __future__ import annotations

from typing import Any

from optionflow import config
from optionflow.cli import main

from tests.api_events import call, request, token
from tests.http_sink import Reply, ScriptedServer
from tests.pipeline_support import alert, one, rows, run, run_entry_chain


def run_cli(capsys: Any, api: str, *args: str, scope: str = "admin") -> tuple[int, str, str]:
    code = main([*args, "--api", api, "--token", token(scope, subject="cli-user")])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_channel_gets_only_kinds_not_muted_at_or_above_its_minimum_severity(db, market, settings):
    with ScriptedServer() as sink:
        sink.script("POST", "/hook", Reply(200, {}))
        config.use_settings(settings.model_copy(update={"notify_webhook_url": sink.url + "/hook"}))
        status, body = call(
            request(
                "PATCH",
                "/notifications/channels/webhook",
                body={"min_severity": "WARNING", "mute": ["STALE_MARKS"], "reason": "quiet"},
                scope="admin",
            )
        )
        assert status == 200, body
        assert body == {"channel": "webhook", "min_severity": "WARNING", "muted": ["STALE_MARKS"]}
        alert("SPY", "BUY", "CALL")  # an INFO fill: below WARNING
        alert("QQQ", "CLOSE", None)  # a WARNING rejection
        run_entry_chain()
        run("notifier")
        kinds = [r.json()["kind"] for r in sink.calls("POST", "/hook")]
    assert kinds == ["SIGNAL_REJECTED"]


def test_a_channel_change_is_recorded_with_who_and_why_and_a_repeat_records_nothing(db, settings):
    patch = {"min_severity": "CRITICAL", "mute": ["ENTRY_FILLED"], "reason": "only failures at night"}
    for _ in range(2):
        status, _ = call(request("PATCH", "/notifications/channels/slack", body=patch, scope="admin"))
        assert status == 200
    (change,) = rows(db, "SELECT * FROM settings_changes WHERE what = 'notifications'")
    assert change["name"] == "slack" and change["reason"] == "only failures at night"
    assert change["before"] == {"min_severity": "INFO", "muted": []}
    assert change["after"] == {"min_severity": "CRITICAL", "muted": ["ENTRY_FILLED"]}
    status, history = call(request("GET", "/settings/changes?what=notifications", scope="read"))
    assert status == 200 and history[0]["what"] == "notifications"


def test_bad_channel_settings_are_refused_naming_the_problem_and_change_nothing(db, settings):
    for path, body in [
        ("/notifications/channels/pager", {"min_severity": "INFO"}),
        ("/notifications/channels/slack", {"min_severity": "LOUD"}),
        ("/notifications/channels/slack", {"mute": ["FILLS"]}),
        ("/notifications/channels/slack", {}),
        ("/notifications/channels/slack", {"mute": ["TEST"], "unmute": ["TEST"]}),
    ]:
        status, problem = call(request("PATCH", path, body=body, scope="admin"))
        assert 400 <= status < 500, (path, body, problem)
    status, _ = call(
        request("PATCH", "/notifications/channels/slack", body={"min_severity": "INFO"}, scope="read")
    )
    assert status == 403
    assert one(db, "SELECT count(*) AS n FROM notification_channel_settings")["n"] == 0
    assert one(db, "SELECT count(*) AS n FROM settings_changes")["n"] == 0


def test_the_kill_switch_change_is_notified_with_who_and_why(db, settings):
    status, _ = call(request("POST", "/kill-switch", body={"on": True, "reason": "FOMC"}, scope="admin"))
    assert status == 200
    notice = one(db, "SELECT kind, severity, facts FROM notifications")
    assert notice["kind"] == "KILL_SWITCH" and notice["severity"] == "CRITICAL"
    assert notice["facts"]["on"] is True and notice["facts"]["reason"] == "FOMC"


def test_notify_cli_sets_lists_sends_a_test_and_retries_the_dead(api_server, db, capsys, settings):
    code, out, _ = run_cli(
        capsys, api_server, "notify", "set", "discord", "--min-severity", "warning", "--mute", "stale_marks"
    )
    assert code == 0 and "discord: from WARNING; muted: STALE_MARKS" in out
    code, out, _ = run_cli(capsys, api_server, "notify", "channels", scope="read")
    assert "discord   WARNING" in out

    with ScriptedServer() as sink:
        sink.script("POST", "/hook", Reply(500, {"message": "down"}))
        config.use_settings(
            config.get_settings().model_copy(
                update={"notify_webhook_url": sink.url + "/hook", "notify_max_attempts": 1}
            )
        )
        code, out, _ = run_cli(capsys, api_server, "notify", "test", "webhook", "--wait", "0")
        assert code == 0 and "queued for webhook" in out
        run("notifier")  # one attempt allowed: DEAD
        code, out, _ = run_cli(capsys, api_server, "notify", "list", scope="read")
        assert "TEST" in out and "DEAD" in out and "HTTP 500" in out
        _, health = call(request("GET", "/health"))
        assert health["notifications"]["dead"] == 1

        sink.script("POST", "/hook", Reply(200, {}))
        code, out, _ = run_cli(capsys, api_server, "notify", "retry")
        assert "1 dead notification(s) queued again" in out
        run("notifier")
        tests = [r.json() for r in sink.calls("POST", "/hook") if r.json()["kind"] == "TEST"]
    assert len(tests) == 2 and tests[-1]["title"] == "OptionFlow test message"
    assert (
        one(
            db,
            "SELECT status FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.kind = 'TEST'",
        )["status"]
        == "SENT"
    )


def test_a_test_message_to_a_channel_not_configured_fails_visibly(db, settings):
    status, queued = call(request("POST", "/notifications/test", body={"channel": "telegram"}, scope="admin"))
    assert status == 200
    config.use_settings(settings.model_copy(update={"notify_max_attempts": 1}))
    run("notifier")
    delivery = one(
        db, "SELECT * FROM notification_deliveries WHERE notification_id = %s", queued["notification_id"]
    )
    assert delivery["status"] == "DEAD" and "telegram is not configured" in delivery["last_error"]
