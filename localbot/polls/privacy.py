"""What polls keep about a member, and how it is forgotten without changing any result.

A named vote names its voter (``member_id``, ``voter_key = m:<id>``); an anonymous vote is stored
under a keyed token that only the bot, holding the instance secret, can match to a member. To forget
a member, each of their votes keeps its poll, option and channel, so every count and the number of
voters stay exactly the same, but its voter becomes a random token of its own (``f:…``, one per poll,
so multiple-choice picks still count as one voter) and its time is kept only to the hour, as for
anonymous votes. Retention does the same to every vote of polls closed before the cut-off, and drops
who created and closed them.

``/mydata`` lists named votes with their choices. Anonymous votes are not listed: the file travels
through the outbox and the messenger, and a copy naming an anonymous choice would undo the anonymity
the poll promised.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlite_utils

from localbot.clock import to_second
from localbot.polls import store
from localbot.privacy.model import Expiry, MemberData, Subject
from localbot.storage.db import rows

#: A vote time kept to the hour, in SQL (the stored form is fixed-width ISO 8601).
_HOUR = "substr(created_at, 1, 13) || ':00:00.000Z'"


def _token() -> str:
    return "f:" + secrets.token_hex(16)


def collect(db: sqlite_utils.Database, subject: Subject) -> dict[str, Any]:
    member_id = subject.member.id
    votes = rows(
        db,
        """SELECT c.name AS community, p.number, p.question, o.label, v.channel, v.created_at
           FROM poll_votes v JOIN polls p ON p.id = v.poll_id JOIN poll_options o ON o.id = v.option_id
           JOIN communities c ON c.id = p.community_id
           WHERE v.member_id = ? ORDER BY v.created_at, v.id""",
        [member_id],
    )
    created = rows(
        db,
        """SELECT c.name AS community, p.number, p.question, p.created_at, p.created_by = ? AS created, p.closed_by = ? AS closed
           FROM polls p JOIN communities c ON c.id = p.community_id
           WHERE p.created_by = ? OR p.closed_by = ? ORDER BY p.created_at""",
        [member_id, member_id, member_id, member_id],
    )
    return {
        "votes": [
            {"community": v["community"], "poll": v["number"], "question": v["question"], "choice": v["label"], "channel": v["channel"], "time": to_second(v["created_at"])}
            for v in votes
        ],
        "polls_you_created_or_closed": [
            {"community": p["community"], "poll": p["number"], "question": p["question"], "created_by_you": bool(p["created"]), "closed_by_you": bool(p["closed"])}
            for p in created
        ],
        "anonymous_votes": "Votes in anonymous polls are stored under a token that does not name you, and are not listed here.",
    }


def _unlink(db: sqlite_utils.Database, poll_id: int, voter_key: str) -> int:
    """Give one voter's votes in one poll a token of their own: same count, no identity."""
    return db.execute(
        f"UPDATE poll_votes SET voter_key = ?, member_id = NULL, created_at = {_HOUR} WHERE poll_id = ? AND voter_key = ?",
        [_token(), poll_id, voter_key],
    ).rowcount


def forget(db: sqlite_utils.Database, subject: Subject) -> None:
    member = subject.member
    for row in rows(db, "SELECT DISTINCT poll_id, voter_key FROM poll_votes WHERE member_id = ?", [member.id]):
        _unlink(db, row["poll_id"], row["voter_key"])
    for row in rows(db, "SELECT * FROM polls WHERE anonymous = 1"):
        poll = store.get_poll(db, row["id"])
        if poll is not None:
            _unlink(db, poll.id, store.voter_key(subject.secret, poll, member.id))
    db.execute("UPDATE polls SET created_by = NULL WHERE created_by = ?", [member.id])
    db.execute("UPDATE polls SET closed_by = NULL WHERE closed_by = ?", [member.id])
    chats = subject.chats
    db.execute(f"UPDATE polls SET origin_chat_ref = NULL WHERE origin_chat_ref IN ({','.join('?' for _ in chats)})", list(chats))


def purge(db: sqlite_utils.Database, expiry: Expiry) -> dict[str, int]:
    old = "SELECT id FROM polls WHERE status = 'closed' AND closed_at < ?"
    voters = rows(
        db,
        f"SELECT DISTINCT poll_id, voter_key FROM poll_votes WHERE poll_id IN ({old}) AND voter_key NOT LIKE 'f:%'",
        [expiry.cutoff],
    )
    for row in voters:
        _unlink(db, row["poll_id"], row["voter_key"])
    polls = db.execute(
        f"""UPDATE polls SET created_by = NULL, closed_by = NULL, origin_chat_ref = NULL
            WHERE id IN ({old}) AND (created_by IS NOT NULL OR closed_by IS NOT NULL OR origin_chat_ref IS NOT NULL)""",
        [expiry.cutoff],
    ).rowcount
    return {"voters anonymised": len(voters), "polls made anonymous": polls}


DATA = MemberData(
    feature="polls",
    personal=("polls", "poll_votes"),
    other=("poll_options",),
    collect=collect,
    forget=forget,
    purge=purge,
)
