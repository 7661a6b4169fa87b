"""Fixtures for pickup-point tests: a fake Nominatim and a tile server on 127.0.0.1, and a bot
whose settings point at them. Test modules import the fixtures they use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localbot.clock import ManualClock
from localbot.core import Core
from localbot.settings import Settings
from localbot.storage import open_database
from tests.fakes.http_server import ServerThread
from tests.fakes.nominatim import FakeNominatim
from tests.fakes.tiles import FakeTileServer
from tests.helpers import Harness, RecordingAdapter

USER_AGENT = "localbot-tests/1.0 (tests@example.org)"


@pytest.fixture
def nominatim() -> Iterator[tuple[FakeNominatim, str]]:
    fake = FakeNominatim()
    with ServerThread(fake.app()) as server:
        yield fake, server.url


@pytest.fixture
def tile_server() -> Iterator[tuple[FakeTileServer, str]]:
    fake = FakeTileServer()
    with ServerThread(fake.app()) as server:
        yield fake, fake.template(server.url)


def maps_settings(tmp_path: Path, nominatim_url: str | None, tile_url: str | None, *, language: str = "en", **extra: Any) -> Settings:
    geocoder: dict[str, Any] = {"url": nominatim_url or "http://127.0.0.1:9", "timeout": 1.5}
    if nominatim_url:
        geocoder["user_agent"] = USER_AGENT
    return Settings(
        database=tmp_path / "maps.db",
        timezone="Europe/Warsaw",
        language=language,
        geocoder=geocoder,
        map={"tile_url": tile_url, "timeout": 1.5, **extra},
    )


async def make_bot(settings: Settings, languages: dict[str, str] | None = None) -> Harness:
    """A bot on its own settings, with anna as organiser (close ``bot.core.db`` at the end)."""
    db = open_database(settings.database)
    clock = ManualClock()
    core, adapter = Core(settings, db, clock=clock), RecordingAdapter()
    core.attach(adapter)
    bot = Harness(core, clock, adapter, languages=dict(languages or {}))
    await bot.make_organiser("anna")
    return bot
