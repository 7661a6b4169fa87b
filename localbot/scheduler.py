"""Scheduled work in SQLite: deadlines, reminders, diary prompts.

A job is a row with a due time, a kind and a JSON payload. The core claims due jobs, runs each
job's handler, and marks the job done *in the same transaction as the handler's writes* (including
the messages it queues in the outbox). A crash before that commit leaves the job to be run again on
restart, and its half-done effects were never committed; a crash after it means the job is done.
So each job's effects happen exactly once, including jobs that fell due while the bot was down.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from localbot.clock import from_iso, iso
from localbot.storage.db import one, rows

MAX_ATTEMPTS = 5
#: Dedupe keys of recurring jobs (see :func:`arm`).
RECURRING = "every:"


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    due_at: datetime
    attempts: int
    community_id: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        return cls(
            id=row["id"],
            kind=row["kind"],
            payload=json.loads(row["payload"]),
            due_at=from_iso(row["due_at"]),
            attempts=row["attempts"],
            community_id=row["community_id"],
        )


def schedule(
    db: sqlite_utils.Database,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    *,
    now: datetime,
    dedupe_key: str | None = None,
    community_id: int | None = None,
) -> int:
    """Add a job. With ``dedupe_key``, a pending job of that key is moved instead of duplicated."""
    body = json.dumps(payload or {}, ensure_ascii=False, sort_keys=True)
    if dedupe_key is not None:
        existing = one(db, "SELECT id, state FROM jobs WHERE dedupe_key = ?", [dedupe_key])
        if existing:
            if existing["state"] in ("pending", "cancelled", "done", "failed"):
                db.execute(
                    """UPDATE jobs SET due_at = ?, payload = ?, kind = ?, state = 'pending', attempts = 0,
                       last_error = NULL, finished_at = NULL WHERE id = ?""",
                    [iso(due_at), body, kind, existing["id"]],
                )
            return int(existing["id"])
    cursor = db.execute(
        """INSERT INTO jobs (kind, payload, due_at, dedupe_key, community_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?)""",
        [kind, body, iso(due_at), dedupe_key, community_id, iso(now)],
    )
    return int(cursor.lastrowid or 0)


def arm(db: sqlite_utils.Database, kind: str, due_at: datetime, *, now: datetime) -> None:
    """Make sure the one job of a recurring ``kind`` is waiting to run; a run that failed for good,
    or a cancelled one, is brought back for ``due_at``. A pending or running job is left alone."""
    db.execute(
        """INSERT INTO jobs (kind, due_at, dedupe_key, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (dedupe_key) DO UPDATE SET state = 'pending', due_at = excluded.due_at, attempts = 0,
               last_error = NULL, finished_at = NULL
           WHERE jobs.state IN ('done', 'failed', 'cancelled')""",
        [kind, iso(due_at), RECURRING + kind, iso(now)],
    )


def cancel(db: sqlite_utils.Database, dedupe_key: str) -> bool:
    cursor = db.execute("UPDATE jobs SET state = 'cancelled' WHERE dedupe_key = ? AND state = 'pending'", [dedupe_key])
    return cursor.rowcount > 0


def cancel_prefix(db: sqlite_utils.Database, prefix: str) -> int:
    """Cancel every pending job whose dedupe key starts with ``prefix`` (all of a tasting's reminders)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    cursor = db.execute(
        "UPDATE jobs SET state = 'cancelled' WHERE state = 'pending' AND dedupe_key LIKE ? ESCAPE '\\'",
        [escaped + "%"],
    )
    return cursor.rowcount


def claim_due(db: sqlite_utils.Database, now: datetime, limit: int = 100) -> list[Job]:
    """Mark up to ``limit`` due jobs as running, oldest due first, and return them."""
    claimed = rows(
        db,
        """UPDATE jobs SET state = 'running', claimed_at = :now, attempts = attempts + 1
           WHERE id IN (SELECT id FROM jobs WHERE state = 'pending' AND due_at <= :now
                        ORDER BY due_at, id LIMIT :limit)
           RETURNING *""",
        {"now": iso(now), "limit": limit},
    )
    return sorted((Job.from_row(r) for r in claimed), key=lambda j: (j.due_at, j.id))


def finish(db: sqlite_utils.Database, job_id: int, now: datetime) -> None:
    db.execute("UPDATE jobs SET state = 'done', finished_at = ? WHERE id = ?", [iso(now), job_id])


def fail(db: sqlite_utils.Database, job: Job, error: str, now: datetime) -> bool:
    """Record a failure; retried with back-off up to :data:`MAX_ATTEMPTS`. Returns True if it will retry."""
    if job.attempts >= MAX_ATTEMPTS:
        db.execute(
            "UPDATE jobs SET state = 'failed', finished_at = ?, last_error = ? WHERE id = ?",
            [iso(now), error[:2000], job.id],
        )
        return False
    retry_at = now + timedelta(seconds=30 * 2 ** (job.attempts - 1))
    db.execute(
        "UPDATE jobs SET state = 'pending', due_at = ?, last_error = ? WHERE id = ?",
        [iso(retry_at), error[:2000], job.id],
    )
    return True


def recover(db: sqlite_utils.Database) -> int:
    """After a crash: jobs left running never committed their effects, so they run again."""
    cursor = db.execute("UPDATE jobs SET state = 'pending', attempts = MAX(attempts - 1, 0) WHERE state = 'running'")
    return cursor.rowcount


def next_due(db: sqlite_utils.Database) -> datetime | None:
    row = one(db, "SELECT MIN(due_at) AS due FROM jobs WHERE state = 'pending'")
    return from_iso(row["due"]) if row and row["due"] else None


def pending_jobs(db: sqlite_utils.Database, kind: str | None = None) -> list[Job]:
    sql = "SELECT * FROM jobs WHERE state = 'pending'"
    params: list[Any] = []
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    return [Job.from_row(r) for r in rows(db, sql + " ORDER BY due_at, id", params)]
