"""Who belongs where, for ``localbot export members`` and ``/export members``.

One row per membership (a member in two communities is two rows), so an organiser's export of their
own community lists exactly its members, with their role and when they joined or left. Nothing here
says what anyone answered; each feature exports its own answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlite_utils

from localbot.clock import to_second
from localbot.storage.db import export_filter, one, stream

EXPORT_COLUMNS = (
    "community",
    "member",
    "name",
    "username",
    "messenger",
    "language",
    "role",
    "joined",
    "left",
    "last_seen",
)


def export_rows(
    db: sqlite_utils.Database, *, community_id: int | None = None, since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Memberships, streamed; ``since`` keeps those who joined from then on."""
    where, params = export_filter("ms.community_id", "ms.joined_at", community_id, since)
    sql = f"""
        SELECT c.name AS community, m.ref AS member, m.name, COALESCE(m.username, '') AS username,
               m.messenger, COALESCE(m.language, m.messenger_language, '') AS language, ms.role,
               ms.joined_at AS joined, ms.left_at AS left, m.last_seen_at AS last_seen
        FROM memberships ms
        JOIN members m ON m.id = ms.member_id
        JOIN communities c ON c.id = ms.community_id
        WHERE {where}
        ORDER BY ms.community_id, ms.joined_at, m.id"""
    for record in stream(db, sql, params):
        for column in ("joined", "left", "last_seen"):
            record[column] = to_second(record[column])
        yield record


def export_count(db: sqlite_utils.Database, *, community_id: int | None = None, since: datetime | None = None) -> int:
    where, params = export_filter("ms.community_id", "ms.joined_at", community_id, since)
    found = one(db, f"SELECT COUNT(*) AS n FROM memberships ms WHERE {where}", params)
    return int(found["n"]) if found else 0
