"""Study files: TOML in, a checked :class:`~localbot.surveys.model.Study` out, or every problem at once.

A study file is written by a person (an organiser, an FMCG tester), so the validator reports all
problems in one pass, each as ``file:line: field: message``, and never a traceback. Line numbers
and the typed checks come from :mod:`localbot.tomlfile`, shared with tasting files. Problems that
make the study unusable are errors; gaps that have a sensible fallback (a missing Polish text falls back to
the study's first language) are warnings.

The file format is documented in the README ("Surveys and diaries") and shown by the two examples
in ``config/surveys/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

from localbot.i18n import SUPPORTED
from localbot.surveys.model import (
    WEEKDAYS,
    Choice,
    Condition,
    Diary,
    Kind,
    Mode,
    Op,
    Question,
    Roles,
    Study,
    Window,
)
from localbot.surveys.schedule import WindowError, needed, parse_window, window_bounds
from localbot.tomlfile import MISSING as _MISSING
from localbot.tomlfile import Checker, Localized, Problem
from localbot.tomlfile import Path as KeyPath
from localbot.when import parse_duration

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
OPTION_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
RESERVED_VALUES = {"skip", "done"}
MAX_QUESTIONS = 60
MAX_OPTIONS = 20
MAX_SCALE_POINTS = 11
CELL_HOURS = (1, 2, 3, 4, 6, 8, 12)

_COMMON = {"id", "kind", "text", "hint", "required", "show_if", "once"}
_BY_KIND: dict[Kind, set[str]] = {
    Kind.SINGLE: {"options"},
    Kind.MULTIPLE: {"options", "min_picks", "max_picks"},
    Kind.SCALE: {"min", "max", "labels"},
    Kind.NUMBER: {"min", "max", "integer", "unit"},
    Kind.TIME: set(),
    Kind.WEEKDAY: {"multiple", "min_picks", "max_picks"},
    Kind.PLACE: {"options", "location"},
    Kind.TEXT: {"max_length"},
    Kind.PHOTO: set(),
}
_ROLE_KINDS: dict[str, set[Kind]] = {
    "time": {Kind.TIME},
    "weekday": {Kind.WEEKDAY},
    "place": {Kind.PLACE, Kind.SINGLE, Kind.MULTIPLE},
    "pairing": {Kind.SINGLE, Kind.MULTIPLE, Kind.TEXT},
    "deterrents": {Kind.SINGLE, Kind.MULTIPLE, Kind.TEXT},
    "convincers": {Kind.SINGLE, Kind.MULTIPLE, Kind.TEXT},
}
class StudyError(ValueError):
    """A study file that cannot be used; ``problems`` lists everything wrong (and the warnings)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if not p.warning]
        super().__init__("\n".join(str(p) for p in errors))


class _Checker(Checker):
    noun = "study"

    def __init__(self, source: str, filename: str) -> None:
        super().__init__(source, filename)
        #: Every question id written in the file, valid or not, to tell "later" from "unknown".
        self.all_ids: set[str] = set()

    # --- the file ---

    def check(self, name_hint: str | None) -> Study | None:
        data = self.parse()
        if data is None:
            return None
        raw_questions = data.get("questions")
        self.all_ids = {
            q["id"] for q in (raw_questions if isinstance(raw_questions, list) else []) if isinstance(q, dict) and isinstance(q.get("id"), str)
        }
        self.known(data, (), {"survey", "questions", "diary", "report"}, "a study file")
        head = self.get(data, (), "survey", dict, required=True, default={})
        path: KeyPath = ("survey",)
        self.known(head, path, {"name", "mode", "languages", "title", "intro", "thanks", "closes_after"}, "[survey]")
        self.language_list(head, path, SUPPORTED)

        name = self.get(head, path, "name", str, default=name_hint)
        if name is None or not NAME.match(name):
            shown = name if name is not None else "(none)"
            self.error((*path, "name"), f"“{shown}” is not a usable name: use 1-40 lower-case letters, digits, - or _ (it is how organisers start the study)")
        mode_text = self.get(head, path, "mode", str, required=True, default="once")
        try:
            mode = Mode(mode_text)
        except ValueError:
            self.error((*path, "mode"), f"must be “once” or “diary”, not “{mode_text}”")
            mode = Mode.ONCE
        title = self.text(head, path, "title", required=True)
        intro = self.text(head, path, "intro")
        thanks = self.text(head, path, "thanks")
        closes_after = None
        closes_text = self.get(head, path, "closes_after", str)
        if closes_text is not None:
            closes_after = parse_duration(closes_text)
            if closes_after is None or not timedelta() < closes_after <= timedelta(days=366):
                self.error((*path, "closes_after"), f"“{closes_text}” is not a duration such as 14d, 48h or 2w (at most a year)")
                closes_after = None

        questions = self.questions(data, mode)
        diary = self.diary(data, mode)
        roles = self.roles(data, questions, mode, diary)
        if self.failed or title is None:
            return None
        return Study(
            name=str(name),
            mode=mode,
            languages=self.languages,
            title=title,
            questions=tuple(questions),
            intro=intro,
            thanks=thanks,
            diary=diary,
            roles=roles,
            closes_after=closes_after,
        )

    # --- questions ---

    def questions(self, data: Mapping[str, Any], mode: Mode) -> list[Question]:
        raw = self.get(data, (), "questions", list, required=True, default=[])
        if not raw and "questions" in data:
            self.error(("questions",), "a study needs at least one question")
        if len(raw) > MAX_QUESTIONS:
            self.error(("questions",), f"has {len(raw)} questions; at most {MAX_QUESTIONS} are allowed")
        out: list[Question] = []
        seen: dict[str, int] = {}
        for index, table in enumerate(raw):
            path: KeyPath = ("questions", index)
            if not isinstance(table, dict):
                self.error(path, "must be a table: write each question as [[questions]]")
                continue
            question = self.question(table, path, mode, out, seen)
            if question is not None:
                seen[question.id] = index
                out.append(question)
        return out

    def question(
        self, table: Mapping[str, Any], path: KeyPath, mode: Mode, earlier: list[Question], seen: dict[str, int]
    ) -> Question | None:
        qid = self.get(table, path, "id", str, required=True)
        if qid is not None and not QUESTION_ID.match(qid):
            self.error((*path, "id"), f"“{qid}” is not a usable id: start with a letter; use lower-case letters, digits and _ (at most 32)")
            qid = None
        elif qid is not None and qid in seen:
            self.error((*path, "id"), f"“{qid}” is already the id of question {seen[qid] + 1}")
            qid = None
        kind_text = self.get(table, path, "kind", str, required=True)
        try:
            kind = Kind(kind_text) if kind_text is not None else None
        except ValueError:
            self.error((*path, "kind"), f"“{kind_text}” is not a question kind (use {', '.join(k.value for k in Kind)})")
            kind = None
        allowed = _COMMON | (_BY_KIND[kind] if kind else set().union(*_BY_KIND.values()))
        for key in table:
            if key not in allowed and kind is not None and any(key in extra for extra in _BY_KIND.values()):
                self.error((*path, key), f"does not apply to a {kind.value} question")
            elif key not in allowed:
                self.error((*path, key), f"unknown field “{key}” for a question (known: {', '.join(sorted(allowed))})")
        text = self.text(table, path, "text", required=True)
        hint = self.text(table, path, "hint")
        required = self.get(table, path, "required", bool, default=True)
        once = self.get(table, path, "once", bool, default=False)
        if once and mode is not Mode.DIARY:
            self.error((*path, "once"), "only applies to diary studies (a one-off survey asks every question once anyway)")
        show_if = self.conditions(table.get("show_if", _MISSING), (*path, "show_if"), earlier, qid)
        if kind is None or qid is None or text is None:
            return None
        fields: dict[str, Any] = {}
        if kind in (Kind.SINGLE, Kind.MULTIPLE):
            fields["choices"] = self.options(table, path, required=True)
        elif kind is Kind.PLACE:
            fields["location"] = self.get(table, path, "location", bool, default=False)
            fields["choices"] = self.options(table, path, required=False, minimum=1 if fields["location"] else 2)
            if not fields["choices"] and not fields["location"] and "options" not in table:
                self.error(path, "a place question needs options, location = true, or both")
        elif kind is Kind.WEEKDAY:
            fields["multiple"] = self.get(table, path, "multiple", bool, default=False)
        elif kind is Kind.SCALE:
            fields.update(self.scale(table, path))
        elif kind is Kind.NUMBER:
            fields.update(self.number(table, path))
        elif kind is Kind.TEXT:
            fields["max_length"] = self.integer(table, path, "max_length", 1, 4000, default=500)
        if kind is Kind.MULTIPLE or (kind is Kind.WEEKDAY and fields.get("multiple")):
            count = len(fields.get("choices", ())) or len(WEEKDAYS)
            low = self.integer(table, path, "min_picks", 1, count, default=1) or 1
            high = self.integer(table, path, "max_picks", 1, count, default=None)
            if high is not None and high < low:
                self.error((*path, "max_picks"), f"is smaller than min_picks ({low})")
            fields.update(min_picks=low, max_picks=high)
        elif kind is Kind.WEEKDAY and ("min_picks" in table or "max_picks" in table):
            self.error((*path, "min_picks" if "min_picks" in table else "max_picks"), "only applies with multiple = true")
        return Question(
            id=qid, kind=kind, text=text, required=bool(required), hint=hint, show_if=show_if, once=bool(once), **fields
        )

    def options(self, table: Mapping[str, Any], path: KeyPath, *, required: bool, minimum: int = 2) -> tuple[Choice, ...]:
        raw = self.get(table, path, "options", list, required=required, default=[])
        where = (*path, "options")
        if "options" in table and isinstance(table["options"], list) and not minimum <= len(raw) <= MAX_OPTIONS:
            self.error(where, f"has {len(raw)} options; use {minimum} to {MAX_OPTIONS}")
        choices: list[Choice] = []
        values: set[str] = set()
        for index, option in enumerate(raw):
            at: KeyPath = (*where, index)
            if not isinstance(option, dict):
                self.error(at, "must be a table such as { value = \"home\", label = { en = \"At home\" } }")
                continue
            self.known(option, at, {"value", "label"}, "an option")
            value = self.get(option, at, "value", str, required=True)
            label = self.text(option, at, "label", required=True)
            if value is not None and (not OPTION_VALUE.match(value) or value in RESERVED_VALUES):
                reason = "is reserved" if value in RESERVED_VALUES else "must be 1-32 lower-case letters, digits, - or _"
                self.error((*at, "value"), f"“{value}” {reason}")
            elif value is not None and value in values:
                self.error((*at, "value"), f"“{value}” is used by another option")
            elif value is not None and label is not None:
                values.add(value)
                choices.append(Choice(value, label))
        return tuple(choices)

    def scale(self, table: Mapping[str, Any], path: KeyPath) -> dict[str, Any]:
        low = self.get(table, path, "min", int, default=1)
        high = self.get(table, path, "max", int, default=5)
        points = high - low + 1
        if not 2 <= points <= MAX_SCALE_POINTS:
            self.error((*path, "max"), f"a scale needs 2 to {MAX_SCALE_POINTS} points; {low} to {high} has {points}")
            return {"minimum": low, "maximum": max(high, low + 1)}
        raw = self.get(table, path, "labels", dict, required=True, default={})
        labels: list[tuple[int, Localized]] = []
        for key in raw:
            at: KeyPath = (*path, "labels", key)
            try:
                point = int(key)
            except ValueError:
                self.error(at, f"“{key}” is not a point of the scale")
                continue
            if not low <= point <= high:
                self.error(at, f"{point} is outside the scale ({low} to {high})")
                continue
            label = self.text(raw, (*path, "labels"), key, required=True)
            if label is not None:
                labels.append((point, label))
        given = {point for point, _label in labels}
        if raw and not {low, high} <= given:
            self.error((*path, "labels"), f"label both ends of the scale ({low} and {high}) so members know which way it runs")
        return {"minimum": low, "maximum": high, "labels": tuple(sorted(labels)), "integer": True}

    def number(self, table: Mapping[str, Any], path: KeyPath) -> dict[str, Any]:
        low = self.get(table, path, "min", (int, float))
        high = self.get(table, path, "max", (int, float))
        if low is not None and high is not None and low >= high:
            self.error((*path, "max"), f"must be larger than min ({low})")
        return {
            "minimum": low,
            "maximum": high,
            "integer": bool(self.get(table, path, "integer", bool, default=False)),
            "unit": self.text(table, path, "unit"),
        }

    # --- conditions ---

    def conditions(self, raw: Any, path: KeyPath, earlier: list[Question], own: str | None) -> tuple[Condition, ...]:
        if raw is _MISSING:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        out: list[Condition] = []
        for index, item in enumerate(items):
            at = (*path, index) if isinstance(raw, list) else path
            condition = self.condition(item, at, {q.id: q for q in earlier}, own, look_back=True)
            if condition is not None:
                out.append(condition)
        return tuple(out)

    def condition(
        self, item: Any, path: KeyPath, known: Mapping[str, Question], own: str | None, *, look_back: bool
    ) -> Condition | None:
        if not isinstance(item, dict):
            self.error(path, "must be a table such as { question = \"had\", equals = \"yes\" }")
            return None
        ops = [key for key in item if key != "question"]
        self.known(item, path, {"question", *(op.value for op in Op)}, "a condition")
        target = self.get(item, path, "question", str, required=True)
        valid_ops = [key for key in ops if key in {op.value for op in Op}]
        if len(valid_ops) != 1:
            if not [key for key in ops if key not in {op.value for op in Op}]:
                self.error(path, f"give exactly one test: {', '.join(op.value for op in Op)}")
            return None
        op = Op(valid_ops[0])
        value = item[op.value]
        if target is None:
            return None
        question = known.get(target)
        if question is None:
            if target == own:
                self.error((*path, "question"), f"“{target}” is this question itself; a condition looks at an earlier answer")
            elif look_back and target in self.all_ids:
                self.error((*path, "question"), f"“{target}” is asked after this question; a condition can only look at earlier answers")
            else:
                names = ", ".join(known) or "none yet"
                self.error((*path, "question"), f"unknown question “{target}” (known here: {names})")
            return None
        if not self.condition_value(question, op, value, (*path, op.value)):
            return None
        if isinstance(value, list):
            value = tuple(value)
        return Condition(target, op, value)

    def condition_value(self, question: Question, op: Op, value: Any, path: KeyPath) -> bool:
        kind = question.kind
        if op is Op.ANSWERED:
            if not isinstance(value, bool):
                self.error(path, "must be true or false")
                return False
            return True
        if op in (Op.AT_LEAST, Op.AT_MOST):
            if kind not in (Kind.NUMBER, Kind.SCALE):
                self.error(path, f"compares numbers; “{question.id}” is a {kind.value} question")
                return False
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.error(path, f"must be a number, not {value!r}")
                return False
            return True
        if op is Op.INCLUDES and not question.picks_several:
            self.error(path, f"looks inside a multiple-choice answer; “{question.id}” takes one answer (use equals or any_of)")
            return False
        if op is Op.EQUALS and question.picks_several:
            self.error(path, f"“{question.id}” takes several answers: use includes or any_of")
            return False
        values = value if op is Op.ANY_OF else [value]
        if op is Op.ANY_OF and (not isinstance(value, list) or not value):
            self.error(path, "must be a non-empty list")
            return False
        valid = self.comparable(question)
        for item in values:
            if valid is None:
                if kind in (Kind.NUMBER, Kind.SCALE) and isinstance(item, (int, float)) and not isinstance(item, bool):
                    continue
                if kind in (Kind.TIME, Kind.TEXT) and isinstance(item, str):
                    continue
                self.error(path, f"{item!r} cannot be an answer to the {kind.value} question “{question.id}”")
                return False
            if item not in valid:
                self.error(path, f"{item!r} is not an answer to “{question.id}” (its answers: {', '.join(map(str, valid))})")
                return False
        return True

    @staticmethod
    def comparable(question: Question) -> list[Any] | None:
        if question.kind is Kind.WEEKDAY:
            return list(WEEKDAYS)
        if question.kind is Kind.SCALE:
            return question.scale_points()
        if question.kind in (Kind.SINGLE, Kind.MULTIPLE, Kind.PLACE):
            return [c.value for c in question.choices]
        return None

    # --- diary and report ---

    def diary(self, data: Mapping[str, Any], mode: Mode) -> Diary | None:
        path: KeyPath = ("diary",)
        if mode is not Mode.DIARY:
            if "diary" in data:
                self.error(path, "only a study with mode = \"diary\" has a [diary] table")
            return None
        table = self.get(data, (), "diary", dict, required=True, default={})
        self.known(
            table, path, {"days", "prompts_per_day", "min_gap_minutes", "expires_after_minutes", "window", "self_report"}, "[diary]"
        )
        days = self.integer(table, path, "days", 1, 60, required=True)
        prompts = self.integer(table, path, "prompts_per_day", 1, 12, required=True)
        gap = self.integer(table, path, "min_gap_minutes", 5, 720, default=60) or 60
        expires = self.integer(table, path, "expires_after_minutes", 5, 720, default=min(60, gap)) or gap
        if expires > gap:
            self.error(
                (*path, "expires_after_minutes"),
                f"{expires} is longer than min_gap_minutes ({gap}): a prompt must close before the next can come, so missed prompts never pile up",
            )
        window_text = self.get(table, path, "window", str, default="08:00-22:00")
        window: Window | None = None
        try:
            window = parse_window(window_text)
        except WindowError:
            self.error((*path, "window"), f"“{window_text}” is not a window such as 08:00-22:00")
        if window is not None and prompts:
            start, end = window_bounds(date(2001, 1, 1), window, UTC)
            if end - start < needed(prompts, timedelta(minutes=gap)):
                hours = (end - start).total_seconds() / 3600
                self.error(
                    (*path, "window"),
                    f"{window.text()} ({hours:g} h) is too short for {prompts} prompts at least {gap} min apart: it needs {prompts * gap / 60:g} h",
                )
        self_report = self.get(table, path, "self_report", bool, default=True)
        if days is None or prompts is None or window is None:
            return None
        return Diary(days, prompts, timedelta(minutes=gap), timedelta(minutes=expires), window, bool(self_report))

    def roles(self, data: Mapping[str, Any], questions: list[Question], mode: Mode, diary: Diary | None) -> Roles:
        path: KeyPath = ("report",)
        table = self.get(data, (), "report", dict, default={})
        self.known(table, path, {"moment", *_ROLE_KINDS, "hours_per_cell"}, "[report]")
        known = {q.id: q for q in questions}
        moment = None
        if "moment" in table:
            moment = self.condition(table["moment"], (*path, "moment"), known, None, look_back=False)
        picked: dict[str, str | None] = {}
        for role, kinds in _ROLE_KINDS.items():
            qid = self.get(table, path, role, str)
            if qid is None:
                picked[role] = None
                continue
            question = known.get(qid)
            if question is None:
                if qid not in self.all_ids:  # an invalid question was reported already
                    self.error((*path, role), f"unknown question “{qid}”")
            elif question.kind not in kinds:
                self.error((*path, role), f"“{qid}” is a {question.kind.value} question; {role} needs {' or '.join(sorted(k.value for k in kinds))}")
            picked[role] = qid
        hours = self.get(table, path, "hours_per_cell", int, default=2)
        if hours not in CELL_HOURS:
            self.error((*path, "hours_per_cell"), f"must divide the day evenly: one of {', '.join(map(str, CELL_HOURS))}")
            hours = 2
        if diary is not None and diary.self_report:
            ok = moment is not None and moment.op is Op.EQUALS and known.get(moment.question) is not None and known[moment.question].kind is Kind.SINGLE
            if not ok and not self.failed:
                self.error(
                    (*path, "moment"),
                    "a diary with self_report needs report.moment = { question = \"…\", equals = \"…\" } on a single-choice question, "
                    "so that “I just had one” can answer it",
                )
        if mode is Mode.DIARY and moment is None and not (diary and diary.self_report):
            self.warn(path, "no report.moment: the habit map cannot tell which check-ins were consumption moments")
        if mode is Mode.ONCE and bool(picked.get("time")) != bool(picked.get("weekday")):
            self.warn(path, "the heat map of a one-off survey needs both report.time and report.weekday")
        return Roles(moment=moment, hours_per_cell=hours, **picked)


def parse(source: str, *, filename: str = "<study>", name: str | None = None) -> tuple[Study, list[Problem]]:
    """The study in ``source`` and its warnings; raises :class:`StudyError` listing every error."""
    checker = _Checker(source, filename)
    study = checker.check(name)
    problems = checker.sorted_problems()
    if study is None:
        raise StudyError(problems)
    return study, problems


def load(path: Path) -> tuple[Study, list[Problem]]:
    """Read and check a study file; its name defaults to the file name without ``.toml``."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError([Problem(str(path), 1, "(file)", f"cannot be read: {exc}")]) from None
    return parse(source, filename=str(path), name=path.stem)
