"""Streaming CSV, JSON, XLSX and GeoJSON writers.

Rows arrive as an iterator and leave one at a time, so memory stays flat however many votes there
are. Text that a spreadsheet would run as a formula (see :func:`looks_like_formula`) is prefixed with
an apostrophe in CSV and XLSX: a member's answer, or a name from their messenger profile, must never
execute in the organiser's Excel (OWASP "CSV injection"). JSON keeps text exactly as it was typed: it
is data for programs, not a sheet. XLSX is written with openpyxl's
write-only workbook, which streams rows to a temporary file instead of keeping a sheet in memory;
it is the one binary format (:data:`BINARY`), so its writer takes a binary stream. GeoJSON is for
map tools (uMap, QGIS).
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any, BinaryIO, TextIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from localbot.export.files import Link

#: What starts a formula once blanks and invisible characters are skipped (full-width forms too,
#: which East Asian versions of Excel take for the ASCII ones).
_FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")

#: Rows one Excel worksheet holds, the header included (Excel's specifications and limits).
XLSX_MAX_ROWS = 1_048_576


class TooManyRows(ValueError):
    """More rows than one XLSX worksheet holds. Nothing has been written: CSV has no such limit."""

    def __init__(self, fits: int) -> None:
        super().__init__(f"an XLSX worksheet holds at most {fits} rows under its header")
        #: How many rows would have fitted under the header.
        self.fits = fits


#: How each format is announced to a messenger (the format's name is also its file extension).
MIME_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


def looks_like_formula(text: str) -> bool:
    """Would a spreadsheet run ``text`` as a formula? It does if the text starts with a tab or a
    carriage return, or if its first character that is neither blank nor invisible (a control or
    format character such as U+0001 or a zero-width space) is ``=``, ``+``, ``-`` or ``@``: a
    reader may trim or drop what comes before it (XML cannot even hold most control characters)."""
    if text.startswith(("\t", "\r")):
        return True
    for char in text:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf"):
            continue
        return char in _FORMULA_SIGNS
    return False


def neutralise(value: Any) -> Any:
    """Formula-like text with an apostrophe before it (the spreadsheets' own "this is text" mark)."""
    if isinstance(value, str) and looks_like_formula(value):
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
    """A cell value: characters XML cannot hold dropped, *then* formulas neutralised (the other way
    round, ``"\\x01=HYPERLINK(…)"`` would pass the check and lose its ``\\x01`` afterwards), no time zones."""
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _xlsx_cell(worksheet: Any, value: Any) -> Any:
    """A :class:`Link` becomes a hyperlink cell (when its text needs no cleaning); anything else
    a plain value."""
    shown = _xlsx_value(value)
    if isinstance(value, Link) and shown == str(value):
        cell = WriteOnlyCell(worksheet, value=shown)
        cell.hyperlink = value.target
        cell.style = "Hyperlink"
        return cell
    return shown


def write_xlsx(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    out: BinaryIO,
    *,
    on_row: Callable[[], None] | None = None,
    sheet: str = "export",
    max_rows: int = XLSX_MAX_ROWS,
) -> int:
    """One worksheet: a header row, then a row per item; numbers and true/false stay typed, and
    :class:`~localbot.export.files.Link` values are hyperlinks.

    More rows than a worksheet holds (``max_rows``, the header included) raise :class:`TooManyRows`
    before anything reaches ``out``: a sheet Excel cuts short, or data spread over sheets that R
    and most readers take only the first of, would look complete and not be.
    """
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.freeze_panes = "A2"
    worksheet.append(list(columns))
    count = 0
    for row in rows:
        if count + 1 >= max_rows:
            _discard(worksheet)
            raise TooManyRows(max_rows - 1)
        worksheet.append([_xlsx_cell(worksheet, row.get(c)) for c in columns])
        count += 1
        if on_row:
            on_row()
    workbook.save(out)
    return count


def _discard(worksheet: Any) -> None:
    """Close a write-only sheet that will not be saved and delete the temporary file its rows went
    to (openpyxl would otherwise keep it until the process ends)."""
    worksheet.close()
    writer = getattr(worksheet, "_writer", None)
    if writer is not None:
        writer.cleanup()


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
