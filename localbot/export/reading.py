"""Reading back a spreadsheet people edited: the other half of the CSV writer.

Files come from Excel, LibreOffice or R: UTF-8 with or without a byte-order mark, separated by
commas, semicolons or tabs. A cell our export neutralised (an apostrophe before text a spreadsheet
would run as a formula) reads back as it was written, so an export imports again unchanged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from localbot.export.writers import looks_like_formula


class UnreadableFile(ValueError):
    """The file cannot be read as a table at all; the message says why, naming the file."""


def cell(value: str | None) -> str:
    """A cell as written, without the apostrophe our CSV export puts before formula-like text."""
    value = (value or "").strip()
    if value.startswith("'") and looks_like_formula(value[1:]):
        return value[1:]
    return value


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    #: Each non-empty record with the line it starts on (the header is line 1).
    records: list[tuple[int, list[str]]]

    def columns(self, wanted: dict[str, tuple[str, ...]]) -> dict[str, int | None]:
        """Where each wanted column is: by any of its names, ignoring case (None: absent)."""
        folded = [h.strip().casefold() for h in self.header]
        return {field: next((folded.index(n) for n in names if n in folded), None) for field, names in wanted.items()}


def read_table(path: Path) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"cannot read {path}: {exc}") from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)  # a quoted cell may hold line breaks
    header = next(reader, None)
    if not header:
        raise UnreadableFile(f"{path} is empty")
    records: list[tuple[int, list[str]]] = []
    first = reader.line_num + 1
    for record in reader:
        if any(c.strip() for c in record):
            records.append((first, record))
        first = reader.line_num + 1
    return Table(header, records)
