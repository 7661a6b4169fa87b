"""What a tasting is: products, sessions at pickup points, the questions asked per sample, and the scales.

Plain frozen values built by :mod:`localbot.tastings.definition` from a tasting file (or from the
``/tasting new`` conversation, which writes such a file), so the rest of the code can rely on them:
at least two products, unique keys, sessions that end after they start.

The scales are the ones the sensory literature uses, so that results compare with other studies:
overall liking on the 9-point hedonic scale of Peryam and Pilgrim (1 = dislike extremely, 9 = like
extremely) and attributes on the 5-point just-about-right scale (3 = just about right). Every
answer is stored as text under a *question key* (``liking``, ``jar.sweetness``, ``cata.creamy``,
``comment``, ``preference``, ``rank``), one row per participant, product and question: the long
format that ``localbot export tastings`` writes and ``localbot tasting import`` reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any

from localbot.i18n import N_
from localbot.tomlfile import Localized

MIN_PRODUCTS = 2
MAX_PRODUCTS = 12
LIKING_POINTS = 9
JAR_POINTS = 5
#: The middle of the JAR scale.
JAR_IDEAL = 3
MAX_COMMENT = 1000

#: The 9-point hedonic scale (Peryam & Pilgrim, 1957), from 1 to 9.
HEDONIC_LABELS: tuple[str, ...] = (
    N_("Dislike extremely"),
    N_("Dislike very much"),
    N_("Dislike moderately"),
    N_("Dislike slightly"),
    N_("Neither like nor dislike"),
    N_("Like slightly"),
    N_("Like moderately"),
    N_("Like very much"),
    N_("Like extremely"),
)
#: The 5-point just-about-right scale, from 1 to 5.
JAR_LABELS: tuple[str, ...] = (
    N_("Not enough at all"),
    N_("Not enough"),
    N_("Just about right"),
    N_("Too much"),
    N_("Far too much"),
)

KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class TastingError(ValueError):
    """A request the tasting rules refuse. ``code`` names the rule and ``details`` hold the values
    that explain it, so that each interface (chat, command line) says it in its own words."""

    def __init__(self, code: str, /, **details: Any) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


class Mode(StrEnum):
    #: Tasted at the pickup point during the session.
    ON_SITE = "on_site"
    #: A kit is picked up during the session and tasted at home later (``taste_at``).
    HOME_USE = "home_use"


class Final(StrEnum):
    """What is asked once every sample is tasted."""

    PREFERENCE = "preference"
    RANKING = "ranking"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Product:
    key: str
    #: What the tester calls it; members only ever see its blind code.
    name: str


@dataclass(frozen=True, slots=True)
class Session:
    """A session as written: times are the community's wall clock unless they carry an offset."""

    start: datetime
    end: datetime
    #: A pickup point of the community, by name or number.
    point: str
    places: int
    #: Home-use tests: when the kit is tasted.
    taste_at: datetime | None = None

    def resolved(self, tz: tzinfo) -> tuple[datetime, datetime, datetime | None]:
        """Start, end and tasting time in UTC, reading times without an offset in ``tz``."""
        return local_to_utc(self.start, tz), local_to_utc(self.end, tz), local_to_utc(self.taste_at, tz) if self.taste_at else None


def local_to_utc(moment: datetime, tz: tzinfo) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class JarAttribute:
    key: str
    #: "Sweetness": shown as "How is the sweetness of sample 482?".
    name: Localized
    #: Five labels of its own ("Not nearly sweet enough" …), else the generic JAR labels.
    labels: tuple[Localized, ...] = ()


@dataclass(frozen=True, slots=True)
class CataTerm:
    key: str
    label: Localized


@dataclass(frozen=True)
class Definition:
    name: str
    languages: tuple[str, ...]
    title: Localized
    products: tuple[Product, ...]
    sessions: tuple[Session, ...]
    mode: Mode = Mode.ON_SITE
    intro: Localized | None = None
    thanks: Localized | None = None
    jar: tuple[JarAttribute, ...] = ()
    cata: tuple[CataTerm, ...] = ()
    comment: bool = True
    final: Final = Final.PREFERENCE

    def sample_questions(self) -> tuple[str, ...]:
        """The question keys asked about each sample, in order."""
        keys = ["liking", *(f"jar.{a.key}" for a in self.jar), *(f"cata.{c.key}" for c in self.cata)]
        if self.comment:
            keys.append("comment")
        return tuple(keys)

    def final_question(self) -> str | None:
        return {Final.PREFERENCE: "preference", Final.RANKING: "rank"}.get(self.final)

    def question_keys(self) -> tuple[str, ...]:
        final = self.final_question()
        return (*self.sample_questions(), *((final,) if final else ()))

    def jar_attribute(self, key: str) -> JarAttribute | None:
        return next((a for a in self.jar if a.key == key), None)


def parse_value(definition: Definition, question: str, text: str, *, products: int) -> str | None:
    """The stored form of an answer to ``question`` given as text (a chat reply or a spreadsheet
    cell); raises :class:`TastingError` naming what is wrong. ``None``: a comment left empty."""
    value = text.strip()
    kind, _, key = question.partition(".")
    if question not in definition.question_keys():
        raise TastingError("unknown_question", question=question)
    if kind == "comment":
        if len(value) > MAX_COMMENT:
            raise TastingError("comment_too_long", length=len(value), limit=MAX_COMMENT)
        return value or None
    limits = {"liking": (1, LIKING_POINTS), "jar": (1, JAR_POINTS), "cata": (0, 1), "preference": (0, 1), "rank": (1, products)}
    low, high = limits[kind]
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise TastingError(f"bad_{kind}", value=value, low=low, high=high, key=key)
    return str(number)
