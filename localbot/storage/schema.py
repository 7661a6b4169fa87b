"""The core tables: communities and their channels, members, conversations, jobs and the outbox.

Each feature package owns its tables in its own ``schema.py`` with its own migration set; this
module holds only what every feature shares. DDL is written as SQL rather than through
``Table.create`` because CHECK constraints and ``ON DELETE`` actions are part of the contract.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from localbot.storage.db import run_script

migrations = Migrations("localbot.core")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE communities (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            language TEXT NOT NULL,
            timezone TEXT NOT NULL,
            join_code TEXT UNIQUE,
            settings TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );

        -- How a community is present in a messenger: a group chat the bot sits in, or a roster of
        -- members who talk to the bot one to one (WhatsApp, where bots cannot join groups).
        CREATE TABLE channels (
            id INTEGER PRIMARY KEY,
            community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
            messenger TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('group', 'roster')),
            chat_ref TEXT UNIQUE,
            title TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE INDEX channels_community ON channels(community_id);

        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            ref TEXT NOT NULL UNIQUE,
            messenger TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            username TEXT,
            language TEXT,
            messenger_language TEXT,
            private_chat_ref TEXT,
            created_at TEXT NOT NULL,
            last_seen_at TEXT,
            last_inbound_at TEXT
        );

        CREATE TABLE memberships (
            community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
            member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'organiser')),
            is_current INTEGER NOT NULL DEFAULT 0,
            joined_at TEXT NOT NULL,
            left_at TEXT,
            PRIMARY KEY (community_id, member_id)
        );
        CREATE INDEX memberships_member ON memberships(member_id);

        -- A member's half-finished multi-step conversation in one chat (a wizard, a questionnaire).
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            chat_ref TEXT NOT NULL,
            flow TEXT NOT NULL,
            step TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}',
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (member_id, chat_ref)
        );

        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            due_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            dedupe_key TEXT UNIQUE,
            community_id INTEGER REFERENCES communities(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            claimed_at TEXT,
            finished_at TEXT,
            last_error TEXT
        );
        CREATE INDEX jobs_due ON jobs(state, due_at);

        -- Messages to chats other than the one an event came from: broadcasts, reminders, edits.
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            chat_ref TEXT NOT NULL,
            messenger TEXT NOT NULL,
            member_id INTEGER REFERENCES members(id) ON DELETE CASCADE,
            community_id INTEGER REFERENCES communities(id) ON DELETE CASCADE,
            purpose TEXT NOT NULL DEFAULT 'message',
            payload TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            coalesce_key TEXT,
            dedupe_key TEXT UNIQUE,
            platform_id TEXT,
            delivery_status TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            last_error TEXT
        );
        CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
        CREATE INDEX outbox_coalesce ON outbox(coalesce_key, state);

        -- Which platform message a reply key (``poll:12``) became in each chat, so it can be edited.
        CREATE TABLE message_refs (
            chat_ref TEXT NOT NULL,
            key TEXT NOT NULL,
            platform_id TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (chat_ref, key)
        );

        -- The latest numbered choices shown in a chat without buttons ("reply 1, 2 or 3").
        CREATE TABLE menus (
            chat_ref TEXT PRIMARY KEY,
            options TEXT NOT NULL,
            created_at TEXT NOT NULL
        );

        -- Messenger event ids already processed, so a re-delivered update changes nothing.
        CREATE TABLE inbound_events (
            event_id TEXT PRIMARY KEY,
            received_at TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    )


@migrations()
def m002_outbox_platform_id(db: sqlite_utils.Database) -> None:
    """A status callback that does not name its outbox row (one set on a Messaging Service rather
    than on the message) is matched by its MessageSid: without an index that reads every message
    ever sent, and a long-lived outbox holds hundreds of thousands (docs/performance.md)."""
    db.execute("CREATE INDEX outbox_platform ON outbox(platform_id) WHERE platform_id IS NOT NULL")


@migrations()
def m003_outbox_template(db: sqlite_utils.Database) -> None:
    """Whether a message went out as an approved template in its stead (WhatsApp, outside the
    24-hour window): a flow that sent a question then knows the member has not seen it yet."""
    db.execute("ALTER TABLE outbox ADD COLUMN template INTEGER NOT NULL DEFAULT 0")


@migrations()
def m003_outbox_kept(db: sqlite_utils.Database) -> None:
    """The few rows that still keep what they say (waiting, or sent on WhatsApp without a final
    report): :mod:`localbot.delivered` asks for them on every delivery of a picture and in its
    recurring tidying, and without this index each time read the whole history of sent messages
    (40 ms at 500,000 rows, on the event loop)."""
    db.execute("CREATE INDEX outbox_kept ON outbox(state) WHERE payload != ''")
