"""Streaming CSV, JSON, XLSX and GeoJSON writers.

Rows arrive as an iterator and leave one at a time, so memory stays flat however many votes there
are. Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is prefixed with an apostrophe in CSV and XLSX: a member's answer must never
execute in the organiser's Excel (OWASP "CSV injection"). XLSX is written with openpyxl's
write-only workbook, which streams rows to a temporary file instead of keeping a sheet in memory;
it is the one binary format (:data:`BINARY`), so its writer takes a binary stream. GeoJSON is for
map tools (uMap, QGIS).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, BinaryIO, TextIO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: How each format is announced to a messenger (the format's name is also its file extension).
MIME_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


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
    # CRLF as RFC 4180 says: the csv module then quotes any field holding a CR or an LF.
    writer = csv.writer(out, lineterminator="\r\n")
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


def _xlsx_value(value: Any) -> Any:
    """A cell value: formulas neutralised, characters XML cannot hold dropped, no time zones."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", neutralise(value))
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def write_xlsx(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    out: BinaryIO,
    *,
    on_row: Callable[[], None] | None = None,
    sheet: str = "export",
) -> int:
    """One worksheet: a header row, then a row per item; numbers and true/false stay typed."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.freeze_panes = "A2"
    worksheet.append(list(columns))
    count = 0
    for row in rows:
        worksheet.append([_xlsx_value(row.get(c)) for c in columns])
        count += 1
        if on_row:
            on_row()
    workbook.save(out)
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


WRITERS: dict[str, Callable[..., int]] = {"csv": write_csv, "json": write_json, "xlsx": write_xlsx, "geojson": write_geojson}
#: Formats whose writer takes a binary stream.
BINARY = frozenset({"xlsx"})
