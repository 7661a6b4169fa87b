"""What community care keeps about a member: whether they asked for the weekly digest or not."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from localbot.clock import to_second
from localbot.privacy.model import Expiry, MemberData, Subject
from localbot.storage.db import rows


def collect(db: sqlite_utils.Database, subject: Subject) -> dict[str, Any]:
    found = rows(
        db,
        """SELECT c.name AS community, d.wanted, d.changed_at FROM digest_choices d
           JOIN communities c ON c.id = d.community_id WHERE d.member_id = ? ORDER BY c.name""",
        [subject.member.id],
    )
    return {"weekly_digest": [{"community": r["community"], "wanted": bool(r["wanted"]), "chosen": to_second(r["changed_at"])} for r in found]}


def forget(db: sqlite_utils.Database, subject: Subject) -> None:
    db.execute("DELETE FROM digest_choices WHERE member_id = ?", [subject.member.id])


def purge(db: sqlite_utils.Database, expiry: Expiry) -> dict[str, int]:
    """A choice is kept while its member is: it is what they asked for, not a record of the past."""
    return {}


DATA = MemberData(feature="care", personal=("digest_choices",), collect=collect, forget=forget, purge=purge)
