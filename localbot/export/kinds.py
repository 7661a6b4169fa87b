"""What can be exported: each kind names its columns, a row iterator and the formats it offers.

``localbot export KIND`` and the organisers' ``/export KIND`` in the chat both read this registry,
so a feature adds one :class:`ExportKind` to :data:`KINDS` and gets both, in every format it lists.
Rows are streamed (``rows`` yields dicts); ``count``, when given, lets a terminal show a progress bar.
A kind's ``rows`` must keep anonymous data anonymous: the export is the organiser's copy of the data.
A kind whose rows name files (survey photos) says so with ``files``; its ``rows`` then also take
``files=`` (:class:`~localbot.export.files.Files`), which turns each stored path into a link the
organiser can open, and copies the files next to the export when asked.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import sqlite_utils

from localbot.community import export as member_export
from localbot.export.files import Files, database_folder
from localbot.export.writers import BINARY, WRITERS, XLSX_MAX_ROWS, TooManyRows
from localbot.i18n import N_
from localbot.maps import store as point_store
from localbot.polls import store as poll_store
from localbot.surveys import store as survey_store
from localbot.tastings import store as tasting_store

#: Every kind offers these; kinds with coordinates add ``geojson``.
TABLE_FORMATS = ("csv", "xlsx", "json")


@dataclass(frozen=True)
class ExportKind:
    name: str
    columns: tuple[str, ...]
    #: ``rows(db, community_id=…, since=…)`` streams dicts with (at least) ``columns``.
    rows: Callable[..., Iterator[dict[str, Any]]]
    formats: tuple[str, ...] = TABLE_FORMATS
    #: ``count(db, community_id=…, since=…)``: how many rows ``rows`` will yield (for progress).
    count: Callable[..., int] | None = None
    #: What it holds, for the chat (marked with ``N_``, translated when shown).
    label: str = ""
    #: Its rows name files (photos): ``rows`` takes ``files=`` and links them through it.
    files: bool = False


KINDS: dict[str, ExportKind] = {
    "polls": ExportKind(
        "polls", poll_store.EXPORT_COLUMNS, poll_store.export_rows, count=poll_store.export_count, label=N_("Poll votes")
    ),
    "surveys": ExportKind(
        "surveys", survey_store.EXPORT_COLUMNS, survey_store.export_rows, count=survey_store.export_count, label=N_("Survey answers"),
        files=True,
    ),
    "points": ExportKind(
        "points", point_store.EXPORT_COLUMNS, point_store.export_rows, formats=(*TABLE_FORMATS, "geojson"), label=N_("Pickup points")
    ),
    "tastings": ExportKind(
        "tastings", tasting_store.EXPORT_COLUMNS, tasting_store.export_rows, count=tasting_store.export_count, label=N_("Tasting answers")
    ),
    "members": ExportKind(
        "members", member_export.EXPORT_COLUMNS, member_export.export_rows, count=member_export.export_count, label=N_("Members")
    ),
}


def write_export(
    db: sqlite_utils.Database,
    kind: ExportKind,
    fmt: str,
    out: BinaryIO,
    *,
    community_id: int | None = None,
    since: datetime | None = None,
    on_row: Callable[[], None] | None = None,
    xlsx_max_rows: int = XLSX_MAX_ROWS,
    files: Files | None = None,
) -> int:
    """Stream ``kind`` as ``fmt`` into the binary stream ``out`` (text formats as UTF-8); returns
    the number of rows written. The caller owns ``out``.

    An XLSX export longer than a worksheet holds raises :class:`TooManyRows` with nothing written:
    at once when the kind can count its rows, else when the rows run over.

    Files the rows name are linked through ``files`` (by default: absolute ``file:`` URIs next to
    the database ``db`` is connected to).
    """
    if fmt not in kind.formats or fmt not in WRITERS:
        raise ValueError(f"{kind.name} cannot be exported as {fmt}")
    if fmt == "xlsx" and kind.count is not None and kind.count(db, community_id=community_id, since=since) >= xlsx_max_rows:
        raise TooManyRows(xlsx_max_rows - 1)
    if kind.files:
        rows = kind.rows(db, community_id=community_id, since=since, files=files or Files(database_folder(db)))
    else:
        rows = kind.rows(db, community_id=community_id, since=since)
    if fmt == "xlsx":
        return WRITERS[fmt](rows, kind.columns, out, on_row=on_row, max_rows=xlsx_max_rows)
    if fmt in BINARY:
        return WRITERS[fmt](rows, kind.columns, out, on_row=on_row)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        return WRITERS[fmt](rows, kind.columns, text, on_row=on_row)
    finally:
        text.flush()
        text.detach()
