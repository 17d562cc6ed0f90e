"""Webhook authentication.

TradingView cannot set headers, so it proves itself with a shared secret in the body or a token in the URL
path; other senders may sign the raw body instead (`X-Signature: sha256=<hex HMAC-SHA256>`). Every comparison
is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac

from optionflow.errors import Unauthorized


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def signature_for(body: bytes, secret: str) -> str:
    """The header value a sender puts in X-Signature for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_authentic(
    *,
    secret: str,
    raw_body: bytes,
    body_secret: object = None,
    path_token: str | None = None,
    signature: str | None = None,
) -> bool:
    """True when any one of the presented credentials matches the configured secret."""
    if not secret:
        return False
    if path_token is not None and _same(path_token, secret):
        return True
    if isinstance(body_secret, str) and _same(body_secret, secret):
        return True
    return signature is not None and _same(signature.strip().lower(), signature_for(raw_body, secret))


class WebhookUnauthorized(Unauthorized):
    """No credential, or none that matches. Nothing is stored (401)."""
