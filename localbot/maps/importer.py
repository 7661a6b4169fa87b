"""Loading pickup points from a spreadsheet (``localbot points import``).

An import reads a CSV (comma, semicolon or tab; UTF-8 with or without a byte-order mark, as Excel
saves it) with a ``name`` column and either ``latitude``/``longitude`` or ``address``, plus
optional ``hours`` and ``note``. It works in two passes, so the bot can keep running on the same
database: first every row is checked and placed (addresses geocoded one a second, with a progress
bar on a terminal, and cached), outside any transaction; then the placed rows are written in one
short transaction. Rows that cannot be placed are listed with the reason, and the exit status is 1.
A file written by ``localbot points export --format csv`` imports again as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import sqlite_utils

from localbot.community import store as community_store
from localbot.community.model import Community
from localbot.export.reading import UnreadableFile, cell, read_table
from localbot.i18n import translator
from localbot.maps import geocode, store, texts
from localbot.maps.geocode import Geocoder, GeocodingFailed
from localbot.maps.hours import HoursError, parse_hours
from localbot.maps.model import PointError, PointSpec, check_coordinates, name_key

#: Header names we recognise, in our three languages; the first is the one we write.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "nazwa", "nama"),
    "latitude": ("latitude", "lat", "szerokosc", "szerokość", "lintang"),
    "longitude": ("longitude", "lon", "lng", "long", "dlugosc", "długość", "bujur"),
    "address": ("address", "adres", "alamat"),
    "hours": ("opening_hours", "hours", "opening hours", "godziny", "godziny otwarcia", "jam buka", "jam_buka"),
    "note": ("note", "notes", "uwagi", "catatan"),
}


class ImportProblem(Exception):
    """The file as a whole cannot be imported (missing columns, unreadable)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    name: str
    latitude: str = ""
    longitude: str = ""
    address: str = ""
    hours: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Placed:
    line: int
    spec: PointSpec


@dataclass(frozen=True, slots=True)
class Unplaced:
    line: int
    name: str
    reason: str


def read_rows(path: Path) -> list[Row]:
    try:
        table = read_table(path)
    except UnreadableFile as exc:
        raise ImportProblem(str(exc)) from None
    where = table.columns(COLUMNS)
    if where["name"] is None or (where["address"] is None and (where["latitude"] is None or where["longitude"] is None)):
        raise ImportProblem(f"{path} needs a name column and either an address column or latitude and longitude columns (it has: {', '.join(table.header)})")
    return [
        Row(line, **{field: cell(record[index]) if index is not None and index < len(record) else "" for field, index in where.items()})
        for line, record in table.records
    ]


def _number(text: str) -> float:
    return float(text.replace(",", ".").replace("−", "-"))


def place(
    row: Row, *, db: sqlite_utils.Database, community: Community, geocoder: Geocoder | None, now: datetime
) -> Placed | Unplaced:
    """Check one row, then find where it is: its coordinates, or its address geocoded (last, so
    that a row with another mistake never costs a request to Nominatim)."""
    t = translator("en")
    try:
        hours = parse_hours(row.hours) if row.hours else None
    except HoursError as error:
        return Unplaced(row.line, row.name, "opening hours: " + texts.hours_error(t, error))
    try:
        checked = PointSpec.build(row.name, 0.0, 0.0, address=row.address or None, hours=hours, note=row.note or None)
        if row.latitude or row.longitude:
            try:
                numbers = _number(row.latitude), _number(row.longitude)
            except ValueError:
                return Unplaced(row.line, row.name, f"“{row.latitude}, {row.longitude}” are not coordinates")
            latitude, longitude = check_coordinates(*numbers)
        elif not row.address:
            return Unplaced(row.line, row.name, "neither an address nor coordinates")
        elif geocoder is None:
            return Unplaced(row.line, row.name, "no coordinates, and addresses cannot be looked up: set LOCALBOT_GEOCODER__USER_AGENT")
        else:
            try:
                found = geocode.resolve(db, geocoder, row.address, language=community.language, now=now)
            except GeocodingFailed as exc:
                return Unplaced(row.line, row.name, f"the geocoder did not answer ({exc}); try again later or give coordinates")
            if found is None:
                return Unplaced(row.line, row.name, f"address not found: “{row.address}”")
            latitude, longitude = found.latitude, found.longitude
    except PointError as error:
        return Unplaced(row.line, row.name, texts.point_error(t, error))
    return Placed(row.line, replace(checked, latitude=latitude, longitude=longitude))


def save(
    db: sqlite_utils.Database, community: Community, placed: list[Placed], *, update: bool, now: datetime
) -> tuple[int, int, list[Unplaced]]:
    """Write the placed rows in one transaction; returns (added, updated, refused)."""
    fresh: list[Placed] = []
    refused: list[Unplaced] = []
    updated = 0
    seen: dict[str, int] = {}
    with db.atomic():
        for item in placed:
            key = name_key(item.spec.name)
            if key in seen:
                refused.append(Unplaced(item.line, item.spec.name, f"the same name as row {seen[key]}"))
                continue
            seen[key] = item.line
            existing = store.point_by_name(db, community.id, item.spec.name)
            if existing is None:
                fresh.append(item)
            elif update:
                store.update_point(db, existing, replace(item.spec, name=existing.name), now=now)  # its spelling stays
                updated += 1
            else:
                refused.append(Unplaced(item.line, item.spec.name, f"a pickup point called “{existing.name}” already exists (--update changes it)"))
        store.add_points(db, community.id, [item.spec for item in fresh], created_by=None, now=now)
    return len(fresh), updated, refused


def choose_community(db: sqlite_utils.Database, name: str | None) -> Community:
    if name:
        found = community_store.community_by_name(db, name)
        if found is None:
            raise ImportProblem(f"no community named {name!r}")
        return found
    communities = community_store.list_communities(db)
    if not communities:
        raise ImportProblem("there is no community yet: use the bot in your group first (or try `localbot shell`)")
    if len(communities) > 1:
        raise ImportProblem(f"this database has several communities; choose one with --community: {', '.join(c.name for c in communities)}")
    return communities[0]
