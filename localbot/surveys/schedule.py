"""When a diary member is asked: N random moments a day inside their waking window, never too close.

The experience-sampling literature (and PACO's bucketed generator) samples *stratified* random
times: the waking window is split into N equal blocks and one moment is drawn in each, so prompts
cover the whole day yet stay unpredictable. A minimum gap keeps two prompts from arriving almost
together: the moment of block *i* is drawn uniformly from the part of the block that lies at least
the gap after the previous prompt, the previous day's last prompt included. That part is never
empty as long as a block is at least as long as the gap (the previous moment lies before the block
starts, as one day's window ends before the next one starts), so the gap is guaranteed by
construction, with no retries, across days too, and a window shorter than N × gap is refused up
front. A prompt may be sent late (the bot was down) until ``send_by``: never past its expiry, the
window's end or the next prompt's moment.

Windows are local wall-clock times in the member's time zone, converted per calendar day, so a
day on which the clocks change keeps the member's 07:00–22:00 (its real length differs by an hour,
which the blocks follow). A window may run past midnight (22:00–06:00 for night shifts). All
moments are whole seconds in UTC. Pure functions; the caller brings the random generator.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from localbot.surveys.model import Window
from localbot.when import parse_time_of_day


class WindowError(ValueError):
    """A window we cannot use. ``code``: ``unreadable``, ``empty`` or ``too_short`` (with lengths)."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


_SEPARATOR = re.compile(r"\s*(?:–|—|-|\.\.|\bto\b|\btill\b|\bdo\b|\bsampai\b|\bhingga\b|s/d)\s*", re.IGNORECASE)


def parse_window(text: str) -> Window:
    """``"07:00-22:00"``, ``"7-22"``, ``"7am to 10pm"``, ``"07.00–22.00"``, ``"7 do 22"`` → :class:`Window`."""
    parts = [p for p in _SEPARATOR.split(text.strip()) if p]
    if len(parts) != 2:
        raise WindowError("unreadable", text=text)
    start, end = parse_time_of_day(parts[0]), parse_time_of_day(parts[1])
    if start is None or end is None:
        raise WindowError("unreadable", text=text)
    if start == end:
        raise WindowError("empty", text=text)
    return Window(start, end)


def window_bounds(day: date, window: Window, tz: tzinfo) -> tuple[datetime, datetime]:
    """The window of local calendar ``day`` as two UTC moments (the end on the next day if it crosses midnight)."""
    start = datetime.combine(day, window.start, tzinfo=tz).astimezone(UTC)
    end_day = day + timedelta(days=1) if window.crosses_midnight else day
    end = datetime.combine(end_day, window.end, tzinfo=tz).astimezone(UTC)
    return start, end


def needed(prompts: int, min_gap: timedelta) -> timedelta:
    """The shortest window that holds ``prompts`` equal blocks of at least ``min_gap`` each."""
    return prompts * min_gap


def check_window(window: Window, tz: tzinfo, days: list[date], prompts: int, min_gap: timedelta) -> None:
    """Raise ``too_short`` if on any of ``days`` (a clock change can shorten one) the window is too short."""
    shortest = min((end - start for start, end in (window_bounds(day, window, tz) for day in days)), default=None)
    if shortest is not None and shortest < needed(prompts, min_gap):
        raise WindowError("too_short", length=shortest, needed=needed(prompts, min_gap), prompts=prompts, gap=min_gap)


def plan_day(
    day: date, window: Window, tz: tzinfo, prompts: int, min_gap: timedelta, rng: random.Random, after: datetime | None = None
) -> list[datetime]:
    """``prompts`` moments in ``day``'s window: one per equal block, each at least ``min_gap`` after
    the last, the first at least ``min_gap`` after ``after`` (the day before's last prompt)."""
    start, end = window_bounds(day, window, tz)
    length = int((end - start).total_seconds())
    gap = int(min_gap.total_seconds())
    if length < prompts * gap or prompts < 1:
        raise WindowError("too_short", length=end - start, needed=needed(prompts, min_gap), prompts=prompts, gap=min_gap)
    moments: list[datetime] = []
    previous: int | None = None if after is None else int((after - start).total_seconds())
    for block in range(prompts):
        low = length * block // prompts
        high = length * (block + 1) // prompts  # exclusive
        if previous is not None:
            low = max(low, previous + gap)
        if low >= high:  # only if the day before's window overlaps this one
            raise WindowError("too_short", length=end - start, needed=needed(prompts, min_gap), prompts=prompts, gap=min_gap)
        offset = rng.randrange(low, high)
        moments.append(start + timedelta(seconds=offset))
        previous = offset
    return moments


def first_day(now: datetime, window: Window, tz: tzinfo) -> date:
    """A diary starts today if today's window has not begun yet, else tomorrow: every day is whole."""
    today = now.astimezone(tz).date()
    start, _end = window_bounds(today, window, tz)
    return today if now <= start else today + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Planned:
    day: int
    slot: int
    at: datetime
    #: The latest moment it may still go out (a bot that was down sends it late, never after this).
    send_by: datetime


def plan(
    start_day: date,
    *,
    days: int,
    window: Window,
    tz: tzinfo,
    prompts: int,
    min_gap: timedelta,
    expires_after: timedelta,
    rng: random.Random,
    after: datetime | None = None,
) -> list[Planned]:
    """Every prompt of a diary of ``days`` days, day and slot counted from 1. The minimum gap holds
    across days too (a window of nearly 24 hours ends close to the next one's start), and from
    ``after`` (the last prompt sent, when a diary is planned again)."""
    moments: list[tuple[int, int, datetime, datetime]] = []
    last = after
    for day_index in range(days):
        day = start_day + timedelta(days=day_index)
        _start, window_end = window_bounds(day, window, tz)
        for slot, at in enumerate(plan_day(day, window, tz, prompts, min_gap, rng, last), start=1):
            moments.append((day_index + 1, slot, at, window_end))
            last = at
    # A prompt may go out late (the bot was down) but never once the next one is due.
    nexts = [at for _d, _s, at, _e in moments[1:]] + [None]
    return [
        Planned(day, slot, at, min(at + expires_after, window_end, *([following] if following else [])))
        for (day, slot, at, window_end), following in zip(moments, nexts, strict=True)
    ]


def in_window(moment: datetime, window: Window, tz: tzinfo) -> bool:
    """Whether ``moment`` lies inside the window of its local day (or of the day before, for a
    window across midnight), compared as real moments like :func:`window_bounds`: on the day the
    clocks go forward, a window that ends in the skipped hour ends an hour later on the wall clock."""
    day = moment.astimezone(tz).date()
    for start, end in (window_bounds(day - timedelta(days=1), window, tz), window_bounds(day, window, tz)):
        if start <= moment < end:
            return True
    return False


def clock_text(value: time) -> str:
    return f"{value:%H:%M}"
