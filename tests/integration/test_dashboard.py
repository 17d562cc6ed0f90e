"""GET /: the dashboard is one public, self-contained HTML page whose policy lets nothing in from elsewhere."""

from __future__ import annotations

import base64
import hashlib
import re
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

from tests.api_events import request

# The only absolute URL the page may contain: the SVG namespace name, an identifier that is never fetched.
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def get_page() -> dict:
    from api.app import lambda_handler
    from optionflow.local.lambda_context import LocalContext

    return dict(lambda_handler(request("GET", "/"), LocalContext("ApiFunction")))


def header(result: dict, name: str) -> str:
    return next(v for k, v in result["headers"].items() if k.lower() == name.lower())


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_dashboard_is_html_served_without_a_token():
    result = get_page()
    assert result["statusCode"] == 200
    assert header(result, "content-type").startswith("text/html")
    assert result["body"].lstrip().lower().startswith("<!doctype html>")
    assert 'id="token-form"' in result["body"]


def test_policy_forbids_other_origins_and_allows_only_the_pages_own_inline_code():
    result = get_page()
    policy = dict(
        directive.strip().split(" ", 1) for directive in header(result, "content-security-policy").split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    scripts = re.findall(r"<script>(.*?)</script>", result["body"], re.DOTALL)
    styles = re.findall(r"<style>(.*?)</style>", result["body"], re.DOTALL)
    assert len(scripts) == len(styles) == 1
    assert policy["script-src"] == sha256_source(scripts[0])
    assert policy["style-src"] == sha256_source(styles[0])
    for directive, sources in policy.items():
        assert "unsafe" not in sources, directive
        assert not re.search(r"https?:|\*|//", sources), directive
    assert header(result, "x-content-type-options") == "nosniff"


def test_page_references_no_external_url():
    body = get_page()["body"]
    assert set(re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"'<>)]*", body, re.IGNORECASE)) == {SVG_NAMESPACE}
    markup = re.sub(r"<(script|style)>.*?</\1>", "", body, flags=re.DOTALL)
    assert re.findall(r"""\b(?:src|href|action)\s*=\s*["']?([^"'\s>]*)""", markup) == ["data:,"]
    assert "@import" not in body and "url(" not in body
    assert not re.search(r"""["'(=]\s*//\w""", body), "a protocol-relative reference loads from another host"


def test_the_local_http_bridge_serves_the_page_with_its_headers(api_server):
    url = urlsplit(api_server)
    conn = HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", "/")
    response = conn.getresponse()
    html = response.read().decode()
    conn.close()
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert html == get_page()["body"]


def test_the_dashboard_shows_the_trading_mode_from_health():
    page = (Path(__file__).parents[2] / "functions" / "api" / "dashboard" / "index.html").read_text()
    assert 'id="mode"' in page and 'api("health").then(renderMode' in page
    for mode in ("simulated", "paper-real-quotes", "broker-paper", "live"):
        assert f'"{mode}":' in page
