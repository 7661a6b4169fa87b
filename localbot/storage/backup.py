"""An online, consistent copy of the database through SQLite's backup API.

Copying the file with ``cp`` while the bot writes can produce a torn copy (and misses the WAL); the
backup API copies a consistent snapshot page by page while the bot keeps running.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path


def backup_database(source: str | Path, destination: str | Path, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Copy ``source`` to ``destination`` (overwritten); returns the number of pages copied."""
    source = Path(source)
    destination = Path(destination)
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}")
    if destination.resolve() == source.resolve():
        raise ValueError("the backup must go to another file")
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".part")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(tmp)
    pages_total = 0
    try:

        def _progress(status: int, remaining: int, total: int) -> None:
            nonlocal pages_total
            pages_total = total
            if progress:
                progress(total - remaining, total)

        src.backup(dst, pages=256, progress=_progress)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    tmp.replace(destination)
    return pages_total
