"""Opening hours: read what organisers write, say whether a point is open, and when it opens next.

Organisers type hours the way they would on a shop door, in any of our three languages:
``Mon-Fri 10:00-18:00, Sat 10:00-14:00``, ``pn-pt 8-16, sob 9-13``, ``Sen-Jum 08.00-17.00``,
``daily 8-20, Sun closed``, ``Fri 22:00-02:00``, ``24/7``. OpenStreetMap's ``opening_hours`` syntax
(``Mo-Fr 08:00-12:00,13:00-17:00; Sa 08:00-12:00``) is the subset we also write back: the
canonical form is stored, exported to GeoJSON, and re-read to the same schedule.

Rules follow OpenStreetMap: a rule after ``;`` (or a new line) replaces the hours of the days it
names, a rule after ``,`` adds to them, and ``closed``/``off`` always closes the days it names.
Times after a comma continue the days before them (``Mon-Fri 8-12, 13-17`` is a lunch break).

"Open now" and "next opening" are computed on the community's wall clock: "10:00" means ten o'clock
local time on every date, also on the days clocks change, and an interval that crosses midnight
belongs to the day it starts on. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from localbot.text import fold
from localbot.when import WEEKDAY_WORDS

DAY = 24 * 60
MAX_LENGTH = 300
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
ALL_DAYS = frozenset(range(7))

#: Day names in English, Polish and Indonesian (from Babel, as :mod:`localbot.when` reads them),
#: plus OpenStreetMap's two-letter codes and common shorthands.
DAY_WORDS: dict[str, int] = {
    **WEEKDAY_WORDS,
    **{code.lower(): day for day, code in enumerate(OSM_DAYS)},
    "pn": 0, "wto": 1, "sro": 2, "cz": 3, "pia": 4, "ndz": 6, "weds": 2, "ahad": 6,
}
DAY_SETS: dict[str, frozenset[int]] = {
    **dict.fromkeys(("daily", "everyday", "codziennie", "setiaphari", "tiaphari"), ALL_DAYS),
    **dict.fromkeys(("weekdays", "workdays", "dnirobocze", "dnipowszednie", "harikerja"), frozenset(range(5))),
    **dict.fromkeys(("weekend", "weekends", "weekendy", "akhirpekan"), frozenset((5, 6))),
}
CLOSED_WORDS = frozenset(
    ("closed", "off", "zamkniete", "zamkniety", "nieczynne", "nieczynny", "nieczynna", "tutup", "libur")
)
ALWAYS_WORDS = frozenset(("allday", "nonstop", "calodobowo"))
RANGE_WORDS = frozenset(("to", "till", "until", "do", "sampai", "hingga", "sd"))
AND_WORDS = frozenset(("and", "i", "oraz", "dan"))
#: Words that carry no meaning for the schedule: "from 10", "od 10", "pukul 10", "godz. 10".
FILLER_WORDS = frozenset(("from", "od", "pukul", "jam", "godz", "o", "at", "h", "hrs"))

# Phrases of several words are joined into one before reading ("every day" → "everyday").
_PHRASES = (
    (re.compile(r"\b24\s*/\s*7\b"), " allday "),
    # "24h" alone means all day, but not as the end of a range ("10-24h").
    (re.compile(r"(?<![-–—\d:.])(?<![-–—]\s)\b24\s*(?:h|jam|godziny|hours?)\b"), " allday "),
    (re.compile(r"\bnon[\s-]?stop\b"), " nonstop "),
    (re.compile(r"\bround the clock\b|\bca[lł][aą]\s+dob[eę]\b"), " allday "),
    (re.compile(r"\bevery\s+day\b|\beach\s+day\b"), " everyday "),
    (re.compile(r"\b(setiap|tiap)\s+hari\b"), r" \1hari "),
    (re.compile(r"\b(?:w\s+)?dni\s+(robocze|powszednie)\b"), r" dni\1 "),
    (re.compile(r"\bhari\s+kerja\b"), " harikerja "),
    (re.compile(r"\bakhir\s+pekan\b"), " akhirpekan "),
    (re.compile(r"\bs/d\b"), " sd "),
    (re.compile(r"\b([ap])\.?\s?m\b\.?"), r"\1m"),
)
_TOKEN = re.compile(
    r"(?P<time>\d{1,2}(?:[:.h]\d{2})?)(?P<ampm>\s*[ap]m\b)?"
    r"|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)?\.?)"
    r"|(?P<dash>[-–—‐‑−~])"
    r"|(?P<comma>[,&+/])"
    r"|(?P<semicolon>[;\n|])"
    r"|(?P<colon>:)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)"
)


class MapsError(ValueError):
    """A request the pickup-point rules refuse. ``code`` names the rule and ``details`` hold the
    values that explain it, so that each interface says it in its own words (see ``texts``)."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


class HoursError(MapsError):
    """Opening hours we cannot read."""


Interval = tuple[int, int]


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """A weekly schedule: for Monday (0) to Sunday (6), intervals in minutes after that day's midnight.

    An interval may end after midnight (``end`` up to 2 × 1440), so Friday 22:00–02:00 stays
    Friday's, as people say it.
    """

    days: tuple[tuple[Interval, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError("a week has seven days")
        for intervals in self.days:
            for start, end in intervals:
                if not 0 <= start < DAY or not start < end <= start + DAY:
                    raise ValueError(f"bad interval {start}-{end}")

    @property
    def always(self) -> bool:
        """Open round the clock, every day."""
        return all(intervals == ((0, DAY),) for intervals in self.days)

    @property
    def never(self) -> bool:
        return not any(self.days)

    def canonical(self) -> str:
        """The schedule in OpenStreetMap ``opening_hours`` syntax; :func:`parse_hours` reads it back."""
        if self.always:
            return "24/7"
        if self.never:
            return "off"
        return "; ".join(f"{days_text(days, OSM_DAYS)} {times_text(intervals)}" for days, intervals in self.groups())

    def groups(self) -> list[tuple[list[int], tuple[Interval, ...]]]:
        """Days with the same hours together, in week order: ``[([0..4], ((600, 1080),)), ([5], …)]``."""
        out: list[tuple[list[int], tuple[Interval, ...]]] = []
        for day, intervals in enumerate(self.days):
            if not intervals:
                continue
            for days, same in out:
                if same == intervals:
                    days.append(day)
                    break
            else:
                out.append(([day], intervals))
        return out

    def closed_days(self) -> list[int]:
        return [day for day, intervals in enumerate(self.days) if not intervals]


def clock_text(minutes: int) -> str:
    """``600`` → ``10:00``; the end of a day stays ``24:00`` and times after midnight wrap."""
    if minutes == DAY:
        return "24:00"
    minutes %= DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def times_text(intervals: tuple[Interval, ...]) -> str:
    return ",".join(f"{clock_text(start)}-{clock_text(end)}" for start, end in intervals)


def days_text(days: list[int], names: tuple[str, ...] | list[str], dash: str = "-") -> str:
    """``[0, 1, 2, 4]`` → ``Mo-We,Fr``: runs of three or more days become ranges."""
    parts: list[str] = []
    run: list[int] = []
    for day in [*days, None]:
        if day is not None and run and day == run[-1] + 1:
            run.append(day)
            continue
        if run:
            if len(run) >= 3:
                parts.append(f"{names[run[0]]}{dash}{names[run[-1]]}")
            else:
                parts.extend(names[d] for d in run)
        run = [day] if day is not None else []
    return ",".join(parts)


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # day, days, time, always, closed, dash, comma, semicolon, colon, word
    value: Any
    text: str


def _tokens(text: str) -> list[_Token]:
    lowered = text.casefold()
    for pattern, replacement in _PHRASES:
        lowered = pattern.sub(replacement, lowered)
    out: list[_Token] = []
    for match in _TOKEN.finditer(lowered):
        raw = match.group(0)
        if match.group("time") is not None:
            out.append(_Token("time", _minutes(match.group("time"), match.group("ampm")), raw.strip()))
        elif match.group("word") is not None:
            token = _word(raw)
            if token.kind != "filler":
                out.append(token)
        elif match.group("other") is not None:
            raise HoursError("unknown_word", word=raw)
        elif match.group("space") is None:
            kind = next(name for name in ("dash", "comma", "semicolon", "colon") if match.group(name) is not None)
            out.append(_Token(kind, raw, raw))
    return out


def _word(raw: str) -> _Token:
    word = fold(raw)
    if word in DAY_WORDS:
        return _Token("day", DAY_WORDS[word], raw)
    if word in DAY_SETS:
        return _Token("days", DAY_SETS[word], raw)
    if word in CLOSED_WORDS:
        return _Token("closed", None, raw)
    if word in ALWAYS_WORDS:
        return _Token("always", None, raw)
    if word in RANGE_WORDS:
        return _Token("dash", "-", raw)
    if word in AND_WORDS:
        return _Token("comma", ",", raw)
    if word in FILLER_WORDS:
        return _Token("filler", None, raw)
    raise HoursError("unknown_word", word=raw.rstrip("."))


_CLOCK = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?")


def _minutes(text: str, ampm: str | None) -> int:
    """``"10"``, ``"10:30"``, ``"10.30"``, ``"10h30"``, with an optional am/pm → minutes after midnight."""
    match = _CLOCK.fullmatch(text)
    assert match is not None  # the tokenizer only hands over what this pattern reads
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if ampm:
        if not 1 <= hours <= 12:
            raise HoursError("bad_time", time=text + ampm.strip())
        hours = hours % 12 + (12 if ampm.strip().startswith("p") else 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise HoursError("bad_time", time=text)
    return hours * 60 + minutes


class _Reader:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def kind(self, offset: int = 0) -> str | None:
        token = self.peek(offset)
        return token.kind if token else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def days(self) -> tuple[frozenset[int] | None, str]:
        """A day list such as ``Mon-Fri``, ``Mon, Wed`` or ``weekdays``; None if none starts here."""
        if self.kind() not in ("day", "days"):
            return None, ""
        chosen: set[int] = set()
        written: list[str] = []
        while True:
            token = self.take()
            written.append(token.text)
            if token.kind == "days":
                chosen |= token.value
            elif self.kind() == "dash" and self.kind(1) == "day":
                self.take()
                last = self.take()
                written[-1] += "-" + last.text
                span = (last.value - token.value) % 7
                chosen |= {(token.value + step) % 7 for step in range(span + 1)}
            else:
                chosen.add(token.value)
            if self.kind() == "comma" and self.kind(1) in ("day", "days"):
                self.take()
                continue
            if self.kind() in ("day", "days"):
                continue
            return frozenset(chosen), " ".join(written)

    def times(self) -> tuple[list[Interval], bool] | None:
        """Time ranges, or ``closed``/``always`` (which set the day whatever the separator:
        the flag); None if nothing of the kind starts here."""
        if self.kind() == "closed":
            self.take()
            return [], True
        if self.kind() == "always":
            self.take()
            return [(0, DAY)], True
        intervals: list[Interval] = []
        while self.kind() == "time":
            start = self.take()
            if self.kind() != "dash" or self.kind(1) != "time":
                raise HoursError("bad_range", text=start.text)
            self.take()
            end = self.take()
            intervals.append(_interval(start, end))
            if self.kind() == "comma" and self.kind(1) == "time":
                self.take()
        return (intervals, False) if intervals else None


def _interval(start: _Token, end: _Token) -> Interval:
    if start.value == DAY:
        raise HoursError("bad_time", time=start.text)
    stop = end.value
    if stop == start.value:
        raise HoursError("empty_range", text=f"{start.text}-{end.text}")
    if stop < start.value:
        stop += DAY  # across midnight: Friday 22:00-02:00 ends on Saturday
    return start.value, stop


def parse_hours(text: str) -> OpeningHours:
    """Read opening hours; raise :class:`HoursError` with what was not understood."""
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise HoursError("too_long", limit=MAX_LENGTH, length=len(text))
    reader = _Reader(_tokens(text))
    schedule: list[list[Interval]] = [[] for _ in range(7)]
    replace = True
    rules = 0
    while reader.peek() is not None:
        if reader.kind() in ("comma", "semicolon"):
            replace = reader.take().kind == "semicolon"
            continue
        days, written = reader.days()
        if reader.kind() == "colon":
            reader.take()
        found = reader.times()
        if found is None:
            token = reader.peek()
            if days is not None:
                raise HoursError("no_times", days=written)
            assert token is not None
            raise HoursError("unexpected", word=token.text)
        intervals, absolute = found
        for day in days if days is not None else ALL_DAYS:
            if replace or absolute:
                schedule[day] = list(intervals)
            else:
                schedule[day].extend(intervals)
        rules += 1
        replace = False  # "Mon-Fri 10-18 Sat 10-14": a rule with no separator adds
    if not rules:
        raise HoursError("empty")
    return OpeningHours(_normalise(schedule))


WEEK = 7 * DAY


def _normalise(schedule: list[list[Interval]]) -> tuple[tuple[Interval, ...], ...]:
    """One schedule, one form: overlapping or touching periods joined across days and the week's
    end, then handed back to the day each period starts on (split at midnight only when a
    period would last a day or more, which a single ``HH:MM-HH:MM`` cannot say)."""
    periods = sorted((day * DAY + start, day * DAY + end) for day, intervals in enumerate(schedule) for start, end in intervals)
    merged: list[list[int]] = []
    for start, end in periods:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    # Sunday night spills into Monday morning of the next week.
    while len(merged) > 1 and merged[-1][1] - WEEK >= merged[0][0]:
        merged[-1][1] = max(merged[-1][1], merged[0][1] + WEEK)
        merged.pop(0)
    if merged and merged[-1][1] - merged[-1][0] >= WEEK:
        return tuple(((0, DAY),) for _ in range(7))
    days: list[list[Interval]] = [[] for _ in range(7)]
    for start, end in merged:
        while True:
            day, offset = divmod(start, DAY)
            if end - start < DAY or (offset == 0 and end - start == DAY):
                days[day % 7].append((offset, offset + end - start))
                break
            days[day % 7].append((offset, DAY))
            start = (day + 1) * DAY
    return tuple(tuple(sorted(intervals)) for intervals in days)


# --- open now, and next ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpeningState:
    """Where a schedule stands at one moment. Times are aware datetimes in UTC."""

    is_open: bool
    #: When it closes, if open (None: open round the clock).
    closes_at: datetime | None = None
    #: When it opens next, if closed (None: not within the coming week).
    opens_at: datetime | None = None


def _wall(day: date, minutes: int, tz: tzinfo) -> datetime:
    """``minutes`` after local midnight of ``day``, read on the wall clock, in UTC.

    A wall time inside a spring-forward gap does not exist; zoneinfo reads it with the offset from
    before the change, which lands just after the gap: the moment the door actually opens.
    """
    local = datetime.combine(day + timedelta(days=minutes // DAY), time(minutes % DAY // 60, minutes % 60), tzinfo=tz)
    return local.astimezone(UTC)


def spans(hours: OpeningHours, tz: tzinfo, when: datetime, *, days: int = 8) -> Iterator[tuple[datetime, datetime]]:
    """Concrete open periods (UTC) from the day before ``when`` for ``days`` days, joined where they
    touch (Sunday 22:00–24:00 and Monday 00:00–06:00 are one night)."""
    local_day = when.astimezone(tz).date()
    current: tuple[datetime, datetime] | None = None
    for offset in range(-1, days):
        day = local_day + timedelta(days=offset)
        for start, end in hours.days[day.weekday()]:
            begin, finish = _wall(day, start, tz), _wall(day, end, tz)
            if current and begin <= current[1]:
                current = (current[0], max(current[1], finish))
                continue
            if current:
                yield current
            current = (begin, finish)
    if current:
        yield current


def state_at(hours: OpeningHours, tz: tzinfo, when: datetime) -> OpeningState:
    """Is it open at ``when`` (aware), until when, or when does it open next?"""
    if hours.always:
        return OpeningState(True)
    for begin, finish in spans(hours, tz, when):
        if begin <= when < finish:
            return OpeningState(True, closes_at=finish)
        if begin > when:
            return OpeningState(False, opens_at=begin)
    return OpeningState(False)


def is_open(hours: OpeningHours, tz: tzinfo, when: datetime) -> bool:
    return state_at(hours, tz, when).is_open
