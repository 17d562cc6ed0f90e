"""The databases of a replay: the real book read on a read-only connection, and the scratch book the replay
writes, created and migrated beside it, dropped however the replay ends, and found and dropped later when a
killed replay could not. The SQL is in db/replay.py; this holds the connections and the driver's errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import psycopg2

from optionflow.db import replay as replay_db
from optionflow.db.connection import Cursor, connect, url_with_database
from optionflow.db.migrate import migrate_database


@contextmanager
def read_only(url: str) -> Iterator[Cursor]:
    """A cursor on `url` in a transaction the server itself keeps from writing, rolled back at the end."""
    conn = connect(url)
    try:
        conn.set_session(readonly=True)
        with conn.cursor(cursor_factory=Cursor) as cur:
            yield cur
        conn.rollback()
    finally:
        conn.close()


@contextmanager
def scratch_book(url: str) -> Iterator[str]:
    """A new, migrated database beside the one `url` names; yields its URL and drops it when the block
    ends, however it ends.

    Everything from CREATE DATABASE on runs inside the block that drops it: an error or Ctrl-C the moment the
    CREATE returns, or while the book is tuned or migrated, still drops it. Only a process killed outright
    leaves it, and `drop_leftovers` finds it then. The server connection that creates and drops the book is
    held open and claims it meanwhile, so `drop_leftovers` run beside a replay never drops its book, even
    while the replay has no connection to it."""
    name = f"{replay_db.SCRATCH_PREFIX}{uuid4().hex[:12]}"
    holder = _server_connection(url)  # CREATE/DROP DATABASE cannot run in a transaction
    refused = False
    try:
        with holder.cursor() as cur:
            replay_db.claim_database(cur, name)
            try:
                replay_db.create_database(cur, name)
            except psycopg2.Error as exc:
                # the server's answer to the CREATE: it made nothing, and a name already taken (one chance in
                # 2**48) would be another replay's book, not ours to drop
                refused = exc.pgcode is not None
                raise
            replay_db.tune_database(cur, name)
        scratch_url = url_with_database(url, name)
        migrate_database(scratch_url)
        yield scratch_url
    finally:
        try:
            if not refused:
                _drop_scratch_book(holder, url, name)
        finally:
            holder.close()


def _drop_scratch_book(holder: Any, url: str, name: str) -> None:
    try:
        with holder.cursor() as cur:
            replay_db.drop_database(cur, name)
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        # the held connection broke during the replay (a server restart, say): drop over a new one
        fresh = _server_connection(url)
        try:
            with fresh.cursor() as cur:
                replay_db.drop_database(cur, name)
        finally:
            fresh.close()


def _server_connection(url: str) -> Any:
    conn = connect(url)
    try:
        conn.autocommit = True
    except BaseException:
        conn.close()
        raise
    return conn


@dataclass(frozen=True)
class Leftover:
    """A scratch book that `drop_leftovers` found: no session connected to it or claiming it."""

    name: str
    dropped: bool
    kept_because: str | None = None


def drop_leftovers(database_url: str) -> list[Leftover]:
    """Drop the scratch books left on `database_url`'s server by replays killed before they could drop them
    (SIGKILL, a lost machine): every `optionflow_replay_*` database that no session is connected to and no
    running replay claims. A book a session connects to meanwhile, or one this role does not own, is kept and
    says why. Raises DatabaseUnavailable when the server cannot be reached."""
    conn = _server_connection(database_url)
    try:
        with conn.cursor(cursor_factory=Cursor) as cur:
            found = replay_db.unused_scratch_databases(cur)
            results = []
            for book in found:
                if not book.droppable:
                    results.append(Leftover(book.name, False, f"owned by {book.owner}"))
                elif replay_db.drop_unused_database(cur, book.name):
                    results.append(Leftover(book.name, True))
                else:
                    results.append(Leftover(book.name, False, "a session connected to it meanwhile"))
    finally:
        conn.close()
    return results
