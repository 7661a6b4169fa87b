"""The registry of member-linked data, and the three things done with it: show, forget, expire.

A feature adds its :class:`~localbot.privacy.model.MemberData` (usually ``localbot/<feature>/privacy.py``)
to :data:`FEATURES`. The core's own tables (members, memberships, conversations, the outbox…) are
declared in :mod:`localbot.privacy.core`: collected first, forgotten last (they delete the member).
The outbox keeps what a message said only until it is finished (:mod:`localbot.delivered`), so what
a member did or where they were is not kept there; forgetting and retention delete the files
published for a member's messages as well.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from localbot.care.privacy import DATA as CARE
from localbot.clock import iso
from localbot.community.model import Member
from localbot.maps.privacy import DATA as MAPS
from localbot.polls.privacy import DATA as POLLS
from localbot.privacy.core import DATA as CORE
from localbot.privacy.model import STAND_IN, Expiry, MemberData, Subject
from localbot.storage.db import rows
from localbot.surveys.privacy import DATA as SURVEYS
from localbot.tastings.privacy import DATA as TASTINGS

#: Every feature's declaration; add yours here.
FEATURES: list[MemberData] = [POLLS, SURVEYS, MAPS, TASTINGS, CARE]


def declarations() -> list[MemberData]:
    """Every declaration, the core's first."""
    return [CORE, *FEATURES]


def collect(db: sqlite_utils.Database, subject: Subject) -> dict[str, Any]:
    """Everything the bot keeps about the member, by feature (what ``/mydata`` sends)."""
    out: dict[str, Any] = {"generated_at": iso(subject.now)}
    for data in declarations():
        out[data.feature] = data.collect(db, subject)
    return out


def forget(db: sqlite_utils.Database, subject: Subject) -> None:
    """Remove the member's identity and personal answers everywhere; anonymous aggregates stay.
    The features first (they find rows by the member's id), the core last (it deletes the member)."""
    with db.atomic():
        for data in FEATURES:
            data.forget(db, subject)
        CORE.forget(db, subject)


def purge(db: sqlite_utils.Database, expiry: Expiry) -> dict[str, int]:
    """Retention: forget members who left every community and were not seen since ``expiry.before``,
    then let each feature anonymise or delete what is older. Returns counts by name."""
    done: dict[str, int] = {}
    with db.atomic():
        stale = rows(
            db,
            """SELECT * FROM members m
               WHERE COALESCE(m.last_seen_at, m.created_at) < ? AND m.messenger != ?
                 AND NOT EXISTS (SELECT 1 FROM memberships ms WHERE ms.member_id = m.id AND ms.left_at IS NULL)""",
            [expiry.cutoff, STAND_IN],
        )
        for row in stale:
            forget(db, Subject(Member.from_row(row), expiry.secret, expiry.now, expiry.base, expiry.outbound))
        done["members forgotten"] = len(stale)
        for data in declarations():
            for name, count in data.purge(db, expiry).items():
                done[f"{data.feature}: {name}"] = count
    return done
