"""Paper forms into a tasting: ``localbot tasting import ID FILE.csv``.

The file is in the long format ``localbot export tastings`` writes: ``participant, session,
product, code, position, question, value`` (extra columns such as ``tasting`` are allowed; rows
of another tasting are skipped). So a tester can export what came in by chat, add the paper
forms, and import the file: rows already stored with the same value change nothing.

The import is all or nothing: every row is checked first, and one problem (a code that does not
exist, a product that does not match its code, a liking of 10, a session that is not there, a
value that would overwrite what a member answered in the chat) stops the whole file, with every
problem listed by line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlite_utils

from localbot.export.reading import UnreadableFile, cell, read_table
from localbot.i18n import translator
from localbot.tastings import store
from localbot.tastings.model import TastingError, parse_value
from localbot.tastings.texts import tasting_error
from localbot.text import whole_number

COLUMNS: dict[str, tuple[str, ...]] = {
    "participant": ("participant",),
    "session": ("session",),
    "product": ("product",),
    "code": ("code",),
    "position": ("position",),
    "question": ("question",),
    "value": ("value",),
    "tasting": ("tasting",),
}
REQUIRED = ("participant", "session", "code", "question", "value")
MAX_LABEL = 40


class ImportProblem(Exception):
    """The file as a whole cannot be imported (unreadable, columns missing)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    participant: str
    session: int
    product_id: int
    position: int | None
    question: str
    value: str | None


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    participants: int = 0
    other_tastings: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check(table_row: dict[str, str], line: int, tasting: store.Tasting, products: list[store.Product], sessions: dict[int, store.Session]) -> Row | str:
    t = translator("en")
    label = table_row["participant"]
    if not label:
        return "participant is empty"
    if len(label) > MAX_LABEL:
        return f"participant “{label[:20]}…” is longer than {MAX_LABEL} characters"
    if whole_number(table_row["session"]) not in sessions:
        known = ", ".join(str(n) for n in sorted(sessions))
        return f"session “{table_row['session']}” is not a session of tasting #{tasting.number} (its sessions: {known})"
    code_text = table_row["code"]
    product = next((p for p in products if p.code == whole_number(code_text)), None)
    if product is None:
        return tasting_error(t, TastingError("unknown_code", code=code_text))
    named = table_row["product"]
    if named and named.casefold() not in (product.name.casefold(), product.key):
        return f"product “{named}” does not match code {product.code}, which is “{product.name}”"
    position = None
    if table_row["position"]:
        position = whole_number(table_row["position"])
        if position is None or not 1 <= position <= len(products):
            return f"position “{table_row['position']}” must be a number from 1 to {len(products)}"
    try:
        value = parse_value(tasting.definition, table_row["question"], table_row["value"], products=len(products))
    except TastingError as error:
        return tasting_error(t, error)
    return Row(line, label, int(table_row["session"]), product.id, position, table_row["question"], value)


def import_file(db: sqlite_utils.Database, tasting: store.Tasting, path: Path, *, now: datetime) -> ImportResult:
    """Check every row, then (only if all are fine) store them in one transaction."""
    try:
        table = read_table(path)
    except UnreadableFile as exc:
        raise ImportProblem(str(exc)) from None
    where = table.columns(COLUMNS)
    missing = [name for name in REQUIRED if where[name] is None]
    if missing:
        raise ImportProblem(f"{path} needs the columns {', '.join(REQUIRED)} (missing: {', '.join(missing)}); "
                            "`localbot export tastings` writes the format")
    products = store.products(db, tasting.id)
    sessions = {s.number: s for s in store.sessions(db, tasting.id)}
    result = ImportResult()
    checked: list[Row] = []
    for line, record in table.records:
        values = {name: cell(record[index]) if index is not None and index < len(record) else "" for name, index in where.items()}
        if values["tasting"] and values["tasting"].lstrip("#") not in (str(tasting.number), tasting.name):
            result.other_tastings += 1
            continue
        row = _check(values, line, tasting, products, sessions)
        if isinstance(row, str):
            result.problems.append((line, row))
        else:
            checked.append(row)
    _consistent(db, tasting, checked, sessions, result)
    if result.problems:
        result.problems.sort()
        return result
    with db.atomic():
        for row in checked:
            participant = store.participant_by_label(db, tasting.id, row.participant)
            existing = store.answers(db, participant.id).get((row.product_id, row.question)) if participant else None
            if existing is not None and existing.value == row.value:
                result.unchanged += 1
                continue
            if participant is None:
                participant = store.add_paper_participant(db, tasting.id, sessions[row.session].id, row.participant, now)
                result.participants += 1
            store.save_answer(db, participant.id, row.product_id, row.question, row.value, position=row.position, source="paper", now=now)
            if existing is None:
                result.added += 1
            else:
                result.updated += 1
    return result


def _consistent(db: sqlite_utils.Database, tasting: store.Tasting, checked: list[Row], sessions: dict[int, store.Session], result: ImportResult) -> None:
    """Problems between rows, and with what is stored: one session per participant, one answer
    per participant, code and question, and never overwriting an answer given in the chat."""
    seen: dict[str, int] = {}
    repeats = Counter((row.participant, row.product_id, row.question) for row in checked)
    for row in checked:
        if seen.setdefault(row.participant, row.session) != row.session:
            result.problems.append((row.line, f"participant {row.participant} is in session {seen[row.participant]} on an earlier line"))
            continue
        if repeats[(row.participant, row.product_id, row.question)] > 1:
            result.problems.append((row.line, f"participant {row.participant} answers {row.question} for this code more than once"))
            continue
        participant = store.participant_by_label(db, tasting.id, row.participant)
        if participant is None:
            continue
        if participant.session_id != sessions[row.session].id:
            stored = next(s.number for s in sessions.values() if s.id == participant.session_id)
            result.problems.append((row.line, f"participant {row.participant} is in session {stored}, not {row.session}"))
            continue
        existing = store.answers(db, participant.id).get((row.product_id, row.question))
        if existing is not None and existing.source == "chat" and existing.value != row.value:
            result.problems.append((row.line, f"participant {row.participant} answered {row.question} in the chat with “{existing.value}”; "
                                              f"the file's “{row.value}” would overwrite it"))
