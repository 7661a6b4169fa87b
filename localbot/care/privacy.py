"""What community care keeps about a member: whether they asked for the weekly digest or not, and
when they were last asked to take part in something (the ask budget, which only looks back seven
days, so retention may delete older asks)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from localbot.clock import to_second
from localbot.privacy.model import Expiry, MemberData, Subject
from localbot.storage.db import rows


def collect(db: sqlite_utils.Database, subject: Subject) -> dict[str, Any]:
    member_id = subject.member.id
    choices = rows(
        db,
        """SELECT c.name AS community, d.wanted, d.changed_at FROM digest_choices d
           JOIN communities c ON c.id = d.community_id WHERE d.member_id = ? ORDER BY c.name""",
        [member_id],
    )
    asks = rows(
        db,
        """SELECT c.name AS community, a.kind, a.ref, a.asked_at FROM asks a
           JOIN communities c ON c.id = a.community_id WHERE a.member_id = ? ORDER BY a.asked_at""",
        [member_id],
    )
    return {
        "weekly_digest": [{"community": r["community"], "wanted": bool(r["wanted"]), "chosen": to_second(r["changed_at"])} for r in choices],
        "asked_to_take_part": [{"community": r["community"], "what": r["kind"], "which": r["ref"], "when": to_second(r["asked_at"])} for r in asks],
    }


def forget(db: sqlite_utils.Database, subject: Subject) -> None:
    db.execute("DELETE FROM digest_choices WHERE member_id = ?", [subject.member.id])
    db.execute("DELETE FROM asks WHERE member_id = ?", [subject.member.id])


def purge(db: sqlite_utils.Database, expiry: Expiry) -> dict[str, int]:
    """A digest choice is kept while its member is: it is what they asked for, not a record."""
    return {"old asks deleted": db.execute("DELETE FROM asks WHERE asked_at < ?", [expiry.cutoff]).rowcount}


DATA = MemberData(feature="care", personal=("digest_choices", "asks"), collect=collect, forget=forget, purge=purge)
