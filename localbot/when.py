"""Reading the times members type: "2h", "3d", "friday 18:00", "jutro 9:00", "2026-11-28 18:00".

Deadlines are read in the community's time zone and returned in UTC. Words are understood in all
three languages at once, because an organiser writing in Polish in a group set to English should
not be told that "piątek" is not a day. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from babel.dates import get_day_names

from localbot.i18n import SUPPORTED
from localbot.text import fold

MAX_AHEAD = timedelta(days=366)


class WhenError(ValueError):
    """Not a time we can use. ``code`` says why: ``empty``, ``unknown``, ``past`` or ``too_far``."""

    def __init__(self, code: str, text: str = "") -> None:
        super().__init__(f"{code}: {text!r}")
        self.code = code
        self.text = text


_UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "minutes": ("m", "min", "mins", "minute", "minutes", "minuta", "minuty", "minut", "menit"),
    "hours": ("h", "hr", "hrs", "hour", "hours", "godz", "godzina", "godziny", "godzin", "g", "jam"),
    "days": ("d", "day", "days", "dzien", "dni", "dnia", "hari"),
    "weeks": ("w", "wk", "week", "weeks", "tydz", "tydzien", "tygodnie", "tygodni", "minggu", "pekan"),
}
_UNITS = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}
_DURATION_PART = re.compile(r"(\d{1,4})\s*([a-z]+)")

_TODAY = {"today", "dzis", "dzisiaj", "hari ini", "hariini"}
_TOMORROW = {"tomorrow", "jutro", "besok"}


def _weekday_words() -> dict[str, int]:
    words: dict[str, int] = {}
    for language in SUPPORTED:
        for width in ("wide", "abbreviated"):
            for day, name in get_day_names(width, locale=language).items():
                words[fold(str(name))] = int(day)
    words.update({"jumat": 4, "pt": 4, "sr": 2, "niedz": 6, "nd": 6, "tues": 1, "thur": 3, "thurs": 3})
    return words


WEEKDAY_WORDS = _weekday_words()


def parse_weekday(text: str) -> int | None:
    """``"piątek"``, ``"Fri"``, ``"jumat"`` → 4 (Monday is 0); None if not a day's name in our languages."""
    return WEEKDAY_WORDS.get(fold(text))


def parse_duration(text: str) -> timedelta | None:
    """``"2h"``, ``"90 min"``, ``"1h30m"``, ``"3 dni"``, ``"2 minggu"`` → timedelta; None if not a duration."""
    folded = fold(text)
    if not folded:
        return None
    position = 0
    total = timedelta()
    for match in _DURATION_PART.finditer(folded):
        if folded[position:match.start()].strip():
            return None
        unit = _UNITS.get(match.group(2))
        if unit is None:
            return None
        total += timedelta(**{unit: int(match.group(1))})
        position = match.end()
    if position == 0 or folded[position:].strip():
        return None
    return total


_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$")


def parse_time_of_day(text: str) -> time | None:
    """``"18:00"``, ``"18.00"``, ``"7"``, ``"6pm"``, ``"6:30 pm"`` → time; None if not a time."""
    match = _TIME.match(fold(text).replace(" ", ""))
    if not match:
        return None
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


def _parse_date(token: str) -> date | None:
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_DAY_FIRST, (2, 1, 0))):
        match = pattern.match(token)
        if match:
            parts = [int(g) for g in match.groups()]
            try:
                return date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                return None
    return None


def _local(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


END_OF_DAY = time(23, 59)


def parse_deadline(text: str, *, now: datetime, tz: tzinfo) -> datetime:
    """A moment in the future, in UTC, from what a member typed; raises :class:`WhenError`."""
    raw = text.strip()
    if not raw:
        raise WhenError("empty", text)
    result = _deadline(raw, now=now, tz=tz)
    if result is None:
        raise WhenError("unknown", text)
    if result <= now:
        raise WhenError("past", text)
    if result - now > MAX_AHEAD:
        raise WhenError("too_far", text)
    return result


def _deadline(raw: str, *, now: datetime, tz: tzinfo) -> datetime | None:
    duration = parse_duration(raw)
    if duration is not None:
        return now + duration if duration > timedelta() else None

    local_now = now.astimezone(tz)
    # "2026-11-28T18:00" and ISO with an explicit offset.
    if "t" in raw.lower() and _ISO_DATE.match(raw.lower().split("t")[0]):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(UTC)

    folded = fold(raw)
    for phrase in sorted(_TODAY | _TOMORROW, key=len, reverse=True):
        if folded == phrase or folded.startswith(phrase + " "):
            rest = folded[len(phrase):].strip()
            at = parse_time_of_day(rest) if rest else END_OF_DAY
            if at is None:
                return None
            day = local_now.date() + timedelta(days=1 if phrase in _TOMORROW else 0)
            return _local(day, at, tz)

    head, _, rest = folded.partition(" ")
    rest = rest.strip()
    at = parse_time_of_day(rest) if rest else END_OF_DAY
    if rest and at is None:
        return None
    assert at is not None

    on_date = _parse_date(head)
    if on_date is not None:
        return _local(on_date, at, tz)

    if head in WEEKDAY_WORDS:
        ahead = (WEEKDAY_WORDS[head] - local_now.weekday()) % 7
        candidate = _local(local_now.date() + timedelta(days=ahead), at, tz)
        if candidate <= now:
            candidate = _local(local_now.date() + timedelta(days=ahead + 7), at, tz)
        return candidate

    alone = parse_time_of_day(folded)
    if alone is not None:
        candidate = _local(local_now.date(), alone, tz)
        return candidate if candidate > now else _local(local_now.date() + timedelta(days=1), alone, tz)
    return None
