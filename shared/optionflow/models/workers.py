"""What the worker-control routes take and return (GET /workers, POST /workers/{name}/...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from optionflow.models.entities import Out
from optionflow.models.text import OperatorText


class PauseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: OperatorText | None = Field(
        default=None, max_length=500, description="Why, for whoever resumes it"
    )


class WorkerRunOut(Out):
    trigger: str = Field(description="schedule, event:<detail-type> (fast path) or manual")
    started_at: datetime
    finished_at: datetime | None
    processed: int
    succeeded: bool | None
    error: str | None


class WorkerOut(Out):
    worker: str
    paused: bool
    changed_at: datetime | None = Field(description="When it was last paused or resumed")
    changed_by: str | None = Field(description="The token subject that paused or resumed it")
    reason: str | None
    schedule: str = Field(description="Its EventBridge schedule and fast-path rule in AWS")
    last_run: WorkerRunOut | None


class WorkerList(Out):
    items: list[WorkerOut]


class WorkerControlOut(Out):
    worker: str
    changed: bool = Field(description="False when it already was in the asked-for state")
    paused: bool
    changed_at: datetime | None
    changed_by: str | None
    reason: str | None


class TriggerOut(Out):
    worker: str
    triggered: bool
    paused: bool = Field(description="Paused workers still run when triggered by hand")
    event: dict[str, Any] = Field(description="The event the worker was sent")
