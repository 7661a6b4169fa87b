"""What ``localbot export KIND`` can export: each kind names its columns and a row iterator.

Features add their kinds here; the command, the file handling and the formats are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from localbot.maps import store as point_store
from localbot.polls import store as poll_store
from localbot.surveys import store as survey_store
from localbot.tastings import store as tasting_store


@dataclass(frozen=True)
class ExportKind:
    name: str
    columns: tuple[str, ...]
    #: ``rows(db, community_id=…, since=…)`` streams dicts with (at least) ``columns``.
    rows: Callable[..., Iterator[dict[str, Any]]]
    formats: tuple[str, ...] = ("csv", "json")


def _poll_rows(db: sqlite_utils.Database, *, community_id: int | None, since: datetime | None) -> Iterator[dict[str, Any]]:
    return poll_store.export_rows(db, community_id=community_id, since=since)


def _survey_rows(db: sqlite_utils.Database, *, community_id: int | None, since: datetime | None) -> Iterator[dict[str, Any]]:
    return survey_store.export_rows(db, community_id=community_id, since=since)


KINDS: dict[str, ExportKind] = {
    "polls": ExportKind("polls", poll_store.EXPORT_COLUMNS, _poll_rows),
    "surveys": ExportKind("surveys", survey_store.EXPORT_COLUMNS, _survey_rows, formats=("csv", "xlsx", "json")),
    "points": ExportKind("points", point_store.EXPORT_COLUMNS, point_store.export_rows, formats=("csv", "xlsx", "json", "geojson")),
    "tastings": ExportKind("tastings", tasting_store.EXPORT_COLUMNS, tasting_store.export_rows, formats=("csv", "xlsx", "json")),
}
