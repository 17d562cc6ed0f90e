"""What the simulated clock's routes take and return (GET /clock, POST /clock; only on a simulated clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    model_validator,
)

from optionflow.durations import parse_duration
from optionflow.models.entities import Out

# The local schedules sweep every simulated minute: at 100x that is one sweep of every worker each 0.6 s,
# about what the development machine keeps up with.
MAX_SPEED = 100.0


def _duration(value: object) -> timedelta:
    if not isinstance(value, str):
        raise ValueError("give the duration as text, e.g. 90s, 10m, 2h or 2d")
    return parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    WithJsonSchema({"type": "string", "examples": ["90s", "10m", "2h", "2d"]}),
]


class ClockChange(BaseModel):
    """Exactly one of `set`, `advance`, `speed` and `pause`."""

    model_config = ConfigDict(extra="forbid")

    set: AwareDatetime | None = Field(
        default=None,
        description="Jump to this instant (ISO 8601 with an offset) without running the sweeps in between; "
        "never back",
    )
    advance: Duration | None = Field(
        default=None,
        description="Move on by this long (90s, 10m, 2h, 2d), running every sweep the schedules would have "
        "run on the way; answers once they are done",
    )
    speed: float | None = Field(
        default=None,
        gt=0,
        le=MAX_SPEED,
        strict=True,
        allow_inf_nan=False,
        description="Simulated seconds per wall second from now on",
    )
    pause: StrictBool | None = Field(default=None, description="true stops the clock; false lets it run on")

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockChange:
        given = [name for name in ("set", "advance", "speed", "pause") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of set, advance, speed, pause (got {', '.join(given) or 'none'})"
            )
        return self


class WorkerSweeps(Out):
    runs: int = Field(description="Its runs during the advance: scheduled sweeps and fast-path wake-ups")
    paused: int = Field(description="Runs skipped because the worker is paused")
    totals: dict[str, int] = Field(
        description="What its runs reported, summed (processed, opened, closed, expired, refreshed, exit_orders…)"
    )


class AdvanceReport(Out):
    advanced_from: datetime
    ticks: int = Field(description="Schedule instants swept")
    quiet_ticks: int = Field(
        description="Schedule instants not swept: outside a session, after a sweep that moved nothing, "
        "and before the next midnight, open or close"
    )
    workers: dict[str, WorkerSweeps]


class ClockOut(Out):
    now: datetime = Field(description="The simulated time")
    paused: bool
    speed: float = Field(description="Simulated seconds per wall second while it runs")
    changed_by: str = Field(description="Who changed it last: a token subject, or OPTIONFLOW_CLOCK_START")
    market_open: bool = Field(description="Whether the NYSE regular session is under way at `now`")
    advance: AdvanceReport | None = Field(default=None, description="What an advance ran on the way")
