"""Trading statistics: win rate, P&L, drawdown and the equity curve, overall and broken down."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from optionflow.logic import queries
from optionflow.models.stats import StatsReport

from api.routes.queries import Since, Until
from api.security import BEARER, READ

router = APIGatewayHttpRouter()


@router.get(
    "/stats",
    middlewares=READ,
    security=BEARER,
    summary="Win rate, average win and loss, profit factor, expectancy, drawdown, P&L and equity curve",
    description="Over positions closed in [since, until), overall and by ticker, direction and exit rule; "
    "unrealized P&L and open positions are the book as of now. Money in dollars per whole position.",
)
def get_stats(since: Since = None, until: Until = None) -> StatsReport:
    from optionflow.composition import for_process

    # a bad window raises queries.BadWindow, which the app answers with a 422 naming the field
    deps = for_process()
    return queries.stats_report(deps.db, since, until, deps.clock.now())
