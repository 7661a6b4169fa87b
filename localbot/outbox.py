"""Messages waiting to be delivered to chats other than the one an event came from.

A handler that announces a poll to the community, or a job that sends a reminder, writes rows here
in the same transaction as its other effects; a delivery loop hands them to the adapters later, with
retries and back-off. So a crash can delay a message but not lose it, and a message is queued once
however often the event that caused it is re-delivered.

Two refinements keep us inside the messengers' flood limits without the handlers having to care:
*coalescing* (a newer pending message with the same ``coalesce_key`` replaces the older one, so a
burst of votes becomes one edit of the poll message) and a *minimum interval* per coalesce key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from localbot.clock import from_iso, iso
from localbot.refs import messenger_of
from localbot.replies import Reply, from_json, to_json
from localbot.storage.db import one, rows

MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    chat_ref: str
    messenger: str
    reply: Reply
    purpose: str
    attempts: int
    member_id: int | None
    community_id: int | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Outgoing:
        return cls(
            id=row["id"],
            chat_ref=row["chat_ref"],
            messenger=row["messenger"],
            reply=from_json(row["payload"]),
            purpose=row["purpose"],
            attempts=row["attempts"],
            member_id=row["member_id"],
            community_id=row["community_id"],
            created_at=from_iso(row["created_at"]),
        )


def enqueue(
    db: sqlite_utils.Database,
    *,
    chat_ref: str,
    reply: Reply,
    now: datetime,
    member_id: int | None = None,
    community_id: int | None = None,
    purpose: str = "message",
    coalesce_key: str | None = None,
    min_interval: timedelta | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Queue ``reply`` for ``chat_ref``; returns the row id (None if ``dedupe_key`` was already queued)."""
    payload = to_json(reply)
    due = max(now, not_before) if not_before else now
    if coalesce_key is not None:
        pending = one(
            db, "SELECT id, payload FROM outbox WHERE coalesce_key = ? AND state = 'pending' ORDER BY id DESC LIMIT 1", [coalesce_key]
        )
        if pending:
            # A burst of votes lands here for every vote, mostly with the same payload (a live edit
            # is rendered when delivered): rewriting the row would only add a page to each commit.
            if pending["payload"] != payload:
                db.execute("UPDATE outbox SET payload = ? WHERE id = ?", [payload, pending["id"]])
            return int(pending["id"])
        if min_interval:
            # A message being sent right now counts as sent now (not when it was queued, which
            # may be long ago for a coalesced edit): the next one waits the full interval.
            last = one(
                db,
                """SELECT MAX(CASE state WHEN 'sending' THEN :now ELSE COALESCE(sent_at, created_at) END) AS at
                   FROM outbox WHERE coalesce_key = :key AND state IN ('sent', 'sending')""",
                {"now": iso(now), "key": coalesce_key},
            )
            if last and last["at"]:
                due = max(due, from_iso(last["at"]) + min_interval)
    cursor = db.execute(
        """INSERT INTO outbox (chat_ref, messenger, member_id, community_id, purpose, payload,
                               next_attempt_at, coalesce_key, dedupe_key, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (dedupe_key) DO NOTHING""",
        [chat_ref, messenger_of(chat_ref), member_id, community_id, purpose, payload, iso(due), coalesce_key, dedupe_key, iso(now)],
    )
    return int(cursor.lastrowid or 0) if cursor.rowcount else None


def claim(db: sqlite_utils.Database, now: datetime, messengers: list[str], limit: int = 200) -> list[Outgoing]:
    """Mark due messages for the given messengers as being sent, oldest first."""
    if not messengers:
        return []
    marks = ",".join("?" for _ in messengers)
    claimed = rows(
        db,
        f"""UPDATE outbox SET state = 'sending', attempts = attempts + 1
            WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?
                         AND messenger IN ({marks}) ORDER BY next_attempt_at, id LIMIT ?)
            RETURNING *""",
        [iso(now), *messengers, limit],
    )
    return sorted((Outgoing.from_row(r) for r in claimed), key=lambda o: o.id)


def mark_sent(db: sqlite_utils.Database, outgoing_id: int, now: datetime, platform_id: str | None, *, template: bool = False) -> None:
    db.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?, platform_id = ?, last_error = NULL, template = ? WHERE id = ?",
        [iso(now), platform_id, int(template), outgoing_id],
    )


def seen(db: sqlite_utils.Database, outgoing_id: int) -> bool | None:
    """Whether the member saw a queued message itself: True once it was sent as it is; False when it
    was skipped, failed, or went out as an approved template in its stead; None while it waits.
    A row waiting to be retried whose MessageSid a status callback brought has gone out."""
    row = one(db, "SELECT state, template, platform_id FROM outbox WHERE id = ?", [outgoing_id])
    if row is None:
        return None
    if row["state"] in ("pending", "sending"):
        return None if row["platform_id"] is None else not row["template"]
    return row["state"] == "sent" and not row["template"]


def mark_retry(db: sqlite_utils.Database, item: Outgoing, now: datetime, after: timedelta, error: str) -> bool:
    """Back off and try again later; gives up after :data:`MAX_ATTEMPTS`. Returns True if it will retry."""
    if item.attempts >= MAX_ATTEMPTS:
        mark_failed(db, item.id, error)
        return False
    db.execute(
        "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?",
        [iso(now + after), error[:2000], item.id],
    )
    return True


def mark_failed(db: sqlite_utils.Database, outgoing_id: int, error: str, *, skipped: bool = False) -> None:
    db.execute(
        "UPDATE outbox SET state = ?, last_error = ? WHERE id = ?",
        ["skipped" if skipped else "failed", error[:2000], outgoing_id],
    )


def give_up(db: sqlite_utils.Database, chat_ref: str, reason: str) -> int:
    """Messages still waiting for ``chat_ref`` will not be sent (the bot was removed from that
    group): they are kept, marked skipped with ``reason``. Returns how many. A message being sent
    at this moment is left to its own outcome."""
    return db.execute(
        "UPDATE outbox SET state = 'skipped', last_error = ? WHERE chat_ref = ? AND state = 'pending'", [reason[:2000], chat_ref]
    ).rowcount


def recover(db: sqlite_utils.Database) -> int:
    """After a crash, messages caught mid-send go back to the queue."""
    return db.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sending'").rowcount


def next_attempt(db: sqlite_utils.Database, messengers: list[str]) -> datetime | None:
    if not messengers:
        return None
    marks = ",".join("?" for _ in messengers)
    row = one(
        db,
        f"SELECT MIN(next_attempt_at) AS at FROM outbox WHERE state = 'pending' AND messenger IN ({marks})",
        messengers,
    )
    return from_iso(row["at"]) if row and row["at"] else None


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … capped at 5 minutes."""
    return timedelta(seconds=min(300, 2 ** max(attempts - 1, 0)))
