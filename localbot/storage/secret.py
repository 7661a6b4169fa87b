"""The instance secret: a random key kept in a file next to the database, never inside it.

It keys the voter tokens of anonymous polls and signs short-lived media URLs. Keeping it out of the
SQLite file means that whoever gets the database (an export, the dashboard, a backup) cannot link
an anonymous vote back to a member.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_memory_secret = secrets.token_bytes(32)


def secret_path(database: str | Path) -> Path | None:
    if str(database) == ":memory:":
        return None
    database = Path(database)
    return database.with_name(database.name + ".key")


def load_or_create_secret(database: str | Path) -> bytes:
    path = secret_path(database)
    if path is None:
        return _memory_secret
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # O_EXCL: two processes starting at once must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
