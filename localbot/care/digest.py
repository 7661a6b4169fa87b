"""The organisers' weekly digest: who was active, who is new, how many answered and how fast.

A community's week runs from Monday 09:00 to Monday 09:00 in its own time zone, and its digest is
due at the end of the week. The figures come from what the bot stores anyway:

- *active*: members who sent the bot anything during the week (their last message falls in it);
  *returning* are the active ones who were members before the week began; *new* joined during it;
- *answer rate* of a poll: its voters out of the community's members;
- *median time to answer*: from a poll's start to each voter's first vote in it, over the week's
  votes (anonymous votes are kept to the hour, so theirs is rounded down, never below zero).

Features with their own studies (surveys, tastings) add lines through the handler's digest sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from localbot.clock import from_iso, iso
from localbot.community.model import Community
from localbot.storage.db import one, rows

WEEK = timedelta(days=7)
DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR = 9
#: When the weekly planning runs: Sunday 12:00 UTC comes before Monday 09:00 in every time zone.
PLAN_WEEKDAY, PLAN_HOUR = 6, 12
NAMES_SHOWN = 10


def digest_due_after(tz: ZoneInfo, moment: datetime) -> datetime:
    """The first Monday 09:00 in ``tz`` strictly after ``moment`` (in UTC)."""
    local = moment.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday() - DIGEST_WEEKDAY)
    due = datetime.combine(monday, time(DIGEST_HOUR), tzinfo=tz)
    while due <= local:
        monday += timedelta(days=7)
        due = datetime.combine(monday, time(DIGEST_HOUR), tzinfo=tz)
    return due.astimezone(UTC)


def plan_due_after(moment: datetime) -> datetime:
    """The next weekly planning run (Sunday 12:00 UTC) strictly after ``moment``."""
    moment = moment.astimezone(UTC)
    day = moment.date() + timedelta(days=(PLAN_WEEKDAY - moment.weekday()) % 7)
    due = datetime.combine(day, time(PLAN_HOUR), tzinfo=UTC)
    return due if due > moment else due + WEEK


@dataclass(frozen=True, slots=True)
class PollLine:
    number: int
    question: str
    is_open: bool
    voters: int
    closes_at: datetime | None


@dataclass(frozen=True, slots=True)
class Digest:
    community: Community
    start: datetime
    end: datetime
    members: int
    new_members: tuple[str, ...]
    left: int
    active: int
    returning: int
    #: Polls that were open at some time during the week.
    polls: tuple[PollLine, ...]
    votes: int
    median_answer: timedelta | None

    @property
    def quiet(self) -> bool:
        """Nothing happened and nothing is open: no digest is worth sending."""
        return not (self.active or self.new_members or self.left or self.polls)

    def answer_rate(self, poll: PollLine) -> float:
        return poll.voters / self.members if self.members else 0.0


def weekly(db: sqlite_utils.Database, community: Community, start: datetime, end: datetime) -> Digest:
    cid, since, until = community.id, iso(start), iso(end)
    count = one(
        db,
        """SELECT COUNT(*) AS members,
                  COALESCE(SUM(m.last_seen_at >= :since AND m.last_seen_at < :until), 0) AS active,
                  COALESCE(SUM(m.last_seen_at >= :since AND m.last_seen_at < :until AND ms.joined_at < :since), 0) AS came_back
           FROM memberships ms JOIN members m ON m.id = ms.member_id
           WHERE ms.community_id = :cid AND ms.left_at IS NULL AND ms.joined_at < :until""",
        {"cid": cid, "since": since, "until": until},
    ) or {}
    new = rows(
        db,
        """SELECT m.name, m.username, m.ref FROM memberships ms JOIN members m ON m.id = ms.member_id
           WHERE ms.community_id = ? AND ms.joined_at >= ? AND ms.joined_at < ? ORDER BY ms.joined_at""",
        [cid, since, until],
    )
    left = one(db, "SELECT COUNT(*) AS n FROM memberships WHERE community_id = ? AND left_at >= ? AND left_at < ?", [cid, since, until])
    polls = rows(
        db,
        """SELECT p.number, p.question, p.status, p.closes_at,
                  (SELECT COUNT(DISTINCT v.voter_key) FROM poll_votes v WHERE v.poll_id = p.id) AS voters
           FROM polls p WHERE p.community_id = ? AND p.created_at < ? AND (p.status = 'open' OR p.closed_at >= ?)
           ORDER BY p.number""",
        [cid, until, since],
    )
    votes = one(
        db,
        """SELECT COUNT(*) AS n FROM poll_votes v JOIN polls p ON p.id = v.poll_id
           WHERE p.community_id = ? AND v.created_at >= ? AND v.created_at < ?""",
        [cid, since, until],
    )
    return Digest(
        community=community,
        start=start,
        end=end,
        members=int(count.get("members") or 0),
        new_members=tuple(r["name"] or r["username"] or r["ref"].partition(":")[2] for r in new),
        left=int(left["n"]) if left else 0,
        active=int(count.get("active") or 0),
        returning=int(count.get("came_back") or 0),
        polls=tuple(
            PollLine(p["number"], p["question"], p["status"] == "open", int(p["voters"]), from_iso(p["closes_at"]) if p["closes_at"] else None)
            for p in polls
        ),
        votes=int(votes["n"]) if votes else 0,
        median_answer=_median_answer(db, cid, since, until),
    )


def _median_answer(db: sqlite_utils.Database, community_id: int, since: str, until: str) -> timedelta | None:
    answers = """
        WITH answers AS (
            SELECT MAX(0, (julianday(MIN(v.created_at)) - julianday(p.created_at)) * 86400.0) AS seconds
            FROM poll_votes v JOIN polls p ON p.id = v.poll_id
            WHERE p.community_id = ? AND v.created_at >= ? AND v.created_at < ?
            GROUP BY v.poll_id, v.voter_key)"""
    params = [community_id, since, until]
    total = one(db, answers + " SELECT COUNT(*) AS n FROM answers", params)
    n = int(total["n"]) if total else 0
    if not n:
        return None
    middle = rows(db, answers + " SELECT seconds FROM answers ORDER BY seconds LIMIT ? OFFSET ?", [*params, 2 - n % 2, (n - 1) // 2])
    seconds = sum(r["seconds"] for r in middle) / len(middle)
    return timedelta(seconds=round(seconds))


# --- who wants it ------------------------------------------------------------------------------


def set_choice(db: sqlite_utils.Database, community_id: int, member_id: int, wanted: bool, *, now: datetime) -> None:
    db.execute(
        """INSERT INTO digest_choices (community_id, member_id, wanted, changed_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (community_id, member_id) DO UPDATE SET wanted = excluded.wanted, changed_at = excluded.changed_at""",
        [community_id, member_id, int(wanted), iso(now)],
    )


def choices(db: sqlite_utils.Database, community_id: int) -> dict[int, bool]:
    """Members who said they do (True) or do not (False) want this community's digest."""
    found = rows(db, "SELECT member_id, wanted FROM digest_choices WHERE community_id = ?", [community_id])
    return {r["member_id"]: bool(r["wanted"]) for r in found}
