"""Every wrong input about pickup points is answered in the member's language: English, Polish, Indonesian."""

from __future__ import annotations

from pathlib import Path

import pytest

from localbot.maps import store
from tests.helpers import texts
from tests.maps_support import make_bot, maps_settings, nominatim, tile_server  # noqa: F401 - fixtures

CASES = {
    "en": {
        "not organiser": "Only organisers can use /addpoint.",
        "duplicate": "There is already a pickup point called “Kiosk”.",
        "digits": "A name needs more than digits",
        "out of range": "Those coordinates are not on Earth",
        "not found": "I couldn't find “Nowhere 1”.",
        "service down": "I couldn't find that address just now. Please send a location pin instead.",
        "hours word": "I don't understand “whenever” in the opening hours.",
        "hours time": "“25:00” is not a time of day.",
        "hours days": "Which hours on mon-fri?",
        "note": "That note is too long (501 characters).",
        "no points": "There are no pickup points in Sunny Estate yet.",
        "far": "You are far from every pickup point of Sunny Estate: the nearest, Kiosk, is 253 km away.",
        "no such point": "There is no pickup point “9”.",
        "no geocoder": "I can't look up addresses on this bot",
    },
    "pl": {
        "not organiser": "Tylko organizatorzy mogą używać /addpoint.",
        "duplicate": "Jest już punkt odbioru o nazwie „Kiosk”.",
        "digits": "Nazwa musi zawierać coś więcej niż cyfry",
        "out of range": "Te współrzędne nie leżą na Ziemi",
        "not found": "Nie udało mi się znaleźć „Nowhere 1”.",
        "service down": "Nie udało mi się teraz znaleźć tego adresu. Wyślij zamiast tego pinezkę z lokalizacją.",
        "hours word": "Nie rozumiem „whenever” w godzinach otwarcia.",
        "hours time": "„25:00” to nie jest godzina.",
        "hours days": "W jakich godzinach w mon-fri?",
        "note": "Te uwagi są za długie (501 znaków).",
        "no points": "W społeczności Sunny Estate nie ma jeszcze punktów odbioru.",
        "far": "Jesteś daleko od wszystkich punktów odbioru społeczności Sunny Estate: najbliższy, Kiosk, jest 253 km stąd.",
        "no such point": "Nie ma punktu odbioru „9”.",
        "no geocoder": "Ten bot nie może wyszukiwać adresów",
    },
    "id": {
        "not organiser": "Hanya pengurus yang dapat menggunakan /addpoint.",
        "duplicate": "Sudah ada titik pengambilan bernama “Kiosk”.",
        "digits": "Nama harus berisi lebih dari angka",
        "out of range": "Koordinat itu tidak ada di Bumi",
        "not found": "Saya tidak dapat menemukan “Nowhere 1”.",
        "service down": "Saya tidak dapat menemukan alamat itu saat ini. Silakan kirim pin lokasi saja.",
        "hours word": "Saya tidak memahami “whenever” dalam jam buka.",
        "hours time": "“25:00” bukan jam yang valid.",
        "hours days": "Jam berapa pada mon-fri?",
        "note": "Catatan itu terlalu panjang (501 karakter).",
        "no points": "Belum ada titik pengambilan di Sunny Estate.",
        "far": "Anda jauh dari semua titik pengambilan Sunny Estate: yang terdekat, Kiosk, berjarak 253 km.",
        "no such point": "Tidak ada titik pengambilan “9”.",
        "no geocoder": "Bot ini tidak dapat mencari alamat",
    },
}


@pytest.mark.parametrize("language", ["en", "pl", "id"])
async def test_every_wrong_input_in_the_members_language(tmp_path: Path, nominatim, tile_server, language: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    expect = CASES[language]
    bot = await make_bot(maps_settings(tmp_path, nominatim[1], tile_server[1], language=language), {"anna": language, "bartek": language})
    anna, bartek = bot.private("anna"), bot.private("bartek")

    assert texts(await bot.send("/near", "bartek")) == expect["no points"]
    assert texts(await bot.send("/addpoint Kiosk", "bartek")) == expect["not organiser"]
    await bot.send("/addpoint Kiosk")
    await bot.locate(52.2310, 21.0150, chat=anna)
    assert expect["hours word"] in texts(await bot.send("whenever", chat=anna))
    assert expect["hours time"] in texts(await bot.send("Mon 25:00-26:00", chat=anna))
    assert expect["hours days"] in texts(await bot.send("Mon-Fri", chat=anna))
    await bot.send("Mon-Fri 10-18", chat=anna)
    assert expect["note"] in texts(await bot.send("n" * 501, chat=anna))
    await bot.send("1", chat=anna)

    assert expect["duplicate"] in texts(await bot.send("/addpoint kiosk"))
    await bot.send("/addpoint")
    assert expect["digits"] in texts(await bot.send("42", chat=anna))
    await bot.send("Biblioteka", chat=anna)
    assert expect["duplicate"] in texts(await bot.send("/addpoint KIOSK"))  # the open conversation is replaced, fine
    await bot.send("/addpoint Biblioteka")
    assert expect["out of range"] in texts(await bot.send("52.1, 200.5", chat=anna))
    assert expect["not found"] in texts(await bot.send("Nowhere 1", chat=anna))
    assert expect["service down"] in texts(await bot.send("Broken Street 1", chat=anna))
    assert store.count_points(bot.core.db, bot.community().id) == 1  # the wrong answers changed nothing

    await bot.send("Hello", "bartek")
    assert texts(await bot.locate(50.0614, 19.9366, "bartek", chat=bartek)).startswith(expect["far"])
    assert texts(await bot.send("/point 9", "bartek")).startswith(expect["no such point"])
    bot.core.db.close()


@pytest.mark.parametrize("language", ["en", "pl", "id"])
async def test_no_geocoder_in_the_members_language(tmp_path: Path, language: str) -> None:
    bot = await make_bot(maps_settings(tmp_path, None, None, language=language), {"anna": language})
    await bot.send("/addpoint Kiosk")
    assert CASES[language]["no geocoder"] in texts(await bot.send("Zielona 3", chat=bot.private("anna")))
    bot.core.db.close()


ADDED = {
    "en": "Added pickup point 1: Biblioteka.",
    "pl": "Dodano punkt odbioru 1: Biblioteka.",
    "id": "Titik pengambilan 1 ditambahkan: Biblioteka.",
}
OSM = "© OpenStreetMap contributors"
ADDRESS = "Biblioteka Publiczna, Koszykowa 26, Warszawa, Polska"


@pytest.mark.parametrize("language", ["en", "pl", "id"])
async def test_geocoded_addresses_are_credited_to_openstreetmap(tmp_path: Path, nominatim, language: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Nominatim's usage policy: "© OpenStreetMap contributors" wherever one of its addresses is shown,
    whatever the map tiles' own attribution says (here another provider's)."""
    from localbot.maps.model import PointSpec
    from localbot.replies import Picture

    settings = maps_settings(tmp_path, nominatim[1], None, language=language, attribution="© Example Tiles")
    bot = await make_bot(settings, {"anna": language, "bartek": language})
    anna = bot.private("anna")
    await bot.send("/addpoint Biblioteka")
    for answer in ("Biblioteka, Koszykowa 26, Warszawa", "1", "Mon-Fri 10-18"):
        await bot.send(answer, chat=anna)
    added = texts(await bot.send("1", chat=anna))  # no note
    assert ADDED[language] in added and f"{ADDRESS}\n{OSM}\n" in added

    shown = texts(await bot.send("/point 1", "bartek"))
    assert f"📍 1. Biblioteka\n{ADDRESS}\n{OSM}\n" in shown

    listed = await bot.send("/points", "bartek")
    assert OSM in texts(listed) and any(isinstance(r, Picture) for r in listed)  # the caption credits the tiles only

    community = bot.community()
    with bot.core.db.atomic():  # more points than a map can show: the list comes alone
        for n in range(60):
            spec = PointSpec.build(f"Kiosk {n}", 52.2 + n / 1000, 21.0, address=None, hours=None, note=None)
            store.create_point(bot.core.db, community.id, spec, created_by=None, now=bot.clock.now())
    many = await bot.send("/points", "bartek")
    assert not any(isinstance(r, Picture) for r in many) and OSM in texts(many)

    placed = await make_bot(maps_settings(tmp_path / "pins", None, None, language=language), {"anna": language})
    await placed.send("/addpoint Kiosk")
    for answer in ("52.2310, 21.0150", "1", "Mon-Fri 10-18", "1"):
        await placed.send(answer, chat=placed.private("anna"))
    assert OSM not in texts(await placed.send("/point 1"))  # a pin has no address to credit
    bot.core.db.close()
    placed.core.db.close()


NEAREST = {"en": "Pickup points nearest to you:", "pl": "Najbliższe Ci punkty odbioru:", "id": "Titik pengambilan terdekat dari Anda:"}


@pytest.mark.parametrize("language", ["en", "pl", "id"])
async def test_near_credits_the_addresses_it_shows(tmp_path: Path, nominatim, language: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """/near lists addresses from Nominatim: the listing itself credits them, whatever the picture's
    caption says (another tile provider's attribution here) and whether a picture arrives at all."""
    from localbot.replies import Location, Picture

    settings = maps_settings(tmp_path, nominatim[1], None, language=language, attribution="© Example Tiles")
    bot = await make_bot(settings, {"anna": language, "bartek": language})
    anna, bartek = bot.private("anna"), bot.private("bartek")
    await bot.send("/addpoint Biblioteka")
    for answer in ("Biblioteka, Koszykowa 26, Warszawa", "1", "Mon-Fri 10-18", "1"):
        await bot.send(answer, chat=anna)
    await bot.send("/addpoint Kiosk")
    for answer in ("52.2310, 21.0150", "1", "1"):  # a pin: no address
        await bot.send(answer, chat=anna)
    await bot.send("Hello", "bartek")

    near = await bot.locate(52.2297, 21.0122, "bartek", chat=bartek)
    [picture] = [r for r in near if isinstance(r, Picture)]
    assert OSM not in (picture.caption or "")  # the tiles' own attribution only
    listing = texts(r for r in near if not isinstance(r, Picture | Location))
    assert listing.startswith(NEAREST[language]) and f"   {ADDRESS}\n" in listing and f"\n\n{OSM}\n\n" in listing
    assert listing.count(OSM) == 1

    far, far_pin = await bot.locate(50.0614, 19.9366, "bartek", chat=bartek)  # Kraków: the nearest is the library
    assert isinstance(far_pin, Location) and far_pin.address == ADDRESS
    assert texts([far]).startswith(CASES[language]["far"].split(":")[0]) and texts([far]).endswith(f"\n{OSM}")

    placed = await make_bot(maps_settings(tmp_path / "pins", None, None, language=language), {"anna": language, "bartek": language})
    await placed.send("/addpoint Kiosk")
    for answer in ("52.2310, 21.0150", "1", "1"):
        await placed.send(answer, chat=placed.private("anna"))
    await placed.send("Hello", "bartek")
    assert OSM not in texts(r for r in await placed.locate(52.2297, 21.0122, "bartek", chat=placed.private("bartek")) if not isinstance(r, Picture))
    assert OSM not in texts(await placed.locate(50.0614, 19.9366, "bartek", chat=placed.private("bartek")))  # far, no address
    bot.core.db.close()
    placed.core.db.close()
