"""Secrets come from Secrets Manager or SSM when the environment names them, and from the environment first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from optionflow import config
from optionflow.config import ConfigurationError, database_url_from_secret, get_settings

from tests.conftest import ROOT

REGION = "us-east-1"
RDS_SECRET = {
    "username": "optionflow",
    "password": "p@ss:w/rd?#%",
    "host": "optionflow.abc123.us-east-1.rds.amazonaws.com",
    "port": 5432,
    "dbname": "optionflow",
    "engine": "postgres",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's Secrets Manager and SSM, and an environment with no plain secrets in it."""
    for name in ("DATABASE_URL", "JWT_SECRET", "WEBHOOK_SECRET", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()
    config.reset_settings()
    with mock_aws():
        yield
    parameters.clear_caches()
    config.reset_settings()


def _secret(name: str, value: str) -> str:
    return str(boto3.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"])


def _parameter(name: str, value: str) -> None:
    boto3.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString")


def test_an_rds_secret_becomes_a_tls_url_with_its_credentials_escaped(aws, monkeypatch):
    arn = _secret("optionflow/dev/database", json.dumps(RDS_SECRET))
    monkeypatch.setenv("DATABASE_SECRET_ARN", arn)

    url = get_settings().require_database_url()

    parts = urlsplit(url)
    assert parts.hostname == RDS_SECRET["host"] and parts.port == 5432 and parts.path == "/optionflow"
    assert parts.username == "optionflow"
    assert parts.password == "p%40ss%3Aw%2Frd%3F%23%25"  # escaped, so libpq reads the password back intact
    assert parts.query == "sslmode=require"


def test_an_rds_proxy_endpoint_replaces_the_secret_host_and_a_managed_secret_gets_its_database_name(
    aws, monkeypatch
):
    # An RDS-managed master secret holds only the credentials.
    arn = _secret("rds!db-1234", json.dumps({"username": "postgres", "password": "pw"}))
    monkeypatch.setenv("DATABASE_SECRET_ARN", arn)
    monkeypatch.setenv("DATABASE_HOST", "optionflow.proxy-abc123.us-east-1.rds.amazonaws.com")
    monkeypatch.setenv("DATABASE_NAME", "optionflow")

    url = get_settings().require_database_url()

    assert url == (
        "postgresql://postgres:pw@optionflow.proxy-abc123.us-east-1.rds.amazonaws.com:5432/optionflow"
        "?sslmode=require"
    )


def test_a_secret_holding_a_url_is_used_as_it_is(aws, monkeypatch):
    arn = _secret("optionflow/dev/url", "postgresql://app:pw@db.internal:6432/optionflow?sslmode=verify-full")
    monkeypatch.setenv("DATABASE_SECRET_ARN", arn)

    assert (
        get_settings().database_url == "postgresql://app:pw@db.internal:6432/optionflow?sslmode=verify-full"
    )


def test_jwt_secret_comes_decrypted_from_an_ssm_securestring(aws, monkeypatch):
    _parameter("/optionflow/dev/jwt-secret", "jwt-from-ssm-with-more-than-32-bytes-of-key")
    monkeypatch.setenv("JWT_SECRET_PARAMETER", "/optionflow/dev/jwt-secret")

    assert get_settings().require_jwt_secret() == "jwt-from-ssm-with-more-than-32-bytes-of-key"


def test_webhook_secret_can_be_a_secrets_manager_arn_instead(aws, monkeypatch):
    arn = _secret("optionflow/dev/webhook", "webhook-from-secrets-manager")
    monkeypatch.setenv("WEBHOOK_SECRET_PARAMETER", arn)

    assert get_settings().webhook_secret == "webhook-from-secrets-manager"


def test_a_plain_environment_value_wins_and_nothing_is_fetched(aws, monkeypatch):
    # None of these references exist: fetching any of them would raise.
    monkeypatch.setenv(
        "DATABASE_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
    )
    monkeypatch.setenv("JWT_SECRET_PARAMETER", "/optionflow/dev/missing")
    monkeypatch.setenv("WEBHOOK_SECRET_PARAMETER", "/optionflow/dev/missing-too")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/local")
    monkeypatch.setenv("JWT_SECRET", "local-jwt-secret-with-more-than-32-bytes")
    monkeypatch.setenv("WEBHOOK_SECRET", "local-webhook-secret")

    settings = get_settings()

    assert settings.database_url == "postgresql://postgres@127.0.0.1:5432/local"
    assert settings.jwt_secret == "local-jwt-secret-with-more-than-32-bytes"
    assert settings.webhook_secret == "local-webhook-secret"


def test_a_missing_parameter_is_a_configuration_error_naming_the_variable(aws, monkeypatch):
    monkeypatch.setenv("JWT_SECRET_PARAMETER", "/optionflow/dev/not-created")

    with pytest.raises(ConfigurationError, match=r"^JWT_SECRET_PARAMETER: cannot read SSM parameter"):
        get_settings()


def test_a_rotated_secret_is_seen_once_the_cache_expires_and_not_before(aws, monkeypatch):
    arn = _secret("optionflow/dev/rotating", json.dumps(RDS_SECRET))
    monkeypatch.setenv("DATABASE_SECRET_ARN", arn)
    monkeypatch.setenv("SECRETS_MAX_AGE_SECONDS", "1")
    before = get_settings().require_database_url()
    boto3.client("secretsmanager").put_secret_value(
        SecretId=arn, SecretString=json.dumps({**RDS_SECRET, "password": "rotated"})
    )

    assert get_settings().require_database_url() == before  # cached: no call to AWS per request

    time.sleep(1.1)
    assert urlsplit(get_settings().require_database_url()).password == "rotated"


def test_a_secret_for_another_engine_is_refused():
    with pytest.raises(ConfigurationError, match="for mysql, not Postgres"):
        database_url_from_secret(json.dumps({**RDS_SECRET, "engine": "mysql"}))


def test_a_secret_without_credentials_or_host_is_refused_with_what_to_set():
    with pytest.raises(ConfigurationError, match="neither a postgresql:// URL nor JSON"):
        database_url_from_secret("hunter2")
    with pytest.raises(ConfigurationError, match="set DATABASE_HOST"):
        database_url_from_secret(json.dumps({"username": "u", "password": "p"}))


def test_a_proxy_host_also_replaces_the_host_of_a_url_secret_keeping_credentials_and_port():
    url = database_url_from_secret("postgresql://app:pw@db.internal:6432/optionflow", host="proxy.example")
    assert url == "postgresql://app:pw@proxy.example:6432/optionflow"


def test_without_references_no_aws_library_is_imported_at_all():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": "postgresql://postgres@127.0.0.1/x",
        "JWT_SECRET": "j" * 40,
        "WEBHOOK_SECRET": "w" * 20,
    }
    script = (
        "import sys; from optionflow.config import get_settings; get_settings(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore') "
        "or m.startswith('aws_lambda_powertools.utilities.parameters')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "PYTHONPATH": str(ROOT / "shared")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_broker_keys_come_from_ssm_or_secrets_manager_and_are_never_shown(aws, monkeypatch):
    _parameter("/optionflow/dev/alpaca", json.dumps({"key_id": "AKFAKE", "secret_key": "sk-fake-123"}))
    arn = _secret("optionflow/dev/tradier", "tr-token-456")
    monkeypatch.setenv("BROKER", "alpaca")
    monkeypatch.setenv("ALPACA_SECRET_PARAMETER", "/optionflow/dev/alpaca")
    monkeypatch.setenv("TRADIER_TOKEN_PARAMETER", arn)
    settings = get_settings()
    assert (settings.alpaca_key_id, settings.alpaca_secret_key) == ("AKFAKE", "sk-fake-123")
    assert settings.tradier_token == "tr-token-456"
    shown = repr(settings) + str(settings)
    assert "sk-fake-123" not in shown and "tr-token-456" not in shown and "AKFAKE" not in shown


def test_an_alpaca_secret_that_is_not_the_key_pair_names_the_variable(aws, monkeypatch):
    _parameter("/optionflow/dev/alpaca", "just-a-string")
    monkeypatch.setenv("ALPACA_SECRET_PARAMETER", "/optionflow/dev/alpaca")
    with pytest.raises(ConfigurationError, match=r"ALPACA_SECRET_PARAMETER: .*key_id and secret_key"):
        get_settings()


def test_the_market_data_key_comes_from_ssm_only_for_a_real_provider(aws, monkeypatch):
    _parameter("/optionflow/dev/market-data-key", "tr4dier-token")
    monkeypatch.setenv("MARKET_DATA_KEY_PARAMETER", "/optionflow/dev/market-data-key")
    monkeypatch.delenv("MARKET_DATA_KEY", raising=False)
    monkeypatch.setenv("MARKET_DATA", "simulated")
    config.reset_settings()
    assert get_settings().market_data_key is None  # simulated: nothing fetched
    monkeypatch.setenv("MARKET_DATA", "Tradier")
    config.reset_settings()
    settings = get_settings()
    assert (settings.market_data, settings.market_data_key) == ("tradier", "tr4dier-token")
    assert "tr4dier-token" not in repr(settings)
