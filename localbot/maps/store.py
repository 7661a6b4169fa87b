"""Pickup points in SQLite: add, change, remove, find, list, the nearest ones, choices, export.

This is the API other features build on (a tasting session happens at a pickup point, members
check in near it): :func:`get_point`, :func:`find_point`, :func:`list_points`, :func:`nearest`,
:func:`distance_m` and :func:`chosen_point`; :func:`localbot.maps.hours.is_open` tells whether a
point's :attr:`~localbot.maps.model.Point.hours` are open at a moment.

:func:`nearest` never scans a community's points. It grows a search radius from a few hundred
metres until the R*Tree (``pickup_point_index``) returns k points within it by haversine
distance, widens once by the haversine–geodesic error bound, and ranks that shortlist by WGS-84
geodesic distance, so the answer equals a brute-force geodesic ranking (a test checks it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlite_utils

from localbot.clock import from_iso, iso, to_second
from localbot.maps.geo import WHOLE_EARTH, geodesic_m, haversine_m, search_boxes, shortlist_radius
from localbot.maps.hours import OpeningHours, parse_hours
from localbot.maps.model import ATTRIBUTION, NearPoint, Point, PointError, PointSpec, check_coordinates, name_key
from localbot.storage.db import export_filter, one, rows, stream
from localbot.text import whole_number

START_RADIUS_M = 300.0
_COLUMNS = "id, community_id, number, name, latitude, longitude, address, opening_hours, note, created_at, updated_at"


def _point(row: dict[str, Any] | None) -> Point | None:
    if row is None:
        return None
    return Point(
        id=row["id"],
        community_id=row["community_id"],
        number=row["number"],
        name=row["name"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        address=row["address"],
        hours=parse_hours(row["opening_hours"]) if row["opening_hours"] else None,
        note=row["note"],
        created_at=from_iso(row["created_at"]),
        updated_at=from_iso(row["updated_at"]),
    )


def _hours_text(hours: OpeningHours | None) -> str | None:
    return hours.canonical() if hours is not None else None


# --- adding and changing -------------------------------------------------------------------------


def add_points(
    db: sqlite_utils.Database, community_id: int, specs: Iterable[PointSpec], *, created_by: int | None, now: datetime
) -> list[int]:
    """Insert points (numbered after the community's last); returns their ids in order.

    Raises :class:`PointError` ``duplicate_name`` naming the first clash, with the existing
    point's name or the earlier one in ``specs``; the caller's transaction decides what stays.
    """
    taken = {r["name_key"]: r["name"] for r in rows(db, "SELECT name_key, name FROM pickup_points WHERE community_id = ?", [community_id])}
    last = one(db, "SELECT COALESCE(MAX(number), 0) AS n FROM pickup_points WHERE community_id = ?", [community_id])
    number = int(last["n"]) if last else 0
    stamp = iso(now)
    values: list[tuple[Any, ...]] = []
    for spec in specs:
        key = name_key(spec.name)
        if key in taken:
            raise PointError("duplicate_name", name=taken[key])
        taken[key] = spec.name
        number += 1
        values.append(
            (community_id, number, spec.name, key, spec.latitude, spec.longitude, spec.address, _hours_text(spec.hours), spec.note, created_by, stamp, stamp)
        )
    ids: list[int] = []
    for value in values:
        cursor = db.conn.execute(
            """INSERT INTO pickup_points (community_id, number, name, name_key, latitude, longitude, address,
                                          opening_hours, note, created_by, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            value,
        )
        ids.append(int(cursor.lastrowid or 0))
    return ids


def create_point(db: sqlite_utils.Database, community_id: int, spec: PointSpec, *, created_by: int | None, now: datetime) -> Point:
    (point_id,) = add_points(db, community_id, [spec], created_by=created_by, now=now)
    point = get_point(db, point_id)
    assert point is not None
    return point


def update_point(db: sqlite_utils.Database, point: Point, spec: PointSpec, *, now: datetime) -> Point:
    """Give ``point`` the values of ``spec`` (its number stays)."""
    clash = one(
        db,
        "SELECT name FROM pickup_points WHERE community_id = ? AND name_key = ? AND id != ?",
        [point.community_id, name_key(spec.name), point.id],
    )
    if clash:
        raise PointError("duplicate_name", name=clash["name"])
    db.execute(
        """UPDATE pickup_points SET name = ?, name_key = ?, latitude = ?, longitude = ?, address = ?,
                                    opening_hours = ?, note = ?, updated_at = ?
           WHERE id = ?""",
        [spec.name, name_key(spec.name), spec.latitude, spec.longitude, spec.address, _hours_text(spec.hours), spec.note, iso(now), point.id],
    )
    updated = get_point(db, point.id)
    assert updated is not None
    return updated


def spec_of(point: Point) -> PointSpec:
    """The point's current values, to change one of them with :func:`dataclasses.replace`."""
    return PointSpec(point.name, point.latitude, point.longitude, point.address, point.hours, point.note)


def delete_point(db: sqlite_utils.Database, point_id: int) -> bool:
    """Remove a point; False if it was already gone.

    Raises :class:`PointError` ``in_use`` when another table still refers to it with
    ``ON DELETE RESTRICT`` (a tasting session planned there), instead of a database error.
    """
    try:
        with db.atomic():
            cursor = db.execute("DELETE FROM pickup_points WHERE id = ?", [point_id])
    except sqlite3.IntegrityError:
        raise PointError("in_use") from None
    return cursor.rowcount > 0


# --- finding -------------------------------------------------------------------------------------


def get_point(db: sqlite_utils.Database, point_id: int) -> Point | None:
    return _point(one(db, f"SELECT {_COLUMNS} FROM pickup_points WHERE id = ?", [point_id]))


def point_by_name(db: sqlite_utils.Database, community_id: int, name: str) -> Point | None:
    return _point(one(db, f"SELECT {_COLUMNS} FROM pickup_points WHERE community_id = ? AND name_key = ?", [community_id, name_key(name)]))


def point_by_number(db: sqlite_utils.Database, community_id: int, number: int) -> Point | None:
    return _point(one(db, f"SELECT {_COLUMNS} FROM pickup_points WHERE community_id = ? AND number = ?", [community_id, number]))


def find_point(db: sqlite_utils.Database, community_id: int, ref: str) -> Point | None:
    """A point by number (``3``, ``#3``) or by name, as members write it."""
    ref = ref.strip()
    wanted = whole_number(ref.lstrip("#").strip())
    if wanted is not None:
        return point_by_number(db, community_id, wanted)
    return point_by_name(db, community_id, ref) if ref else None


def list_points(db: sqlite_utils.Database, community_id: int, *, limit: int | None = None) -> list[Point]:
    sql = f"SELECT {_COLUMNS} FROM pickup_points WHERE community_id = ? ORDER BY number"
    params: list[Any] = [community_id]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [p for p in (_point(r) for r in rows(db, sql, params)) if p is not None]


def count_points(db: sqlite_utils.Database, community_id: int) -> int:
    row = one(db, "SELECT COUNT(*) AS n FROM pickup_points WHERE community_id = ?", [community_id])
    return int(row["n"]) if row else 0


# --- nearest -------------------------------------------------------------------------------------

_BOX_SQL = """SELECT id, latitude, longitude FROM pickup_point_index
              WHERE min_lat <= ? AND max_lat >= ? AND min_lon <= ? AND max_lon >= ? AND community_id = ?"""

Candidate = tuple[float, int, float, float]  # haversine metres, id, latitude, longitude


def _candidates(db: sqlite_utils.Database, community_id: int, latitude: float, longitude: float, radius_m: float) -> list[Candidate]:
    """Points of the community in the boxes around a circle, with their haversine distance."""
    found: dict[int, Candidate] = {}
    for box in search_boxes(latitude, longitude, radius_m):
        params = [box.max_lat, box.min_lat, box.max_lon, box.min_lon, community_id]
        for point_id, lat, lon in db.conn.execute(_BOX_SQL, params):
            found[point_id] = (haversine_m(latitude, longitude, lat, lon), point_id, lat, lon)
    return sorted(found.values())


def shortlist(db: sqlite_utils.Database, community_id: int, latitude: float, longitude: float, k: int) -> list[Candidate]:
    """Every point that may be among the k nearest by geodesic, from the index (see module doc)."""
    if k < 1:
        return []
    radius = START_RADIUS_M
    while True:
        found = _candidates(db, community_id, latitude, longitude, radius)
        whole = search_boxes(latitude, longitude, radius) == [WHOLE_EARTH]
        within = found if whole else [c for c in found if c[0] <= radius]
        if len(within) >= k or whole:
            break
        radius *= 2
    if len(within) < k:
        return within  # fewer than k points in the whole community
    limit = shortlist_radius(within[k - 1][0])
    if limit > radius and not whole:
        found = _candidates(db, community_id, latitude, longitude, limit)
    return [c for c in found if c[0] <= limit]


def nearest(db: sqlite_utils.Database, community_id: int, latitude: float, longitude: float, k: int = 3) -> list[NearPoint]:
    """The k points of the community nearest to (latitude, longitude), nearest first.

    Raises :class:`PointError` ``out_of_range`` for a location that is not on Earth.
    """
    latitude, longitude = check_coordinates(latitude, longitude)
    ranked = sorted((geodesic_m(latitude, longitude, lat, lon), point_id) for _, point_id, lat, lon in shortlist(db, community_id, latitude, longitude, k))[:k]
    if not ranked:
        return []
    marks = ",".join("?" * len(ranked))
    by_id = {r["id"]: _point(r) for r in rows(db, f"SELECT {_COLUMNS} FROM pickup_points WHERE id IN ({marks})", [pid for _, pid in ranked])}
    return [NearPoint(by_id[pid], metres) for metres, pid in ranked if by_id.get(pid) is not None]  # type: ignore[arg-type]


def distance_m(point: Point, latitude: float, longitude: float) -> float:
    """Geodesic metres between a point and a location (a member checking in, for example)."""
    return geodesic_m(point.latitude, point.longitude, latitude, longitude)


# --- what members chose --------------------------------------------------------------------------


def choose_point(db: sqlite_utils.Database, community_id: int, member_id: int, point_id: int, *, now: datetime) -> None:
    db.execute(
        """INSERT INTO pickup_choices (community_id, member_id, point_id, chosen_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (community_id, member_id) DO UPDATE SET point_id = excluded.point_id, chosen_at = excluded.chosen_at""",
        [community_id, member_id, point_id, iso(now)],
    )


def chosen_point(db: sqlite_utils.Database, community_id: int, member_id: int) -> Point | None:
    """The pickup point the member chose in this community, if any."""
    return _point(
        one(
            db,
            """SELECT p.* FROM pickup_choices c JOIN pickup_points p ON p.id = c.point_id
               WHERE c.community_id = ? AND c.member_id = ?""",
            [community_id, member_id],
        )
    )


def remember_location(db: sqlite_utils.Database, member_id: int, latitude: float, longitude: float, *, now: datetime) -> None:
    """Keep a member's location; only ever called when the member asked for it (``/near remember``)."""
    db.execute(
        """INSERT INTO member_locations (member_id, latitude, longitude, saved_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (member_id) DO UPDATE SET latitude = excluded.latitude, longitude = excluded.longitude,
                                                 saved_at = excluded.saved_at""",
        [member_id, latitude, longitude, iso(now)],
    )


def remembered_location(db: sqlite_utils.Database, member_id: int) -> tuple[float, float] | None:
    row = one(db, "SELECT latitude, longitude FROM member_locations WHERE member_id = ?", [member_id])
    return (row["latitude"], row["longitude"]) if row else None


def forget_location(db: sqlite_utils.Database, member_id: int) -> bool:
    return db.execute("DELETE FROM member_locations WHERE member_id = ?", [member_id]).rowcount > 0


# --- export --------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "community", "number", "name", "latitude", "longitude", "address", "address_source", "opening_hours", "note", "created_at", "updated_at",
)


def export_rows(db: sqlite_utils.Database, *, community_id: int | None = None, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """One row per point, streamed; ``opening_hours`` in OpenStreetMap syntax, times in ISO 8601 UTC.

    ``address_source`` credits the addresses, which come from OpenStreetMap's Nominatim, as its
    usage policy asks: "© OpenStreetMap contributors" beside every address, empty without one.
    """
    where, params = export_filter("p.community_id", "p.updated_at", community_id, since)
    sql = f"""SELECT c.name AS community, p.number, p.name, p.latitude, p.longitude, p.address,
                     CASE WHEN COALESCE(p.address, '') = '' THEN '' ELSE ? END AS address_source, p.opening_hours,
                     p.note, p.created_at, p.updated_at
              FROM pickup_points p JOIN communities c ON c.id = p.community_id
              WHERE {where} ORDER BY p.community_id, p.number"""
    for record in stream(db, sql, [ATTRIBUTION, *params]):
        for stamp in ("created_at", "updated_at"):
            record[stamp] = to_second(record[stamp])
        yield record
