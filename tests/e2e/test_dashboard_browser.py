"""The dashboard in a real headless Chromium, over data the real pipeline made: what a trader sees."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.api_events import token
from tests.pipeline_support import alert, one, run, run_entry_chain

# The equity line's colour in the page's light palette (headless Chromium prefers light), and the
# P&L colours: `--line`, `--pos` and `--neg` in functions/api/dashboard/index.html.
LINE = (0x25, 0x63, 0xEB)
REJECTED_REASON = "no open IWM CALL or PUT position to close"
MARKUP = "<i id=xss>5</i>"  # a timeframe TradingView would pass through as given


def chromium() -> str:
    """Debian's Chromium (`make browser`). Missing: skipped on a workstation, a failure in CI."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    message = "Chromium is not installed: run `make browser`"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def browse(url: str, profile: Path, *extra: str) -> str:
    """Load `url` headless, let its scripts run for 8 s of virtual time, return what Chromium printed."""
    args = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
        "--virtual-time-budget=8000",
        *extra,
        url,
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Sections(HTMLParser):
    """The text inside each element with an id (nested ids included in their parents), and every SVG path."""

    VOID = frozenset({"meta", "link", "input", "br", "img", "hr", "circle", "line", "path", "rect"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.text: dict[str, list[str]] = {}
        self.hidden: set[str] = set()
        self.ids: set[str] = set()
        self.paths: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "path":
            self.paths.append(attributes)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if "hidden" in attributes and "id" in attributes:
            self.hidden.add(attributes["id"])
        if tag not in self.VOID:
            self.stack.append((tag, attributes.get("id")))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for _, element_id in self.stack:
            if element_id:
                self.text.setdefault(element_id, []).append(data)

    def of(self, element_id: str) -> str:
        return " ".join(" ".join(self.text.get(element_id, [])).split())


@pytest.fixture
def book(db: Any, market: Any, frozen_clock: Any) -> dict[str, Any]:
    """Through the webhook and the five workers: a win closed by its target, a loss closed by its stop,
    an open SPY call re-priced with Greeks and held past max hold (a MAX_HOLD exit alert), and a CLOSE
    alert for a ticker with nothing open (rejected, with its reason) whose timeframe is markup."""
    alert("SPY", "BUY", "CALL", alert_id="winner")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=20))
    market.factor = Decimal(2)
    run("position_refresher")
    run("exit_monitor")
    run("paper_executor")

    market.factor = Decimal(1)
    frozen_clock.advance(timedelta(minutes=20))
    alert("QQQ", "BUY", "PUT", alert_id="loser")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=20))
    market.factor = Decimal("0.4")
    run("position_refresher")
    run("exit_monitor")
    run("paper_executor")
    closed = one(db, "SELECT count(*) AS n FROM positions WHERE status = 'CLOSED'")["n"]
    assert closed == 2

    market.factor = Decimal(1)
    frozen_clock.advance(timedelta(minutes=20))
    alert("SPY", "BUY", "CALL", alert_id="held")
    run_entry_chain()
    db.execute("UPDATE positions SET opened_at = opened_at - interval '6 days' WHERE status = 'OPEN'")
    frozen_clock.advance(timedelta(minutes=5))
    market.factor = Decimal("1.1")
    run("position_refresher")
    run("exit_monitor")

    alert("IWM", "CLOSE", None, alert_id="nothing-to-close", timeframe=MARKUP)
    run("signal_processor")
    position = one(db, "SELECT * FROM positions WHERE status = 'OPEN'")
    assert position["delta"] is not None and position["unrealized_pnl"] > 0
    assert one(db, "SELECT rule FROM exit_signals WHERE status = 'ACTIVE'")["rule"] == "MAX_HOLD"
    return position


def test_dashboard_renders_positions_signals_exit_alerts_and_the_equity_curve(api_server, book, db, tmp_path):
    # a message a channel refused for good: the board lists it with the channel's answer
    db.execute("""INSERT INTO notifications (kind, severity, facts, created_at, routed_at)
                  VALUES ('ENTRY_FILLED', 'INFO', '{}', now(), now()) RETURNING id""")
    (notice,) = db.fetchone().values()
    db.execute(
        """INSERT INTO notification_deliveries (notification_id, channel, status, attempts, next_attempt_at,
                                                last_error, updated_at)
           VALUES (%s, 'slack', 'DEAD', 8, now(), 'slack POST : HTTP 404: no_service', now())""",
        (notice,),
    )
    url = f"{api_server}/#token={token('read')}"
    page = Sections()
    page.feed(browse(url, tmp_path / "profile-dom", "--dump-dom"))

    assert "login" in page.hidden and "board" not in page.hidden
    positions = page.of("positions")
    assert book["option_symbol"] in positions
    assert f"${book['mark']:,.2f}" in positions and f"${book['entry_price']:,.2f}" in positions
    assert (
        f"{float(book['delta']):.3f}" in positions and f"{float(book['implied_vol']) * 100:.1f}%" in positions
    )
    assert f"+${book['unrealized_pnl']:,.2f}" in positions
    assert "live" in positions and "STALE" not in positions
    assert REJECTED_REASON in page.of("signals")
    assert "REJECTED" in page.of("signals")
    assert MARKUP in page.of("signals") and "xss" not in page.ids, "alert text was parsed as HTML"
    assert "MAX_HOLD" in page.of("exits") and book["option_symbol"] in page.of("exits")
    notices = page.of("notifications")
    assert "entry filled" in notices and "slack" in notices and "DEAD" in notices
    assert "HTTP 404: no_service" in notices and "1 dead · 0 waiting" in page.of("notify-note")
    assert "no statistics yet" not in page.of("board")
    assert "Win rate 50.0%" in page.of("overall")
    equity = [p for p in page.paths if "equity" in p.get("class", "").split()]
    assert len(equity) == 1
    # the origin at zero, then one point per closed trade
    assert len(re.findall(r"-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?", equity[0]["d"])) == 3

    shot = tmp_path / "dashboard.png"
    browse(url, tmp_path / "profile-shot", f"--screenshot={shot}")
    check_screenshot_shows_the_chart_and_filled_tables(shot)


def check_screenshot_shows_the_chart_and_filled_tables(shot: Path) -> None:
    from PIL import Image, ImageChops

    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, 1000)
    width, height = image.size
    red, green, blue = image.split()

    def within(channel: Image.Image, low: int, high: int) -> Image.Image:
        return channel.point(lambda v: 255 if low <= v <= high else 0)

    def count(mask: Image.Image) -> int:
        return mask.histogram()[255]

    # Pixels of the equity line's colour (anti-aliased edges aside), as a mask.
    line = ImageChops.multiply(
        ImageChops.multiply(
            within(red, LINE[0] - 30, LINE[0] + 30), within(green, LINE[1] - 30, LINE[1] + 30)
        ),
        within(blue, LINE[2] - 30, LINE[2] + 30),
    )
    assert count(line) > 400, "the equity line is not drawn"
    left, top, right, chart_bottom = line.getbbox() or (0, 0, 0, 0)
    # the curve runs across most of the chart, in the left part of the page, above the tables
    assert right - left > 500 and right < width * 0.7 and top < height / 2

    below = image.crop((0, chart_bottom + 40, width, min(height, chart_bottom + 400)))
    background = Image.new("RGB", below.size, below.getpixel((below.width - 5, 0)))
    ink = ImageChops.difference(below, background).convert("L").point(lambda v: 255 if v > 60 else 0)
    inked_rows = sum(1 for y in range(ink.height) if count(ink.crop((0, y, ink.width, y + 1))) > 5)
    assert inked_rows > 60, "the tables below the chart are blank"
    r, g, b = below.split()
    greenish = ImageChops.multiply(
        ImageChops.subtract(g, r).point(lambda v: 255 if v > 50 else 0),
        ImageChops.subtract(g, b).point(lambda v: 255 if v > 30 else 0),
    )
    assert count(greenish) > 20, "the open position's unrealized P&L is not shown in green"


def test_a_refused_token_brings_back_the_token_form_with_the_apis_reason(api_server, db, tmp_path):
    forged = token("read", secret="another-secret-of-at-least-32-bytes!")
    page = Sections()
    page.feed(browse(f"{api_server}/#token={forged}", tmp_path / "profile", "--dump-dom"))
    assert "board" in page.hidden and "login" not in page.hidden
    assert page.of("login-message") == "The API refused the token: token signature does not verify"


def test_an_empty_book_shows_empty_tables_and_no_statistics_yet(api_server, db, tmp_path):
    page = Sections()
    page.feed(browse(f"{api_server}/#token={token('read')}", tmp_path / "profile", "--dump-dom"))
    assert "board" not in page.hidden
    assert page.of("positions").endswith("no open positions")
    assert page.of("signals").endswith("no signals yet")
    assert page.of("exits").endswith("no active exit alerts")
    assert page.of("notifications").endswith("nothing waiting: every notification was delivered")
    assert page.of("chart") == "no statistics yet"
    assert not [p for p in page.paths if "equity" in p.get("class", "").split()]


def test_a_position_whose_exit_order_has_not_filled_is_still_shown_as_open(
    api_server, db, market, frozen_clock, tmp_path
):
    # the exit monitor placed the exit order, the paper executor has not filled it yet (paused, say):
    # the position is still held, so the board must show it and say its exit is pending
    alert("SPY", "BUY", "CALL", alert_id="closing")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=5))
    market.factor = Decimal(2)
    run("position_refresher")
    run("exit_monitor")
    position = one(db, "SELECT * FROM positions")
    assert position["status"] == "CLOSING"

    page = Sections()
    page.feed(browse(f"{api_server}/#token={token('read')}", tmp_path / "profile", "--dump-dom"))

    positions = page.of("positions")
    assert position["option_symbol"] in positions, positions
    assert "EXIT PENDING" in positions
    assert f"+${position['unrealized_pnl']:,.2f}" in positions


def test_wins_and_no_losses_show_an_infinite_profit_factor(api_server, db, market, frozen_clock, tmp_path):
    # GET /stats gives profit_factor null when there is no loss to divide by; with a win that is ∞, not "—"
    alert("SPY", "BUY", "CALL", alert_id="only-winner")
    run_entry_chain()
    frozen_clock.advance(timedelta(minutes=20))
    market.factor = Decimal(2)
    run("position_refresher")
    run("exit_monitor")
    run("paper_executor")
    assert one(db, "SELECT realized_pnl FROM positions WHERE status = 'CLOSED'")["realized_pnl"] > 0

    page = Sections()
    page.feed(browse(f"{api_server}/#token={token('read')}", tmp_path / "profile", "--dump-dom"))

    overall = page.of("overall")
    assert "Win rate 100.0%" in overall, overall
    assert "Profit factor ∞" in overall, overall
