"""Files an export points at (survey photos): where they are, and a link an organiser can open.

The database stores a photo by its path relative to the database's folder (decision 29), which
means nothing to a spreadsheet opened anywhere else. An export therefore turns each stored path
into a :class:`Link`: by default the absolute ``file:`` URI of the photo on the computer that
keeps the database; with ``copy_to`` the photo is copied into that folder and the link points at
the copy, relative to ``link_from`` (the export file's folder) when the copy lies under it, so the
export and its photos can be zipped and sent together. CSV and JSON carry the link's text; XLSX
makes the cell a hyperlink (:func:`localbot.export.writers.write_xlsx`).
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from localbot.privacy.model import stored_file


class Link(str):
    """A cell's text that is also a link to ``target`` (a ``file:`` URI or a relative URI)."""

    target: str

    def __new__(cls, text: str, target: str | None = None) -> Link:
        link = super().__new__(cls, text)
        link.target = target if target is not None else text
        return link


def database_folder(db: sqlite_utils.Database) -> Path | None:
    """The folder of the database file ``db`` is connected to (None in memory)."""
    try:
        found = db.execute("PRAGMA database_list").fetchall()
    except sqlite3.Error:
        return None
    for _seq, name, path in found:
        if name == "main" and path:
            return Path(path).resolve().parent
    return None


@dataclass
class Files:
    """How one export links the files its rows name; counts what it linked and copied."""

    #: The database's folder: stored relative paths are relative to it.
    base: Path | None
    #: Copy each linked file into this folder and link the copy.
    copy_to: Path | None = None
    #: Link copies relative to this folder (the export file's) when they lie under it.
    link_from: Path | None = None
    linked: int = 0
    copied: int = 0
    #: Files the database names that are not on disk (linked all the same, never copied).
    missing: list[Path] = field(default_factory=list)

    def link(self, stored: str) -> Link | str:
        """The link for a file stored as ``stored``; the stored text itself when it cannot be
        placed (a relative path with no database folder to resolve it against)."""
        path = stored_file(self.base, stored)
        if path is None:
            return stored
        path = path.resolve()
        self.linked += 1
        if not path.is_file():
            self.missing.append(path)
            return Link(path.as_uri())
        if self.copy_to is None:
            return Link(path.as_uri())
        self.copy_to.mkdir(parents=True, exist_ok=True)
        copy = (self.copy_to / path.name).resolve()
        if copy != path:
            shutil.copy2(path, copy)
        self.copied += 1
        if self.link_from is not None:
            try:
                relative = copy.relative_to(self.link_from.resolve()).as_posix()
            except ValueError:
                pass
            else:
                return Link(relative, quote(relative))
        return Link(copy.as_uri())
