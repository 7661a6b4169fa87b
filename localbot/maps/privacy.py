"""What pickup-point maps keep about a member: the point they chose, the location they asked the
bot to remember, and the points they added. Forgetting deletes the first two and keeps the points
(they belong to the community) without their author. Retention empties the geocoding cache of
look-ups older than the cut-off: a typed address may be someone's home."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from localbot.clock import to_second
from localbot.privacy.model import Expiry, MemberData, Subject
from localbot.storage.db import one, rows


def collect(db: sqlite_utils.Database, subject: Subject) -> dict[str, Any]:
    member_id = subject.member.id
    chosen = rows(
        db,
        """SELECT c.name AS community, p.number, p.name, ch.chosen_at FROM pickup_choices ch
           JOIN pickup_points p ON p.id = ch.point_id JOIN communities c ON c.id = ch.community_id WHERE ch.member_id = ?""",
        [member_id],
    )
    remembered = one(db, "SELECT latitude, longitude, saved_at FROM member_locations WHERE member_id = ?", [member_id])
    added = rows(
        db,
        """SELECT c.name AS community, p.number, p.name FROM pickup_points p JOIN communities c ON c.id = p.community_id
           WHERE p.created_by = ? ORDER BY p.id""",
        [member_id],
    )
    return {
        "chosen_pickup_points": [{"community": r["community"], "point": r["number"], "name": r["name"], "chosen": to_second(r["chosen_at"])} for r in chosen],
        "remembered_location": (
            {"latitude": remembered["latitude"], "longitude": remembered["longitude"], "saved": to_second(remembered["saved_at"])} if remembered else None
        ),
        "points_you_added": [{"community": r["community"], "point": r["number"], "name": r["name"]} for r in added],
    }


def forget(db: sqlite_utils.Database, subject: Subject) -> None:
    member_id = subject.member.id
    db.execute("DELETE FROM pickup_choices WHERE member_id = ?", [member_id])
    db.execute("DELETE FROM member_locations WHERE member_id = ?", [member_id])
    db.execute("UPDATE pickup_points SET created_by = NULL WHERE created_by = ?", [member_id])


def purge(db: sqlite_utils.Database, expiry: Expiry) -> dict[str, int]:
    return {"old address look-ups deleted": db.execute("DELETE FROM geocode_cache WHERE fetched_at < ?", [expiry.cutoff]).rowcount}


DATA = MemberData(
    feature="maps",
    personal=("pickup_points", "pickup_choices", "member_locations"),
    other=("pickup_point_index", "geocode_cache"),
    collect=collect,
    forget=forget,
    purge=purge,
)
