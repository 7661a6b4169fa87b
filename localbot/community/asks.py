"""The ask budget: no member is asked more than the community's weekly budget.

An *ask* is a request for a member's time that they did not sign up for: a new poll, a survey or
diary invitation. What a member signed up for (the prompts of a diary they joined, a reminder of a
tasting they booked) is not an ask, so a diary a member joined costs them exactly one ask, its
invitation. Asks are counted per community over a rolling seven days, because what tires a group
is a burst, whatever the calendar week.

Features use it in two steps, inside the same transaction as the thing they start:

1. :func:`check` the members a start would reach. ``over`` lists whoever would exceed the budget
   and ``fits_at`` says when the start would fit for all of them, so an organiser can be told;
   a message to each member one to one can simply leave out the members in ``over``.
2. :func:`record` the asks actually made (idempotent per member and ``ref``).

The budget is ``ask_budget`` in the community's settings, else :data:`DEFAULT_WEEKLY_BUDGET`.
Messenger-neutral: no handlers, no adapters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils
from sqlite_utils import Migrations

from localbot.clock import from_iso, iso
from localbot.community.model import Community
from localbot.storage.db import rows, run_script

DEFAULT_WEEKLY_BUDGET = 3
WINDOW = timedelta(days=7)

migrations = Migrations("localbot.asks")


@migrations()
def m001_asks(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE asks (
            id INTEGER PRIMARY KEY,
            community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
            member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            -- what asked: poll, survey, diary, …
            kind TEXT NOT NULL,
            -- which one, e.g. survey:12; a member is asked about one thing once
            ref TEXT NOT NULL,
            asked_at TEXT NOT NULL,
            UNIQUE (community_id, member_id, ref)
        );
        CREATE INDEX asks_member ON asks(community_id, member_id, asked_at);
        """,
    )


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    budget: int
    #: Members who would be asked more than the budget allows, in the order they were given.
    over: tuple[int, ...]
    #: When the start would fit every member (None when it fits now, or never: a budget below one start).
    fits_at: datetime | None

    @property
    def fits(self) -> bool:
        return not self.over


def weekly_budget(community: Community) -> int:
    value = community.settings.get("ask_budget")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return DEFAULT_WEEKLY_BUDGET


def _recent(db: sqlite_utils.Database, community_id: int, member_ids: Sequence[int], now: datetime) -> dict[int, list[datetime]]:
    """Each member's asks of the last seven days, oldest first."""
    found: dict[int, list[datetime]] = {member_id: [] for member_id in member_ids}
    for start in range(0, len(member_ids), 500):
        chunk = list(member_ids[start:start + 500])
        marks = ",".join("?" for _ in chunk)
        for row in rows(
            db,
            f"""SELECT member_id, asked_at FROM asks WHERE community_id = ? AND asked_at > ?
                AND member_id IN ({marks}) ORDER BY asked_at""",
            [community_id, iso(now - WINDOW), *chunk],
        ):
            found[row["member_id"]].append(from_iso(row["asked_at"]))
    return found


def asked(db: sqlite_utils.Database, community_id: int, member_id: int, now: datetime) -> int:
    """How often the member was asked in the seven days before ``now``."""
    return len(_recent(db, community_id, [member_id], now)[member_id])


def check(db: sqlite_utils.Database, community: Community, member_ids: Iterable[int], now: datetime, *, asks: int = 1) -> BudgetCheck:
    """Whether asking each of ``member_ids`` ``asks`` more time(s) stays within the budget."""
    budget = weekly_budget(community)
    members = list(dict.fromkeys(member_ids))
    recent = _recent(db, community.id, members, now)
    over: list[int] = []
    fits_at: datetime | None = None
    for member_id in members:
        times = recent[member_id]
        excess = len(times) + asks - budget
        if excess <= 0:
            continue
        over.append(member_id)
        if asks <= budget:  # it fits once the member's ``excess`` oldest asks have left the window
            moment = times[excess - 1] + WINDOW
            fits_at = moment if fits_at is None else max(fits_at, moment)
    return BudgetCheck(budget, tuple(over), fits_at)


def record(db: sqlite_utils.Database, community_id: int, member_ids: Iterable[int], *, kind: str, ref: str, now: datetime) -> int:
    """Count an ask of each member about ``ref``; returns how many were new."""
    added = 0
    for member_id in dict.fromkeys(member_ids):
        cursor = db.execute(
            "INSERT INTO asks (community_id, member_id, kind, ref, asked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [community_id, member_id, kind, ref, iso(now)],
        )
        added += cursor.rowcount
    return added
