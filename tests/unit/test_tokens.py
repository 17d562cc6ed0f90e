"""API tokens: only well-formed, current HS256 tokens for this API pass, with their scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from optionflow.auth.tokens import (
    DEFAULT_TTL,
    MAX_LIFETIME,
    TokenError,
    bearer_token,
    mint,
    parse_ttl,
    verify,
)

KEY = "k" * 40
ARGS = {"secret": KEY, "issuer": "optionflow", "audience": "optionflow-api"}


def test_minted_admin_token_verifies_and_implies_read():
    principal = verify(mint(**ARGS, scope="admin", ttl=timedelta(hours=1)), **ARGS)
    assert principal.allows("admin") and principal.allows("read")


def test_read_token_does_not_allow_admin():
    assert not verify(mint(**ARGS, scope="read", ttl=timedelta(hours=1)), **ARGS).allows("admin")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (
            lambda: mint(
                **ARGS, scope="read", ttl=timedelta(hours=1), now=datetime.now(UTC) - timedelta(days=2)
            ),
            "expired",
        ),
        (lambda: mint(**{**ARGS, "secret": "x" * 40}, scope="read", ttl=timedelta(hours=1)), "signature"),
        (lambda: mint(**{**ARGS, "audience": "other"}, scope="read", ttl=timedelta(hours=1)), "audience"),
        (
            lambda: jwt.encode(
                {"sub": "a", "iss": "optionflow", "aud": "optionflow-api", "iat": 1, "exp": 2**40},
                None,
                algorithm="none",
            ),
            "algorithm",
        ),
        (
            lambda: jwt.encode(
                {"sub": "a", "iss": "optionflow", "aud": "optionflow-api", "iat": 1, "exp": 2**40},
                KEY,
                algorithm="HS512",
            ),
            "algorithm",
        ),
        (
            lambda: jwt.encode(
                {"sub": "a", "iss": "optionflow", "aud": "optionflow-api", "iat": 1}, KEY, algorithm="HS256"
            ),
            "exp",
        ),
        (lambda: "not.a.token", "invalid"),
    ],
)
def test_bad_tokens_are_refused_with_the_reason(token, message):
    with pytest.raises(TokenError) as error:
        verify(token(), **ARGS)
    assert message in str(error.value)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "token"])
def test_authorization_header_must_be_a_bearer_token(header):
    with pytest.raises(TokenError):
        bearer_token(header)


def test_ttl_accepts_days_hours_minutes_seconds_and_refuses_the_rest():
    assert parse_ttl("7d") == timedelta(days=7)
    assert parse_ttl("90m") == timedelta(minutes=90)
    for bad in ("", "7", "d", "-1d", "0h", "7w"):
        with pytest.raises(ValueError):
            parse_ttl(bad)


def signed(claims: dict) -> str:
    return jwt.encode(
        {"sub": "a", "iss": "optionflow", "aud": "optionflow-api", **claims}, KEY, algorithm="HS256"
    )


def test_a_token_with_exp_in_year_9999_is_refused_for_outliving_the_maximum_lifetime():
    now = int(datetime.now(UTC).timestamp())
    with pytest.raises(TokenError, match="30-day maximum"):
        verify(signed({"iat": now, "exp": int(datetime(9999, 12, 31, tzinfo=UTC).timestamp())}), **ARGS)
    with pytest.raises(TokenError, match="30-day maximum"):
        verify(signed({"iat": 1, "exp": now + 3600}), **ARGS)  # minted long ago to live until now
    lifetime = int(MAX_LIFETIME.total_seconds())
    assert verify(signed({"iat": now, "exp": now + lifetime}), **ARGS).subject == "a"


def test_tokens_are_minted_for_at_most_the_maximum_lifetime():
    assert parse_ttl(DEFAULT_TTL) == timedelta(days=7) < MAX_LIFETIME
    assert parse_ttl(f"{MAX_LIFETIME.days}d") == MAX_LIFETIME
    for too_long in (f"{MAX_LIFETIME.days + 1}d", "99999999999999d"):
        with pytest.raises(ValueError, match="at most"):
            parse_ttl(too_long)
    with pytest.raises(ValueError, match="maximum"):
        mint(**ARGS, scope="read", ttl=MAX_LIFETIME + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("token", "message"),
    [("e" * 200_000, "characters"), ("ey\u00e9.x.y", "ASCII"), ("ey\ud800.x.y", "ASCII")],
    ids=["200-kb", "latin-1", "lone-surrogate"],
)
def test_an_overlong_or_non_ascii_token_is_refused_without_being_decoded(token, message):
    with pytest.raises(TokenError, match=message):
        verify(token, **ARGS)
