"""The errors a caller can act on, and what the API answers for each.

Each carries the HTTP status it maps to, the detail a client is shown and any headers; the API turns every
one into an RFC 9457 problem document in one place (`functions/api/problems.py`). A new error derives from
the base that says how to answer it, so nothing in the API needs to know it exists.

- `FieldError` (422, or the status given): a field of the request is wrong; `field` names it and `message`
  says why, and the problem lists them under `errors`.
- `NotFound` (404): a `FieldError` whose field names something that does not exist.
- `Unauthorized` (401): no credential, or none that matches.
- `Unavailable` (503): a dependency cannot be reached; retrying later may work.

Errors without an answer for a client (a missing setting, a failed migration, a bad rules file given to the
command line) are not among these: the API lets them fail the request as any other bug.
"""

from __future__ import annotations


class OptionFlowError(Exception):
    """An error the API answers with `status`, saying `detail`, with `headers`."""

    status: int = 500

    @property
    def detail(self) -> str:
        return str(self)

    @property
    def headers(self) -> dict[str, str]:
        return {}

    def field_errors(self) -> list[dict[str, str]]:
        """The problem document's `errors`: [{"field", "message"}], empty when no field is at fault."""
        return []


class FieldError(OptionFlowError, ValueError):
    """A field of the request is wrong. `str()` and the problem's detail read "field: message" unless
    `detail` words it otherwise; `status` defaults to the class's (422)."""

    status = 422

    def __init__(
        self, field: str, message: str, *, status: int | None = None, detail: str | None = None
    ) -> None:
        super().__init__(detail if detail is not None else f"{field}: {message}")
        self.field = field
        self.message = message
        if status is not None:
            self.status = status

    def field_errors(self) -> list[dict[str, str]]:
        return [{"field": self.field, "message": self.message}]


class NotFound(FieldError):
    """The field names something that does not exist."""

    status = 404


class Unauthorized(OptionFlowError):
    """No credential, or none that matches."""

    status = 401


class Unavailable(OptionFlowError, RuntimeError):
    """A dependency (the database, a worker's function) cannot be reached now."""

    status = 503
