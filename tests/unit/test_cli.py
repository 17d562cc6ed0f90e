"""The command line mints tokens the API accepts and explains bad input."""

from __future__ import annotations

import pytest
from optionflow import config
from optionflow.auth.tokens import verify
from optionflow.cli import main


def test_token_create_prints_a_token_with_the_asked_scope(capsys, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "cli-secret-with-more-than-32-bytes-of-key")
    config.reset_settings()
    try:
        assert main(["token", "create", "--scope", "admin", "--ttl", "2h"]) == 0
    finally:
        config.reset_settings()
    token = capsys.readouterr().out.strip()
    principal = verify(
        token,
        secret="cli-secret-with-more-than-32-bytes-of-key",
        issuer="optionflow",
        audience="optionflow-api",
    )
    assert principal.allows("admin")


def test_bad_ttl_is_a_clear_error_not_a_traceback(capsys, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "cli-secret-with-more-than-32-bytes-of-key")
    config.reset_settings()
    try:
        assert main(["token", "create", "--ttl", "forever"]) == 2
    finally:
        config.reset_settings()
    assert "ttl 'forever'" in capsys.readouterr().err


def test_live_mode_is_refused_at_start_until_a_broker_adapter_exists():
    import pytest
    from optionflow.config import ConfigurationError, settings_from_env

    with pytest.raises(ConfigurationError, match=r"APP_MODE: .*live broker adapter"):
        settings_from_env({"APP_MODE": "live"})
    assert settings_from_env({"APP_MODE": "paper"}).app_mode == "PAPER"


def test_a_ttl_past_the_apis_maximum_token_lifetime_is_refused_when_minting(capsys, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "cli-secret-with-more-than-32-bytes-of-key")
    config.reset_settings()
    try:
        assert main(["token", "create", "--ttl", "365d"]) == 2
    finally:
        config.reset_settings()
    assert "at most 30d" in capsys.readouterr().err


def test_clock_set_reads_a_time_without_an_offset_as_new_york_and_a_bare_date_as_its_midnight():
    from optionflow.cli.clock import instant

    assert instant("2026-11-23T09:30") == "2026-11-23T09:30:00-05:00"
    assert instant("2026-07-06 09:30") == "2026-07-06T09:30:00-04:00"  # summer time
    assert instant("2026-11-24") == "2026-11-24T00:00:00-05:00"
    assert instant("2026-11-23T14:30:00+00:00") == "2026-11-23T14:30:00+00:00"
    with pytest.raises(ValueError, match="'monday' is not a date"):
        instant("monday")
