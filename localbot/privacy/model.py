"""How a feature declares what it keeps about members (see :mod:`localbot.privacy.registry`).

A feature writes one :class:`MemberData`:

- ``personal`` names every table of the feature that holds something about a member (a column that
  references ``members``, or a member's chat); ``other`` names the feature's remaining tables. A
  test fails when a table in the schema is claimed by no feature, or when a table that references
  ``members`` is not declared personal.
- ``collect(db, subject)`` returns everything the feature holds about ``subject.member`` as plain
  JSON values; ``/mydata`` sends the whole as one file.
- ``forget(db, subject)`` removes the member's identity and personal answers but keeps anonymous
  aggregates: counts and results must not change. It runs before the core deletes the member row,
  so the member's id still finds their rows.
- ``purge(db, expiry)`` applies retention: anonymise or delete what is older than ``expiry.before``.
  Returns what it did, as counts by name, for the command's report.

Answers whose rows must point at a member (``member_id NOT NULL``) are kept for the aggregates by
moving them to a *stand-in* (:func:`stand_in`): a member row with no name, no messenger account and
no membership, which nothing can link to the person who gave them.

Everything runs inside the caller's transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from localbot.clock import iso
from localbot.community.model import Member

#: The messenger of stand-in members; no adapter has it, so nothing is ever sent to one.
STAND_IN = "forgotten"


@dataclass(frozen=True, slots=True)
class Subject:
    """The member a request is about, and what a feature needs to find their data."""

    member: Member
    #: The instance secret: it keys anonymous votes, so it finds (and can unlink) a member's own.
    secret: bytes
    now: datetime
    #: The folder of the database, against which features resolve files they stored (photos).
    base: Path | None = None
    #: Where files published at signed links for outgoing messages live (``<media dir>/outbound``).
    outbound: Path | None = None
    _stand_in: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def chats(self) -> tuple[str, ...]:
        """The member's own chats with the bot (in every messenger, the member's reference)."""
        return tuple(dict.fromkeys(ref for ref in (self.member.ref, self.member.private_chat_ref) if ref))


@dataclass(frozen=True, slots=True)
class Expiry:
    """A retention run: data older than ``before`` is anonymised or deleted."""

    before: datetime
    secret: bytes
    now: datetime
    base: Path | None = None
    outbound: Path | None = None

    @property
    def cutoff(self) -> str:
        """``before`` as stored text, for comparisons in SQL."""
        return iso(self.before)


def new_stand_in(db: sqlite_utils.Database, now: datetime) -> int:
    """A member row that holds no identity, to keep anonymous answers together (see module doc)."""
    cursor = db.execute(
        "INSERT INTO members (ref, messenger, name, created_at) VALUES (?, ?, '', ?)",
        [f"{STAND_IN}:{secrets.token_hex(8)}", STAND_IN, iso(now)],
    )
    return int(cursor.lastrowid or 0)


def stand_in(db: sqlite_utils.Database, subject: Subject) -> int:
    """The one stand-in for ``subject``'s answers across features, created on first use."""
    if "id" not in subject._stand_in:
        subject._stand_in["id"] = new_stand_in(db, subject.now)
    return subject._stand_in["id"]


def stored_file(base: Path | None, name: str) -> Path | None:
    """A file a feature stored, by the name it recorded (relative to the database's folder)."""
    path = Path(name)
    if not path.is_absolute():
        if base is None:
            return None
        path = base / path
    return path


@dataclass(frozen=True)
class MemberData:
    feature: str
    personal: tuple[str, ...]
    collect: Callable[[sqlite_utils.Database, Subject], dict[str, Any]]
    forget: Callable[[sqlite_utils.Database, Subject], None]
    purge: Callable[[sqlite_utils.Database, Expiry], dict[str, int]]
    other: tuple[str, ...] = ()
