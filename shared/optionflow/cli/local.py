"""Commands for this machine: `dev` (the local stack), `db migrate`, `token create`."""

from __future__ import annotations

import argparse
from typing import Any

from optionflow.auth.tokens import DEFAULT_TTL, MAX_LIFETIME
from optionflow.config import get_settings


def _cmd_dev(args: argparse.Namespace) -> int:
    from optionflow.local.stack import serve

    settings = get_settings()
    if args.port:
        settings = settings.model_copy(update={"port": args.port})
    serve(settings)
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from optionflow.db.connection import connect
    from optionflow.db.migrate import migrate

    if args.stack:
        from optionflow.cli.stack import migrate_stack

        result = migrate_stack(args.stack, region=args.region)
        applied = result["applied"]
        print(
            f"{args.stack}: applied {', '.join(applied)}"
            if applied
            else f"{args.stack}: database is up to date (latest {result['latest']})"
        )
        return 0
    from optionflow.local.embedded_postgres import url_for

    settings = get_settings()
    applied = migrate(connect(url_for(settings.database_url, settings.data_dir)))
    print(f"applied {', '.join(applied)}" if applied else "database is up to date")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from optionflow.auth.tokens import mint, parse_ttl
    from optionflow.local.stack import local_secrets

    settings = get_settings()
    if not settings.jwt_secret:
        settings = local_secrets(settings)  # the local stack's secret, so its API accepts the token
    print(
        mint(
            secret=settings.require_jwt_secret(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            scope=args.scope,
            ttl=parse_ttl(args.ttl),
            subject=args.subject,
        )
    )
    return 0


def register(commands: Any) -> None:
    dev = commands.add_parser("dev", help="run the whole stack locally (same as `make run`)")
    dev.add_argument("--port", type=int, help="HTTP port (default PORT or 3000)")
    dev.set_defaults(func=_cmd_dev)

    db = commands.add_parser("db", help="database tasks").add_subparsers(dest="db_command", required=True)
    migrate = db.add_parser(
        "migrate",
        help="apply pending migrations to DATABASE_URL (or DATABASE_SECRET_ARN, or the embedded database)",
    )
    migrate.add_argument(
        "--stack", help="apply them in AWS instead, by invoking this deployed stack's migrate function"
    )
    migrate.add_argument("--region", help="the stack's region (default: your AWS configuration)")
    migrate.set_defaults(func=_cmd_migrate)

    token = commands.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = token.add_parser("create", help="mint a JWT for the query API")
    create.add_argument("--scope", choices=["read", "admin"], default="read")
    create.add_argument(
        "--ttl", default=DEFAULT_TTL, help=f"lifetime, e.g. 7d, 12h, 30m (at most {MAX_LIFETIME.days}d)"
    )
    create.add_argument("--subject", default="optionflow-user")
    create.set_defaults(func=_cmd_token)
