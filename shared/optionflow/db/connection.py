"""One Postgres connection per warm Lambda (per thread in the local stack), reused and re-opened when broken."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import SimpleNamespace
from typing import Any, TypeVar

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from optionflow.config import get_settings, refetch_database_secret
from optionflow.errors import Unavailable
from optionflow.models import untrusted_json

T = TypeVar("T")

# Fail fast: TradingView gives a webhook three seconds, and a 503 in time makes it retry.
CONNECT_TIMEOUT_SECONDS = 2


class DatabaseUnavailable(Unavailable):
    """Postgres could not be reached or the connection broke; the caller answers 503 / retries later.
    The message (the driver's) is for the logs; the client is told only to retry."""

    @property
    def detail(self) -> str:
        return "database unavailable, retry shortly"

    @property
    def headers(self) -> dict[str, str]:
        # 503 makes TradingView retry the delivery; nothing was stored.
        return {"Retry-After": "5"}


class DatabaseBusy(DatabaseUnavailable):
    """The statement lost a race, not the connection: a deadlock, a serialization failure, a lock or
    statement timeout. The transaction was rolled back and the connection kept; trying again shortly works."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class LoginRefused(DatabaseUnavailable):
    """The server refused the credentials (a password rotated since the secret was fetched, or a wrong one)."""


# SQLSTATE of a refused login: invalid_password, invalid_authorization_specification. libpq reports a failed
# start-up without a code, so its message is matched too.
_LOGIN_REFUSED_CODES = {"28P01", "28000"}
_LOGIN_REFUSED_TEXT = "password authentication failed"


def _login_refused(exc: psycopg2.OperationalError) -> bool:
    return exc.pgcode in _LOGIN_REFUSED_CODES or _LOGIN_REFUSED_TEXT in str(exc)


_local: Any = threading.local()
_url_override: str | None = None
_after_connect: list[Callable[[psycopg2.extensions.connection], None]] = []

Cursor = psycopg2.extras.RealDictCursor


def set_database_url(url: str | None) -> None:
    """Point this process at another database (tests, local stack); drops this thread's connection."""
    global _url_override
    _url_override = url
    close_connection()


def url_with_database(url: str, name: str) -> str:
    """A connection string for database `name` with `url`'s host, credentials and options (`url` a URL or
    key=value string).

    libpq's own parser does the merge: a `?dbname=` in the query overrides the path, so replacing the
    path alone would still connect to the database `url` names.
    """
    return str(psycopg2.extensions.make_dsn(url, dbname=name))


def one_connection_per_process() -> None:
    """Every thread of this process uses one connection: for a process whose threads run one request at a
    time (a local API process, like one Lambda instance), so a client's new HTTP connection is not a new
    Postgres connection too."""
    global _local
    close_connection()
    _local = SimpleNamespace(conn=None)


def after_connect(hook: Callable[[psycopg2.extensions.connection], None]) -> None:
    """Run `hook` on each new connection of this process (the local worker process lowers its backends'
    priority)."""
    _after_connect.append(hook)


def database_url() -> str:
    return _url_override or get_settings().require_database_url()


def connect(url: str | None = None) -> psycopg2.extensions.connection:
    try:
        conn = psycopg2.connect(
            url or database_url(), connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name="optionflow"
        )
    except psycopg2.OperationalError as exc:
        refused = LoginRefused if _login_refused(exc) else DatabaseUnavailable
        raise refused(f"cannot connect to Postgres: {str(exc).strip()}") from exc
    # UTC in, UTC out; market logic converts to New York time explicitly. The server reports its TimeZone
    # when the connection starts, so a server already on UTC (RDS's default) costs no round trip, and no
    # session SET, which would pin the connection behind an RDS Proxy for its whole life.
    conn.set_session(autocommit=False)
    # A stored value this process cannot parse reads as a note, not as an error failing the whole query.
    # (By keyword: X-Ray's psycopg2 patch unwraps its traced connection only from `conn_or_curs=`.)
    psycopg2.extras.register_default_jsonb(conn_or_curs=conn, loads=untrusted_json.read_stored)
    if conn.get_parameter_status("TimeZone") not in _UTC_NAMES:
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        conn.commit()
    for hook in _after_connect:
        hook(conn)
    return conn


_UTC_NAMES = {"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"}


class Database:
    """A connection source: transactions and statements on one database, over this thread's connection.

    `url` None is the process's database (`database_url()`, read at each connect). Every `Database` shares
    the thread's one connection, reconnecting when asked for another database, so a warm Lambda keeps one
    connection and a replay's scratch book is the thread's connection while it runs.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    def connection(self) -> psycopg2.extensions.connection:
        url = self.url or database_url()
        conn: psycopg2.extensions.connection | None = getattr(_local, "conn", None)
        if conn is not None and not conn.closed and getattr(_local, "url", url) != url:
            close_connection()
            conn = None
        if conn is None or conn.closed:
            try:
                conn = connect(url)
            except LoginRefused:
                # A rotated password: the cached secret is older than the rotation. Fetch it once more, past
                # the cache, and try once with it (a secret that still fails is the caller's 503).
                if self.url is not None or _url_override is not None or not refetch_database_secret():
                    raise
                url = database_url()
                conn = connect(url)
            _local.conn, _local.url = conn, url
        return conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """A cursor inside one transaction: committed on success, rolled back on any error.

        A broken connection is dropped (the next call reconnects) and surfaces as DatabaseUnavailable; a
        deadlock or a lock/statement timeout rolls back, keeps the connection and surfaces as DatabaseBusy.
        """
        conn = self.connection()
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur
            conn.commit()
        except _BROKEN as exc:
            raise _unavailable(conn, exc) from exc
        except BaseException:
            if not conn.closed:
                conn.rollback()
            raise

    def run_statement(self, work: Callable[[psycopg2.extras.RealDictCursor], T], *, retries: int = 1) -> T:
        """Run `work` in autocommit mode: for work that is one atomic statement (and maybe a read after it),
        this saves the BEGIN and COMMIT round trips a transaction costs. Retried once on a stale connection."""
        attempt = 0
        while True:
            conn = self.connection()
            conn.autocommit = True
            try:
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    return work(cur)
            except _BROKEN as exc:
                error = _unavailable(conn, exc)
                attempt += 1
                if attempt > retries:
                    raise error from exc
            finally:
                if not conn.closed:
                    conn.autocommit = False

    def run_in_transaction(
        self, work: Callable[[psycopg2.extras.RealDictCursor], T], *, retries: int = 1
    ) -> T:
        """Run `work` in a transaction, retrying on a fresh connection if the reused one had gone stale, or
        on the same one after a deadlock or lock timeout.

        Only for work that is safe to repeat after a failed commit (idempotent writes, reads): a warm Lambda's
        connection is often closed by the server or a proxy while the function sleeps.
        """
        attempt = 0
        while True:
            try:
                with self.transaction() as cur:
                    return work(cur)
            except DatabaseUnavailable:
                attempt += 1
                if attempt > retries:
                    raise


_BROKEN = (psycopg2.OperationalError, psycopg2.InterfaceError)


def _unavailable(conn: psycopg2.extensions.connection, exc: BaseException) -> DatabaseUnavailable:
    """What an OperationalError/InterfaceError means for the connection, acted on: a statement that lost a
    race (the server answered with an SQLSTATE and the connection is open) is rolled back and the
    connection kept; anything else (no SQLSTATE: the socket, the server or the session went away) drops
    the connection so the next call reconnects."""
    code = getattr(exc, "pgcode", None)
    if code and not conn.closed and not isinstance(exc, psycopg2.InterfaceError):
        try:
            conn.rollback()
        except _BROKEN:
            pass
        else:
            return DatabaseBusy(f"database busy ({code}): {str(exc).strip()}")
    close_connection()
    return DatabaseUnavailable(f"database connection lost: {str(exc).strip()}")


# The process's database: what the module functions below use (and the composition root hands out).
PROCESS_DATABASE = Database()


def get_connection() -> psycopg2.extensions.connection:
    return PROCESS_DATABASE.connection()


def thread_connection() -> psycopg2.extensions.connection | None:
    """The connection this thread holds now, to whichever database (every `Database` shares it), or None;
    nothing is opened."""
    conn: psycopg2.extensions.connection | None = getattr(_local, "conn", None)
    return conn if conn is not None and not conn.closed else None


def close_connection() -> None:
    conn = getattr(_local, "conn", None)
    _local.conn = None
    if conn is not None and not conn.closed:
        conn.close()


def transaction() -> AbstractContextManager[psycopg2.extras.RealDictCursor]:
    """`PROCESS_DATABASE.transaction()`."""
    return PROCESS_DATABASE.transaction()


def is_transient(exc: BaseException) -> bool:
    """An error that says nothing about the row being processed (the connection went away, a deadlock, a
    lock or statement timeout): the row is left as it was for the next run instead of being failed."""
    return isinstance(exc, DatabaseUnavailable | psycopg2.OperationalError | psycopg2.InterfaceError)


@contextmanager
def savepoint(cur: psycopg2.extras.RealDictCursor, name: str = "one_row") -> Iterator[None]:
    """Run the block in a savepoint: on an error its writes are undone and the transaction goes on, so one
    row that fails never takes its batch down with it."""
    cur.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        if not cur.connection.closed:
            cur.execute(f"ROLLBACK TO SAVEPOINT {name}")
        raise
    cur.execute(f"RELEASE SAVEPOINT {name}")


def run_statement(work: Callable[[psycopg2.extras.RealDictCursor], T], *, retries: int = 1) -> T:
    """`PROCESS_DATABASE.run_statement(work)`."""
    return PROCESS_DATABASE.run_statement(work, retries=retries)


def run_in_transaction(work: Callable[[psycopg2.extras.RealDictCursor], T], *, retries: int = 1) -> T:
    """`PROCESS_DATABASE.run_in_transaction(work)`."""
    return PROCESS_DATABASE.run_in_transaction(work, retries=retries)
