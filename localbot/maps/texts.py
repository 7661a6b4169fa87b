"""How pickup points read in each language: distances, walking time, opening hours, and what went wrong.

The domain raises coded errors (:class:`~localbot.maps.model.PointError`,
:class:`~localbot.maps.hours.HoursError`); these functions turn them, and the plain values of the
domain, into sentences for one :class:`~localbot.i18n.Translator`. The chat uses the member's or the
community's translator; the command line uses English.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

from babel.dates import format_time

from localbot.i18n import Translator
from localbot.maps.geo import walking_minutes
from localbot.maps.hours import DAY, HoursError, OpeningHours, days_text, state_at
from localbot.maps.model import PointError

#: Beyond this, walking time is not worth giving.
MAX_WALK_MINUTES = 120
HOURS_EXAMPLE = "Mon-Fri 10:00-18:00, Sat 10:00-14:00"


def distance(t: Translator, metres: float) -> str:
    """``350 m``, ``1.2 km``, ``312 km``: the precision a person walking needs."""
    if metres < 1000:
        return t._("{metres} m", metres=t.number(max(10, round(metres, -1)), 0))
    if metres < 10_000:
        return t._("{km} km", km=t.number(metres / 1000, 1))
    return t._("{km} km", km=t.number(metres / 1000, 0))


def walking(t: Translator, metres: float) -> str | None:
    minutes = walking_minutes(metres)
    if minutes > MAX_WALK_MINUTES:
        return None
    return t.n_("about {n} min on foot", "about {n} min on foot", minutes)


def clock(t: Translator, minutes: int) -> str:
    """Minutes after midnight as the language writes a time of day (``10:00``, ``10.00``, ``10:00 AM``)."""
    minutes %= DAY
    return format_time(time(minutes // 60, minutes % 60), "short", locale=t.language)


def day_names(t: Translator) -> list[str]:
    return [short for _wide, short in (t.weekday_names()[day] for day in range(7))]


def hours_summary(t: Translator, hours: OpeningHours | None) -> str:
    """``Mon–Fri 10:00–18:00 · Sat 10:00–14:00 · closed Sun`` in the reader's language."""
    if hours is None:
        return t._("opening hours not known")
    if hours.always:
        return t._("open round the clock")
    if hours.never:
        return t._("closed until further notice")
    names = day_names(t)
    parts = [
        days_text(days, names, "–").replace(",", ", ") + " " + ", ".join(f"{clock(t, start)}–{clock(t, end)}" for start, end in intervals)
        for days, intervals in hours.groups()
    ]
    closed = hours.closed_days()
    if closed:
        parts.append(t._("closed {days}", days=days_text(closed, names, "–").replace(",", ", ")))
    return " · ".join(parts)


def _moment(t: Translator, moment: datetime, tz: tzinfo, now: datetime) -> str:
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    at = t.time(moment, tz)
    if local.date() == today:
        return t._("today at {time}", time=at)
    if local.date() == today + timedelta(days=1):
        return t._("tomorrow at {time}", time=at)
    return t._("{day} at {time}", day=day_names(t)[local.weekday()], time=at)


def opening_state(t: Translator, hours: OpeningHours | None, tz: tzinfo, now: datetime) -> str:
    """``open now, until 18:00`` / ``closed, opens tomorrow at 10:00``, on the community's clock."""
    if hours is None:
        return t._("opening hours not known")
    state = state_at(hours, tz, now)
    if state.is_open:
        if state.closes_at is None:
            return t._("open now, round the clock")
        if state.closes_at - now < timedelta(hours=20):
            return t._("open now, until {time}", time=t.time(state.closes_at, tz))
        return t._("open now, until {when}", when=_moment(t, state.closes_at, tz, now))
    if state.opens_at is None:
        return t._("closed, not open in the coming week")
    return t._("closed, opens {when}", when=_moment(t, state.opens_at, tz, now))


def hours_error(t: Translator, error: HoursError) -> str:
    d = error.details
    match error.code:
        case "empty":
            return t._("Please write the opening hours, for example {example}.", example=HOURS_EXAMPLE)
        case "too_long":
            return t._("Those opening hours are too long ({length} characters). Please keep them under {limit}.", **d)
        case "unknown_word" | "unexpected":
            return t._("I don't understand “{word}” in the opening hours. Write days and times, for example {example}.", word=d["word"], example=HOURS_EXAMPLE)
        case "bad_time":
            return t._("“{time}” is not a time of day. Use times such as 8:00, 17:30 or 24:00.", **d)
        case "bad_range":
            return t._("“{text}” needs an end time, for example 10:00-18:00.", **d)
        case "empty_range":
            return t._("“{text}” starts and ends at the same time.", **d)
        case "no_times":
            return t._("Which hours on {days}? For example: {days} 10:00-18:00, or {days} closed.", **d)
    return t._("I couldn't read those opening hours. Write them like {example}.", example=HOURS_EXAMPLE)


def point_error(t: Translator, error: PointError) -> str:
    d = error.details
    match error.code:
        case "no_name":
            return t._("Please give the pickup point a name.")
        case "name_too_long":
            return t._("That name is too long ({length} characters). Please keep it under {limit}.", **d)
        case "numeric_name":
            return t._("A name needs more than digits, because numbers are how members pick points. Try for example “Kiosk {name}”.", **d)
        case "duplicate_name":
            return t._("There is already a pickup point called “{name}”. Please choose another name.", **d)
        case "out_of_range":
            return t._(
                "Those coordinates are not on Earth: latitude must be between -90 and 90, longitude between -180 and 180 (you wrote {latitude}, {longitude}).",
                latitude=t.number(d["latitude"], 6),
                longitude=t.number(d["longitude"], 6),
            )
        case "bad_coordinates":
            return t._("“{text}” are not coordinates I can use.", **d)
        case "address_too_long":
            return t._("That address is too long ({length} characters). Please keep it under {limit}.", **d)
        case "note_too_long":
            return t._("That note is too long ({length} characters). Please keep it under {limit}.", **d)
        case "in_use":
            return t._("This pickup point is still used (for example by a planned tasting), so it cannot be removed yet.")
    return t._("That pickup point is not quite right.")
