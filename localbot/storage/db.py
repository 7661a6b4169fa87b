"""Opening the one SQLite file the bot keeps everything in.

sqlite3 connections belong to one thread, and the bot runs in one asyncio loop, so the bot holds a
single writer connection. WAL lets exports and the dashboard read while the bot writes;
``synchronous=NORMAL`` in WAL mode survives a killed process (only a power cut can lose the last
commits), which is what "an acknowledged vote is never lost" needs. sqlite-utils does not switch
foreign keys on, so we do. ``isolation_level=None`` stops the sqlite3 module from opening hidden
transactions: every write either runs in ``db.atomic()`` or commits by itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from localbot.clock import iso

BUSY_TIMEOUT_MS = 5000


def open_database(path: str | Path, *, migrate: bool = True, readonly: bool = False) -> sqlite_utils.Database:
    """Open (and by default migrate) the database at ``path``; ``":memory:"`` for a throwaway one."""
    target = str(path)
    if readonly:
        uri = Path(target).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(target, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    if not readonly and target != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA temp_store=MEMORY")
    db = sqlite_utils.Database(conn)
    if migrate and not readonly:
        from localbot.storage.migrations import migrate as apply_migrations

        apply_migrations(db)
    return db


def run_script(db: sqlite_utils.Database, sql: str) -> None:
    """Run several statements without ``executescript``, which would commit an open transaction.

    Migrations run inside ``db.atomic()``; executing statement by statement keeps them atomic.
    """
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if statement:
                db.conn.execute(statement)
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement: {buffer.strip()[:80]!r}")


def one(db: sqlite_utils.Database, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> dict[str, Any] | None:
    """The first row as a dict, or None. The cursor is closed at once: an unfinished statement
    (an ``INSERT … RETURNING`` read only halfway) would keep its transaction open."""
    cursor = db.conn.execute(sql, params)
    try:
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cursor.description], row, strict=True))
    finally:
        cursor.close()


def rows(db: sqlite_utils.Database, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
    """All rows as dicts, fetched at once (so an ``UPDATE … RETURNING`` has finished when this returns)."""
    cursor = db.conn.execute(sql, params)
    try:
        if cursor.description is None:
            raise ValueError(f"rows() needs a statement that returns rows: {sql.strip()[:80]!r}")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        cursor.close()


def stream(db: sqlite_utils.Database, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Rows as dicts, fetched ``batch`` at a time, so an export of any size keeps memory flat.

    The cursor is closed when the iteration ends or is abandoned.
    """
    cursor = db.conn.execute(sql, params)
    try:
        names = [c[0] for c in cursor.description]
        while chunk := cursor.fetchmany(batch):
            for row in chunk:
                yield dict(zip(names, row, strict=True))
    finally:
        cursor.close()


def export_filter(community_column: str, time_column: str, community_id: int | None, since: datetime | None) -> tuple[str, list[Any]]:
    """The WHERE clause every export shares (one community; rows from ``since`` on) and its
    parameters. The column names are the caller's SQL, never user input."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if community_id is not None:
        where.append(f"{community_column} = ?")
        params.append(community_id)
    if since is not None:
        where.append(f"{time_column} >= ?")
        params.append(iso(since))
    return " AND ".join(where), params
