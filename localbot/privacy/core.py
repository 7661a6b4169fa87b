"""The core tables' share of member data: the member, memberships, conversations, messages.

The outbox keeps what a message said only until it is finished (sent, or given up on; on WhatsApp
until its delivery report, at most ten hours): then its payload is cleared and any file published
for it at a signed link deleted, so what a member did or where they were does not stay behind in
it (:mod:`localbot.delivered`). Forgetting deletes the member row last; memberships, conversations
and queued messages follow it through ``ON DELETE CASCADE``, and what is keyed by the member's chat
(the outbox with the files published for it, remembered message ids, numbered menus) is deleted
here. Copies of messages that named the member (a result listing voters, say) still waiting for a
delivery report are deleted as well. Pending messages to other people that name the member still
go out, and are cleared once sent.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from localbot import delivered, scheduler
from localbot.clock import to_second
from localbot.privacy.model import Expiry, MemberData, Subject
from localbot.replies import from_json, text_of
from localbot.storage.db import one, rows

#: Shorter names would match too many unrelated texts when looking for delivered copies naming a member.
MIN_NAME_MATCH = 3
FINISHED = ("sent", "failed", "skipped")


def _marks(values: tuple[str, ...]) -> str:
    return ",".join("?" for _ in values)


def collect(db: sqlite_utils.Database, subject: Subject) -> dict[str, Any]:
    member_id, chats = subject.member.id, subject.chats
    row = one(db, "SELECT * FROM members WHERE id = ?", [member_id]) or {}
    memberships = rows(
        db,
        """SELECT c.name AS community, ms.role, ms.joined_at, ms.left_at, ms.is_current
           FROM memberships ms JOIN communities c ON c.id = ms.community_id WHERE ms.member_id = ? ORDER BY ms.joined_at""",
        [member_id],
    )
    conversations = rows(db, "SELECT * FROM conversations WHERE member_id = ? ORDER BY id", [member_id])
    messages = rows(
        db,
        f"""SELECT * FROM outbox WHERE member_id = ? OR chat_ref IN ({_marks(chats)}) ORDER BY id""",
        [member_id, *chats],
    )
    refs = rows(db, f"SELECT * FROM message_refs WHERE chat_ref IN ({_marks(chats)})", list(chats))
    menus = rows(db, f"SELECT * FROM menus WHERE chat_ref IN ({_marks(chats)})", list(chats))
    return {
        "member": {
            "reference": row.get("ref"),
            "messenger": row.get("messenger"),
            "name": row.get("name"),
            "username": row.get("username"),
            "language_chosen": row.get("language"),
            "language_of_messenger": row.get("messenger_language"),
            "private_chat": row.get("private_chat_ref"),
            "first_seen": to_second(row.get("created_at")),
            "last_seen": to_second(row.get("last_seen_at")),
            "last_message": to_second(row.get("last_inbound_at")),
        },
        "communities": [
            {
                "community": m["community"],
                "role": m["role"],
                "joined": to_second(m["joined_at"]),
                "left": to_second(m["left_at"]),
                "current": bool(m["is_current"]),
            }
            for m in memberships
        ],
        "conversations_in_progress": [
            {"flow": c["flow"], "step": c["step"], "answers_so_far": json.loads(c["data"]), "chat": c["chat_ref"], "started": to_second(c["started_at"])}
            for c in conversations
        ],
        "messages_to_you": [
            {
                "chat": m["chat_ref"],
                "purpose": m["purpose"],
                "state": m["state"],
                "delivery": m["delivery_status"],
                "queued": to_second(m["created_at"]),
                "sent": to_second(m["sent_at"]),
                "text": _text(m["payload"]),
            }
            for m in messages
        ],
        "message_ids_remembered": [{"chat": r["chat_ref"], "key": r["key"]} for r in refs],
        "last_numbered_choices": [{"chat": m["chat_ref"], "choices": m["options"].split("\x1f")} for m in menus],
    }


def _text(payload: str) -> str:
    try:
        return text_of(from_json(payload))
    except (ValueError, KeyError, TypeError):
        return ""


def forget(db: sqlite_utils.Database, subject: Subject) -> None:
    member, chats = subject.member, subject.chats
    mine = f"member_id = ? OR chat_ref IN ({_marks(chats)})"
    delivered.clear(db, subject.outbound, mine, [member.id, *chats])  # the files published for them
    db.execute(f"DELETE FROM outbox WHERE {mine}", [member.id, *chats])
    names = [member.ref, *(n for n in (member.username, member.name) if n and len(n) >= MIN_NAME_MATCH)]
    for name in dict.fromkeys(names):
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        db.execute(
            f"DELETE FROM outbox WHERE state IN ({_marks(FINISHED)}) AND payload LIKE ? ESCAPE '\\'",
            [*FINISHED, f"%{escaped}%"],
        )
    db.execute(f"DELETE FROM message_refs WHERE chat_ref IN ({_marks(chats)})", list(chats))
    db.execute(f"DELETE FROM menus WHERE chat_ref IN ({_marks(chats)})", list(chats))
    db.execute("DELETE FROM members WHERE id = ?", [member.id])  # memberships, conversations follow


def purge(db: sqlite_utils.Database, expiry: Expiry) -> dict[str, int]:
    cutoff = expiry.cutoff
    old = f"state IN ({_marks(FINISHED)}) AND created_at < ?"
    cleared = delivered.clear_finished(db, expiry.outbound, expiry.now) + delivered.clear(db, expiry.outbound, old, [*FINISHED, cutoff])
    return {
        "texts of finished messages cleared": cleared,
        "expired media files deleted": delivered.prune(expiry.outbound) if expiry.outbound is not None else 0,
        "delivered messages deleted": db.execute(f"DELETE FROM outbox WHERE {old}", [*FINISHED, cutoff]).rowcount,
        "abandoned conversations deleted": db.execute("DELETE FROM conversations WHERE updated_at < ?", [cutoff]).rowcount,
        "finished jobs deleted": db.execute(
            """DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled') AND COALESCE(finished_at, due_at) < ?
               AND COALESCE(dedupe_key, '') NOT LIKE ?""",
            [cutoff, scheduler.RECURRING + "%"],
        ).rowcount,
        "message ids deleted": db.execute("DELETE FROM message_refs WHERE updated_at < ?", [cutoff]).rowcount
        + db.execute("DELETE FROM menus WHERE created_at < ?", [cutoff]).rowcount,
        "event ids deleted": db.execute("DELETE FROM inbound_events WHERE received_at < ?", [cutoff]).rowcount,
    }


DATA = MemberData(
    feature="core",
    personal=("members", "memberships", "conversations", "outbox", "message_refs", "menus"),
    other=("communities", "channels", "jobs", "inbound_events"),
    collect=collect,
    forget=forget,
    purge=purge,
)
