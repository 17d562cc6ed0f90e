"""API tokens: HS256 JWTs with issuer, audience and expiry checked, and a scope of `read` or `admin`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from optionflow.errors import Unauthorized

Scope = Literal["read", "admin"]
ALGORITHM = "HS256"
# A token is refused when it was minted to live longer than this (`exp` minus `iat`): a leaked token stops
# working within a month whatever lifetime it claims. `optionflow token create` mints 7 days by default.
MAX_LIFETIME = timedelta(days=30)
DEFAULT_TTL = "7d"
# An HS256 token for this API is about 300 characters; one far longer is not ours, and is not decoded.
MAX_TOKEN_CHARS = 4096


class TokenError(Unauthorized):
    """The token is missing, malformed, expired or for someone else (401), or lacks the scope (403); the
    message says which."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status

    @property
    def headers(self) -> dict[str, str]:
        # RFC 6750: a 401 says how to authenticate; a 403 is for a token that did
        return {"WWW-Authenticate": 'Bearer realm="optionflow"'} if self.status == 401 else {}


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]

    def allows(self, scope: Scope) -> bool:
        # admin implies read
        return scope in self.scopes or "admin" in self.scopes


def mint(
    *,
    secret: str,
    issuer: str,
    audience: str,
    scope: Scope,
    ttl: timedelta,
    subject: str = "optionflow-user",
    now: datetime | None = None,
) -> str:
    import jwt  # PyJWT (and the crypto it may load) only when a token is minted or checked, not per cold start

    if ttl > MAX_LIFETIME:
        raise ValueError(f"ttl {ttl} is longer than the {MAX_LIFETIME.days}-day maximum the API accepts")
    issued = now or datetime.now(UTC)
    claims = {
        "sub": subject,
        "scope": scope,
        "iss": issuer,
        "aud": audience,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, *, secret: str, issuer: str, audience: str) -> Principal:
    """Decode and check a token. Only HS256 is accepted, so `alg=none` and key-confusion tokens fail; a
    token minted to live longer than MAX_LIFETIME fails too."""
    import jwt

    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError(f"token is {len(token)} characters; this API's tokens are under {MAX_TOKEN_CHARS}")
    if not token.isascii():
        raise TokenError("invalid token: a JWT is ASCII")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.InvalidAudienceError:
        raise TokenError("token is for another audience") from None
    except jwt.InvalidIssuerError:
        raise TokenError("token has the wrong issuer") from None
    except jwt.InvalidAlgorithmError:
        raise TokenError("token algorithm not allowed (HS256 only)") from None
    except jwt.InvalidSignatureError:
        raise TokenError("token signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    if float(claims["exp"]) - float(claims["iat"]) > MAX_LIFETIME.total_seconds():
        # PyJWT has checked both are numbers and that `iat` is not in the future
        raise TokenError(f"token lives longer than the {MAX_LIFETIME.days}-day maximum; mint a shorter one")
    subject = str(claims["sub"])
    # Changes are recorded with the subject as who made them: a blank one says nobody, and NUL cannot be stored.
    if not subject.strip() or "\x00" in subject:
        raise TokenError("token names no usable subject (sub)")
    scopes = frozenset(str(claims.get("scope", "")).split())
    return Principal(subject=subject, scopes=scopes)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise TokenError("missing Authorization: Bearer <token>")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("Authorization must be 'Bearer <token>'")
    return token.strip()


def parse_ttl(text: str) -> timedelta:
    """'7d', '12h', '30m', '3600s' -> timedelta."""
    from optionflow.durations import parse_duration

    shape = text.strip().lower()
    if (
        shape[:-1].isdigit()
        and shape[-1:] in ("s", "m", "h", "d")
        and int(shape[:-1]) > 0
        and len(shape) > 10
    ):
        # more digits than any duration holds: far past the maximum lifetime, whatever the unit
        raise ValueError(f"ttl {text!r}: tokens live at most {MAX_LIFETIME.days}d")
    try:
        ttl = parse_duration(text)
    except ValueError:
        raise ValueError(f"ttl {text!r}: use a positive number followed by d, h, m or s, e.g. 7d") from None
    if ttl > MAX_LIFETIME:
        raise ValueError(f"ttl {text!r}: tokens live at most {MAX_LIFETIME.days}d")
    return ttl
