"""What tastings keep about a member, and how it is forgotten while every result stays the same.

A participant is shown everywhere by a label (``P3``); the link to the member is ``member_id``,
which the schema already lets go (``ON DELETE SET NULL``). Forgetting unlinks the member's places
and keeps their scores, which count in the report as the label's; their free-text comments are
deleted, since a comment can say who wrote it. (Places still booked in an open tasting are given
up first, in the chat, so the waiting list moves up: see the tastings handler.) Retention does the
same to every participant of a tasting closed before the cut-off. ``/mydata`` names the samples by
their blind codes, as the member saw them: a tasting's products stay hidden until it is over.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from localbot.clock import to_second
from localbot.privacy.model import Expiry, MemberData, Subject
from localbot.storage.db import rows
from localbot.text import whole_number

#: The one free-text question of a tasting questionnaire.
COMMENT = "comment"


def collect(db: sqlite_utils.Database, subject: Subject) -> dict[str, Any]:
    member_id = subject.member.id
    places = rows(
        db,
        """SELECT p.*, t.number AS tasting, t.title, c.name AS community, s.number AS session
           FROM tasting_participants p JOIN tastings t ON t.id = p.tasting_id JOIN communities c ON c.id = t.community_id
           JOIN tasting_sessions s ON s.id = p.session_id WHERE p.member_id = ? ORDER BY p.id""",
        [member_id],
    )
    out: list[dict[str, Any]] = []
    for p in places:
        answers = rows(
            db,
            """SELECT pr.code, a.question, a.value, a.answered_at FROM tasting_answers a
               JOIN tasting_products pr ON pr.id = a.product_id WHERE a.participant_id = ? ORDER BY a.id""",
            [p["id"]],
        )
        out.append(
            {
                "community": p["community"],
                "tasting": p["tasting"],
                "title": p["title"],
                "session": p["session"],
                "participant": p["label"],
                "status": p["status"],
                "signed_up": to_second(p["signed_up_at"]),
                "checked_in": to_second(p["checked_in_at"]),
                "completed": to_second(p["completed_at"]),
                "answers": [
                    {"sample": a["code"], "question": a["question"], "answer": _value(a["value"]), "time": to_second(a["answered_at"])}
                    for a in answers
                ],
            }
        )
    organised = rows(
        db,
        """SELECT c.name AS community, t.number, t.title FROM tastings t JOIN communities c ON c.id = t.community_id
           WHERE t.created_by = ? OR t.thanks_by = ? ORDER BY t.id""",
        [member_id, member_id],
    )
    return {
        "places": out,
        "tastings_you_started_or_thanked_for": [{"community": r["community"], "tasting": r["number"], "title": r["title"]} for r in organised],
    }


def _value(text: str | None) -> int | str | None:
    """Scores as numbers, comments as text (as the export has them)."""
    if text is None:
        return None
    number = whole_number(text.removeprefix("-"))
    return text if number is None else -number if text.startswith("-") else number


def _unlink(db: sqlite_utils.Database, where: str, params: list[Any]) -> tuple[int, int]:
    """Delete the comments of the participants ``where`` selects, then unlink them from members."""
    chosen = f"SELECT id FROM tasting_participants WHERE {where}"
    comments = db.execute(f"DELETE FROM tasting_answers WHERE question = ? AND participant_id IN ({chosen})", [COMMENT, *params]).rowcount
    unlinked = db.execute(f"UPDATE tasting_participants SET member_id = NULL WHERE id IN ({chosen})", params).rowcount
    return unlinked, comments


def forget(db: sqlite_utils.Database, subject: Subject) -> None:
    member_id = subject.member.id
    _unlink(db, "member_id = ?", [member_id])
    db.execute("UPDATE tasting_participants SET checked_in_by = NULL WHERE checked_in_by = ?", [member_id])
    db.execute("UPDATE tastings SET created_by = NULL WHERE created_by = ?", [member_id])
    db.execute("UPDATE tastings SET thanks_by = NULL WHERE thanks_by = ?", [member_id])


def purge(db: sqlite_utils.Database, expiry: Expiry) -> dict[str, int]:
    old = "tasting_id IN (SELECT id FROM tastings WHERE status = 'closed' AND closed_at < ?)"
    unlinked, comments = _unlink(db, f"member_id IS NOT NULL AND {old}", [expiry.cutoff])
    checked = db.execute(f"UPDATE tasting_participants SET checked_in_by = NULL WHERE checked_in_by IS NOT NULL AND {old}", [expiry.cutoff]).rowcount
    organisers = db.execute(
        """UPDATE tastings SET created_by = NULL, thanks_by = NULL
           WHERE status = 'closed' AND closed_at < ? AND (created_by IS NOT NULL OR thanks_by IS NOT NULL)""",
        [expiry.cutoff],
    ).rowcount
    return {"participants unlinked": unlinked, "comments deleted": comments, "tastings made anonymous": organisers + checked}


DATA = MemberData(
    feature="tastings",
    personal=("tastings", "tasting_participants", "tasting_answers"),
    other=("tasting_products", "tasting_sessions"),
    collect=collect,
    forget=forget,
    purge=purge,
)
