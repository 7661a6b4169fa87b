"""Tastings, products, sessions, participants and answers in SQLite; the long-format export.

Functions take the sqlite-utils ``Database`` and plain values; callers decide the transaction.
Sign-ups follow three rules kept here, whatever the interface: one place per member per tasting,
no more booked places than a session has, and a cancelled place goes to the first person on that
session's waiting list. A booked participant gets the least-used row of the Williams design
(:func:`localbot.tastings.design.next_row`), so the panel stays balanced as people come and go.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlite_utils

from localbot.clock import from_iso, iso, to_second
from localbot.storage.db import export_filter, one, rows, stream
from localbot.tastings.codes import blind_codes
from localbot.tastings.definition import parse
from localbot.tastings.design import Row, next_row, williams
from localbot.tastings.model import Definition, Mode, TastingError
from localbot.text import whole_number


@lru_cache(maxsize=32)
def definition_from_source(source: str, name: str) -> Definition:
    """The definition a tasting keeps, parsed once per process (it was checked when it started)."""
    return parse(source, filename=f"{name}.toml", name=name)[0]


def _when(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


@dataclass(frozen=True, slots=True)
class Tasting:
    id: int
    community_id: int
    number: int
    name: str
    title: str
    mode: Mode
    source: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    thanks_sent_at: datetime | None

    @property
    def definition(self) -> Definition:
        return definition_from_source(self.source, self.name)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Tasting:
        return cls(
            id=row["id"],
            community_id=row["community_id"],
            number=row["number"],
            name=row["name"],
            title=row["title"],
            mode=Mode(row["mode"]),
            source=row["source"],
            status=row["status"],
            created_at=from_iso(row["created_at"]),
            closed_at=_when(row["closed_at"]),
            thanks_sent_at=_when(row["thanks_sent_at"]),
        )


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    tasting_id: int
    position: int
    key: str
    name: str
    code: int


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    tasting_id: int
    number: int
    point_id: int
    starts_at: datetime
    ends_at: datetime
    taste_at: datetime | None
    places: int
    status: str

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Session:
        return cls(
            id=row["id"],
            tasting_id=row["tasting_id"],
            number=row["number"],
            point_id=row["point_id"],
            starts_at=from_iso(row["starts_at"]),
            ends_at=from_iso(row["ends_at"]),
            taste_at=_when(row["taste_at"]),
            places=row["places"],
            status=row["status"],
        )


@dataclass(frozen=True, slots=True)
class Participant:
    id: int
    tasting_id: int
    session_id: int
    member_id: int | None
    label: str
    source: str
    status: str
    design_row: int | None
    signed_up_at: datetime
    checked_in_at: datetime | None
    completed_at: datetime | None

    @property
    def booked(self) -> bool:
        return self.status == "booked"

    @property
    def waiting(self) -> bool:
        return self.status == "waiting"

    @property
    def checked_in(self) -> bool:
        return self.checked_in_at is not None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Participant:
        return cls(
            id=row["id"],
            tasting_id=row["tasting_id"],
            session_id=row["session_id"],
            member_id=row["member_id"],
            label=row["label"],
            source=row["source"],
            status=row["status"],
            design_row=row["design_row"],
            signed_up_at=from_iso(row["signed_up_at"]),
            checked_in_at=_when(row["checked_in_at"]),
            completed_at=_when(row["completed_at"]),
        )


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """A session of a definition, placed: its pickup point found in the community, its times in UTC."""

    point_id: int
    starts_at: datetime
    ends_at: datetime
    taste_at: datetime | None
    places: int


# --- tastings ------------------------------------------------------------------------------------


def create_tasting(
    db: sqlite_utils.Database,
    *,
    community_id: int,
    definition: Definition,
    source: str,
    sessions: list[PlannedSession],
    created_by: int | None,
    now: datetime,
    rng: random.Random | None = None,
) -> Tasting:
    """Store a tasting with its products (each with a fresh blind code) and sessions."""
    last = one(db, "SELECT COALESCE(MAX(number), 0) AS n FROM tastings WHERE community_id = ?", [community_id])
    number = (int(last["n"]) if last else 0) + 1
    cursor = db.execute(
        """INSERT INTO tastings (community_id, number, name, title, mode, source, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [community_id, number, definition.name, definition.title.pick(definition.languages[0]), definition.mode.value, source, created_by, iso(now)],
    )
    tasting_id = int(cursor.lastrowid or 0)
    codes = blind_codes(len(definition.products), rng)
    for position, (product, code) in enumerate(zip(definition.products, codes, strict=True)):
        db.execute(
            "INSERT INTO tasting_products (tasting_id, position, key, name, code) VALUES (?, ?, ?, ?, ?)",
            [tasting_id, position, product.key, product.name, code],
        )
    for index, planned in enumerate(sessions, start=1):
        db.execute(
            """INSERT INTO tasting_sessions (tasting_id, number, point_id, starts_at, ends_at, taste_at, places)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [tasting_id, index, planned.point_id, iso(planned.starts_at), iso(planned.ends_at),
             iso(planned.taste_at) if planned.taste_at else None, planned.places],
        )
    tasting = get_tasting(db, tasting_id)
    assert tasting is not None
    return tasting


def get_tasting(db: sqlite_utils.Database, tasting_id: int) -> Tasting | None:
    row = one(db, "SELECT * FROM tastings WHERE id = ?", [tasting_id])
    return Tasting.from_row(row) if row else None


def tastings(db: sqlite_utils.Database, community_id: int, *, open_only: bool = False) -> list[Tasting]:
    """A community's tastings, newest first."""
    sql = "SELECT * FROM tastings WHERE community_id = ?" + (" AND status = 'open'" if open_only else "") + " ORDER BY number DESC"
    return [Tasting.from_row(r) for r in rows(db, sql, [community_id])]


def find_tastings(db: sqlite_utils.Database, community_id: int | None, ref: str) -> list[Tasting]:
    """Tastings a number (``2``, ``#2``) or a name refers to, newest first."""
    text = ref.strip().lstrip("#").lower()
    number = whole_number(text)
    column = "number" if number is not None else "name"
    value: Any = number if number is not None else text
    sql = f"SELECT * FROM tastings WHERE {column} = ?"
    params: list[Any] = [value]
    if community_id is not None:
        sql += " AND community_id = ?"
        params.append(community_id)
    return [Tasting.from_row(r) for r in rows(db, sql + " ORDER BY created_at DESC, id DESC", params)]


def close_tasting(db: sqlite_utils.Database, tasting_id: int, now: datetime) -> bool:
    cursor = db.execute("UPDATE tastings SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'", [iso(now), tasting_id])
    return cursor.rowcount > 0


def record_thanks(db: sqlite_utils.Database, tasting_id: int, text: str, *, by: int, now: datetime) -> bool:
    """Keep the approved "what we learned" message; False if one was sent already."""
    cursor = db.execute(
        "UPDATE tastings SET thanks_text = ?, thanks_sent_at = ?, thanks_by = ? WHERE id = ? AND thanks_sent_at IS NULL",
        [text, iso(now), by, tasting_id],
    )
    return cursor.rowcount > 0


# --- products and sessions -----------------------------------------------------------------------


def products(db: sqlite_utils.Database, tasting_id: int) -> list[Product]:
    return [
        Product(r["id"], r["tasting_id"], r["position"], r["key"], r["name"], r["code"])
        for r in rows(db, "SELECT * FROM tasting_products WHERE tasting_id = ? ORDER BY position", [tasting_id])
    ]


def sessions(db: sqlite_utils.Database, tasting_id: int) -> list[Session]:
    return [Session.from_row(r) for r in rows(db, "SELECT * FROM tasting_sessions WHERE tasting_id = ? ORDER BY starts_at, number", [tasting_id])]


def get_session(db: sqlite_utils.Database, session_id: int) -> Session | None:
    row = one(db, "SELECT * FROM tasting_sessions WHERE id = ?", [session_id])
    return Session.from_row(row) if row else None


def session_by_number(db: sqlite_utils.Database, tasting_id: int, number: int) -> Session | None:
    row = one(db, "SELECT * FROM tasting_sessions WHERE tasting_id = ? AND number = ?", [tasting_id, number])
    return Session.from_row(row) if row else None


def booked_count(db: sqlite_utils.Database, session_id: int) -> int:
    row = one(db, "SELECT COUNT(*) AS n FROM tasting_participants WHERE session_id = ? AND status = 'booked' AND source = 'chat'", [session_id])
    return int(row["n"]) if row else 0


def places_left(db: sqlite_utils.Database, session: Session) -> int:
    return max(session.places - booked_count(db, session.id), 0)


def cancel_session(db: sqlite_utils.Database, session: Session, now: datetime) -> list[Participant]:
    """Cancel a session and every place in it (booked and waiting); returns those participants."""
    affected = participants(db, session.tasting_id, session_id=session.id, statuses=("booked", "waiting"))
    db.execute("UPDATE tasting_sessions SET status = 'cancelled', cancelled_at = ? WHERE id = ?", [iso(now), session.id])
    db.execute(
        "UPDATE tasting_participants SET status = 'cancelled', cancelled_at = ?, design_row = NULL WHERE session_id = ? AND status IN ('booked', 'waiting') AND source = 'chat'",
        [iso(now), session.id],
    )
    return [p for p in affected if p.source == "chat"]


# --- participants --------------------------------------------------------------------------------


def get_participant(db: sqlite_utils.Database, participant_id: int) -> Participant | None:
    row = one(db, "SELECT * FROM tasting_participants WHERE id = ?", [participant_id])
    return Participant.from_row(row) if row else None


def participant_of(db: sqlite_utils.Database, tasting_id: int, member_id: int) -> Participant | None:
    row = one(db, "SELECT * FROM tasting_participants WHERE tasting_id = ? AND member_id = ?", [tasting_id, member_id])
    return Participant.from_row(row) if row else None


def participant_by_label(db: sqlite_utils.Database, tasting_id: int, label: str) -> Participant | None:
    row = one(db, "SELECT * FROM tasting_participants WHERE tasting_id = ? AND label = ?", [tasting_id, label])
    return Participant.from_row(row) if row else None


def participants(
    db: sqlite_utils.Database, tasting_id: int, *, session_id: int | None = None, statuses: tuple[str, ...] | None = None
) -> list[Participant]:
    """Participants in sign-up order (the waiting list's order too)."""
    sql = "SELECT * FROM tasting_participants WHERE tasting_id = ?"
    params: list[Any] = [tasting_id]
    if session_id is not None:
        sql += " AND session_id = ?"
        params.append(session_id)
    if statuses:
        sql += f" AND status IN ({','.join('?' for _ in statuses)})"
        params += list(statuses)
    return [Participant.from_row(r) for r in rows(db, sql + " ORDER BY signed_up_at, id", params)]


def memberships(db: sqlite_utils.Database, member_id: int) -> list[tuple[Tasting, Participant]]:
    """The member's places (booked or waiting) in open tastings."""
    found = rows(
        db,
        """SELECT p.id AS participant_id FROM tasting_participants p JOIN tastings t ON t.id = p.tasting_id
           WHERE p.member_id = ? AND p.status IN ('booked', 'waiting') AND t.status = 'open' ORDER BY t.created_at""",
        [member_id],
    )
    out = []
    for row in found:
        participant = get_participant(db, row["participant_id"])
        tasting = get_tasting(db, participant.tasting_id) if participant else None
        if participant and tasting:
            out.append((tasting, participant))
    return out


def _label(db: sqlite_utils.Database, tasting_id: int) -> str:
    row = one(db, "SELECT COUNT(*) AS n FROM tasting_participants WHERE tasting_id = ? AND source = 'chat'", [tasting_id])
    number = (int(row["n"]) if row else 0) + 1
    while participant_by_label(db, tasting_id, f"P{number}") is not None:
        number += 1
    return f"P{number}"


def _free_row(db: sqlite_utils.Database, tasting_id: int) -> int:
    in_use = [r["design_row"] for r in rows(
        db, "SELECT design_row FROM tasting_participants WHERE tasting_id = ? AND status = 'booked' AND design_row IS NOT NULL", [tasting_id]
    )]
    count = one(db, "SELECT COUNT(*) AS n FROM tasting_products WHERE tasting_id = ?", [tasting_id])
    return next_row(in_use, len(williams(int(count["n"]) if count else 2)))


def sign_up(db: sqlite_utils.Database, tasting: Tasting, session: Session, member_id: int, *, now: datetime, waiting: bool) -> Participant:
    """Book a place (or, with ``waiting``, a place on the session's waiting list).

    Raises :class:`TastingError`: ``closed``, ``session_cancelled``, ``session_started``,
    ``already_booked`` / ``already_waiting`` (one place per member per tasting), ``full`` (booking
    a full session) or ``not_full`` (joining the waiting list of a session with places).
    """
    if not tasting.is_open:
        raise TastingError("closed", number=tasting.number)
    if session.cancelled:
        raise TastingError("session_cancelled", number=session.number)
    if session.starts_at <= now:
        raise TastingError("session_started", number=session.number)
    existing = participant_of(db, tasting.id, member_id)
    if existing is not None and existing.booked:
        raise TastingError("already_booked", session=existing.session_id)
    left = places_left(db, session)
    if existing is not None and existing.waiting and (waiting or left == 0):
        raise TastingError("already_waiting", session=existing.session_id)
    if not waiting and left == 0:
        raise TastingError("full", number=session.number)
    if waiting and left > 0:
        raise TastingError("not_full", number=session.number, left=left)
    status = "waiting" if waiting else "booked"
    design_row = None if waiting else _free_row(db, tasting.id)
    booked_at = None if waiting else iso(now)
    if existing is None:
        cursor = db.execute(
            """INSERT INTO tasting_participants (tasting_id, session_id, member_id, label, status, design_row, signed_up_at, booked_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [tasting.id, session.id, member_id, _label(db, tasting.id), status, design_row, iso(now), booked_at],
        )
        participant_id = int(cursor.lastrowid or 0)
    else:  # signing up again after a cancellation, or leaving a waiting list for a free place
        participant_id = existing.id
        db.execute(
            """UPDATE tasting_participants SET session_id = ?, status = ?, design_row = ?, signed_up_at = ?, booked_at = ?,
                      cancelled_at = NULL, checked_in_at = NULL, checked_in_by = NULL, checkin_method = NULL
               WHERE id = ?""",
            [session.id, status, design_row, iso(now), booked_at, participant_id],
        )
    participant = get_participant(db, participant_id)
    assert participant is not None
    return participant


def cancel(db: sqlite_utils.Database, participant: Participant, *, now: datetime) -> Participant | None:
    """Give up a place (or leave the waiting list); returns the participant promoted from the
    waiting list into the freed place, if any. Raises ``checked_in`` once the member is checked in."""
    if participant.checked_in:
        raise TastingError("checked_in")
    if participant.status == "cancelled":
        return None
    db.execute(
        "UPDATE tasting_participants SET status = 'cancelled', cancelled_at = ?, design_row = NULL WHERE id = ?",
        [iso(now), participant.id],
    )
    if not participant.booked:
        return None
    session = get_session(db, participant.session_id)
    if session is None or session.cancelled or places_left(db, session) == 0:
        return None
    waiting = participants(db, participant.tasting_id, session_id=session.id, statuses=("waiting",))
    if not waiting or session.starts_at <= now:
        return None
    first = waiting[0]
    db.execute(
        "UPDATE tasting_participants SET status = 'booked', design_row = ?, booked_at = ? WHERE id = ?",
        [_free_row(db, participant.tasting_id), iso(now), first.id],
    )
    return get_participant(db, first.id)


def check_in(db: sqlite_utils.Database, participant: Participant, *, by: int | None, method: str, now: datetime) -> bool:
    cursor = db.execute(
        "UPDATE tasting_participants SET checked_in_at = ?, checked_in_by = ?, checkin_method = ? WHERE id = ? AND checked_in_at IS NULL AND status = 'booked'",
        [iso(now), by, method, participant.id],
    )
    return cursor.rowcount > 0


def undo_check_in(db: sqlite_utils.Database, participant: Participant) -> bool:
    """Take back a check-in made by mistake; refused (False) once answers have come in."""
    if answers(db, participant.id):
        return False
    cursor = db.execute(
        "UPDATE tasting_participants SET checked_in_at = NULL, checked_in_by = NULL, checkin_method = NULL WHERE id = ?", [participant.id]
    )
    return cursor.rowcount > 0


def complete(db: sqlite_utils.Database, participant_id: int, now: datetime) -> None:
    db.execute("UPDATE tasting_participants SET completed_at = COALESCE(completed_at, ?) WHERE id = ?", [iso(now), participant_id])


def serving_order(tasting_products: list[Product], participant: Participant) -> list[Product]:
    """The products in the order this participant is served them (their row of the design)."""
    rows_ = williams(len(tasting_products))
    row: Row = rows_[(participant.design_row or 0) % len(rows_)]
    return [tasting_products[index] for index in row]


# --- answers -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    product_id: int
    position: int | None
    question: str
    value: str | None
    source: str


def save_answer(
    db: sqlite_utils.Database,
    participant_id: int,
    product_id: int,
    question: str,
    value: str | None,
    *,
    position: int | None,
    source: str,
    now: datetime,
) -> None:
    db.execute(
        """INSERT INTO tasting_answers (participant_id, product_id, position, question, value, source, answered_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (participant_id, product_id, question)
           DO UPDATE SET value = excluded.value, position = excluded.position, source = excluded.source, answered_at = excluded.answered_at""",
        [participant_id, product_id, position, question, value, source, iso(now)],
    )


def answers(db: sqlite_utils.Database, participant_id: int) -> dict[tuple[int, str], Answer]:
    return {
        (r["product_id"], r["question"]): Answer(r["product_id"], r["position"], r["question"], r["value"], r["source"])
        for r in rows(db, "SELECT * FROM tasting_answers WHERE participant_id = ?", [participant_id])
    }


def tasting_answers(db: sqlite_utils.Database, tasting_id: int) -> list[dict[str, Any]]:
    """Every answer of a tasting with its participant's label and session (for the report)."""
    return rows(
        db,
        """SELECT p.id AS participant_id, p.label, p.source AS participant_source, s.number AS session,
                  a.product_id, a.position, a.question, a.value
           FROM tasting_answers a JOIN tasting_participants p ON p.id = a.participant_id
           JOIN tasting_sessions s ON s.id = p.session_id
           WHERE p.tasting_id = ? ORDER BY p.id, a.position, a.id""",
        [tasting_id],
    )


def add_paper_participant(db: sqlite_utils.Database, tasting_id: int, session_id: int, label: str, now: datetime) -> Participant:
    cursor = db.execute(
        """INSERT INTO tasting_participants (tasting_id, session_id, member_id, label, source, status, signed_up_at, checked_in_at)
           VALUES (?, ?, NULL, ?, 'paper', 'booked', ?, ?)""",
        [tasting_id, session_id, label, iso(now), iso(now)],
    )
    participant = get_participant(db, int(cursor.lastrowid or 0))
    assert participant is not None
    return participant


# --- export --------------------------------------------------------------------------------------

#: The long format: the first seven columns are what ``localbot tasting import`` reads back.
EXPORT_COLUMNS = (
    "participant", "session", "product", "code", "position", "question", "value",
    "tasting", "tasting_name", "community", "source", "answered_at",
)
_NUMERIC = ("liking", "jar.", "cata.", "preference", "rank")


def _export_filter(community_id: int | None, since: datetime | None, tasting_id: int | None) -> tuple[str, list[Any]]:
    where, params = export_filter("t.community_id", "a.answered_at", community_id, since)
    if tasting_id is not None:
        where += " AND t.id = ?"
        params.append(tasting_id)
    return where, params


def export_rows(db: sqlite_utils.Database, *, community_id: int | None = None, since: datetime | None = None, tasting_id: int | None = None) -> Iterator[dict[str, Any]]:
    """One row per answer, streamed; numbers as numbers (comments stay text), times in ISO 8601 UTC."""
    where, params = _export_filter(community_id, since, tasting_id)
    sql = f"""SELECT p.label AS participant, s.number AS session, pr.name AS product, pr.code, a.position, a.question, a.value,
                     t.number AS tasting, t.name AS tasting_name, c.name AS community, a.source, a.answered_at
              FROM tasting_answers a
              JOIN tasting_participants p ON p.id = a.participant_id
              JOIN tasting_sessions s ON s.id = p.session_id
              JOIN tasting_products pr ON pr.id = a.product_id
              JOIN tastings t ON t.id = p.tasting_id
              JOIN communities c ON c.id = t.community_id
              WHERE {where}
              ORDER BY t.community_id, t.number, p.id, a.position, pr.position, a.id"""
    for record in stream(db, sql, params):
        if record["value"] is not None and record["question"].startswith(_NUMERIC):
            record["value"] = int(record["value"])
        record["answered_at"] = to_second(record["answered_at"])
        yield record


def export_count(db: sqlite_utils.Database, *, community_id: int | None = None, since: datetime | None = None, tasting_id: int | None = None) -> int:
    """How many rows :func:`export_rows` will stream (for a progress bar)."""
    where, params = _export_filter(community_id, since, tasting_id)
    found = one(
        db,
        f"""SELECT COUNT(*) AS n FROM tasting_answers a JOIN tasting_participants p ON p.id = a.participant_id
            JOIN tastings t ON t.id = p.tasting_id WHERE {where}""",
        params,
    )
    return int(found["n"]) if found else 0
