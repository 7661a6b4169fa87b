"""What a study is: questions of nine kinds, conditions, texts in several languages, one-off or diary.

These are plain frozen values built by :mod:`localbot.surveys.definition` from a TOML file that has
already been validated, so the rest of the code can rely on them: every condition names an earlier
question, every option value is unique, a diary's window fits its prompts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum
from typing import Any

from localbot.tomlfile import Localized

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Kind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"
    NUMBER = "number"
    TIME = "time"
    WEEKDAY = "weekday"
    PLACE = "place"
    TEXT = "text"
    PHOTO = "photo"


class Mode(StrEnum):
    ONCE = "once"
    DIARY = "diary"


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: Localized


class Op(StrEnum):
    """How a condition compares an earlier answer."""

    EQUALS = "equals"
    ANY_OF = "any_of"
    INCLUDES = "includes"
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    ANSWERED = "answered"


def answer_values(answer: Any) -> list[Any]:
    """The comparable parts of a stored answer: option values, numbers, weekday codes."""
    if answer is None:
        return []
    if isinstance(answer, list):
        return list(answer)
    if isinstance(answer, dict):
        return [answer["option"]] if "option" in answer else []
    return [answer]


@dataclass(frozen=True, slots=True)
class Condition:
    """``show_if = { question = "had", equals = "yes" }``: a question shown only when this holds."""

    question: str
    op: Op
    value: Any

    def holds(self, answers: Mapping[str, Any]) -> bool:
        given = answers.get(self.question)
        if self.op is Op.ANSWERED:
            return (given is not None) == bool(self.value)
        values = answer_values(given)
        if self.op is Op.EQUALS:
            return len(values) == 1 and values[0] == self.value
        if self.op is Op.ANY_OF:
            return any(v in self.value for v in values)
        if self.op is Op.INCLUDES:
            return self.value in values
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not numbers:
            return False
        if self.op is Op.AT_LEAST:
            return bool(numbers[0] >= self.value)
        return bool(numbers[0] <= self.value)


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: Kind
    text: Localized
    required: bool = True
    hint: Localized | None = None
    show_if: tuple[Condition, ...] = ()
    #: Diary studies: ask this only until the participant has answered it once.
    once: bool = False
    #: single, multiple, place: the options; weekday: the seven days.
    choices: tuple[Choice, ...] = ()
    #: weekday: several days may be picked.
    multiple: bool = False
    #: multiple (and weekday with ``multiple``): how many picks are allowed.
    min_picks: int = 1
    max_picks: int | None = None
    #: scale: integer points from ``minimum`` to ``maximum``; number: the allowed range.
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    unit: Localized | None = None
    #: scale: labels of some points (at least both ends).
    labels: tuple[tuple[int, Localized], ...] = ()
    #: place: a shared location pin is accepted.
    location: bool = False
    #: text: longest answer.
    max_length: int = 500

    @property
    def picks_several(self) -> bool:
        return self.kind is Kind.MULTIPLE or (self.kind is Kind.WEEKDAY and self.multiple)

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)

    def scale_points(self) -> list[int]:
        assert self.minimum is not None and self.maximum is not None
        return list(range(int(self.minimum), int(self.maximum) + 1))

    def label_of(self, point: int) -> Localized | None:
        return dict(self.labels).get(point)

    def visible(self, answers: Mapping[str, Any]) -> bool:
        return all(condition.holds(answers) for condition in self.show_if)


@dataclass(frozen=True, slots=True)
class Window:
    """A member's waking window in local wall-clock time; ``end <= start`` runs past midnight."""

    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def text(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class Diary:
    days: int
    prompts_per_day: int
    min_gap: timedelta
    expires_after: timedelta
    default_window: Window
    self_report: bool = True


@dataclass(frozen=True, slots=True)
class Roles:
    """Which questions the habit map reads: what counts as a moment, when, where, with what, …"""

    moment: Condition | None = None
    time: str | None = None
    weekday: str | None = None
    place: str | None = None
    pairing: str | None = None
    deterrents: str | None = None
    convincers: str | None = None
    hours_per_cell: int = 2


@dataclass(frozen=True)
class Study:
    name: str
    mode: Mode
    languages: tuple[str, ...]
    title: Localized
    questions: tuple[Question, ...]
    intro: Localized | None = None
    thanks: Localized | None = None
    diary: Diary | None = None
    roles: Roles = field(default_factory=Roles)
    closes_after: timedelta | None = None

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def has(self, question_id: str | None) -> bool:
        return question_id is not None and any(q.id == question_id for q in self.questions)

    def next_question(self, answers: Mapping[str, Any], asked_before: frozenset[str] = frozenset()) -> Question | None:
        """The first question not yet answered in this entry whose conditions hold.

        The same rule serves moving on after an answer and resuming after a pause, so a member
        who stops half-way always continues exactly where the questionnaire stands.
        ``asked_before`` holds the diary questions marked ``once`` that the participant answered
        in an earlier entry.
        """
        for question in self.questions:
            if question.id in answers:
                continue
            if question.once and question.id in asked_before:
                continue
            if question.visible(answers):
                return question
        return None

    def self_report_answers(self) -> dict[str, Any]:
        """What "I just had one" answers by itself: the moment question, set to its moment value."""
        moment = self.roles.moment
        if moment is None or moment.op is not Op.EQUALS:
            return {}
        return {moment.question: moment.value}

    @property
    def is_diary(self) -> bool:
        return self.mode is Mode.DIARY
