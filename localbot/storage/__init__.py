"""SQLite storage: one file, one writer connection, schema changes as sqlite-utils migrations."""

from localbot.storage.db import one, open_database, rows, run_script

__all__ = ["one", "open_database", "rows", "run_script"]
