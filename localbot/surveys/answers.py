"""Reading a member's answer to one question, whatever form it came in, and writing it back out.

An answer arrives as a button press, typed text ("2", "1, 3", "18:30", "2,5", "at home"), a
location pin or a photo. :func:`parse` turns it into the stored value for the question's kind, or
raises :class:`AnswerError` whose ``code`` and ``details`` let the handler explain, in the member's
language, what would work. Stored values are plain JSON: an option value, a list of them, a number,
``"HH:MM"``, a weekday code, ``{"option": …}`` or ``{"lat": …, "lon": …}`` for a place, text, or
``{"file": …}`` for a photo; ``None`` is a skipped optional question.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from localbot.i18n import translator
from localbot.surveys.model import WEEKDAYS, Kind, Question
from localbot.text import clean, whole_number
from localbot.when import parse_time_of_day, parse_weekday

#: Typed words that skip an optional question, in our three languages.
SKIP_WORDS = frozenset({"-", "–", "—", "skip", "pomiń", "pomin", "lewati", "lewat"})
NOW_WORDS = frozenset({"now", "just now", "teraz", "przed chwilą", "sekarang", "barusan", "tadi"})
SKIP = "skip"
DONE = "done"

_NUMBER = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)(?:\s+\D.*|\s*[^\d\s.,].*)?$")
_LIST_SPLIT = re.compile(r"\s*[,;/]\s*|\s+(?:and|i|oraz|dan)\s+", re.IGNORECASE)


class AnswerError(ValueError):
    """An answer the question cannot take; ``code`` names the problem, ``details`` fill the message."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


@dataclass(frozen=True, slots=True)
class Given:
    """What the member sent for the current question."""

    text: str | None = None
    choice: str | None = None
    location: tuple[float, float] | None = None
    photo: bool = False


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", clean(text)).casefold()


def options(question: Question, language: str) -> list[tuple[str, str]]:
    """The (value, label) pairs a member picks from, in ``language``: options, weekdays or scale points."""
    if question.kind is Kind.WEEKDAY:
        names = translator(language).weekday_names()
        return [(code, names[index][0]) for index, code in enumerate(WEEKDAYS)]
    if question.kind is Kind.SCALE:
        out = []
        for point in question.scale_points():
            label = question.label_of(point)
            out.append((str(point), f"{point} — {label.pick(language)}" if label else str(point)))
        return out
    return [(choice.value, choice.label.pick(language)) for choice in question.choices]


def _match(question: Question, token: str) -> str | None:
    """An option value from typed text: its number in the list, its value, or its label in any language."""
    folded = _fold(token).rstrip(".)")
    if not folded:
        return None
    values = [value for value, _label in options(question, "en")]
    index = whole_number(folded)
    if index is not None and question.kind is not Kind.SCALE:
        return values[index - 1] if 1 <= index <= len(values) else None
    if question.kind is Kind.WEEKDAY:
        day = parse_weekday(token)
        return WEEKDAYS[day] if day is not None else None
    for choice in question.choices:
        names = {_fold(choice.value)} | {_fold(text) for _code, text in choice.label.values}
        if folded in names:
            return choice.value
    return None


def is_skip(given: Given) -> bool:
    return given.choice == SKIP or (given.text is not None and _fold(given.text) in SKIP_WORDS)


def parse(question: Question, given: Given, *, now_local: datetime | None = None) -> Any:
    """The value to store for ``question``; ``None`` for a skipped optional question."""
    if is_skip(given):
        if question.required:
            raise AnswerError("required")
        return None
    match question.kind:
        case Kind.SINGLE | Kind.WEEKDAY if not question.picks_several:
            return one_of(question, given)
        case Kind.MULTIPLE | Kind.WEEKDAY:
            return check_picks(question, _several_of(question, given))
        case Kind.SCALE:
            return _scale(question, given)
        case Kind.NUMBER:
            return _number(question, given)
        case Kind.TIME:
            return _time(given, now_local)
        case Kind.PLACE:
            return _place(question, given)
        case Kind.TEXT:
            return _text(question, given)
        case Kind.PHOTO:
            if not given.photo:
                raise AnswerError("need_photo")
            return {"file": None}
    raise AssertionError(question.kind)


def one_of(question: Question, given: Given) -> str:
    """One option value, from a button or typed text."""
    count = len(options(question, "en"))
    if given.choice is not None:
        value = given.choice if any(v == given.choice for v, _l in options(question, "en")) else None
    elif given.text:
        value = _match(question, given.text)
    else:
        value = None
    if value is None:
        raise AnswerError("pick_one", count=count)
    return value


def _several_of(question: Question, given: Given) -> list[str]:
    count = len(options(question, "en"))
    if given.choice is not None:
        return [one_of(question, given)]
    if not given.text:
        raise AnswerError("pick_several", count=count)
    tokens = [t for t in _LIST_SPLIT.split(given.text.strip()) if t]
    if len(tokens) == 1 and re.fullmatch(r"\d+(?:\s+\d+)+", tokens[0].strip()):
        tokens = tokens[0].split()
    picked: list[str] = []
    for token in tokens:
        value = _match(question, token)
        if value is None:
            raise AnswerError("unknown_pick", pick=token.strip(), count=count)
        if value not in picked:
            picked.append(value)
    return picked


def check_picks(question: Question, picked: list[str]) -> list[str]:
    """A multiple-choice selection within the question's limits, in the order of the options."""
    order = [value for value, _label in options(question, "en")]
    picked = sorted(set(picked), key=order.index)
    maximum = question.max_picks or len(order)
    if not question.min_picks <= len(picked) <= maximum:
        raise AnswerError("pick_count", minimum=question.min_picks, maximum=maximum, count=len(picked))
    return picked


def _read_number(text: str | None) -> float | None:
    match = _NUMBER.match((text or "").strip())
    if not match:
        return None
    return float(match.group(1).replace(",", "."))


def _scale(question: Question, given: Given) -> int:
    assert question.minimum is not None and question.maximum is not None
    low, high = int(question.minimum), int(question.maximum)
    raw = given.choice if given.choice is not None else given.text
    number = _read_number(raw)
    if number is None and given.text:
        folded = _fold(given.text)
        number = next(
            (float(point) for point, label in question.labels if folded in {_fold(t) for _c, t in label.values}), None
        )
    if number is None or number != int(number) or not low <= number <= high:
        raise AnswerError("not_on_scale", minimum=low, maximum=high)
    return int(number)


def _number(question: Question, given: Given) -> int | float:
    number = _read_number(given.text)
    if number is None:
        raise AnswerError("not_a_number")
    if question.integer and number != int(number):
        raise AnswerError("not_whole")
    low, high = question.minimum, question.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        raise AnswerError("out_of_range", minimum=low, maximum=high)
    return int(number) if number == int(number) else number


def _time(given: Given, now_local: datetime | None) -> str:
    text = (given.text or "").strip()
    if now_local is not None and _fold(text) in NOW_WORDS:
        return f"{now_local:%H:%M}"
    moment = parse_time_of_day(text) if text else None
    if moment is None:
        raise AnswerError("not_a_time")
    return f"{moment:%H:%M}"


def _place(question: Question, given: Given) -> dict[str, Any]:
    if given.location is not None and question.location:
        return {"lat": round(given.location[0], 6), "lon": round(given.location[1], 6)}
    if question.choices and (given.choice is not None or given.text):
        try:
            return {"option": one_of(question, given)}
        except AnswerError:
            pass
    if not question.choices:
        raise AnswerError("need_location")
    raise AnswerError("need_place" if question.location else "pick_one", count=len(question.choices))


def _text(question: Question, given: Given) -> str:
    text = clean(given.text or "")
    if not text:
        raise AnswerError("need_text")
    if len(text) > question.max_length:
        raise AnswerError("too_long", limit=question.max_length, length=len(text))
    return text


def describe(question: Question, value: Any, language: str) -> str:
    """An answer as a person reads it, in ``language`` (exports, reports, confirmations)."""
    if value is None:
        return ""
    labels = dict(options(question, language)) if question.kind in (Kind.SINGLE, Kind.MULTIPLE, Kind.WEEKDAY, Kind.PLACE, Kind.SCALE) else {}
    if isinstance(value, list):
        return "; ".join(labels.get(v, str(v)) for v in value)
    if isinstance(value, dict):
        if "option" in value:
            return labels.get(value["option"], str(value["option"]))
        if "lat" in value:
            return f"{value['lat']:.6f}, {value['lon']:.6f}"
        return str(value.get("file") or "")
    if question.kind is Kind.SCALE:
        return labels.get(str(value), str(value))
    if question.kind is Kind.NUMBER:
        shown = translator(language).number(value, 2)
        return f"{shown} {question.unit.pick(language)}" if question.unit else shown
    return labels.get(str(value), str(value))


def raw(value: Any) -> Any:
    """The machine-readable form for exports: codes joined by ``;``, numbers as numbers."""
    if value is None:
        return None
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        if "option" in value:
            return value["option"]
        if "lat" in value:
            return f"{value['lat']},{value['lon']}"
        return value.get("file")
    return value
