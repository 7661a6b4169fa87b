"""Poll values and the rules a poll must follow, with no storage and no messenger.

Every rule violation is a :class:`PollError` with a ``code`` and the values needed to explain it,
so the handler layer can say what was wrong in the member's language.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localbot.text import clean

MIN_OPTIONS = 2
MAX_OPTIONS = 12
MAX_QUESTION = 300
MAX_OPTION = 100


class PollError(ValueError):
    """A poll request that breaks a rule. ``code`` names the rule; ``details`` fill the message."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


def option_key(label: str) -> str:
    """What makes two options "the same": case, accents of width and spacing ignored."""
    return unicodedata.normalize("NFKC", label).casefold()


def check_question(question: str) -> str:
    question = clean(question)
    if not question:
        raise PollError("no_question")
    if len(question) > MAX_QUESTION:
        raise PollError("question_too_long", limit=MAX_QUESTION, length=len(question))
    return question


def check_option(label: str, existing: list[str] | tuple[str, ...] = ()) -> str:
    label = clean(label)
    if not label:
        raise PollError("empty_option")
    if len(label) > MAX_OPTION:
        raise PollError("option_too_long", limit=MAX_OPTION, option=label[:40] + "…")
    if option_key(label) in {option_key(e) for e in existing}:
        raise PollError("duplicate_option", option=label)
    return label


def check_options(labels: list[str]) -> tuple[str, ...]:
    checked: list[str] = []
    for index, label in enumerate(labels, start=1):
        if not clean(label):
            raise PollError("empty_option", position=index)
        checked.append(check_option(label, checked))
    if len(checked) < MIN_OPTIONS:
        raise PollError("too_few_options", minimum=MIN_OPTIONS, count=len(checked))
    if len(checked) > MAX_OPTIONS:
        raise PollError("too_many_options", maximum=MAX_OPTIONS, count=len(checked))
    return tuple(checked)


@dataclass(frozen=True, slots=True)
class PollSpec:
    """A checked request for a new poll."""

    question: str
    options: tuple[str, ...]
    multi: bool = False
    anonymous: bool = False
    closes_at: datetime | None = None

    @classmethod
    def build(
        cls,
        question: str,
        options: list[str],
        *,
        multi: bool = False,
        anonymous: bool = False,
        closes_at: datetime | None = None,
    ) -> PollSpec:
        return cls(check_question(question), check_options(options), multi, anonymous, closes_at)


@dataclass(frozen=True, slots=True)
class PollOption:
    id: int
    position: int
    label: str


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    community_id: int
    number: int
    question: str
    multi: bool
    anonymous: bool
    status: str
    closes_at: datetime | None
    created_by: int | None
    created_at: datetime
    closed_at: datetime | None
    options: tuple[PollOption, ...] = field(default=())

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def key(self) -> str:
        """The reply key of the poll's message in every chat, so it can be edited."""
        return f"poll:{self.id}"

    def option_at(self, position: int) -> PollOption | None:
        for option in self.options:
            if option.position == position:
                return option
        return None


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts for a poll. ``voters`` are people; with multiple choice, votes can exceed them."""

    poll: Poll
    counts: dict[int, int]
    voters: int
    #: Voter names per option position; always empty for anonymous polls.
    names: dict[int, list[str]] = field(default_factory=dict)

    @property
    def votes(self) -> int:
        return sum(self.counts.values())

    def share(self, position: int) -> float:
        """The share of voters who chose this option (so multi-choice shares can add up over 100 %)."""
        return self.counts.get(position, 0) / self.voters if self.voters else 0.0

    def leaders(self) -> list[PollOption]:
        if not self.voters:
            return []
        top = max(self.counts.values())
        return [o for o in self.poll.options if self.counts.get(o.position, 0) == top]


@dataclass(frozen=True, slots=True)
class VoteResult:
    """What a pick did: ``added``, ``changed``, ``removed`` (a multi-choice toggle) or ``unchanged``."""

    outcome: str
    selection: tuple[int, ...]
