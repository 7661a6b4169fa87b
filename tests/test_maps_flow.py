"""Pickup points end to end through the core, with a fake Nominatim and a tile server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from localbot.maps import store
from localbot.replies import Location, Picture, Reply, Text
from localbot.settings import Settings
from tests.fakes.http_server import free_port
from tests.fakes.tiles import TILE_COLOUR
from tests.helpers import Harness, choices, texts
from tests.maps_support import make_bot, maps_settings, nominatim, tile_server  # noqa: F401 - fixtures

HOME = (52.2297, 21.0122)  # where the member stands in these tests
KIOSK = (52.2310, 21.0150)
LIBRARY = (52.2224, 21.0112)
PARK = (52.2390, 21.0260)


@pytest.fixture
def settings(tmp_path: Path, nominatim, tile_server) -> Settings:  # type: ignore[no-untyped-def]  # noqa: F811
    return maps_settings(tmp_path, nominatim[1], tile_server[1])


def of(replies: list[Reply], kind: type) -> list:  # type: ignore[type-arg]
    return [r for r in replies if isinstance(r, kind)]


async def add_point(bot: Harness, name: str, where: tuple[float, float], hours: str = "Mon-Fri 10:00-18:00, Sat 10:00-14:00", note: str | None = None) -> None:
    """An organiser adds a point by dropping a pin (no geocoding)."""
    anna = bot.private("anna")
    await bot.send(f"/addpoint {name}")
    await bot.locate(*where, chat=anna)
    await bot.send(hours, chat=anna)
    await bot.send(note or "1", chat=anna)


async def test_adding_a_point_by_address(bot: Harness, nominatim) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, _url = nominatim
    anna = bot.private("anna")
    assert texts(await bot.send("/addpoint")) == "Anna, I've sent you a private message."
    (prompt,) = await bot.outbox()
    assert prompt.chat_ref == "console:anna" and "What is the pickup point called?" in texts([prompt.reply])
    assert "Where is Kiosk Zielony?" in texts(await bot.send("Kiosk Zielony", chat=anna))
    found = await bot.send("Zielona 3, Warszawa", chat=anna)
    (pin,) = of(found, Location)
    assert (pin.latitude, pin.longitude, pin.title) == (*KIOSK, "Kiosk Zielony")
    question = choices(found).text
    assert "I found: Zielona 3, Śródmieście, Warszawa" in question and "© OpenStreetMap contributors" in question
    assert "When is it open?" in texts(await bot.send("1", chat=anna))  # 1) Yes, that's it
    hours = texts(await bot.send("pn-pt 10-18, sob 10-14", chat=anna))
    assert "Opening hours: Mon–Fri 10:00" in hours and "closed Sun" in hours
    done = await bot.send("Ring twice, ask for Ania", chat=anna)
    assert "Added pickup point 1: Kiosk Zielony." in texts(done)
    assert of(done, Location)[0].address == "Zielona 3, Śródmieście, Warszawa, 00-001, Polska"
    point = store.find_point(bot.core.db, bot.community().id, "1")
    assert point is not None and (point.latitude, point.longitude) == KIOSK
    assert point.hours is not None and point.hours.canonical() == "Mo-Fr 10:00-18:00; Sa 10:00-14:00"
    assert point.note == "Ring twice, ask for Ania"
    assert fake.queries() == ["Zielona 3, Warszawa"]
    # the answer is kept: the same address later is not asked again
    await bot.send("/addpoint Kiosk Drugi")
    await bot.send("zielona 3,  Warszawa", chat=anna)
    assert fake.queries() == ["Zielona 3, Warszawa"]
    assert bot.core.db.execute("SELECT COUNT(*) FROM geocode_cache").fetchone()[0] == 1


async def test_adding_by_pin_and_by_coordinates(bot: Harness) -> None:
    anna = bot.private("anna")
    await add_point(bot, "Biblioteka", LIBRARY, hours="Mon-Fri 9-20")
    await bot.send("/addpoint Park")
    confirm = await bot.send("52.2390, 21.0260", chat=anna)
    assert "Is this the right place?" in choices(confirm).text and of(confirm, Location)[0].latitude == PARK[0]
    assert "Where is Park?" in texts(await bot.send("2", chat=anna))  # 2) No, try again
    await bot.send("52,2390 21,0260", chat=anna)
    await bot.send("1", chat=anna)
    await bot.send("1", chat=anna)  # 1) Open round the clock
    await bot.send("By the fountain", chat=anna)
    points = store.list_points(bot.core.db, bot.community().id)
    assert [(p.number, p.name, p.address) for p in points] == [(1, "Biblioteka", None), (2, "Park", None)]
    assert points[1].hours is not None and points[1].hours.always and (points[1].latitude, points[1].longitude) == PARK


async def test_what_goes_wrong_while_adding_is_explained_and_asked_again(bot: Harness, nominatim) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, _url = nominatim
    fake.slow_seconds = 2.5
    anna = bot.private("anna")
    await add_point(bot, "Kiosk", KIOSK)
    assert texts(await bot.send("/addpoint kiosk")) == "There is already a pickup point called “Kiosk”. Please choose another name."
    assert "Only organisers can use /addpoint." in texts(await bot.send("/addpoint", "bartek"))
    await bot.send("/addpoint")
    assert "numbers are how members pick points" in texts(await bot.send("12", chat=anna))
    assert "There is already a pickup point called “Kiosk”" in texts(await bot.send("KIOSK", chat=anna))
    assert "That name is too long (81 characters)" in texts(await bot.send("x" * 81, chat=anna))
    await bot.send("Biblioteka", chat=anna)
    wrong = texts(await bot.send("152.1, 21.0", chat=anna))
    assert "Those coordinates are not on Earth" in wrong and "Where is Biblioteka?" in wrong
    assert "I couldn't find “Nowhere Street 99”" in texts(await bot.send("Nowhere Street 99", chat=anna))
    slow = texts(await bot.send("Slow Street 1", chat=anna))
    assert "I couldn't find that address just now. Please send a location pin instead." in slow
    assert "I couldn't find that address just now" in texts(await bot.send("Broken Street 1", chat=anna))
    await bot.locate(*LIBRARY, chat=anna)
    assert "I don't understand “whenever” in the opening hours" in texts(await bot.send("whenever", chat=anna))
    assert "Which hours on mon-fri?" in texts(await bot.send("Mon-Fri", chat=anna))
    assert "“25:00” is not a time of day" in texts(await bot.send("Mon 25:00-26:00", chat=anna))
    await bot.send("2", chat=anna)  # 2) Not known
    assert "That note is too long (501 characters)" in texts(await bot.send("n" * 501, chat=anna))
    assert store.count_points(bot.core.db, bot.community().id) == 1  # nothing half-saved on the way
    await bot.send("1", chat=anna)
    library = store.point_by_name(bot.core.db, bot.community().id, "biblioteka")
    assert library is not None and library.hours is None and library.note is None
    assert fake.queries() == ["Nowhere Street 99", "Slow Street 1", "Broken Street 1"]


async def test_without_a_geocoder_user_agent_addresses_are_refused_politely(tmp_path: Path, tile_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    bot = await make_bot(maps_settings(tmp_path, None, tile_server[1]))
    await bot.send("/addpoint Kiosk")
    refused = texts(await bot.send("Zielona 3, Warszawa", chat=bot.private("anna")))
    assert "I can't look up addresses on this bot" in refused and "LOCALBOT_GEOCODER__USER_AGENT" in refused
    assert "Where is Kiosk?" in refused
    await bot.locate(*KIOSK, chat=bot.private("anna"))
    await bot.send("24/7", chat=bot.private("anna"))
    await bot.send("1", chat=bot.private("anna"))
    await bot.outbox()
    await bot.send("/near", "bartek")
    (prompt,) = await bot.outbox()
    assert "Share your location" in texts([prompt.reply]) and "type an address" not in texts([prompt.reply])
    bot.core.db.close()


async def test_near_asks_privately_and_answers_with_a_map_pins_and_choices(bot: Harness, tile_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tiles, _template = tile_server
    await add_point(bot, "Kiosk Zielony", KIOSK)
    await add_point(bot, "Biblioteka", LIBRARY, hours="Mon-Fri 12:00-20:00")
    await add_point(bot, "Park", PARK, hours="Sat-Sun 10:00-16:00")
    await add_point(bot, "Far away", (52.40, 21.20))
    await bot.outbox()
    assert texts(await bot.send("/near", "bartek")) == "Bartek, I've sent you a private message."
    (prompt,) = await bot.outbox()
    assert prompt.chat_ref == "console:bartek" and "Share your location" in texts([prompt.reply])
    answer = await bot.locate(*HOME, "bartek", chat=bot.private("bartek"))
    (picture,) = of(answer, Picture)
    image = Image.open(io.BytesIO(picture.data))
    assert image.format == "PNG" and image.size == (800, 600)
    assert (TILE_COLOUR in {rgb for _, rgb in image.convert("RGB").getcolors(800 * 600) or []})
    assert "© OpenStreetMap contributors" in picture.caption and tiles.log
    pins = of(answer, Location)
    assert [p.title for p in pins] == ["1. Kiosk Zielony", "2. Biblioteka", "3. Park"]
    assert "open now, until 6:00" in (pins[0].address or "") and "closed, opens today at 12:00" in (pins[1].address or "")
    listing = choices(answer)
    assert "1. Kiosk Zielony — 240 m (about 4 min on foot)" in listing.text
    assert "2. Biblioteka — 820 m" in listing.text and "3. Park — 1.4 km" in listing.text
    assert "closed, opens Sat at 10:00" in listing.text.replace("\u202f", " ")
    assert "did not keep it" in listing.text
    assert [o.label for o in listing.options] == ["1. Kiosk Zielony", "2. Biblioteka", "3. Park"]
    assert texts(await bot.send("2", "bartek", chat=bot.private("bartek"))) == "Your pickup point is now Biblioteka."
    chosen = store.chosen_point(bot.core.db, bot.community().id, bot.member("bartek").id)
    assert chosen is not None and chosen.name == "Biblioteka"
    await bot.send("/near", "bartek", chat=bot.private("bartek"))
    assert "Your pickup point now: Biblioteka." in texts(await bot.send("/near", "bartek", chat=bot.private("bartek")))


async def test_a_shared_location_outside_a_conversation(bot: Harness) -> None:
    assert texts(await bot.locate(*HOME, "bartek", chat=bot.private("bartek"))) == "Thank you, but nothing needs a location from you right now."
    await add_point(bot, "Kiosk", KIOSK)
    assert await bot.locate(*HOME, "bartek") == []  # in the group a location is for the people there
    answer = await bot.locate(*HOME, "bartek", chat=bot.private("bartek"))
    assert of(answer, Picture) and [p.title for p in of(answer, Location)] == ["1. Kiosk"]


async def test_near_with_an_address_keeps_the_address_out_of_the_database(bot: Harness, nominatim) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, _url = nominatim
    await add_point(bot, "Kiosk", KIOSK)
    answer = await bot.send("/near Plac Zbawiciela, Warszawa", "bartek")
    assert "1. Kiosk — 1.3 km" in choices(answer).text
    again = await bot.send("/near plac zbawiciela, warszawa", "celina")
    assert "1. Kiosk — 1.3 km" in choices(again).text
    assert fake.queries() == ["Plac Zbawiciela, Warszawa"]  # asked once, remembered in memory
    assert bot.core.db.execute("SELECT COUNT(*) FROM geocode_cache").fetchone()[0] == 0
    assert "I couldn't find “Nowhere 1”" in texts(await bot.send("/near Nowhere 1", "bartek"))


async def test_near_without_points_and_far_from_all(bot: Harness) -> None:
    assert texts(await bot.send("/near", "bartek")) == "There are no pickup points in Sunny Estate yet."
    assert texts(await bot.send("/near")) == "There are no pickup points in Sunny Estate yet. Add one with /addpoint."
    assert texts(await bot.send("/points", "bartek")) == "There are no pickup points in Sunny Estate yet."
    await add_point(bot, "Kiosk", KIOSK)
    far = await bot.locate(50.0614, 19.9366, "bartek", chat=bot.private("bartek"))  # Kraków
    assert "You are far from every pickup point of Sunny Estate: the nearest, Kiosk, is 253 km away." in texts(far)
    assert of(far, Location)[0].title == "Kiosk" and not of(far, Picture)


async def test_a_members_location_is_not_stored_anywhere(bot: Harness) -> None:
    """The location is used for the answer; no table holds it afterwards, only the chosen point."""
    await add_point(bot, "Kiosk", KIOSK)
    secret = (52.228713, 21.011937)
    await bot.send("/near", "bartek")
    await bot.locate(*secret, "bartek", chat=bot.private("bartek"))
    await bot.send("1", "bartek", chat=bot.private("bartek"))
    await bot.locate(*secret, "bartek", chat=bot.private("bartek"))
    await bot.outbox()
    db = bot.core.db
    for table in db.table_names():
        for row in db.execute(f"SELECT * FROM [{table}]").fetchall():
            for value in row:
                if isinstance(value, float):
                    assert round(value, 4) not in (round(secret[0], 4), round(secret[1], 4)), table
                elif isinstance(value, (str, bytes)):
                    text = value.decode(errors="ignore") if isinstance(value, bytes) else value
                    assert "52.2287" not in text and "21.0119" not in text, table
    assert db.execute("SELECT COUNT(*) FROM pickup_choices").fetchone()[0] == 1


async def test_remember_my_location_only_when_asked_and_forget_it(bot: Harness) -> None:
    await add_point(bot, "Kiosk", KIOSK)
    await bot.send("Hello!", "bartek")  # bartek is a member of the group
    bartek = bot.private("bartek")
    assert texts(await bot.send("/near forget", "bartek", chat=bartek)) == "I don't keep a location of yours."
    assert "Share the location I should remember" in texts(await bot.send("/near remember", "bartek", chat=bartek))
    assert "Please share a location or type an address." in texts(await bot.send("", "bartek", chat=bartek))
    saved = await bot.locate(*HOME, "bartek", chat=bartek)
    assert "I'll remember this location" in texts(saved) and of(saved, Picture)
    assert store.remembered_location(bot.core.db, bot.member("bartek").id) == HOME
    again = await bot.send("/near", "bartek", chat=bartek)
    assert "I used the location you asked me to remember" in choices(again).text
    await bot.outbox()
    # Asked in the group, the distances from where he lives go to him alone.
    assert texts(await bot.send("/near", "bartek")) == "Bartek, I've sent you a private message."
    sent = await bot.outbox()
    assert {item.chat_ref for item in sent} == {"console:bartek"}
    assert "I used the location you asked me to remember" in texts(item.reply for item in sent)
    assert texts(await bot.send("/near forget", "bartek", chat=bartek)) == "Done: I no longer keep a location of yours."
    assert store.remembered_location(bot.core.db, bot.member("bartek").id) is None
    assert "Share your location" in texts(await bot.send("/near", "bartek", chat=bartek))


async def test_points_list_point_details_and_the_map(bot: Harness) -> None:
    await add_point(bot, "Kiosk Zielony", KIOSK, note="Ring twice")
    await add_point(bot, "Biblioteka", LIBRARY, hours="Mon-Fri 12:00-20:00")
    listing = await bot.send("/points", "bartek")
    text = texts(of(listing, Text))
    assert "Pickup points of Sunny Estate:" in text and "1. Kiosk Zielony" in text and "2. Biblioteka" in text
    assert "open now, until 6:00" in text.replace("\u202f", " ")
    (picture,) = of(listing, Picture)
    assert Image.open(io.BytesIO(picture.data)).size == (800, 600)
    detail = await bot.send("/point kiosk zielony", "bartek")
    assert of(detail, Location)[0].title == "1. Kiosk Zielony" and "Note: Ring twice" in texts(detail)
    assert texts(await bot.send("/point 7", "bartek")) == "There is no pickup point “7”. Send /points to see them."
    assert "Which pickup point?" in texts(await bot.send("/point", "bartek"))


async def test_editing_and_removing_points(bot: Harness) -> None:
    anna = bot.private("anna")
    await add_point(bot, "Kiosk", KIOSK)
    await add_point(bot, "Biblioteka", LIBRARY)
    assert texts(await bot.send("/editpoint 1", "bartek")) == "Only organisers can use /editpoint."
    await bot.send("/editpoint 1")
    menu = (await bot.outbox())[-1].reply
    assert "What would you like to change?" in texts([menu])
    await bot.send("1", chat=anna)  # Name
    assert "There is already a pickup point called “Biblioteka”" in texts(await bot.send("biblioteka", chat=anna))
    saved = texts(await bot.send("Kiosk Zielony", chat=anna))
    assert "Saved." in saved and "📍 1. Kiosk Zielony" in saved
    await bot.send("3", chat=anna)  # Opening hours
    assert "Saved." in texts(await bot.send("24/7", chat=anna))
    await bot.send("2", chat=anna)  # Place
    await bot.locate(*PARK, chat=anna)
    assert texts(await bot.send("5", chat=anna)) == "Done. Kiosk Zielony is up to date."
    kiosk = store.point_by_number(bot.core.db, bot.community().id, 1)
    assert kiosk is not None and kiosk.name == "Kiosk Zielony" and (kiosk.latitude, kiosk.longitude) == PARK
    assert kiosk.hours is not None and kiosk.hours.always
    assert [n.point.name for n in store.nearest(bot.core.db, bot.community().id, *PARK, 1)] == ["Kiosk Zielony"]

    await bot.locate(*LIBRARY, "bartek", chat=bot.private("bartek"))
    await bot.send("1", "bartek", chat=bot.private("bartek"))  # bartek chooses the library
    assert texts(await bot.send("/removepoint 2", "bartek")) == "Only organisers can use /removepoint."
    confirm = choices(await bot.send("/removepoint Biblioteka"))
    assert "Remove pickup point 2: Biblioteka?" in confirm.text
    assert texts(await bot.pick(confirm.options[0].payload, "bartek")) == "Only organisers can remove pickup points."
    assert texts(await bot.pick(confirm.options[1].payload)) == "Kept Biblioteka."
    assert texts(await bot.pick(confirm.options[0].payload)) == "Removed pickup point 2: Biblioteka."
    assert texts(await bot.pick(confirm.options[0].payload)) == "That pickup point no longer exists."
    assert store.chosen_point(bot.core.db, bot.community().id, bot.member("bartek").id) is None
    assert texts(await bot.pick("pt:zap:1")) == "This button no longer works."


async def test_no_tile_server_still_gives_an_answer(tmp_path: Path, nominatim) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    down = f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png"
    bot = await make_bot(maps_settings(tmp_path, nominatim[1], down))
    await add_point(bot, "Kiosk", KIOSK)
    await bot.send("Hello!", "bartek")
    answer = await bot.locate(*HOME, "bartek", chat=bot.private("bartek"))
    (picture,) = of(answer, Picture)
    image = Image.open(io.BytesIO(picture.data)).convert("RGB")
    assert image.size == (800, 600) and TILE_COLOUR not in {rgb for _, rgb in image.getcolors(800 * 600) or []}
    assert [p.title for p in of(answer, Location)] == ["1. Kiosk"] and "1. Kiosk — 240 m" in choices(answer).text
    bot.core.db.close()


async def test_three_members_asking_at_once_share_one_request_a_second(bot: Harness, nominatim) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, _url = nominatim
    await add_point(bot, "Kiosk", KIOSK)
    addresses = ["Zielona 3, Warszawa", "Marszałkowska 10, Warszawa", "Plac Zbawiciela, Warszawa"]
    answers = await asyncio.gather(*(bot.send(f"/near {a}", who) for a, who in zip(addresses, ["bartek", "celina", "darek"], strict=True)))
    assert all("1. Kiosk" in choices(a).text for a in answers)
    times = [entry.at for entry in fake.log]
    assert len(times) == 3 and all(later - earlier >= 0.95 for earlier, later in zip(times, times[1:], strict=False)), times
