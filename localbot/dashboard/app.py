"""Datasette over the bot's SQLite file: read-only, only the catalogue's views and queries.

Datasette opens a file it may see change (the bot keeps writing) with ``mode=ro`` connections, so
the dashboard cannot write to it. Permissions do the rest: arbitrary SQL is off
(``allow_sql: false``), every table and view that is not in the catalogue is denied
(``allow: false``), and the file cannot be downloaded. So the raw tables that could undo an
anonymous vote's anonymity (``poll_votes``, ``outbox``, ``conversations``…) are unreachable, in the
pages, the JSON API and the CSV export alike.
"""

from __future__ import annotations

import asyncio
import sqlite3
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localbot.dashboard.catalogue import QUERIES, VIEWS

if TYPE_CHECKING:
    from datasette.app import Datasette

SETTINGS = {
    "default_allow_sql": False,
    "allow_download": False,
    "suggest_facets": False,
    "default_page_size": 100,
    "max_returned_rows": 5000,
}


class NotInstalled(RuntimeError):
    """The optional dependencies are missing: ``pip install 'localbot[dashboard]'``."""


def database_name(path: Path) -> str:
    """The name Datasette gives the file (its stem): the path segment of every page."""
    return path.stem


def objects(path: Path) -> list[str]:
    """Every table and view in the file, read without writing (the bot may be running)."""
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
    finally:
        conn.close()


def metadata(path: Path) -> dict[str, Any]:
    """Datasette metadata: labels for the views, canned queries, everything else denied."""
    shown = {view.name for view in VIEWS}
    tables: dict[str, Any] = {name: {"allow": False} for name in objects(path) if name not in shown}
    for view in VIEWS:
        entry: dict[str, Any] = {"title": view.title, "description": view.description}
        if view.sort:
            entry["sort_desc" if view.sort in ("created", "time") else "sort"] = view.sort
        if view.facets:
            entry["facets"] = list(view.facets)
        if view.columns:
            entry["columns"] = dict(view.columns)
        if view.source:
            entry |= {"source": view.source, "source_url": view.source_url}
        tables[view.name] = entry
    return {
        "title": "localbot",
        "description": "What the bot keeps, read-only. Anonymous votes appear only as counts.",
        "databases": {
            database_name(path): {
                "description_html": contents(database_name(path)),
                "allow_sql": False,
                "tables": tables,
                "queries": {q.name: {"sql": q.sql, "title": q.title, "description": q.description} for q in QUERIES},
            }
        },
        "plugins": {"datasette-cluster-map": {"latitude_column": "latitude", "longitude_column": "longitude"}},
    }


def contents(database: str) -> str:
    """The database page's own table of contents: every view by its label, then the queries."""
    items = [(f"/{database}/{v.name}", v.title, v.description) for v in VIEWS] + [
        (f"/{database}/{q.name}", q.title, q.description) for q in QUERIES
    ]
    rows = "".join(f'<li><a href="{escape(url)}">{escape(title)}</a>: {escape(text)}</li>' for url, title, text in items)
    return f"<ul>{rows}</ul>"


def build(path: Path) -> Datasette:
    try:
        from datasette.app import Datasette
    except ImportError as exc:
        raise NotInstalled("the dashboard needs the optional dependencies: pip install 'localbot[dashboard]'") from exc
    return Datasette([str(path)], metadata=metadata(path), settings=SETTINGS)


def serve(path: Path, *, host: str, port: int) -> None:
    """Serve until interrupted (uvicorn, as ``datasette serve`` does)."""
    import uvicorn

    datasette = build(path)
    asyncio.run(datasette.invoke_startup())
    uvicorn.run(datasette.app(), host=host, port=port, log_level="info", lifespan="on")
