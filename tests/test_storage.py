"""SQLite storage: pragmas, migrations, foreign keys, backups, the instance secret."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from localbot.storage import open_database
from localbot.storage.backup import backup_database
from localbot.storage.migrations import MIGRATION_SETS, migrate, pending
from localbot.storage.secret import load_or_create_secret


def test_pragmas(tmp_path: Path) -> None:
    db = open_database(tmp_path / "p.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    db.close()


def test_migrations_apply_once_and_record_themselves(tmp_path: Path) -> None:
    db = open_database(tmp_path / "m.db", migrate=False)
    todo = pending(db)
    assert todo and all(":" in name for name in todo)
    assert migrate(db) == todo
    assert migrate(db) == [] and pending(db) == []
    applied = {(r["migration_set"], r["name"]) for r in db.query("SELECT migration_set, name FROM _sqlite_migrations")}
    expected = {(s.name, m.name) for s in MIGRATION_SETS for m in s._migrations}
    assert applied == expected
    for table in ("communities", "channels", "members", "memberships", "conversations", "jobs", "outbox", "polls", "poll_votes"):
        assert db[table].exists()
    db.close()


def test_foreign_keys_cascade(tmp_path: Path) -> None:
    db = open_database(tmp_path / "f.db")
    with db.atomic():
        db.execute("INSERT INTO communities (id, name, language, timezone, created_at) VALUES (1, 'c', 'en', 'UTC', 'now')")
        db.execute("INSERT INTO channels (community_id, messenger, kind, chat_ref, created_at) VALUES (1, 'console', 'group', 'console:g', 'now')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO channels (community_id, messenger, kind, chat_ref, created_at) VALUES (99, 'console', 'group', 'x', 'now')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO channels (community_id, messenger, kind, chat_ref, created_at) VALUES (1, 'console', 'bogus', 'y', 'now')")
    db.execute("DELETE FROM communities WHERE id = 1")
    assert db["channels"].count == 0
    db.close()


def test_backup_is_consistent_while_the_bot_writes(tmp_path: Path) -> None:
    source = tmp_path / "live.db"
    db = open_database(source)
    with db.atomic():
        db.execute("INSERT INTO communities (id, name, language, timezone, created_at) VALUES (1, 'c', 'en', 'UTC', 'now')")
    stop = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(source, isolation_level=None, timeout=5)
        n = 0
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO members (ref, messenger, created_at) VALUES (?, 'console', 'now')", [f"console:m{n}"])
            conn.execute("INSERT INTO memberships (community_id, member_id, joined_at) VALUES (1, last_insert_rowid(), 'now')")
            conn.execute("COMMIT")
            n += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        pages = backup_database(source, tmp_path / "copy.db")
    finally:
        stop.set()
        thread.join()
    assert pages > 0
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    members, memberships = copy.execute("SELECT (SELECT COUNT(*) FROM members), (SELECT COUNT(*) FROM memberships)").fetchone()
    assert members == memberships  # every committed pair, never half of one
    copy.close()
    db.close()


def test_backup_refuses_nonsense(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        backup_database(tmp_path / "missing.db", tmp_path / "x.db")
    open_database(tmp_path / "a.db").close()
    with pytest.raises(ValueError):
        backup_database(tmp_path / "a.db", tmp_path / "a.db")


def test_secret_lives_next_to_the_database_and_is_private(tmp_path: Path) -> None:
    key = load_or_create_secret(tmp_path / "bot.db")
    path = tmp_path / "bot.db.key"
    assert len(key) == 32 and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(tmp_path / "bot.db") == key
