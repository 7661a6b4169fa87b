"""Geocoding through geopy's Nominatim against a fake on 127.0.0.1: user agent, rate limit, cache, errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from localbot.maps import geocode
from localbot.maps.geocode import Geocoder, GeocodingFailed, GeocodingUnavailable, Place
from localbot.settings import GeocoderSettings
from tests.fakes.http_server import free_port
from tests.fakes.nominatim import FakeNominatim
from tests.maps_support import USER_AGENT, nominatim  # noqa: F401 - fixture

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def geocoder(url: str, **extra: object) -> Geocoder:
    return Geocoder(GeocoderSettings(**{"url": url, "user_agent": USER_AGENT, "timeout": 1.5, **extra}))  # type: ignore[arg-type]


def gaps(fake: FakeNominatim) -> list[float]:
    times = [entry.at for entry in fake.log]
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def test_a_found_address_with_the_user_agent_and_language(nominatim) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, url = nominatim
    place = geocoder(url, country_codes=["pl"]).search("  Zielona 3,  Warszawa ", language="pl")
    assert place == Place(52.2310, 21.0150, "Zielona 3, Śródmieście, Warszawa, 00-001, Polska")
    (entry,) = fake.log
    assert entry.query == "Zielona 3, Warszawa" and entry.user_agent == USER_AGENT
    assert entry.language == "pl" and entry.country_codes == "pl"


def test_not_found_is_none_and_remembered_in_memory(nominatim) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, url = nominatim
    service = geocoder(url)
    assert service.search("Nowhere Street 99", language="en") is None
    assert service.search("nowhere street 99", language="en") is None  # same question, other case
    assert fake.queries() == ["Nowhere Street 99"]


async def test_at_most_one_request_a_second_for_the_whole_process(nominatim) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Three geocoders (as if for three settings) asked at once still share one slot a second."""
    fake, url = nominatim
    services = [geocoder(url), geocoder(url, timeout=2.0), geocoder(url, country_codes=["pl"])]
    queries = ["Zielona 3, Warszawa", "Marszałkowska 10, Warszawa", "Plac Zbawiciela, Warszawa", "Somewhere else"]
    await asyncio.gather(*(services[i % 3].asearch(q, language="en") for i, q in enumerate(queries)))
    assert sorted(fake.queries()) == sorted(queries)
    assert len(gaps(fake)) == 3 and min(gaps(fake)) >= 0.95, gaps(fake)


@pytest.mark.parametrize("query", ["slow lane 1", "broken street", "refused road"])
def test_timeouts_and_service_errors_are_failures_not_answers(nominatim, query: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, url = nominatim
    fake.slow_seconds = 1.0
    service = geocoder(url, timeout=0.5)
    with pytest.raises(GeocodingFailed):
        service.search(query, language="en")
    with pytest.raises(GeocodingFailed):  # a failure is not remembered as "no such place"
        service.search(query, language="en")
    assert fake.queries() == [query, query]


def test_an_unreachable_service_fails_cleanly() -> None:
    with pytest.raises(GeocodingFailed):
        geocoder(f"http://127.0.0.1:{free_port()}").search("Zielona 3, Warszawa", language="en")


def test_no_user_agent_no_geocoding() -> None:
    with pytest.raises(GeocodingUnavailable):
        geocode.geocoder_for(GeocoderSettings())
    with pytest.raises(GeocodingUnavailable):
        geocode.geocoder_for(GeocoderSettings(user_agent="   "))


def test_the_sqlite_cache_outlives_the_process(nominatim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """resolve() asks once; a new geocoder (a restarted bot) answers from SQLite without asking."""
    from localbot.storage import open_database

    fake, url = nominatim
    db = open_database(tmp_path / "cache.db")
    try:
        first = geocode.resolve(db, geocoder(url), "Zielona 3, Warszawa", language="pl", now=NOW)
        again = geocode.resolve(db, geocoder(url), "zielona 3,  warszawa.", language="pl", now=NOW + timedelta(days=400))
        assert first == again and first is not None
        assert geocode.resolve(db, geocoder(url), "Nowhere 1", language="pl", now=NOW) is None
        assert geocode.resolve(db, geocoder(url), "Nowhere 1", language="pl", now=NOW + timedelta(days=29)) is None
        assert fake.queries() == ["Zielona 3, Warszawa", "Nowhere 1"]
        # "no such place" is believed for a month, then asked again (the map gets edited)
        assert geocode.resolve(db, geocoder(url), "Nowhere 1", language="pl", now=NOW + timedelta(days=31)) is None
        assert fake.queries() == ["Zielona 3, Warszawa", "Nowhere 1", "Nowhere 1"]
        # another answer language is another question
        geocode.resolve(db, geocoder(url), "Zielona 3, Warszawa", language="en", now=NOW)
        assert len(fake.queries()) == 4
        assert db.execute("SELECT COUNT(*) FROM geocode_cache").fetchone()[0] == 3
    finally:
        db.close()
