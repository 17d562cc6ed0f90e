"""Apply the database migrations in AWS: on every deploy that changes the domain layer (a CloudFormation
custom resource, so a deploy whose migrations fail rolls back) and on demand (`optionflow db migrate --stack`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from optionflow import cloudformation
from optionflow.db.migrate import available_migrations, migrate_database
from optionflow.observability import logger

# Time kept back to answer CloudFormation after the migrations have been given up on.
ANSWER_MARGIN_SECONDS = 15


def _migrate() -> dict[str, Any]:
    applied = migrate_database()
    latest = available_migrations()[-1].version
    logger.info("migrations applied" if applied else "database is up to date", extra={"applied": applied})
    return {"applied": applied, "latest": latest}


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not cloudformation.is_custom_resource_event(event):
        return _migrate()  # a direct invocation: failures raise, and the caller sees the function error

    def work() -> dict[str, str]:
        result = _migrate()
        return {"Applied": ",".join(result["applied"]) or "none", "Latest": result["latest"]}

    return cloudformation.handle(
        event,
        work,
        time_limit_seconds=context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS,
        log_stream=context.log_stream_name,
    )
