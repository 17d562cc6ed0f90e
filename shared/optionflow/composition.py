"""The composition root: the one place that builds what the use cases depend on.

A use case receives a `Dependencies` and reaches for nothing else: its settings, clock, market data,
calendar, broker, event bus, worker invoker and database all come in through it. Three builders:

- `for_process()` — a Lambda, the API, the local stack, the command line: the process's providers
  (settings read from the environment once per process, the clock, market data, bus and invoker they
  configure, the process database, and the broker's order desk when BROKER names one; in LIVE it is built
  only after the live gate passed), assembled at each entry point (a handful of attribute reads). The
  market data (MARKET_DATA: simulated, alpaca, tradier, massive) is the process's adapter seen through a
  fresh per-run cache, so each invocation fetches a ticker's chain once and the next one fetches anew.
- `for_replay(...)` — a replay's own set: its scratch book, its frozen clock and its bus; nothing global
  is swapped. `on_book(...)` reads another book (a replay reads the real book's simulated clock there).
- tests build theirs in `tests/conftest.py` (fixture `deps`), or from fakes in `tests/fakes.py`.

A new provider (a real market-data feed, a real broker) is an adapter beside its port (`market/ports.py`,
`brokers/ports.py`) and one line in `for_process`. Nothing here connects or imports heavy libraries at
import time.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optionflow.brokers.ports import Broker, OrderBroker
    from optionflow.calendar import NyseCalendar
    from optionflow.clock import Clock
    from optionflow.config import Settings
    from optionflow.db.connection import Database
    from optionflow.events.bus import EventBus
    from optionflow.events.worker_invoker import WorkerInvoker
    from optionflow.market.ports import MarketData


@dataclass(frozen=True)
class Dependencies:
    """Everything a use case may reach outside itself."""

    settings: Settings
    clock: Clock
    market: MarketData
    calendar: NyseCalendar
    broker: Broker
    bus: EventBus
    invoker: WorkerInvoker
    db: Database
    # A real broker's order desk (BROKER=alpaca|tradier); None when the paper executor fills (BROKER=paper).
    order_broker: OrderBroker | None = None

    def publish(self, detail_type: str, detail: dict[str, Any]) -> bool:
        """Publish a wake-up on this set's bus, best effort (a lost event costs one sweep, never a row)."""
        from optionflow.events.bus import publish_on

        return publish_on(self.bus, detail_type, detail)

    def replace(self, **changes: Any) -> Dependencies:
        """This set with some dependencies swapped (a replay's clock and bus, a test's fake market)."""
        return dataclasses.replace(self, **changes)


def for_process() -> Dependencies:
    """The process's dependencies: each provider is built once per process (settings from the environment
    on first use, then the clock, market data, bus and invoker they configure) and read here."""
    p = _providers()
    settings = p.config.get_settings()
    return Dependencies(
        settings=settings,
        clock=p.clock.get_clock(),
        market=p.market.ProcessMarketData(),
        calendar=p.market.get_calendar(),
        broker=p.paper.PaperBroker(settings.paper_slippage_bps, settings.fee_per_contract),
        bus=p.bus.get_bus(),
        invoker=p.invoker.get_invoker(),
        db=p.connection.PROCESS_DATABASE,
        order_broker=p.brokers.order_broker(settings),
    )


# The providers' modules, imported on the first `for_process()` (not at import: a cold start imports only
# what it uses) and kept: an import statement in `for_process` cost about as much as everything else in it
# together, on every request. Their functions are still read from the modules at each call.
@functools.cache
def _providers() -> Any:
    import types

    from optionflow import clock, config
    from optionflow.brokers import paper, provider
    from optionflow.db import connection
    from optionflow.events import bus, worker_invoker
    from optionflow.market import provider as market

    return types.SimpleNamespace(
        config=config,
        clock=clock,
        market=market,
        paper=paper,
        brokers=provider,
        bus=bus,
        invoker=worker_invoker,
        connection=connection,
    )


def on_book(base: Dependencies, database_url: str) -> Dependencies:
    """`base` on the book at `database_url`: its database and, when the process keeps a simulated clock,
    that clock as kept in that book (a simulated clock lives in its book's database)."""
    from optionflow.clock import SimulatedClock
    from optionflow.db.connection import Database

    db = Database(database_url)
    clock = base.clock.on(db) if isinstance(base.clock, SimulatedClock) else base.clock
    return base.replace(db=db, clock=clock)


def for_replay(base: Dependencies, *, database_url: str, clock: Clock, bus: EventBus) -> Dependencies:
    """A replay's set: `base`'s settings, market and paper broker, on the scratch book at `database_url`, with
    the replay's own clock and bus. A replay walks past minutes, which only the simulator can price (a real
    provider serves the latest quotes): with a real MARKET_DATA it replays on the simulator. Never a real
    broker's order desk: a replay fills on paper."""
    from optionflow.db.connection import Database

    if base.settings.market_data != "simulated":
        from optionflow.market.simulated import SimulatedMarketData

        settings = base.settings.model_copy(update={"market_data": "simulated"})
        base = base.replace(settings=settings, market=SimulatedMarketData(seed=settings.market_seed))
    return base.replace(db=Database(database_url), clock=clock, bus=bus, order_broker=None)
