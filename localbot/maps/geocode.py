"""Addresses to coordinates through Nominatim (geopy), politely.

Nominatim's usage policy asks for an identifying user agent, at most one request per second for
the whole application, and cached results. So:

- :class:`Geocoder` refuses to exist without ``geocoder.user_agent`` (:class:`GeocodingUnavailable`);
- every request in the process passes one shared geopy ``RateLimiter`` (thread-safe), whichever
  geocoder instance, chat or command makes it;
- answers are kept in SQLite (``geocode_cache``, :func:`cached` / :func:`remember`), by whoever may
  keep them: an organiser's point address is kept for good, "no such place" for
  :data:`NOT_FOUND_TTL`. A member's own address (``/near Zielona 3``) is their location, so it is
  only kept in this process's memory (:class:`Geocoder` remembers its recent answers), never on disk.

geopy's client is synchronous; the bot awaits it with :func:`asyncio.to_thread` from a
a handler's ``ctx.lookup``, outside any database transaction. (geopy's
async adapter would need aiohttp, which is not one of our dependencies.)
"""

from __future__ import annotations

import asyncio
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlite_utils
from geopy.adapters import URLLibAdapter
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim

from localbot.clock import from_iso, iso
from localbot.maps.model import ATTRIBUTION as ATTRIBUTION  # re-exported: what geocoded addresses are shown with
from localbot.storage.db import one
from localbot.text import clean

if TYPE_CHECKING:
    from localbot.settings import GeocoderSettings

#: Nominatim's policy: one request per second for the whole application.
MIN_INTERVAL_S = 1.0
#: How long "no such place" is believed: the map gets edited, a new building gets its number.
NOT_FOUND_TTL = timedelta(days=30)
RECENT_ANSWERS = 256


class GeocodingUnavailable(Exception):
    """No user agent is configured, so addresses cannot be looked up (policy, not a fault)."""


class GeocodingFailed(Exception):
    """The geocoder did not answer usefully: a timeout, an error status, a refusal."""


@dataclass(frozen=True, slots=True)
class Place:
    latitude: float
    longitude: float
    #: Nominatim's ``display_name``: the full address as OpenStreetMap knows it.
    address: str


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


# One slot a second for every request this process makes; geopy's limiter is thread-safe.
_LIMITER = RateLimiter(_call, min_delay_seconds=MIN_INTERVAL_S, max_retries=0, swallow_exceptions=False)


def query_key(query: str, *, language: str, country_codes: tuple[str, ...] = ()) -> str:
    """What makes two look-ups the same question: spacing, case and width ignored; the answer's
    language and the countries searched included, since they change the answer."""
    folded = unicodedata.normalize("NFKC", clean(query)).casefold().strip(" ,.;")
    return f"{language}|{','.join(country_codes)}|{folded}"


# --- the cache in SQLite -------------------------------------------------------------------------


def cached(db: sqlite_utils.Database, key: str, *, now: datetime) -> tuple[bool, Place | None]:
    """(True, place or None) when the answer is known, (False, None) when it must be asked."""
    row = one(db, "SELECT found, latitude, longitude, address, fetched_at FROM geocode_cache WHERE query_key = ?", [key])
    if row is None:
        return False, None
    if row["found"]:
        return True, Place(row["latitude"], row["longitude"], row["address"] or "")
    if now - from_iso(row["fetched_at"]) < NOT_FOUND_TTL:
        return True, None
    return False, None


def remember(db: sqlite_utils.Database, key: str, query: str, place: Place | None, *, now: datetime) -> None:
    found = (place.latitude, place.longitude, place.address) if place else (None, None, None)
    db.execute(
        """INSERT INTO geocode_cache (query_key, query, found, latitude, longitude, address, fetched_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (query_key) DO UPDATE SET found = excluded.found, latitude = excluded.latitude,
               longitude = excluded.longitude, address = excluded.address, fetched_at = excluded.fetched_at""",
        [key, clean(query), int(place is not None), *found, iso(now)],
    )


# --- asking Nominatim ----------------------------------------------------------------------------


class Geocoder:
    """Nominatim behind the process-wide rate limit, with a memory of recent answers."""

    def __init__(self, settings: GeocoderSettings) -> None:
        if not settings.user_agent:
            raise GeocodingUnavailable("geocoder.user_agent (LOCALBOT_GEOCODER__USER_AGENT) is not set")
        parts = urlsplit(settings.url)
        self.country_codes = tuple(settings.country_codes)
        self._nominatim = Nominatim(
            domain=(parts.netloc + parts.path).rstrip("/"),
            scheme=parts.scheme,
            user_agent=settings.user_agent,
            timeout=settings.timeout,
            adapter_factory=URLLibAdapter,  # no hidden retries: every request is one we counted
        )
        self._recent: OrderedDict[str, Place | None] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, query: str, language: str) -> str:
        return query_key(query, language=language, country_codes=self.country_codes)

    def search(self, query: str, *, language: str) -> Place | None:
        """The best match for ``query`` (None: no such place). Blocks, at most one request a second
        for the whole process; raises :class:`GeocodingFailed` when the service lets us down."""
        key = self.key(query, language)
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        try:
            location = _LIMITER(
                self._nominatim.geocode, clean(query), exactly_one=True, language=language, country_codes=list(self.country_codes) or None
            )
        except GeopyError as exc:
            raise GeocodingFailed(f"{type(exc).__name__}: {exc}") from exc
        place = Place(float(location.latitude), float(location.longitude), str(location.address)) if location else None
        with self._lock:
            self._recent[key] = place
            while len(self._recent) > RECENT_ANSWERS:
                self._recent.popitem(last=False)
        return place

    async def asearch(self, query: str, *, language: str) -> Place | None:
        """:meth:`search` from the event loop, in a worker thread."""
        return await asyncio.to_thread(self.search, query, language=language)


_geocoders: dict[tuple[str, str, float, tuple[str, ...]], Geocoder] = {}
_geocoders_lock = threading.Lock()


def geocoder_for(settings: GeocoderSettings) -> Geocoder:
    """The process's geocoder for these settings (raises :class:`GeocodingUnavailable`)."""
    key = (settings.url, settings.user_agent or "", settings.timeout, tuple(settings.country_codes))
    with _geocoders_lock:
        if key not in _geocoders:
            _geocoders[key] = Geocoder(settings)
        return _geocoders[key]


def resolve(db: sqlite_utils.Database, geocoder: Geocoder, query: str, *, language: str, now: datetime) -> Place | None:
    """Look an address up for keeping (an organiser's point): the SQLite cache first, then
    Nominatim, and the answer is cached. Blocking: for the command line, not for handlers."""
    key = geocoder.key(query, language)
    known, place = cached(db, key, now=now)
    if known:
        return place
    place = geocoder.search(query, language=language)
    remember(db, key, query, place, now=now)
    return place
