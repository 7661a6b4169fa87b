"""Pickup points and the rules they follow, with no storage and no messenger.

Every rule violation is a :class:`PointError` with a ``code`` and the values needed to explain it,
so the handler layer and the command line can say what was wrong, each in its own words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, tzinfo

from localbot.maps.hours import MapsError, OpeningHours, is_open
from localbot.text import clean

MAX_NAME = 80
MAX_ADDRESS = 200
MAX_NOTE = 500
#: What Nominatim's usage policy asks to show wherever its addresses appear (the chat, exports).
ATTRIBUTION = "© OpenStreetMap contributors"


class PointError(MapsError):
    """A pickup point that breaks a rule (a duplicate name, coordinates off the Earth, …)."""


def name_key(name: str) -> str:
    """What makes two names the same point: case, width and spacing ignored ("Kiosk" = "KIOSK ")."""
    return unicodedata.normalize("NFKC", clean(name)).casefold()


def check_name(name: str) -> str:
    name = clean(name)
    if not name:
        raise PointError("no_name")
    if len(name) > MAX_NAME:
        raise PointError("name_too_long", limit=MAX_NAME, length=len(name))
    if name.isdigit():
        # Numbers are how members refer to points (/point 3); a name made of digits would clash.
        raise PointError("numeric_name", name=name)
    return name


def check_text(text: str | None, limit: int, code: str) -> str | None:
    """An optional free text (address, note): cleaned, empty means none."""
    if text is None:
        return None
    text = clean(text)
    if len(text) > limit:
        raise PointError(code, limit=limit, length=len(text))
    return text or None


def check_coordinates(latitude: float, longitude: float) -> tuple[float, float]:
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise PointError("bad_coordinates", text=f"{latitude}, {longitude}")
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise PointError("out_of_range", latitude=latitude, longitude=longitude)
    return latitude, longitude


def _coordinate_pattern(decimal: str, separator: str) -> re.Pattern[str]:
    number = rf"([-+−]?\d{{1,4}}(?:{decimal}\d+)?)\s*°?\s*"
    return re.compile(rf"^\s*\(?\s*{number}([NS]?)\s*{separator}\s*{number}([EW]?)\s*\)?\s*$", re.IGNORECASE)


# "52.2297, 21.0122" or "52.2297 21.0122", and with decimal commas "52,2297; 21,0122" or "52,2297 21,0122".
_COORDINATES = (_coordinate_pattern(r"\.", r"[\s,;]"), _coordinate_pattern(",", r"[\s;]"))


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """Coordinates typed as text (also ``52.2297° N, 21.0122° E``) → (lat, lon).

    None when the text does not look like coordinates at all (then it is an address); a
    :class:`PointError` when it does but they cannot be on Earth.
    """
    for pattern in _COORDINATES:
        match = pattern.match(text)
        if match is None:
            continue
        lat_text, ns, lon_text, ew = match.groups()
        latitude = float(lat_text.replace(",", ".").replace("−", "-"))
        longitude = float(lon_text.replace(",", ".").replace("−", "-"))
        if ns.upper() == "S":
            latitude = -latitude
        if ew.upper() == "W":
            longitude = -longitude
        return check_coordinates(latitude, longitude)
    return None


@dataclass(frozen=True, slots=True)
class PointSpec:
    """A checked request for a new pickup point (or the new values of one)."""

    name: str
    latitude: float
    longitude: float
    address: str | None = None
    hours: OpeningHours | None = None
    note: str | None = None

    @classmethod
    def build(
        cls,
        name: str,
        latitude: float,
        longitude: float,
        *,
        address: str | None = None,
        hours: OpeningHours | None = None,
        note: str | None = None,
    ) -> PointSpec:
        latitude, longitude = check_coordinates(latitude, longitude)
        return cls(
            check_name(name),
            latitude,
            longitude,
            check_text(address, MAX_ADDRESS, "address_too_long"),
            hours,
            check_text(note, MAX_NOTE, "note_too_long"),
        )


@dataclass(frozen=True, slots=True)
class Point:
    """A stored pickup point. ``number`` is what members call it by (``/point 3``)."""

    id: int
    community_id: int
    number: int
    name: str
    latitude: float
    longitude: float
    address: str | None
    hours: OpeningHours | None
    note: str | None
    created_at: datetime
    updated_at: datetime

    def is_open(self, tz: tzinfo, when: datetime) -> bool | None:
        """Open at ``when`` on the community's clock (``tz``); None when the hours are not known."""
        return None if self.hours is None else is_open(self.hours, tz, when)


@dataclass(frozen=True, slots=True)
class NearPoint:
    """A point and its geodesic distance from where someone stands."""

    point: Point
    metres: float
