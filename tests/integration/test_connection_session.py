"""Connections behave the same behind an RDS Proxy: UTC sessions without a session SET where none is needed."""

from __future__ import annotations

from urllib.parse import quote

from optionflow.db.connection import connect


def _timezone_and_source(url: str) -> tuple[str, str]:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT setting, source FROM pg_settings WHERE name = 'TimeZone'")
            setting, source = cur.fetchone()
    finally:
        conn.close()
    return setting, source


def test_a_server_already_on_utc_gets_no_session_set_which_would_pin_a_proxy_connection(settings):
    setting, source = _timezone_and_source(settings.database_url)
    if setting not in ("UTC", "Etc/UTC"):
        import pytest

        pytest.skip(f"this test server runs in {setting}, not UTC")
    assert source != "session"


def test_a_session_that_starts_in_another_time_zone_is_moved_to_utc(settings):
    # libpq `options` set the session's TimeZone at startup, as a server or role default would.
    # The embedded server's URL already carries a query (its socket directory), so append to it.
    separator = "&" if "?" in settings.database_url else "?"
    url = f"{settings.database_url}{separator}options={quote('-c TimeZone=America/New_York')}"

    setting, source = _timezone_and_source(url)

    assert setting == "UTC" and source == "session"
