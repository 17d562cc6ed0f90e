"""A paper executor that stops mid-batch, holding its transaction open, so a test can SIGKILL it there.

Run as `python -m tests.kill_target <database url>`; prints IN_BATCH when it is inside the batch.
"""

from __future__ import annotations

import sys
import time

from optionflow import clock, config
from optionflow.composition import for_process
from optionflow.config import Settings
from optionflow.db.connection import set_database_url
from optionflow.events.bus import NullBus, set_bus
from optionflow.logic.execution import execute_pending
from optionflow.market.provider import get_market_data, set_market_data

from tests.conftest import MARKET_OPEN


class StallingMarket:
    """Quotes normally for `fills` orders, then announces itself and hangs (inside the open transaction)."""

    def __init__(self, inner: object, fills: int) -> None:
        self.inner, self.left = inner, fills

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def option_quote(self, *args: object) -> object:
        if self.left == 0:
            print("IN_BATCH", flush=True)
            time.sleep(600)
        self.left -= 1
        return self.inner.option_quote(*args)  # type: ignore[attr-defined]


if __name__ == "__main__":
    url = sys.argv[1]
    config.use_settings(Settings(database_url=url, jwt_secret="x" * 40, webhook_secret="y"))
    set_database_url(url)
    set_bus(NullBus())
    clock.set_clock(clock.FrozenClock(MARKET_OPEN))
    set_market_data(StallingMarket(get_market_data(), fills=20))
    deps = for_process()
    execute_pending(deps, deps.clock.now())
