"""What ``localbot survey validate`` and ``localbot survey report`` do, apart from argument parsing.

Kept out of :mod:`localbot.cli` so the click layer stays thin and this logic can be tested and
reused (a dashboard could serve the same HTML report).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from localbot.community import store as community_store
from localbot.i18n import translator
from localbot.surveys import store
from localbot.surveys.charts import all_charts
from localbot.surveys.definition import StudyError, load
from localbot.surveys.report import build, to_html


def validate(paths: list[Path]) -> tuple[bool, list[str]]:
    """Check study files; every problem as ``file:line: field: message``. True if all are usable."""
    ok = True
    lines: list[str] = []
    for path in paths:
        if not path.is_file():
            ok = False
            lines.append(f"{path}: no such file")
            continue
        try:
            study, warnings = load(path)
        except StudyError as error:
            ok = False
            errors = [p for p in error.problems if not p.warning]
            lines += [str(p) for p in error.problems]
            lines.append(f"{path}: {len(errors)} error(s); not usable")
            continue
        lines += [str(p) for p in warnings]
        what = f"diary of {study.diary.days} days × {study.diary.prompts_per_day} prompts" if study.diary else "one-off survey"
        lines.append(f"{path}: OK — {study.name}: {what}, {len(study.questions)} questions, languages {', '.join(study.languages)}")
    return ok, lines


class ReportError(Exception):
    """Nothing to report on (unknown name, ambiguous community); the message says what to do."""


def find_run(db: sqlite_utils.Database, ref: str, community: str | None) -> store.Run:
    """The run a study name or number names: the newest, in ``community`` if given."""
    community_id = None
    if community:
        found = community_store.community_by_name(db, community)
        if found is None:
            raise ReportError(f"no community named {community!r}")
        community_id = found.id
    runs = store.find_runs(db, community_id, ref)
    if not runs:
        raise ReportError(f"no survey {ref!r} has been started" + (f" in {community!r}" if community else ""))
    if community_id is None and len({r.community_id for r in runs}) > 1:
        raise ReportError(f"{ref!r} ran in several communities; choose one with --community")
    return runs[0]


@dataclass(frozen=True)
class Rendered:
    content: str
    #: Chart files written next to ``--out`` (JSON reports), by chart name.
    charts: dict[str, Path]


def render(db: sqlite_utils.Database, run: store.Run, *, fmt: str, language: str | None, out: Path | None) -> Rendered:
    """The habit map as JSON or self-contained HTML, in ``language`` (default: the community's)."""
    community = community_store.get_community(db, run.community_id)
    t = translator(language or (community.language if community else None))
    habit = build(db, run, t.language)
    charts = all_charts(t, habit)
    if fmt == "html":
        return Rendered(to_html(t, habit, charts), {})
    written: dict[str, Path] = {}
    data = habit.to_json()
    if out is not None:
        for name, png in charts.items():
            path = out.with_name(f"{out.stem}-{name}.png")
            path.write_bytes(png)
            written[name] = path
        data["charts"] = {name: path.name for name, path in written.items()}
    return Rendered(json.dumps(data, ensure_ascii=False, indent=2) + "\n", written)
