"""Polls in SQLite: create, vote, close, count, export.

Anonymous polls store each vote under a *voter key*: an HMAC of the poll and the member, keyed with
the instance secret that lives outside the database. The bot can still recognise a member's own
vote (to change it, or to stop a second one), but the database, its exports and the dashboard
cannot tell who voted what. Nothing else about an anonymous vote narrows the voter down: its
messenger is not kept (a lone WhatsApp voter in a Telegram group would be known by it), its time
only to the hour, and its row id is drawn at random, so neither the table nor the export lists
the votes in the order they were cast (which anyone who saw the chat could match to people).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlite_utils

from localbot.clock import from_iso, iso, to_second
from localbot.polls.model import Poll, PollOption, PollSpec, Tally, VoteResult
from localbot.storage.db import export_filter, one, rows, stream

NAMES_SHOWN = 10
#: Anonymous votes take a random row id below this (2⁵³: exact in JSON and JavaScript too); other
#: rows then continue after the largest, far from SQLite's 2⁶³.
ANONYMOUS_IDS = 2**53


def voter_key(secret: bytes, poll: Poll, member_id: int) -> str:
    if not poll.anonymous:
        return f"m:{member_id}"
    digest = hmac.new(secret, f"poll:{poll.id}:member:{member_id}".encode(), hashlib.sha256).hexdigest()
    return f"a:{digest[:32]}"


def _stamp(poll: Poll, now: datetime) -> str:
    """Vote time; to the hour for anonymous polls, so a vote cannot be matched to a chat message."""
    if poll.anonymous:
        now = now.replace(minute=0, second=0, microsecond=0)
    return iso(now)


def _poll(db: sqlite_utils.Database, row: dict[str, Any] | None) -> Poll | None:
    if row is None:
        return None
    options = tuple(
        PollOption(r["id"], r["position"], r["label"])
        for r in rows(db, "SELECT id, position, label FROM poll_options WHERE poll_id = ? ORDER BY position", [row["id"]])
    )
    return Poll(
        id=row["id"],
        community_id=row["community_id"],
        number=row["number"],
        question=row["question"],
        multi=bool(row["multi"]),
        anonymous=bool(row["anonymous"]),
        status=row["status"],
        closes_at=from_iso(row["closes_at"]) if row["closes_at"] else None,
        created_by=row["created_by"],
        created_at=from_iso(row["created_at"]),
        closed_at=from_iso(row["closed_at"]) if row["closed_at"] else None,
        options=options,
    )


def create_poll(
    db: sqlite_utils.Database,
    *,
    community_id: int,
    spec: PollSpec,
    created_by: int | None,
    origin_chat_ref: str | None,
    now: datetime,
) -> Poll:
    number_row = one(db, "SELECT COALESCE(MAX(number), 0) + 1 AS n FROM polls WHERE community_id = ?", [community_id])
    assert number_row is not None
    cursor = db.execute(
        """INSERT INTO polls (community_id, number, question, multi, anonymous, closes_at, created_by,
                              created_at, origin_chat_ref)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            community_id,
            number_row["n"],
            spec.question,
            int(spec.multi),
            int(spec.anonymous),
            iso(spec.closes_at) if spec.closes_at else None,
            created_by,
            iso(now),
            origin_chat_ref,
        ],
    )
    poll_id = int(cursor.lastrowid or 0)
    db.conn.executemany(
        "INSERT INTO poll_options (poll_id, position, label) VALUES (?, ?, ?)",
        [(poll_id, position, label) for position, label in enumerate(spec.options, start=1)],
    )
    poll = get_poll(db, poll_id)
    assert poll is not None
    return poll


def get_poll(db: sqlite_utils.Database, poll_id: int) -> Poll | None:
    return _poll(db, one(db, "SELECT * FROM polls WHERE id = ?", [poll_id]))


def poll_by_number(db: sqlite_utils.Database, community_id: int, number: int) -> Poll | None:
    return _poll(db, one(db, "SELECT * FROM polls WHERE community_id = ? AND number = ?", [community_id, number]))


def latest_poll(db: sqlite_utils.Database, community_id: int, *, open_only: bool = False) -> Poll | None:
    where = " AND status = 'open'" if open_only else ""
    return _poll(
        db, one(db, f"SELECT * FROM polls WHERE community_id = ?{where} ORDER BY number DESC LIMIT 1", [community_id])
    )


def polls_of(db: sqlite_utils.Database, community_id: int, *, limit: int = 50) -> list[Poll]:
    """The community's latest polls, newest first."""
    found = rows(db, "SELECT * FROM polls WHERE community_id = ? ORDER BY number DESC LIMIT ?", [community_id, limit])
    return [p for p in (_poll(db, r) for r in found) if p is not None]


def open_polls(db: sqlite_utils.Database, community_id: int) -> list[Poll]:
    found = rows(db, "SELECT * FROM polls WHERE community_id = ? AND status = 'open' ORDER BY number", [community_id])
    return [p for p in (_poll(db, r) for r in found) if p is not None]


def cast_vote(
    db: sqlite_utils.Database,
    poll: Poll,
    position: int,
    *,
    member_id: int,
    channel: str,
    secret: bytes,
    now: datetime,
) -> VoteResult:
    """Record a pick. Single choice: the pick replaces the member's earlier one. Multiple choice:
    picking an option again takes it back. The caller checks that the poll is open.

    This runs for every vote, so it issues as few statements as it can: one read of what the
    member holds, then one or two writes.
    """
    option = poll.option_at(position)
    if option is None:
        raise LookupError(position)
    key = voter_key(secret, poll, member_id)
    held = {r[0] for r in db.conn.execute("SELECT option_id FROM poll_votes WHERE poll_id = ? AND voter_key = ?", [poll.id, key])}
    insert = "INSERT INTO poll_votes (id, poll_id, option_id, member_id, voter_key, channel, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    if poll.anonymous:  # no member, no messenger, a random place in the table, the hour
        row = [secrets.randbelow(ANONYMOUS_IDS) + 1, poll.id, option.id, None, key, "", _stamp(poll, now)]
    else:
        row = [None, poll.id, option.id, member_id, key, channel, _stamp(poll, now)]
    if poll.multi:
        if option.id in held:
            db.conn.execute("DELETE FROM poll_votes WHERE poll_id = ? AND voter_key = ? AND option_id = ?", [poll.id, key, option.id])
            outcome, holding = "removed", held - {option.id}
        else:
            db.conn.execute(insert, row)
            outcome, holding = "added", held | {option.id}
    elif held == {option.id}:
        outcome, holding = "unchanged", held
    else:
        if held:
            db.conn.execute("DELETE FROM poll_votes WHERE poll_id = ? AND voter_key = ?", [poll.id, key])
        db.conn.execute(insert, row)
        outcome, holding = ("changed" if held else "added"), {option.id}
    return VoteResult(outcome, tuple(o.position for o in poll.options if o.id in holding))


def selection(db: sqlite_utils.Database, poll: Poll, member_id: int, secret: bytes) -> tuple[int, ...]:
    """The option positions the member currently holds."""
    found = rows(
        db,
        """SELECT o.position FROM poll_votes v JOIN poll_options o ON o.id = v.option_id
           WHERE v.poll_id = ? AND v.voter_key = ? ORDER BY o.position""",
        [poll.id, voter_key(secret, poll, member_id)],
    )
    return tuple(r["position"] for r in found)


def close_poll(db: sqlite_utils.Database, poll: Poll, *, closed_by: int | None, now: datetime) -> bool:
    """Close an open poll; False if it was already closed (two closers, or /close racing the deadline)."""
    cursor = db.execute(
        "UPDATE polls SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ? AND status = 'open'",
        [iso(now), closed_by, poll.id],
    )
    return cursor.rowcount > 0


def tally(db: sqlite_utils.Database, poll: Poll, *, with_names: bool = True) -> Tally:
    counts = {o.position: 0 for o in poll.options}
    for r in rows(
        db,
        """SELECT o.position, COUNT(*) AS n FROM poll_votes v JOIN poll_options o ON o.id = v.option_id
           WHERE v.poll_id = ? GROUP BY o.position""",
        [poll.id],
    ):
        counts[r["position"]] = r["n"]
    voters_row = one(db, "SELECT COUNT(DISTINCT voter_key) AS n FROM poll_votes WHERE poll_id = ?", [poll.id])
    names: dict[int, list[str]] = {}
    if with_names and not poll.anonymous:
        for r in rows(
            db,
            """SELECT o.position, m.name, m.username, m.ref FROM poll_votes v
               JOIN poll_options o ON o.id = v.option_id JOIN members m ON m.id = v.member_id
               WHERE v.poll_id = ? ORDER BY v.created_at, v.id""",
            [poll.id],
        ):
            names.setdefault(r["position"], []).append(r["name"] or r["username"] or r["ref"].partition(":")[2])
    return Tally(poll, counts, int(voters_row["n"]) if voters_row else 0, names)


EXPORT_COLUMNS = ("poll", "community", "question", "option", "voter", "channel", "time")


def export_rows(
    db: sqlite_utils.Database, *, community_id: int | None = None, since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """One row per vote in long format, streamed.

    Votes of an anonymous poll show only their option and their hour: voter and channel are empty,
    and they are listed by hour, then option, then voter key (a keyed hash: a fixed order that has
    nothing to do with who voted first). Other polls list their votes in the order they were cast.
    """
    where, params = export_filter("p.community_id", "v.created_at", community_id, since)
    sql = f"""
        SELECT p.number AS poll, c.name AS community, p.question, o.label AS option,
               CASE WHEN p.anonymous THEN '' ELSE COALESCE(m.ref, '') END AS voter,
               CASE WHEN p.anonymous THEN '' ELSE v.channel END AS channel, v.created_at AS time
        FROM poll_votes v
        JOIN polls p ON p.id = v.poll_id
        JOIN poll_options o ON o.id = v.option_id
        JOIN communities c ON c.id = p.community_id
        LEFT JOIN members m ON m.id = v.member_id
        WHERE {where}
        ORDER BY p.community_id, p.number,
                 CASE WHEN p.anonymous THEN v.created_at END, CASE WHEN p.anonymous THEN o.position END,
                 CASE WHEN p.anonymous THEN v.voter_key END, v.id"""
    for record in stream(db, sql, params):
        record["time"] = to_second(record["time"])
        yield record


def export_count(db: sqlite_utils.Database, *, community_id: int | None = None, since: datetime | None = None) -> int:
    """How many rows :func:`export_rows` will stream (for a progress bar)."""
    where, params = export_filter("p.community_id", "v.created_at", community_id, since)
    found = one(db, f"SELECT COUNT(*) AS n FROM poll_votes v JOIN polls p ON p.id = v.poll_id WHERE {where}", params)
    return int(found["n"]) if found else 0
