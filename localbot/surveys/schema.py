"""Tables of habit surveys and diaries.

A *run* is one start of a study in a community; it keeps the study file's text as it was when it
started, so editing or deleting the file later changes nothing for a running study or its report.
A *participant* is a member taking part (with their waking window for a diary). An *entry* is one
questionnaire: the one-off answers, a diary prompt (planned, sent, skipped when the bot could not
send it in time, or cancelled by a pause, a leave or the end of the study), or an "I just had one"
self-report. Answers are stored one row per question as they come, so nothing a member answered is
lost when they stop half-way.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from localbot.storage.db import run_script

migrations = Migrations("localbot.surveys")


@migrations()
def m001_surveys(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE survey_runs (
            id INTEGER PRIMARY KEY,
            community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            name TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('once', 'diary')),
            -- in the study's first language, for listings and exports
            title TEXT NOT NULL,
            -- the study file as it was when the run started
            source TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            created_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            closes_at TEXT,
            closed_at TEXT,
            closed_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
            UNIQUE (community_id, number)
        );
        CREATE INDEX survey_runs_name ON survey_runs(community_id, name);

        CREATE TABLE survey_participants (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES survey_runs(id) ON DELETE CASCADE,
            member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'left', 'finished')),
            -- diaries: the waking window in local wall-clock time (HH:MM) and the first local day
            window_start TEXT,
            window_end TEXT,
            first_day TEXT,
            timezone TEXT NOT NULL,
            joined_at TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            UNIQUE (run_id, member_id)
        );
        CREATE INDEX survey_participants_member ON survey_participants(member_id);

        CREATE TABLE survey_entries (
            id INTEGER PRIMARY KEY,
            participant_id INTEGER NOT NULL REFERENCES survey_participants(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('once', 'prompt', 'self')),
            day INTEGER,
            slot INTEGER,
            planned_at TEXT,
            -- a prompt that could not go out by then (the bot was down) is skipped, not sent late
            send_by TEXT,
            status TEXT NOT NULL CHECK (status IN ('planned', 'paused', 'sent', 'skipped', 'cancelled')),
            sent_at TEXT,
            -- prompts only: answers that start after this are late
            expires_at TEXT,
            started_at TEXT,
            completed_at TEXT
        );
        CREATE INDEX survey_entries_participant ON survey_entries(participant_id, status);

        CREATE TABLE survey_answers (
            id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES survey_entries(id) ON DELETE CASCADE,
            question TEXT NOT NULL,
            -- JSON; NULL for a skipped optional question
            value TEXT,
            answered_at TEXT NOT NULL,
            UNIQUE (entry_id, question)
        );
        """,
    )
