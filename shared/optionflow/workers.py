"""The pipeline workers, the reconciler and the notifier, written once: each one's name, use case, schedule and fast-path events.

Everything that lists workers reads this: `config` (the API's `<WORKER>_FUNCTION_NAME` variables), worker
control and the on-demand pipeline (`logic/`), replay, the command line, the API, the local stack and the
tests. `template.yaml` cannot import it, so a test holds the two in step: each worker's function and
handler module, schedule name, rate and Input, the EventBridge rule's pattern, the SQS queue between the
rule and the function with its batching (a worker with no fast-path events, the reconciler, has neither),
and the stack output naming the schedule.

A new worker is one more `Worker` below (in pipeline order in `WORKERS`), a handler module in
`functions/workers/` named after it, its function, fast-path rule, queue and queue policy in the template
(copy another worker's four resources), and an `events/workers/` fixture.

The use case is named by its import path and imported on first use, so reading the registry (the API does,
on every cold start) costs no pipeline imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from optionflow.errors import NotFound
from optionflow.events import names as events

if TYPE_CHECKING:
    from optionflow.composition import Dependencies
    from optionflow.logic.results import StageResult

# A stage run: (its dependencies, now, the position ids a fast-path event names or None for the whole book)
# -> its result (one type per worker, optionflow.logic.results).
Stage = Callable[["Dependencies", datetime, list[str] | None], "StageResult"]


@dataclass(frozen=True)
class Worker:
    name: str  # worker_controls, worker_runs, the schedule's Input, the CLI and the API all use it
    use_case: str  # "module:function", called with (deps, now) or, when `scoped`, (deps, now, only)
    events: tuple[str, ...]  # the detail-types its fast-path rule matches; none: no rule, schedule only
    summary: str  # the function's Description in template.yaml, after "OptionFlow <stage> <name>: "
    scoped: bool = False  # the use case takes the position ids an event names (`only`)
    rate_minutes: int = 1  # the schedule's sweep
    replayed: bool = True  # replay runs it (the notifier is left out: a replay must not message the trader)
    # In AWS its fast-path events wait in its own SQS queue; Lambda hands them over in batches of up to
    # `batch_size`, gathered for at most `batching_window_seconds`, and one batch is one run.
    batch_size: int = 100
    batching_window_seconds: int = 1

    @property
    def handler_module(self) -> str:
        """`workers.signal_processor`: the Lambda handler module under functions/."""
        return f"workers.{self.name}"

    @property
    def _camel(self) -> str:
        return "".join(part.title() for part in self.name.split("_"))

    @property
    def function_id(self) -> str:
        """`SignalProcessorFunction`: the function's logical id in template.yaml."""
        return f"{self._camel}Function"

    @property
    def fast_path_rule_id(self) -> str:
        """`SignalProcessorFastPathRule`: its rule on the app's bus (named like its schedule)."""
        return f"{self._camel}FastPathRule"

    @property
    def fast_path_queue_id(self) -> str:
        """`SignalProcessorFastPathQueue`: the SQS queue its rule fills and its function reads."""
        return f"{self._camel}FastPathQueue"

    @property
    def fast_path_queue_policy_id(self) -> str:
        """`SignalProcessorFastPathQueuePolicy`: lets its rule (only) send to its queue."""
        return f"{self._camel}FastPathQueuePolicy"

    @property
    def schedule_output(self) -> str:
        """`SignalProcessorScheduleName`: the stack output naming its schedule."""
        return f"{self._camel}ScheduleName"

    @property
    def function_env(self) -> str:
        """`SIGNAL_PROCESSOR_FUNCTION_NAME`: the API's variable naming its function (to trigger it)."""
        return f"{self.name.upper()}_FUNCTION_NAME"

    def schedule_name(self, stage: str) -> str:
        """Its EventBridge schedule, and its fast-path rule: `optionflow-<stage>-signal-processor`."""
        return f"optionflow-{stage}-{self.name.replace('_', '-')}"

    @property
    def schedule_expression(self) -> str:
        return f"rate({self.rate_minutes} minute{'s' if self.rate_minutes != 1 else ''})"

    @property
    def rate_seconds(self) -> int:
        return self.rate_minutes * 60

    @property
    def schedule_input(self) -> str:
        """What the schedule sends; Scheduler fills the <aws.scheduler.*> placeholders."""
        return (
            f'{{"source":"optionflow.schedule","worker":"{self.name}",'
            '"scheduled_time":"<aws.scheduler.scheduled-time>",'
            '"execution_id":"<aws.scheduler.execution-id>"}'
        )

    def stage(self) -> Stage:
        """The use case as a stage: imported now (not when the registry is), called with (deps, now, only)."""
        module, _, attribute = self.use_case.partition(":")
        work: Any = getattr(importlib.import_module(module), attribute)
        if self.scoped:
            return work
        return lambda deps, now, only: work(deps, now)


SIGNAL_PROCESSOR = Worker(
    "signal_processor",
    "optionflow.logic.decide:process_pending",
    (events.SIGNAL_RECEIVED,),
    "Decides each pending signal (filters, risk) and records the decision trail.",
)
ORDER_CREATOR = Worker(
    "order_creator",
    "optionflow.logic.orders:create_pending",
    (events.SIGNAL_ACCEPTED,),
    "Picks the contract and size for each accepted signal and creates its entry order.",
)
PAPER_EXECUTOR = Worker(
    "paper_executor",
    "optionflow.logic.execution:execute_pending",
    (events.ORDER_CREATED,),
    "Fills pending orders on paper (BROKER=paper), or routes them to the broker as DAY limit orders and"
    " polls their fills (BROKER=alpaca|tradier); opens and closes positions.",
)
POSITION_REFRESHER = Worker(
    "position_refresher",
    "optionflow.logic.marks:refresh_all",
    (events.POSITION_OPENED,),
    "Marks open positions to market.",
    scoped=True,
)
EXIT_MONITOR = Worker(
    "exit_monitor",
    "optionflow.logic.exit_monitor:monitor",
    (events.POSITIONS_REFRESHED,),
    "Checks open positions against exit rules; raises exit signals and exit orders.",
    scoped=True,
)

RECONCILER = Worker(
    "reconciler",
    "optionflow.logic.reconcile:reconcile",
    (),
    "Compares the broker's orders and positions with the book; adopts orders by client id and records every"
    " other difference (BROKER=alpaca|tradier; nothing to do on paper).",
    rate_minutes=5,
    replayed=False,
)

NOTIFIER = Worker(
    "notifier",
    "optionflow.logic.notifier:deliver",
    (events.NOTICES_QUEUED,),
    "Sends queued notifications (SNS, Slack, Discord, Telegram, webhooks) and the daily summary.",
    replayed=False,
)

# In pipeline order: the order of a sweep, of `optionflow workers list` and of GET /workers. The notifier
# comes last, so a sweep reports what the stages before it did in the same minute.
WORKERS = (
    SIGNAL_PROCESSOR,
    ORDER_CREATOR,
    PAPER_EXECUTOR,
    POSITION_REFRESHER,
    EXIT_MONITOR,
    RECONCILER,
    NOTIFIER,
)
# Woken by events as well as by their schedule: each has a fast-path rule and queue in the template.
FAST_PATH = tuple(worker for worker in WORKERS if worker.events)
NAMES = tuple(worker.name for worker in WORKERS)
BY_NAME = {worker.name: worker for worker in WORKERS}
# What each fast-path event wakes, as the EventBridge rules route it.
BY_EVENT = {event: worker for worker in WORKERS for event in worker.events}


class UnknownWorker(NotFound):
    """The name is not one of the workers; the message lists them (404, naming the `name` parameter)."""

    def __init__(self, message: str) -> None:
        super().__init__("name", message, detail=message)


def canonical(name: str) -> Worker:
    """The worker called `exit_monitor`, `exit-monitor` or `Exit-Monitor`; UnknownWorker otherwise."""
    worker = BY_NAME.get(name.strip().lower().replace("-", "_"))
    if worker is None:
        raise UnknownWorker(f"unknown worker {name!r}; known workers: {', '.join(NAMES)}")
    return worker
