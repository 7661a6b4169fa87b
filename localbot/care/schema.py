"""Tables of community care: who among the organisers wants the weekly digest.

Organisers who hold the role get the digest unless they turned it off; anyone else who organises
(a Telegram group admin, say, whom the bot only learns about by asking Telegram) gets it after
``/digest on``. One row per member and community records such a choice.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from localbot.storage.db import run_script

migrations = Migrations("localbot.care")


@migrations()
def m001_digest_choices(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE digest_choices (
            community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
            member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            wanted INTEGER NOT NULL CHECK (wanted IN (0, 1)),
            changed_at TEXT NOT NULL,
            PRIMARY KEY (community_id, member_id)
        );
        CREATE INDEX digest_choices_member ON digest_choices(member_id);
        """,
    )
