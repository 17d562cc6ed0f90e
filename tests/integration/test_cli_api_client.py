"""The command line reaches the API with a token and turns its problems into one-line errors."""

from __future__ import annotations

from optionflow.cli import main
from optionflow.cli.api_client import ApiClient, ApiError
from optionflow.cli.table import render

from tests.api_events import token


def test_client_reads_the_api_with_the_given_token(api_server):
    client = ApiClient(api_server, token("read"))
    assert client.get("/health")["database"]["reachable"] is True


def test_a_problem_response_becomes_an_api_error_naming_the_status_and_detail(api_server):
    client = ApiClient(api_server, token("read"))
    try:
        client.post("/paper-trading")
    except ApiError as exc:
        assert exc.status == 403
        assert "admin" in str(exc)
    else:
        raise AssertionError("a read token must not run the pipeline")


def test_no_api_listening_is_a_clear_error_not_a_traceback():
    client = ApiClient("http://127.0.0.1:9", "t", timeout=2)
    try:
        client.get("/health")
    except ApiError as exc:
        assert "no OptionFlow API at http://127.0.0.1:9" in str(exc)
    else:
        raise AssertionError("expected ApiError")


def test_table_aligns_numbers_right_and_shows_missing_as_dash():
    text = render([{"k": "SPY", "v": 1.5}, {"k": "QQQ", "v": None}], ["k", "v"], ["ticker", "value"])
    assert text.splitlines() == ["ticker  value", "------  -----", "SPY      1.50", "QQQ         -"]


def test_unknown_command_exits_with_usage(capsys):
    try:
        main(["no-such-command"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "invalid choice" in capsys.readouterr().err
