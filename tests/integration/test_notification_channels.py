"""Each channel against a local sink (Slack, Discord, Telegram) or moto (SNS), as the notifier uses them;
and the channels' secrets never reach a log line, a stored error or a repr."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from optionflow import config
from optionflow.config import Settings
from optionflow.notify import channels, webhooks
from optionflow.notify.messages import render
from optionflow.notify.ports import DeliveryFailed
from optionflow.notify.sns import SnsChannel

from tests.http_sink import Reply, ScriptedServer, recorded
from tests.pipeline_support import alert, one, run, run_entry_chain

SLACK = "/services/T0000/B0000/slacksecretXXXX"
DISCORD = "/api/webhooks/1234/discordsecretYYYY"
TOKEN = "123456:telegram-secret-ZZZZ"
MESSAGE = render(
    "optionflow-dev-1", "KILL_SWITCH", "CRITICAL", {"on": True, "actor": "ops", "reason": "FOMC"}
)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as sink:
        yield sink


def test_slack_takes_its_plain_text_ok_as_delivered(server):
    server.script("POST", SLACK, Reply(200, b"ok", {"Content-Type": "text/plain"}))
    webhooks.slack(server.url + SLACK, 1.0).send(MESSAGE)
    (request,) = server.calls("POST", SLACK)
    assert request.json()["blocks"][0]["text"]["text"] == "Kill switch ON: no new entries (exits still run)"


def test_slack_refusal_fails_the_delivery_without_naming_the_url(server):
    server.script("POST", SLACK, Reply(404, b"no_service", {"Content-Type": "text/plain"}))
    with pytest.raises(DeliveryFailed) as failed:
        webhooks.slack(server.url + SLACK, 1.0).send(MESSAGE)
    assert "404" in str(failed.value) and "slacksecret" not in str(failed.value)
    assert failed.value.permanent  # a revoked webhook: retrying cannot help


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_rate_limits_and_server_errors_are_worth_retrying(server, status):
    server.script("POST", SLACK, Reply(status, {"message": "later"}))
    with pytest.raises(DeliveryFailed) as failed:
        webhooks.slack(server.url + SLACK, 1.0).send(MESSAGE)
    assert not failed.value.permanent


def test_discord_takes_204_no_content_as_delivered(server):
    server.script("POST", DISCORD, Reply(204, b""))
    webhooks.discord(server.url + DISCORD, 1.0).send(MESSAGE)
    assert server.calls("POST", DISCORD)[0].json()["embeds"][0]["color"] == 0xE74C3C


def test_telegram_posts_send_message_to_the_bot_and_reads_its_ok_flag(server):
    path = f"/bot{TOKEN}/sendMessage"
    server.script("POST", path, Reply(200, recorded("telegram", "send_message_response")))
    webhooks.telegram(server.url, TOKEN, "-1001234567890", 1.0).send(MESSAGE)
    assert server.calls("POST", path)[0].json()["chat_id"] == "-1001234567890"

    server.script("POST", path, Reply(400, recorded("telegram", "chat_not_found")))
    with pytest.raises(DeliveryFailed) as failed:
        webhooks.telegram(server.url, TOKEN, "-1", 1.0).send(MESSAGE)
    assert "chat not found" in str(failed.value)
    assert TOKEN not in str(failed.value) and "telegram-secret" not in str(failed.value)


def test_a_hanging_webhook_fails_after_its_timeout(server):
    server.script("POST", DISCORD, Reply(204, b"", delay=2.0))
    with pytest.raises(DeliveryFailed, match="no answer"):
        webhooks.discord(server.url + DISCORD, 0.3).send(MESSAGE)


@mock_aws
def test_sns_publishes_the_title_as_subject_and_the_lines_as_message(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="optionflow-dev-notifications")["TopicArn"]
    queue = sqs.create_queue(QueueName="mail")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

    SnsChannel(topic).send(MESSAGE)

    import json

    (received,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    body = json.loads(received["Body"])
    assert body["Subject"] == "OptionFlow: Kill switch ON: no new entries (exits still run)"
    assert body["Message"] == MESSAGE.text
    assert body["MessageAttributes"]["severity"]["Value"] == "CRITICAL"


@mock_aws
def test_sns_failure_is_a_failed_delivery(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(DeliveryFailed, match="sns publish"):
        SnsChannel("arn:aws:sns:us-east-1:123456789012:missing").send(MESSAGE)


def test_only_channels_with_an_address_are_configured():
    settings = Settings(
        notify_slack_webhook_url="https://hooks.example/x",
        notify_telegram_bot_token="t",  # without a chat id: not configured
        notify_console=True,
    )
    assert sorted(channels.configured(settings)) == ["console", "slack"]


def test_settings_repr_shows_no_channel_secret():
    settings = Settings(
        notify_slack_webhook_url="https://hooks.example/slacksecretXXXX",
        notify_discord_webhook_url="https://discord.example/discordsecretYYYY",
        notify_telegram_bot_token=TOKEN,
        notify_webhook_url="https://example/jsonsecretWWWW",
    )
    shown = repr(settings) + str(settings)
    assert not any(s in shown for s in ("slacksecret", "discordsecret", "telegram-secret", "jsonsecret"))


@pytest.fixture
def failing_channels(settings: Settings, server: ScriptedServer) -> Iterator[ScriptedServer]:
    for path in (SLACK, DISCORD, f"/bot{TOKEN}/sendMessage", "/jsonsecretWWWW"):
        server.script("POST", path, Reply(500, {"message": "boom", "echo": path}))
    config.use_settings(
        settings.model_copy(
            update={
                "notify_slack_webhook_url": server.url + SLACK,
                "notify_discord_webhook_url": server.url + DISCORD,
                "notify_telegram_bot_token": TOKEN,
                "notify_telegram_chat_id": "42",
                "notify_telegram_api_url": server.url,
                "notify_webhook_url": server.url + "/jsonsecretWWWW",
                "notify_timeout_seconds": 0.5,
            }
        )
    )
    yield server


def test_channel_secrets_never_reach_logs_or_stored_errors(db, market, failing_channels, capsys):
    alert("SPY", "BUY", "CALL")
    run_entry_chain()
    run("notifier")
    logged = capsys.readouterr()
    stored = one(db, "SELECT string_agg(coalesce(last_error, ''), ' | ') AS e FROM notification_deliveries")[
        "e"
    ]
    assert (
        one(db, "SELECT count(DISTINCT channel) AS n FROM notification_deliveries WHERE attempts > 0")["n"]
        == 4
    )
    assert "HTTP 500" in stored
    for secret in ("slacksecret", "discordsecret", "telegram-secret", "jsonsecret"):
        assert secret not in logged.out and secret not in logged.err, secret
        assert secret not in stored, secret


def test_the_local_stack_prints_notifications_to_its_console_unless_told_not_to(tmp_path):
    import io

    from optionflow.local.stack import local_secrets
    from optionflow.notify.console import ConsoleChannel

    assert "console" in channels.configured(local_secrets(Settings(data_dir=tmp_path)))
    assert "console" not in channels.configured(
        local_secrets(Settings(data_dir=tmp_path, notify_console=False))
    )
    stream = io.StringIO()
    ConsoleChannel(stream).send(MESSAGE)
    assert stream.getvalue() == (
        "[notify CRITICAL] Kill switch ON: no new entries (exits still run)\n    By ops\n    Reason: FOMC\n"
    )
