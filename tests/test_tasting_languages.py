"""Every wrong input to a tasting, answered in the member's language (English, Polish, Indonesian),
and nothing already stored is lost: a liking of 0 or 10, a JAR answer out of range, a code that does
not exist, signing up twice, a full session, a cancelled session, a session in the past, a tasting
file with one product or a missing field."""

from __future__ import annotations

from pathlib import Path

import pytest

from localbot.tastings import store
from tests.helpers import Harness
from tests.tasting_helpers import said, sessions, started

EXPECTED = {
    "en": {
        "liking": "“{v}” is not on the scale. Please answer with a whole number from 1 (dislike extremely) to 9 (like extremely).",
        "jar": "“6” is not on the scale. Please answer with a whole number from 1 (not enough at all) to 5 (far too much); 3 is just about right.",
        "code": "There is no sample 999 in this tasting. Please check the code on the cup.",
        "twice": "You already have a place in this tasting: one place per person.",
        "full": "Sorry, that session is full. Would you like to join its waiting list?",
        "cancelled": "That session was cancelled. Send /tasting to see the other sessions.",
        "past": "That session has already started, so signing up for it is closed.",
        "file": "The tasting file {f}.toml has problems, so nothing was started:",
        "question": "how much do you like it overall?",
    },
    "pl": {
        "liking": "„{v}” nie mieści się w skali. Odpowiedz liczbą całkowitą od 1 (nie lubię ekstremalnie) do 9 (lubię ekstremalnie).",
        "jar": "„6” nie mieści się w skali. Odpowiedz liczbą całkowitą od 1 (zdecydowanie za mało) do 5 (zdecydowanie za dużo); 3 to w sam raz.",
        "code": "W tej degustacji nie ma próbki 999. Sprawdź proszę kod na kubeczku.",
        "twice": "Masz już miejsce w tej degustacji: jedno miejsce na osobę.",
        "full": "Przykro nam, w tej sesji nie ma już miejsc. Chcesz zapisać się na jej listę rezerwową?",
        "cancelled": "Ta sesja została odwołana. Wyślij /tasting, żeby zobaczyć inne sesje.",
        "past": "Ta sesja już się zaczęła, więc zapisy na nią są zamknięte.",
        "file": "Plik degustacji {f}.toml ma błędy, więc nic nie zostało uruchomione:",
        "question": "jak bardzo Ci ogólnie smakuje?",
    },
    "id": {
        "liking": "“{v}” tidak ada di skala. Silakan jawab dengan bilangan bulat dari 1 (amat sangat tidak suka) sampai 9 (amat sangat suka).",
        "jar": "“6” tidak ada di skala. Silakan jawab dengan bilangan bulat dari 1 (sangat kurang) sampai 5 (sangat berlebihan); 3 berarti pas.",
        "code": "Tidak ada sampel 999 dalam uji rasa ini. Mohon periksa kode pada gelas.",
        "twice": "Anda sudah punya tempat di uji rasa ini: satu tempat per orang.",
        "full": "Mohon maaf, sesi itu sudah penuh. Apakah Anda ingin masuk daftar tunggunya?",
        "cancelled": "Sesi itu dibatalkan. Kirim /tasting untuk melihat sesi lainnya.",
        "past": "Sesi itu sudah dimulai, jadi pendaftarannya sudah ditutup.",
        "file": "Berkas uji rasa {f}.toml bermasalah, jadi tidak ada yang dimulai:",
        "question": "seberapa suka Anda secara keseluruhan?",
    },
}


@pytest.mark.parametrize("language", ["en", "pl", "id"])
async def test_wrong_answers_and_sign_ups_in_three_languages(bot: Harness, tmp_path: Path, language: str) -> None:
    expect = EXPECTED[language]
    for name in ("anna", "bartek", "celina", "dorota"):
        bot.languages[name] = language
    tasting = await started(bot, tmp_path, places=1)
    first, second = sessions(bot, tasting)
    me = bot.private("bartek")

    await bot.pick(f"ts:up:{first.id}", "bartek", chat=me)
    assert said(await bot.pick(f"ts:up:{second.id}", "bartek", chat=me)).startswith(expect["twice"])
    assert said(await bot.pick(f"ts:up:{first.id}", "celina", chat=bot.private("celina"))) == expect["full"]
    await bot.pick(f"ts:csy:{second.id}", "anna", chat=bot.private("anna"))
    assert said(await bot.pick(f"ts:up:{second.id}", "dorota", chat=bot.private("dorota"))) == expect["cancelled"]
    bartek = store.participant_of(bot.core.db, tasting.id, bot.member("bartek").id)
    assert bartek is not None and bartek.booked and bartek.session_id == first.id  # the place survived both refusals

    bot.clock.set(first.starts_at)
    assert said(await bot.pick(f"ts:up:{first.id}", "dorota", chat=bot.private("dorota"))) == expect["past"]
    await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))
    await bot.outbox()
    assert said(await bot.send("999", "bartek", chat=me)).startswith(expect["code"])
    assert expect["question"] in said(await bot.send("1", "bartek", chat=me))
    for wrong in ("0", "10"):
        refused = said(await bot.send(wrong, "bartek", chat=me))
        assert refused.startswith(expect["liking"].format(v=wrong)) and expect["question"] in refused  # the question again
    await bot.send("8", "bartek", chat=me)
    assert said(await bot.send("6", "bartek", chat=me)).startswith(expect["jar"])
    saved = {q: a.value for (_p, q), a in store.answers(bot.core.db, bartek.id).items()}
    assert saved == {"liking": "8"}  # the refused answers changed nothing; the good one is kept


@pytest.mark.parametrize("language", ["en", "pl", "id"])
async def test_a_broken_tasting_file_is_refused_in_three_languages(bot: Harness, tmp_path: Path, language: str) -> None:
    from tests.tasting_helpers import add_points, write_tasting

    bot.languages["anna"] = language
    add_points(bot)
    folder = tmp_path / "config" / "tastings"
    text = write_tasting(folder).read_text()
    (folder / "single.toml").write_text(text.replace('[[products]]\nid = "light"\nname = "Oat Light"\n', "").replace('[[products]]\nid = "choco"\nname = "Oat Cocoa"\n', ""))
    (folder / "noplaces.toml").write_text(text.replace("places = 5\n", ""))
    single = said(await bot.send("/tasting start single"))
    assert single.startswith(EXPECTED[language]["file"].format(f="single"))
    assert "single.toml:6: products: has 1 product; a tasting compares 2 to 12" in single
    missing = said(await bot.send("/tasting start noplaces"))
    assert missing.startswith(EXPECTED[language]["file"].format(f="noplaces"))
    assert "noplaces.toml:18: sessions[1].places: is required" in missing
    assert store.tastings(bot.core.db, bot.community().id) == []
