"""Tables of quick polls.

Votes of anonymous polls are stored under a keyed token instead of the member id (see
:mod:`localbot.polls.store`), so the database itself cannot tell who voted what; their times are
kept only to the hour, which is still enough for a response curve but not for matching a vote to
a chat message; their ``channel`` is empty and their row id random (migration 2 did both for
votes stored before).
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from localbot.storage.db import run_script

migrations = Migrations("localbot.polls")


@migrations()
def m001_polls(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE polls (
            id INTEGER PRIMARY KEY,
            community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            question TEXT NOT NULL,
            multi INTEGER NOT NULL DEFAULT 0,
            anonymous INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            closes_at TEXT,
            created_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            closed_at TEXT,
            closed_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
            origin_chat_ref TEXT,
            UNIQUE (community_id, number)
        );

        CREATE TABLE poll_options (
            id INTEGER PRIMARY KEY,
            poll_id INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            label TEXT NOT NULL,
            UNIQUE (poll_id, position)
        );

        CREATE TABLE poll_votes (
            id INTEGER PRIMARY KEY,
            poll_id INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
            option_id INTEGER NOT NULL REFERENCES poll_options(id) ON DELETE CASCADE,
            -- NULL for anonymous polls: the voter is known only by voter_key.
            member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
            voter_key TEXT NOT NULL,
            channel TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (poll_id, voter_key, option_id)
        );
        CREATE INDEX poll_votes_option ON poll_votes(poll_id, option_id);
        CREATE INDEX poll_votes_member ON poll_votes(member_id);
        """,
    )


@migrations()
def m002_anonymous_votes_without_channel(db: sqlite_utils.Database) -> None:
    """Anonymous votes no longer keep the voter's messenger (a lone WhatsApp voter was known by it),
    and their row ids, given in the order the votes came, are drawn again at random."""
    anonymous = "poll_id IN (SELECT id FROM polls WHERE anonymous = 1)"
    db.execute(f"UPDATE poll_votes SET channel = '' WHERE {anonymous}")
    db.execute(f"UPDATE poll_votes SET id = abs(random()) % 9007199254740992 + 1 WHERE {anonymous}")
