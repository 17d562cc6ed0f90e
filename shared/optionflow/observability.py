"""Powertools Logger, Metrics and Tracer, created once per process, and the pipeline's telemetry.

- Logs carry the signal id as `correlation_id` at every stage: the webhook sets it once the signal is
  stored, and each worker logs one line per signal it moved (`signal_lines`), so one search for an id
  shows an alert's whole way from webhook to fill to exit.
- Metrics (CloudWatch EMF, namespace OptionFlow, a `service` dimension) are flushed by `@active_metrics` on
  every handler. They are recorded only inside a handler that flushes them (`active_metrics`), so the
  same logic run from the command line (replay, tests of the logic) neither prints EMF nor accumulates.
- The Tracer is built on the first traced call, and only in Lambda with tracing on: the X-Ray SDK imports
  botocore (about half a second), which the local stack and the command line never need.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger(service="optionflow")
metrics = Metrics(namespace="OptionFlow")

F = TypeVar("F", bound=Callable[..., Any])

# Past this many signals in one batch (a backlog sweep), a stage logs one line listing their ids instead
# of a line each: a Powertools log line costs about 80 µs, and a 10,000-signal backlog should not pay a
# second per stage for it. Fast-path runs move a handful of signals and always log each one.
PER_SIGNAL_LINES = 50

# Metric names, as they appear in CloudWatch under the OptionFlow namespace.
SIGNALS_RECEIVED = "SignalsReceived"
SIGNALS_DUPLICATE = "SignalsDuplicate"
SIGNALS_ACCEPTED = "SignalsAccepted"
SIGNALS_REJECTED = "SignalsRejected"  # one series per failed check (dimension Reason)
ORDERS_CREATED = "OrdersCreated"
ORDERS_FILLED = "OrdersFilled"  # entries and exits
EXITS = "Exits"  # exit orders placed, one series per rule (dimension Rule)
ALERT_TO_FILL = "AlertToFillLatency"  # milliseconds from the alert's arrival to its entry fill
WORKER_ERRORS = "WorkerErrors"
SIGNALS_FAILED = "SignalsFailed"  # a signal that raised while being decided or ordered: FAILED, batch goes on
QUOTES_FAILED = "QuotesFailed"  # an order or position whose quote raised; it waits for the next run
EXPIRIES_SETTLED = "ExpiriesSettled"  # positions settled at their expiry's close
STALE_MARKS = "StaleMarks"  # held positions whose mark is older than its allowed age
RECONCILIATION_DIFFERENCES = "ReconciliationDifferences"  # open differences between broker and book
# Age of the oldest signal not yet decided or ordered, sent by every signal-processor run; the template's
# stale-pipeline alarm watches it (a missing datapoint counts as stale).
OLDEST_WAITING_SIGNAL = "OldestPendingSignalAgeSeconds"

_recording = threading.local()
_metrics_wanted = [True]


def recording() -> bool:
    """Whether metrics recorded now will be flushed (inside a handler, with metrics kept)."""
    return _metrics_wanted[0] and bool(getattr(_recording, "on", False))


def keep_metrics(enabled: bool) -> None:
    """Whether handlers record metrics at all. The local stack has no CloudWatch to read EMF, so it turns
    them off rather than print a JSON document per worker run into the terminal."""
    _metrics_wanted[0] = enabled


def active_metrics(handler: F) -> F:
    """Record metrics while this handler runs, and flush them (one EMF document) when it returns or
    raises. Like `metrics.log_metrics`, except that an invocation with nothing to report (a query, an
    idle sweep) prints nothing rather than a warning."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _recording.on = True
        try:
            return handler(*args, **kwargs)
        finally:
            _recording.on = False
            if metrics.metric_set:
                metrics.flush_metrics()

    return wrapper  # type: ignore[return-value]


def count(name: str, value: float = 1) -> None:
    """Add to a metric of the current invocation (flushed with the handler's other metrics)."""
    if recording() and value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_by(name: str, dimension: str, values: Iterable[str]) -> None:
    """One metric per distinct value (e.g. rejections by check), each with its own dimension, emitted now:
    Powertools shares dimensions across a handler's metrics, so these go out as single metrics."""
    if not recording():
        return
    service = {"service": metrics.service} if metrics.service else None
    for value, n in Counter(values).items():
        with single_metric(
            name=name, unit=MetricUnit.Count, value=n, namespace=metrics.namespace, default_dimensions=service
        ) as metric:
            metric.add_dimension(name=dimension, value=value)


def milliseconds(name: str, values: Iterable[float]) -> None:
    """Record latencies (milliseconds); CloudWatch computes percentiles over the values."""
    if not recording():
        return
    for value in values:
        metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=round(value, 3))


def seconds(name: str, value: float) -> None:
    """Record a duration in seconds (a gauge-like value the alarms compare with a threshold)."""
    if recording():
        metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=round(value, 3))


def signal_lines(message: str, rows: list[tuple[Any, dict[str, Any]]]) -> None:
    """Log `message` once per (signal id, details) with the id as correlation_id; a backlog-sized batch
    is one line whose `signal_ids` lists them (see PER_SIGNAL_LINES)."""
    if not rows:
        return
    if len(rows) <= PER_SIGNAL_LINES:
        for signal_id, details in rows:
            logger.info(message, extra={"correlation_id": str(signal_id), **details})
    else:
        logger.info(
            message,
            extra={"signal_ids": [str(signal_id) for signal_id, _ in rows], "signals": len(rows)},
        )


# What X-Ray traces from a function's start: Postgres queries and outgoing HTTP (provider adapters).
TRACED_MODULES = ("psycopg2", "httplib")


class LazyTracer:
    """Powertools Tracer's handler decorator and annotations, building the Tracer on first use.

    Tracing is on in Lambda (LAMBDA_TASK_ROOT set) unless POWERTOOLS_TRACE_DISABLED is true, which is the
    rule Powertools itself applies; elsewhere nothing is imported and the decorators are pass-throughs.
    """

    def __init__(self) -> None:
        self._tracer: Any = None
        self._resolved = False
        self._aws_traced = False
        self._lock = threading.Lock()

    def get(self) -> Any:
        if not self._resolved:
            with self._lock:
                if not self._resolved:
                    from optionflow.config import tracing_enabled

                    if tracing_enabled():
                        from aws_lambda_powertools import Tracer

                        # Not X-Ray's patch_all: it imports botocore to patch it, about 0.3 s of CPU at
                        # every cold start. The database and HTTP calls are patched now; AWS SDK calls when
                        # the first boto3 client is built (`trace_aws_calls`).
                        self._tracer = Tracer(service=logger.service, patch_modules=TRACED_MODULES)
                    self._resolved = True
        return self._tracer

    def trace_aws_calls(self) -> None:
        """Trace AWS SDK calls from now on (each call a subsegment), once botocore is imported anyway."""
        tracer = self.get()
        if tracer is not None and not self._aws_traced:
            with self._lock:
                if not self._aws_traced:
                    tracer.patch(modules=("botocore",))
                    self._aws_traced = True

    def reset(self) -> None:
        """Forget the tracer (tests switch tracing on and off)."""
        with self._lock:
            self._tracer, self._resolved, self._aws_traced = None, False, False

    def capture_lambda_handler(self, handler: F) -> F:
        traced: dict[int, Callable[..., Any]] = {}

        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> Any:
            tracer = self.get()
            if tracer is None:
                return handler(event, context)
            key = id(tracer)
            if key not in traced:
                traced[key] = tracer.capture_lambda_handler(handler)
            return traced[key](event, context)

        return wrapper  # type: ignore[return-value]

    def annotate(self, **annotations: str | int | float | bool) -> None:
        """Searchable X-Ray annotations on the current segment (worker, trigger, signal id)."""
        tracer = self.get()
        if tracer is None:
            return
        for key, value in annotations.items():
            tracer.put_annotation(key=key, value=value)


tracer = LazyTracer()
