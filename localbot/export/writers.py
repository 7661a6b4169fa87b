"""Streaming CSV, JSON and GeoJSON writers.

Rows arrive as an iterator and leave one at a time, so memory stays flat however many votes there
are. Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is prefixed with an apostrophe in CSV: a member's answer must never execute in
the organiser's Excel (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    out: TextIO,
    *,
    on_row: Callable[[], None] | None = None,
) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([neutralise(row.get(c, "")) for c in columns])
        count += 1
        if on_row:
            on_row()
    return count


def write_json(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    out: TextIO,
    *,
    on_row: Callable[[], None] | None = None,
) -> int:
    """A JSON array of objects, written row by row."""
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False))
        count += 1
        if on_row:
            on_row()
    out.write("\n]\n" if count else "]\n")
    return count


def write_geojson(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    out: TextIO,
    *,
    on_row: Callable[[], None] | None = None,
) -> int:
    """A GeoJSON FeatureCollection (RFC 7946) for uMap, QGIS or geojson.io, written row by row.

    Each row's ``latitude`` and ``longitude`` make a Point (longitude first, as the format says);
    the other columns are the feature's properties.
    """
    out.write('{"type": "FeatureCollection", "features": [')
    count = 0
    for row in rows:
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]},
            "properties": {c: row.get(c) for c in columns if c not in ("latitude", "longitude")},
        }
        out.write(",\n" if count else "\n")
        out.write(json.dumps(feature, ensure_ascii=False))
        count += 1
        if on_row:
            on_row()
    out.write("\n]}\n")
    return count


WRITERS: dict[str, Callable[..., int]] = {"csv": write_csv, "json": write_json, "geojson": write_geojson}
