"""Survey runs, participants, entries and answers in SQLite; the long-format export.

Functions take the sqlite-utils ``Database`` and plain values; callers decide the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

import sqlite_utils

from localbot.clock import from_iso, iso, to_second
from localbot.export.files import Files
from localbot.storage.db import export_filter, one, rows, stream
from localbot.surveys import answers as answer_text
from localbot.surveys.definition import parse
from localbot.surveys.model import Study, Window
from localbot.surveys.schedule import Planned
from localbot.text import whole_number


@lru_cache(maxsize=32)
def study_from_source(source: str, name: str) -> Study:
    """The study a run keeps, parsed once per process (it was validated when the run started)."""
    return parse(source, filename=f"{name}.toml", name=name)[0]


def _when(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    community_id: int
    number: int
    name: str
    mode: str
    title: str
    source: str
    status: str
    created_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None

    @property
    def study(self) -> Study:
        return study_from_source(self.source, self.name)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def is_diary(self) -> bool:
        return self.mode == "diary"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Run:
        return cls(
            id=row["id"],
            community_id=row["community_id"],
            number=row["number"],
            name=row["name"],
            mode=row["mode"],
            title=row["title"],
            source=row["source"],
            status=row["status"],
            created_at=from_iso(row["created_at"]),
            closes_at=_when(row["closes_at"]),
            closed_at=_when(row["closed_at"]),
        )


@dataclass(frozen=True, slots=True)
class Participant:
    id: int
    run_id: int
    member_id: int
    status: str
    timezone: str
    window: Window | None
    first_day: date | None
    joined_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Participant:
        window = None
        if row["window_start"] and row["window_end"]:
            window = Window(time.fromisoformat(row["window_start"]), time.fromisoformat(row["window_end"]))
        return cls(
            id=row["id"],
            run_id=row["run_id"],
            member_id=row["member_id"],
            status=row["status"],
            timezone=row["timezone"],
            window=window,
            first_day=date.fromisoformat(row["first_day"]) if row["first_day"] else None,
            joined_at=from_iso(row["joined_at"]),
        )


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    participant_id: int
    kind: str
    day: int | None
    slot: int | None
    status: str
    planned_at: datetime | None
    send_by: datetime | None
    sent_at: datetime | None
    expires_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now > self.expires_at

    @property
    def on_time(self) -> bool:
        """Answered, and (for a prompt) the first answer came before it expired."""
        if self.started_at is None:
            return False
        return self.expires_at is None or self.started_at <= self.expires_at

    @property
    def late(self) -> bool:
        return self.started_at is not None and not self.on_time

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Entry:
        return cls(
            id=row["id"],
            participant_id=row["participant_id"],
            kind=row["kind"],
            day=row["day"],
            slot=row["slot"],
            status=row["status"],
            planned_at=_when(row["planned_at"]),
            send_by=_when(row["send_by"]),
            sent_at=_when(row["sent_at"]),
            expires_at=_when(row["expires_at"]),
            started_at=_when(row["started_at"]),
            completed_at=_when(row["completed_at"]),
        )


# --- runs --------------------------------------------------------------------------------------


def create_run(
    db: sqlite_utils.Database,
    *,
    community_id: int,
    study: Study,
    source: str,
    created_by: int | None,
    now: datetime,
    closes_at: datetime | None,
) -> Run:
    number = one(db, "SELECT COALESCE(MAX(number), 0) + 1 AS n FROM survey_runs WHERE community_id = ?", [community_id])
    assert number is not None
    cursor = db.execute(
        """INSERT INTO survey_runs (community_id, number, name, mode, title, source, created_by, created_at, closes_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            community_id,
            number["n"],
            study.name,
            study.mode.value,
            study.title.pick(study.languages[0]),
            source,
            created_by,
            iso(now),
            iso(closes_at) if closes_at else None,
        ],
    )
    run = get_run(db, int(cursor.lastrowid or 0))
    assert run is not None
    return run


def get_run(db: sqlite_utils.Database, run_id: int) -> Run | None:
    row = one(db, "SELECT * FROM survey_runs WHERE id = ?", [run_id])
    return Run.from_row(row) if row else None


def runs(db: sqlite_utils.Database, community_id: int | None = None, *, open_only: bool = False) -> list[Run]:
    """Runs, newest first: of one community, or of all."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if community_id is not None:
        where.append("community_id = ?")
        params.append(community_id)
    if open_only:
        where.append("status = 'open'")
    found = rows(db, f"SELECT * FROM survey_runs WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC", params)
    return [Run.from_row(r) for r in found]


def find_runs(db: sqlite_utils.Database, community_id: int | None, ref: str) -> list[Run]:
    """Runs matching what someone typed: a number (``2``, ``#2``) or a study name; newest first."""
    text = ref.strip().lstrip("#").lower()
    candidates = runs(db, community_id)
    wanted = whole_number(text)
    if wanted is not None:
        return [r for r in candidates if r.number == wanted]
    return [r for r in candidates if r.name == text]


def close_run(db: sqlite_utils.Database, run_id: int, *, closed_by: int | None, now: datetime) -> bool:
    """Close an open run; False if it was closed already (an organiser racing the deadline)."""
    cursor = db.execute(
        "UPDATE survey_runs SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ? AND status = 'open'",
        [iso(now), closed_by, run_id],
    )
    return cursor.rowcount > 0


# --- participants ------------------------------------------------------------------------------


def get_participant(db: sqlite_utils.Database, run_id: int, member_id: int) -> Participant | None:
    row = one(db, "SELECT * FROM survey_participants WHERE run_id = ? AND member_id = ?", [run_id, member_id])
    return Participant.from_row(row) if row else None


def participant_by_id(db: sqlite_utils.Database, participant_id: int) -> Participant | None:
    row = one(db, "SELECT * FROM survey_participants WHERE id = ?", [participant_id])
    return Participant.from_row(row) if row else None


def participants(db: sqlite_utils.Database, run_id: int) -> list[Participant]:
    return [Participant.from_row(r) for r in rows(db, "SELECT * FROM survey_participants WHERE run_id = ? ORDER BY id", [run_id])]


def add_participant(
    db: sqlite_utils.Database,
    *,
    run_id: int,
    member_id: int,
    timezone: str,
    now: datetime,
    window: Window | None = None,
    first_day: date | None = None,
) -> Participant:
    """Sign a member up (a second call returns the existing participant unchanged)."""
    db.execute(
        """INSERT INTO survey_participants (run_id, member_id, window_start, window_end, first_day, timezone, joined_at, changed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, member_id) DO NOTHING""",
        [
            run_id,
            member_id,
            f"{window.start:%H:%M}" if window else None,
            f"{window.end:%H:%M}" if window else None,
            first_day.isoformat() if first_day else None,
            timezone,
            iso(now),
            iso(now),
        ],
    )
    found = get_participant(db, run_id, member_id)
    assert found is not None
    return found


def set_participant_status(db: sqlite_utils.Database, participant_id: int, status: str, now: datetime) -> None:
    db.execute("UPDATE survey_participants SET status = ?, changed_at = ? WHERE id = ?", [status, iso(now), participant_id])


def set_participant_timezone(db: sqlite_utils.Database, participant_id: int, timezone: str, now: datetime) -> None:
    db.execute("UPDATE survey_participants SET timezone = ?, changed_at = ? WHERE id = ?", [timezone, iso(now), participant_id])


def finish_participants(db: sqlite_utils.Database, run_id: int, now: datetime) -> None:
    """The run closed: whoever was still taking part has finished."""
    db.execute(
        "UPDATE survey_participants SET status = 'finished', changed_at = ? WHERE run_id = ? AND status IN ('active', 'paused')",
        [iso(now), run_id],
    )


def runs_of_member(db: sqlite_utils.Database, member_id: int, *, status: str = "active") -> list[tuple[Run, Participant]]:
    """The open runs in which the member takes part with ``status``, newest first."""
    found = rows(
        db,
        """SELECT r.*, p.id AS participant_id FROM survey_runs r JOIN survey_participants p ON p.run_id = r.id
           WHERE p.member_id = ? AND p.status = ? AND r.status = 'open' ORDER BY r.created_at DESC, r.id DESC""",
        [member_id, status],
    )
    out = []
    for row in found:
        participant = participant_by_id(db, row.pop("participant_id"))
        assert participant is not None
        out.append((Run.from_row(row), participant))
    return out


# --- entries -----------------------------------------------------------------------------------


def get_entry(db: sqlite_utils.Database, entry_id: int) -> Entry | None:
    row = one(db, "SELECT * FROM survey_entries WHERE id = ?", [entry_id])
    return Entry.from_row(row) if row else None


def entries(db: sqlite_utils.Database, participant_id: int, *, kind: str | None = None, status: str | None = None) -> list[Entry]:
    sql = "SELECT * FROM survey_entries WHERE participant_id = ?"
    params: list[Any] = [participant_id]
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    if status:
        sql += " AND status = ?"
        params.append(status)
    return [Entry.from_row(r) for r in rows(db, sql + " ORDER BY COALESCE(planned_at, sent_at), id", params)]


def plan_prompts(db: sqlite_utils.Database, participant_id: int, planned: list[Planned]) -> list[Entry]:
    for item in planned:
        db.execute(
            """INSERT INTO survey_entries (participant_id, kind, day, slot, planned_at, send_by, status)
               VALUES (?, 'prompt', ?, ?, ?, ?, 'planned')""",
            [participant_id, item.day, item.slot, iso(item.at), iso(item.send_by)],
        )
    return entries(db, participant_id, kind="prompt", status="planned")


def next_prompt_at(db: sqlite_utils.Database, entry: Entry) -> datetime | None:
    """When the participant's next prompt after ``entry`` is due (planned, paused or sent)."""
    found = one(
        db,
        """SELECT MIN(planned_at) AS at FROM survey_entries WHERE participant_id = ? AND kind = 'prompt'
           AND planned_at > ? AND status IN ('planned', 'paused', 'sent')""",
        [entry.participant_id, iso(entry.planned_at) if entry.planned_at else ""],
    )
    return from_iso(found["at"]) if found and found["at"] else None


def open_entry(db: sqlite_utils.Database, participant_id: int, kind: str, now: datetime) -> Entry:
    """A questionnaire the member opens themselves: the one-off answers or a self-report."""
    cursor = db.execute(
        "INSERT INTO survey_entries (participant_id, kind, status, sent_at) VALUES (?, ?, 'sent', ?)",
        [participant_id, kind, iso(now)],
    )
    entry = get_entry(db, int(cursor.lastrowid or 0))
    assert entry is not None
    return entry


def mark_sent(db: sqlite_utils.Database, entry_id: int, *, now: datetime, expires_at: datetime) -> None:
    db.execute(
        "UPDATE survey_entries SET status = 'sent', sent_at = ?, expires_at = ? WHERE id = ? AND status = 'planned'",
        [iso(now), iso(expires_at), entry_id],
    )


def set_entry_status(db: sqlite_utils.Database, entry_id: int, status: str) -> None:
    db.execute("UPDATE survey_entries SET status = ? WHERE id = ?", [status, entry_id])


def move_planned(db: sqlite_utils.Database, participant_id: int, *, old: str, new: str) -> list[Entry]:
    """Pause (planned → paused), resume (paused → planned) or cancel a participant's future prompts."""
    moved = entries(db, participant_id, kind="prompt", status=old)
    db.execute("UPDATE survey_entries SET status = ? WHERE participant_id = ? AND status = ?", [new, participant_id, old])
    return moved


def cancel_run_prompts(db: sqlite_utils.Database, run_id: int) -> int:
    cursor = db.execute(
        """UPDATE survey_entries SET status = 'cancelled' WHERE status IN ('planned', 'paused')
           AND participant_id IN (SELECT id FROM survey_participants WHERE run_id = ?)""",
        [run_id],
    )
    return cursor.rowcount


def latest_entry(db: sqlite_utils.Database, participant_id: int, kind: str) -> Entry | None:
    row = one(
        db,
        "SELECT * FROM survey_entries WHERE participant_id = ? AND kind = ? AND status = 'sent' ORDER BY sent_at DESC, id DESC LIMIT 1",
        [participant_id, kind],
    )
    return Entry.from_row(row) if row else None


# --- answers -----------------------------------------------------------------------------------


def save_answer(db: sqlite_utils.Database, entry: Entry, question: str, value: Any, now: datetime) -> None:
    """Keep one answer at once (the latest wins if a question is answered again)."""
    db.execute(
        """INSERT INTO survey_answers (entry_id, question, value, answered_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (entry_id, question) DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at""",
        [entry.id, question, None if value is None else json.dumps(value, ensure_ascii=False), iso(now)],
    )
    db.execute("UPDATE survey_entries SET started_at = COALESCE(started_at, ?) WHERE id = ?", [iso(now), entry.id])


def complete_entry(db: sqlite_utils.Database, entry_id: int, now: datetime) -> None:
    db.execute("UPDATE survey_entries SET completed_at = COALESCE(completed_at, ?) WHERE id = ?", [iso(now), entry_id])


def answers_of(db: sqlite_utils.Database, entry_id: int) -> dict[str, Any]:
    found = rows(db, "SELECT question, value FROM survey_answers WHERE entry_id = ? ORDER BY id", [entry_id])
    return {r["question"]: None if r["value"] is None else json.loads(r["value"]) for r in found}


def answered_before(db: sqlite_utils.Database, participant_id: int, exclude_entry: int | None = None) -> frozenset[str]:
    """Questions the participant has answered in any entry (for diary questions asked only once)."""
    found = rows(
        db,
        """SELECT DISTINCT a.question FROM survey_answers a JOIN survey_entries e ON e.id = a.entry_id
           WHERE e.participant_id = ? AND e.id != ? AND a.value IS NOT NULL""",
        [participant_id, exclude_entry or 0],
    )
    return frozenset(r["question"] for r in found)


def run_answers(db: sqlite_utils.Database, run_id: int) -> list[dict[str, Any]]:
    """Every entry of a run that has answers, with its participant and its answers (for reports)."""
    found = rows(
        db,
        """SELECT e.*, p.member_id, p.timezone, a.question, a.value, a.answered_at
           FROM survey_entries e JOIN survey_participants p ON p.id = e.participant_id
           JOIN survey_answers a ON a.entry_id = e.id
           WHERE p.run_id = ? ORDER BY e.id, a.id""",
        [run_id],
    )
    grouped: dict[int, dict[str, Any]] = {}
    for row in found:
        item = grouped.get(row["id"])
        if item is None:
            item = grouped[row["id"]] = {
                "entry": Entry.from_row(row),
                "member_id": row["member_id"],
                "timezone": row["timezone"],
                "answers": {},
            }
        item["answers"][row["question"]] = None if row["value"] is None else json.loads(row["value"])
    return list(grouped.values())


def prompt_counts(db: sqlite_utils.Database, run_id: int) -> dict[int, dict[str, int]]:
    """Per participant: prompts sent, answered on time, answered late, and self-reports."""
    found = rows(
        db,
        """SELECT p.id AS participant_id,
                  SUM(e.kind = 'prompt' AND e.status = 'sent') AS sent,
                  SUM(e.kind = 'prompt' AND e.status = 'sent' AND e.started_at IS NOT NULL AND e.started_at <= e.expires_at) AS on_time,
                  SUM(e.kind = 'prompt' AND e.status = 'sent' AND e.started_at > e.expires_at) AS late,
                  SUM(e.kind = 'self' AND e.started_at IS NOT NULL) AS self_reports,
                  SUM(e.kind = 'once' AND e.completed_at IS NOT NULL) AS completed
           FROM survey_participants p LEFT JOIN survey_entries e ON e.participant_id = p.id
           WHERE p.run_id = ? GROUP BY p.id""",
        [run_id],
    )
    return {r["participant_id"]: {k: int(r[k] or 0) for k in ("sent", "on_time", "late", "self_reports", "completed")} for r in found}


# --- export ------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "participant",
    "survey",
    "prompt_id",
    "prompt_sent_at",
    "answered_at",
    "question",
    "answer",
    "value",
    "on_time",
    "entry_kind",
    "run",
    "community",
)


def export_rows(
    db: sqlite_utils.Database, *, community_id: int | None = None, since: datetime | None = None, files: Files | None = None
) -> Iterator[dict[str, Any]]:
    """One row per answer in long format, streamed. ``answer`` is readable (in the study's first
    language), ``value`` machine-readable (option codes, numbers, ``HH:MM``, a photo's file).
    A photo is linked through ``files`` in both (without it: the path as stored)."""
    where, params = export_filter("r.community_id", "a.answered_at", community_id, since)
    sql = f"""
        SELECT m.ref AS participant, r.id AS run_id, r.name AS survey, r.number AS run, r.source, c.name AS community,
               e.id AS prompt_id, e.kind AS entry_kind, e.sent_at, e.expires_at, e.started_at,
               a.question, a.value, a.answered_at
        FROM survey_answers a
        JOIN survey_entries e ON e.id = a.entry_id
        JOIN survey_participants p ON p.id = e.participant_id
        JOIN survey_runs r ON r.id = p.run_id
        JOIN communities c ON c.id = r.community_id
        JOIN members m ON m.id = p.member_id
        WHERE {where}
        ORDER BY r.community_id, r.number, m.ref, e.id, a.id"""
    for row in stream(db, sql, params):
        yield _export_row(row, files)


def export_count(db: sqlite_utils.Database, *, community_id: int | None = None, since: datetime | None = None) -> int:
    """How many rows :func:`export_rows` will stream (for a progress bar)."""
    where, params = export_filter("r.community_id", "a.answered_at", community_id, since)
    found = one(
        db,
        f"""SELECT COUNT(*) AS n FROM survey_answers a JOIN survey_entries e ON e.id = a.entry_id
            JOIN survey_participants p ON p.id = e.participant_id JOIN survey_runs r ON r.id = p.run_id
            WHERE {where}""",
        params,
    )
    return int(found["n"]) if found else 0


def _export_row(row: dict[str, Any], files: Files | None = None) -> dict[str, Any]:
    study = study_from_source(row["source"], row["survey"])
    value = None if row["value"] is None else json.loads(row["value"])
    language = study.languages[0]
    answer: Any = ""
    if study.has(row["question"]):
        answer = answer_text.describe(study.question(row["question"]), value, language)
    shown = answer_text.raw(value)
    if files is not None and isinstance(value, dict) and isinstance(value.get("file"), str):
        answer = shown = files.link(value["file"])
    on_time = row["started_at"] is not None and (row["expires_at"] is None or row["started_at"] <= row["expires_at"])
    return {
        "participant": row["participant"],
        "survey": row["survey"],
        "prompt_id": row["prompt_id"],
        "prompt_sent_at": to_second(row["sent_at"]),
        "answered_at": to_second(row["answered_at"]),
        "question": row["question"],
        "answer": answer,
        "value": shown,
        "on_time": on_time,
        "entry_kind": row["entry_kind"],
        "run": row["run"],
        "community": row["community"],
    }
