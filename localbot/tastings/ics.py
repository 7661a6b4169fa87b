"""Calendar files (RFC 5545 iCalendar) for a place at a tasting session.

Written by hand because it is small: one ``VEVENT`` in a ``VCALENDAR`` with times in UTC (the
``Z`` form, so no ``VTIMEZONE`` is needed and every calendar app shows the right local time), text
values escaped (backslash, semicolon, comma, line breaks), content lines folded at 75 octets
without splitting a UTF-8 character, and CRLF line ends. The ``UID`` is stable per place, so a
calendar that imports the file twice (a promotion from the waiting list, say) updates the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//localbot//tastings//EN"
LIMIT = 75


@dataclass(frozen=True, slots=True)
class Event:
    uid: str
    start: datetime
    end: datetime
    summary: str
    stamp: datetime
    location: str | None = None
    description: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Split a content line into lines of at most 75 octets; continuations start with a space."""
    data = line.encode()
    if len(data) <= LIMIT:
        return line
    parts: list[str] = []
    start, limit = 0, LIMIT
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never cut inside a character
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, LIMIT - 1  # the leading space of a continuation counts
    return "\r\n ".join(parts)


def calendar(event: Event) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc(event.stamp)}",
        f"DTSTART:{utc(event.start)}",
        f"DTEND:{utc(event.end)}",
        f"SUMMARY:{escape(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape(event.location)}")
    if event.latitude is not None and event.longitude is not None:
        lines.append(f"GEO:{event.latitude:.6f};{event.longitude:.6f}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape(event.description)}")
    lines += ["STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()
