"""Tables of tastings: the tasting with its file, products and their blind codes, sessions at pickup
points, participants (members who signed up, and paper forms), and answers in long format.

A session refers to its pickup point with ``ON DELETE RESTRICT``: a point where a tasting is
planned cannot be removed (maps turns the refusal into a clear message). A participant row is one
member's one place in a tasting (``UNIQUE (tasting_id, member_id)``): signing up again after a
cancellation reuses it, and its ``label`` (``P3``) is what exports and the serving sheet show
instead of a name. Paper participants have no member. When a member is deleted their rows stay,
unlinked, so results never change. Answers are one row per participant, product and question,
saved as they come.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from localbot.storage.db import run_script

migrations = Migrations("localbot.tastings")


@migrations()
def m001_tastings(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE tastings (
            id INTEGER PRIMARY KEY,
            community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            name TEXT NOT NULL,
            -- in the file's first language, for listings and exports
            title TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('on_site', 'home_use')),
            -- the tasting file as it was when the tasting started
            source TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            created_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            closed_at TEXT,
            -- the "what we learned" message the organiser approved, once sent
            thanks_text TEXT,
            thanks_sent_at TEXT,
            thanks_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
            UNIQUE (community_id, number)
        );
        CREATE INDEX tastings_name ON tastings(community_id, name);

        CREATE TABLE tasting_products (
            id INTEGER PRIMARY KEY,
            tasting_id INTEGER NOT NULL REFERENCES tastings(id) ON DELETE CASCADE,
            -- its index in the Williams design: 0 is product A
            position INTEGER NOT NULL,
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            code INTEGER NOT NULL CHECK (code BETWEEN 100 AND 999),
            UNIQUE (tasting_id, position),
            UNIQUE (tasting_id, key),
            UNIQUE (tasting_id, code)
        );

        CREATE TABLE tasting_sessions (
            id INTEGER PRIMARY KEY,
            tasting_id INTEGER NOT NULL REFERENCES tastings(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            point_id INTEGER NOT NULL REFERENCES pickup_points(id) ON DELETE RESTRICT,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
            -- home-use tests: when the kits are tasted
            taste_at TEXT,
            places INTEGER NOT NULL CHECK (places > 0),
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),
            cancelled_at TEXT,
            UNIQUE (tasting_id, number)
        );
        CREATE INDEX tasting_sessions_point ON tasting_sessions(point_id);

        CREATE TABLE tasting_participants (
            id INTEGER PRIMARY KEY,
            tasting_id INTEGER NOT NULL REFERENCES tastings(id) ON DELETE CASCADE,
            session_id INTEGER NOT NULL REFERENCES tasting_sessions(id) ON DELETE CASCADE,
            -- NULL for a paper form, and for a member who was deleted
            member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
            label TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'chat' CHECK (source IN ('chat', 'paper')),
            status TEXT NOT NULL CHECK (status IN ('booked', 'waiting', 'cancelled')),
            -- the row of the Williams design that sets the serving order (booked chat participants)
            design_row INTEGER,
            -- order of the waiting list
            signed_up_at TEXT NOT NULL,
            booked_at TEXT,
            cancelled_at TEXT,
            checked_in_at TEXT,
            checked_in_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
            checkin_method TEXT CHECK (checkin_method IN ('organiser', 'location')),
            completed_at TEXT,
            UNIQUE (tasting_id, member_id),
            UNIQUE (tasting_id, label)
        );
        CREATE INDEX tasting_participants_session ON tasting_participants(session_id, status);
        CREATE INDEX tasting_participants_member ON tasting_participants(member_id);

        CREATE TABLE tasting_answers (
            id INTEGER PRIMARY KEY,
            participant_id INTEGER NOT NULL REFERENCES tasting_participants(id) ON DELETE CASCADE,
            product_id INTEGER NOT NULL REFERENCES tasting_products(id) ON DELETE CASCADE,
            -- the sample's place in the participant's serving order, from 1
            position INTEGER,
            -- liking, jar.<id>, cata.<id>, comment, preference, rank
            question TEXT NOT NULL,
            -- NULL: an optional comment left empty
            value TEXT,
            source TEXT NOT NULL CHECK (source IN ('chat', 'paper')),
            answered_at TEXT NOT NULL,
            UNIQUE (participant_id, product_id, question)
        );
        """,
    )
