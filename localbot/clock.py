"""Time as the bot sees it.

Everything that depends on "now" (deadlines, reminders, diary prompts, the 24-hour WhatsApp window)
asks a :class:`Clock` instead of calling ``datetime.now`` so that tests and the console can move time
forward and watch scheduled work fall due. Timestamps are stored as fixed-width ISO 8601 UTC text so
that SQLite compares them correctly as strings and organisers can read them in any SQLite browser.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class Clock(Protocol):
    """Anything that can tell the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """The wall clock shifted by an offset that only grows.

    The console uses it: ``:wait 2h`` moves this clock two hours ahead while real time keeps
    flowing, so interactive sessions still feel live.
    """

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self.offset = timedelta()

    def now(self) -> datetime:
        return self._base.now() + self.offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta():
            raise ValueError("time only moves forward")
        self.offset += delta


class ManualClock:
    """A clock that stands still until told to move: deterministic tests."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta():
            raise ValueError("time only moves forward")
        self._now += delta

    def set(self, moment: datetime) -> None:
        moment = moment.astimezone(UTC)
        if moment < self._now:
            raise ValueError("time only moves forward")
        self._now = moment


@lru_cache(maxsize=64)
def iso(moment: datetime) -> str:
    """Fixed-width UTC text, so that string order in SQLite equals time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; attach a time zone first")
    # Round to milliseconds: enough for ordering, short enough to read.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def from_iso(text: str) -> datetime:
    """Parse what :func:`iso` wrote (and any other ISO 8601 text with an offset)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_second(text: str | None) -> str:
    """A stored timestamp as ISO 8601 UTC to the second (``2026-11-21T10:00:00Z``), the form R,
    pandas and spreadsheets all read; empty when there is none. Exports use it."""
    return from_iso(text).strftime("%Y-%m-%dT%H:%M:%SZ") if text else ""


def monotonic() -> float:
    """Monotonic seconds, for measuring intervals that must not jump with the wall clock."""
    return time.monotonic()
