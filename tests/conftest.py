from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localbot.clock import ManualClock
from localbot.core import Core
from localbot.settings import Settings
from localbot.storage import open_database
from tests.helpers import Harness, RecordingAdapter


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own LOCALBOT_* variables, .env or config file."""
    import os

    for name in list(os.environ):
        if name.startswith("LOCALBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database=tmp_path / "test.db", timezone="Europe/Warsaw")


@pytest.fixture
def db(settings: Settings) -> Iterator:  # type: ignore[type-arg]
    database = open_database(settings.database)
    yield database
    database.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def core(settings: Settings, db, clock: ManualClock) -> Core:  # type: ignore[no-untyped-def]
    return Core(settings, db, clock=clock)


@pytest.fixture
def adapter(core: Core) -> RecordingAdapter:
    recording = RecordingAdapter("console")
    core.attach(recording)
    return recording


@pytest.fixture
async def bot(core: Core, clock: ManualClock, adapter: RecordingAdapter) -> Harness:
    harness = Harness(core, clock, adapter)
    await harness.make_organiser("anna")
    return harness
