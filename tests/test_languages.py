"""The same poll flows in Polish and Indonesian: members get answers in their own language."""

from __future__ import annotations

import pytest

from localbot.clock import ManualClock
from localbot.core import Core
from localbot.settings import Settings
from localbot.storage import open_database
from tests.helpers import Harness, RecordingAdapter, ack, choices, texts

CASES = {
    "pl": {
        "vote": "Twój głos: Pizza",
        "change": "Zmieniono Twój głos na: Zupa.",
        "closed": "Głosowanie nr 1 jest zamknięte; głosy nie są już liczone.",
        "not organiser": "Tylko organizatorzy mogą używać /close.",
        "no options": "Głosowanie potrzebuje co najmniej dwóch opcji",
        "duplicate": "„pizza” występuje dwa razy.",
        "bad deadline": "Nie rozumiem terminu „wkrótce”.",
        "no poll": "Nie ma głosowania nr 7.",
        "bad number": "Odpowiedz liczbą od 1 do 2.",
        "poll title": "Głosowanie nr 1: Obiad?",
        "results": "Zagłosowały 2 osoby.",
    },
    "id": {
        "vote": "Suara Anda: Pizza",
        "change": "Suara Anda diubah menjadi Zupa.",
        "closed": "Polling #1 sudah ditutup; suara tidak lagi dihitung.",
        "not organiser": "Hanya pengurus yang dapat menggunakan /close.",
        "no options": "Polling memerlukan setidaknya dua pilihan",
        "duplicate": "“pizza” tercantum dua kali.",
        "bad deadline": "Saya tidak dapat membaca batas waktu “wkrótce”.",
        "no poll": "Tidak ada polling #7.",
        "bad number": "Silakan jawab dengan angka 1 sampai 2.",
        "poll title": "Polling #1: Obiad?",
        "results": "2 orang memberikan suara.",
    },
}


@pytest.mark.parametrize("language", ["pl", "id"])
async def test_polls_speak_the_members_language(tmp_path, language: str) -> None:  # type: ignore[no-untyped-def]
    expect = CASES[language]
    settings = Settings(database=tmp_path / "l.db", language=language, timezone="Europe/Warsaw")
    db = open_database(settings.database)
    clock = ManualClock()
    bot = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter(), languages={"anna": language, "bartek": language, "celina": language})
    await bot.make_organiser("anna")

    assert expect["no options"] in texts(await bot.send("/poll Obiad?"))
    assert expect["duplicate"] in texts(await bot.send("/poll Obiad? | Pizza | pizza"))
    assert expect["bad deadline"] in texts(await bot.send("/poll --until wkrótce Obiad? | Pizza | Zupa"))
    assert expect["poll title"] in choices(await bot.send("/poll Obiad? | Pizza | Zupa")).text
    assert ack(await bot.send("1", "bartek")) == expect["vote"]
    assert ack(await bot.send("2", "bartek")) == expect["change"]
    assert texts(await bot.send("3", "bartek")) == expect["bad number"]
    await bot.send("1", "celina")
    assert expect["results"] in texts(await bot.send("/results"))
    assert texts(await bot.send("/close", "bartek")) == expect["not organiser"]
    assert texts(await bot.send("/close 7")) == expect["no poll"]
    await bot.send("/close")
    assert ack(await bot.send("1", "bartek")) == expect["closed"]
    assert db["poll_votes"].count == 2  # nothing stored was lost or changed by the wrong inputs
    db.close()


async def test_group_posts_use_the_community_language_and_errors_the_members(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database=tmp_path / "m.db", language="pl")
    db = open_database(settings.database)
    clock = ManualClock()
    bot = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter(), languages={"sari": "id"})
    await bot.make_organiser("anna")
    assert "Głosowanie nr 1" in choices(await bot.send("/poll Obiad? | Pizza | Zupa")).text  # the group's language
    assert ack(await bot.send("1", "sari")) == "Suara Anda: Pizza"  # the member's own
    db.close()
