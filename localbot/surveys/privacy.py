"""What surveys keep about a member, and how it is forgotten while every habit map stays the same.

A participant row must name a member, so forgetting moves each of the member's participations to a
stand-in of its own (:func:`localbot.privacy.model.new_stand_in`, never the one stand-in a member's
answers share across features): their choices, scales, numbers, times and weekdays keep counting
in reports and exports, as nobody's, and two surveys (or a survey and a tasting) cannot be told to
be the same person's. What could identify them goes: free text, photos (the files too) and shared
locations. Their planned diary prompts are cancelled, and they no longer take part in anything.

What is left could still be matched, row by row, with an export taken before, so it is made to
keep only what the habit map and compliance need (decision 58):

- the participation and each of its questionnaires get new ids (in a random order), so neither the
  export's ``prompt_id`` nor anything keyed by the old ids (finished jobs) points at them; the
  participation's jobs, done or not, are deleted;
- every time is kept to the hour of the member's *local* wall clock, written as UTC, and the time
  zone becomes ``UTC``: each moment stays in its weekday and hour cell of the heat map, while the
  member's zone and the minutes that an earlier export shows are gone;
- a late answer keeps being late: its expiry is moved before the (coarsened) answer if coarsening
  put them in the same hour;
- the waking window and first day are dropped; joining and changing times become the run's start.

Retention does the same to every participant of a run that closed before the cut-off.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from localbot.clock import from_iso, iso, to_second
from localbot.privacy.model import STAND_IN, Expiry, MemberData, Subject, new_stand_in, stored_file
from localbot.storage.db import rows
from localbot.surveys.model import Kind
from localbot.surveys.store import study_from_source


def collect(db: sqlite_utils.Database, subject: Subject) -> dict[str, Any]:
    member_id = subject.member.id
    taking_part = rows(
        db,
        """SELECT p.*, r.number, r.name, r.title, c.name AS community FROM survey_participants p
           JOIN survey_runs r ON r.id = p.run_id JOIN communities c ON c.id = r.community_id
           WHERE p.member_id = ? ORDER BY p.id""",
        [member_id],
    )
    out: list[dict[str, Any]] = []
    for p in taking_part:
        entries = rows(db, "SELECT * FROM survey_entries WHERE participant_id = ? ORDER BY id", [p["id"]])
        answers = rows(
            db,
            """SELECT a.* FROM survey_answers a JOIN survey_entries e ON e.id = a.entry_id
               WHERE e.participant_id = ? ORDER BY a.id""",
            [p["id"]],
        )
        by_entry: dict[int, list[dict[str, Any]]] = {}
        for a in answers:
            by_entry.setdefault(a["entry_id"], []).append(
                {"question": a["question"], "answer": None if a["value"] is None else json.loads(a["value"]), "time": to_second(a["answered_at"])}
            )
        out.append(
            {
                "community": p["community"],
                "survey": p["number"],
                "study": p["name"],
                "title": p["title"],
                "status": p["status"],
                "waking_window": [p["window_start"], p["window_end"]] if p["window_start"] else None,
                "time_zone": p["timezone"],
                "joined": to_second(p["joined_at"]),
                "questionnaires": [
                    {
                        "kind": e["kind"],
                        "status": e["status"],
                        "planned": to_second(e["planned_at"]),
                        "sent": to_second(e["sent_at"]),
                        "started": to_second(e["started_at"]),
                        "completed": to_second(e["completed_at"]),
                        "answers": by_entry.get(e["id"], []),
                    }
                    for e in entries
                ],
            }
        )
    started = rows(
        db,
        """SELECT c.name AS community, r.number, r.name, r.created_by = ? AS created, r.closed_by = ? AS closed
           FROM survey_runs r JOIN communities c ON c.id = r.community_id WHERE r.created_by = ? OR r.closed_by = ?""",
        [member_id, member_id, member_id, member_id],
    )
    return {
        "taking_part": out,
        "surveys_you_started_or_closed": [
            {"community": r["community"], "survey": r["number"], "study": r["name"], "started_by_you": bool(r["created"]), "closed_by_you": bool(r["closed"])}
            for r in started
        ],
    }


def _drop_personal_answers(db: sqlite_utils.Database, participant: dict[str, Any], base: Path | None) -> int:
    """Delete a participant's free text, photos (and their files) and shared locations."""
    study = study_from_source(participant["source"], participant["name"])
    dropped = 0
    for answer in rows(
        db,
        "SELECT a.id, a.question, a.value FROM survey_answers a JOIN survey_entries e ON e.id = a.entry_id WHERE e.participant_id = ?",
        [participant["id"]],
    ):
        value = None if answer["value"] is None else json.loads(answer["value"])
        kind = study.question(answer["question"]).kind if study.has(answer["question"]) else None
        located = isinstance(value, dict) and "lat" in value
        if value is not None and (kind in (Kind.TEXT, Kind.PHOTO) or located):
            if isinstance(value, dict) and isinstance(value.get("file"), str):
                path = stored_file(base, value["file"])
                if path is not None:
                    path.unlink(missing_ok=True)
            db.execute("DELETE FROM survey_answers WHERE id = ?", [answer["id"]])
            dropped += 1
    return dropped


def _participations(db: sqlite_utils.Database, where: str, params: list[Any]) -> list[dict[str, Any]]:
    return rows(
        db,
        f"""SELECT p.*, r.name, r.source, r.created_at AS run_created_at FROM survey_participants p
            JOIN survey_runs r ON r.id = p.run_id JOIN members m ON m.id = p.member_id WHERE {where}""",
        params,
    )


#: The entry columns that hold a moment; all are kept to the local hour when forgetting.
_TIMES = ("planned_at", "send_by", "sent_at", "expires_at", "started_at", "completed_at")


def _local_hour(text: str | None, zone: ZoneInfo) -> str | None:
    """A stored moment as the hour of the member's wall clock, written as if it were UTC."""
    if text is None:
        return None
    local = from_iso(text).astimezone(zone)
    return iso(datetime(local.year, local.month, local.day, local.hour, tzinfo=UTC))


def _coarse_entry(entry: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    coarse = {column: _local_hour(entry[column], zone) for column in _TIMES}
    started, expires = coarse["started_at"], coarse["expires_at"]
    if started is not None and expires is not None and entry["started_at"] > entry["expires_at"] and expires >= started:
        coarse["expires_at"] = iso(from_iso(started) - timedelta(hours=1))  # late stays late
    return coarse


def _anonymise(db: sqlite_utils.Database, participant: dict[str, Any]) -> None:
    """Retire a participation and rewrite it as described in the module doc: a new stand-in,
    new ids, local hours, no window, no zone."""
    # the handler books a participant's prompts under this prefix (localbot/handlers/surveys.py)
    prefix = f"survey:{participant['run_id']}:p{participant['id']}:"
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    db.execute("DELETE FROM jobs WHERE dedupe_key LIKE ? ESCAPE '\\'", [escaped + "%"])
    db.execute(
        "UPDATE survey_entries SET status = 'cancelled' WHERE participant_id = ? AND status IN ('planned', 'paused')", [participant["id"]]
    )
    zone = ZoneInfo(participant["timezone"])
    status = "left" if participant["status"] in ("active", "paused") else participant["status"]
    started = participant["run_created_at"]
    stand_in_id = new_stand_in(db, from_iso(started))
    cursor = db.execute(
        """INSERT INTO survey_participants (run_id, member_id, status, timezone, joined_at, changed_at)
           VALUES (?, ?, ?, 'UTC', ?, ?)""",
        [participant["run_id"], stand_in_id, status, started, started],
    )
    new_participant = int(cursor.lastrowid or 0)
    found = rows(db, "SELECT * FROM survey_entries WHERE participant_id = ?", [participant["id"]])
    secrets.SystemRandom().shuffle(found)
    for entry in found:
        coarse = _coarse_entry(entry, zone)
        cursor = db.execute(
            f"""INSERT INTO survey_entries (participant_id, kind, day, slot, status, {', '.join(_TIMES)})
                VALUES (?, ?, ?, ?, ?, {', '.join('?' for _ in _TIMES)})""",
            [new_participant, entry["kind"], entry["day"], entry["slot"], entry["status"], *(coarse[c] for c in _TIMES)],
        )
        for answer in rows(db, "SELECT id, answered_at FROM survey_answers WHERE entry_id = ?", [entry["id"]]):
            db.execute(
                "UPDATE survey_answers SET entry_id = ?, answered_at = ? WHERE id = ?",
                [int(cursor.lastrowid or 0), _local_hour(answer["answered_at"], zone), answer["id"]],
            )
    db.execute("DELETE FROM survey_participants WHERE id = ?", [participant["id"]])  # its old entries follow


def forget(db: sqlite_utils.Database, subject: Subject) -> None:
    member_id = subject.member.id
    for participant in _participations(db, "p.member_id = ?", [member_id]):
        _drop_personal_answers(db, participant, subject.base)
        _anonymise(db, participant)
    db.execute("UPDATE survey_runs SET created_by = NULL WHERE created_by = ?", [member_id])
    db.execute("UPDATE survey_runs SET closed_by = NULL WHERE closed_by = ?", [member_id])


def purge(db: sqlite_utils.Database, expiry: Expiry) -> dict[str, int]:
    participants = _participations(db, "r.status = 'closed' AND r.closed_at < ? AND m.messenger != ?", [expiry.cutoff, STAND_IN])
    dropped = 0
    for participant in participants:
        dropped += _drop_personal_answers(db, participant, expiry.base)
        _anonymise(db, participant)
    runs = db.execute(
        """UPDATE survey_runs SET created_by = NULL, closed_by = NULL
           WHERE status = 'closed' AND closed_at < ? AND (created_by IS NOT NULL OR closed_by IS NOT NULL)""",
        [expiry.cutoff],
    ).rowcount
    return {"participants anonymised": len(participants), "personal answers deleted": dropped, "surveys made anonymous": runs}


DATA = MemberData(
    feature="surveys",
    personal=("survey_runs", "survey_participants", "survey_entries", "survey_answers"),
    collect=collect,
    forget=forget,
    purge=purge,
)
