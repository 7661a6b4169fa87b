"""/near through the real adapters: Telegram (fake Bot API) and WhatsApp (fake Twilio), on 127.0.0.1."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from localbot.i18n import translator
from localbot.maps import store
from localbot.maps.hours import parse_hours
from localbot.maps.model import PointSpec
from tests.fakes.whatsapp_rig import ENGLISH, POLISH, QUICK_REPLY_3, whatsapp_rig
from tests.maps_support import tile_server  # noqa: F401 - fixture
from tests.telegram_env import ANNA, BARTEK, running

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
POINTS = [
    ("Kiosk", 52.2310, 21.0150, "Zielona 3", "Mon-Fri 10:00-18:00"),
    ("Biblioteka", 52.2224, 21.0112, None, "24/7"),
    ("Park", 52.2390, 21.0260, None, None),
]
HOME = (52.2297, 21.0122)


def add_points(db, community_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    specs = [PointSpec.build(name, lat, lon, address=address, hours=parse_hours(hours) if hours else None) for name, lat, lon, address, hours in POINTS]
    with db.atomic():
        return store.add_points(db, community_id, specs, created_by=None, now=NOW)


async def test_near_on_telegram_a_photo_three_venues_and_buttons(tmp_path: Path, tile_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _tiles, template = tile_server
    async with running(tmp_path, "polling", map={"tile_url": template, "timeout": 2}) as tg:
        await tg.say(ANNA, "/help")
        await tg.say(BARTEK, "Cześć!")
        await tg.next_messages(-1001234567890)
        ids = add_points(tg.core.db, tg.community().id)
        chat = tg.private(BARTEK)
        tg.api.push(tg.updates.location(chat, BARTEK, *HOME))
        [photo] = await tg.api.wait_for("sendPhoto", chat_id=BARTEK.id, timeout=10)
        assert Image.open(io.BytesIO(photo["photo"]["data"])).size == (800, 600)
        assert "© OpenStreetMap contributors" in photo["caption"]
        venues = await tg.api.wait_for("sendVenue", chat_id=BARTEK.id, count=3)
        assert [v["title"] for v in venues] == ["1. Kiosk", "2. Biblioteka", "3. Park"]
        assert venues[0]["address"].startswith("Zielona 3 · ")
        [listing] = await tg.next_messages(BARTEK.id)
        assert "1. Kiosk — 240 m" in listing["text"]
        rows = listing["reply_markup"]["inline_keyboard"]
        assert [row[0]["callback_data"] for row in rows] == [f"pt:pick:{i}" for i in ids]
        query = await tg.press(BARTEK, tg.api.message(BARTEK.id, listing.result["message_id"]), f"pt:pick:{ids[1]}")
        assert await tg.answered(query) == translator("pl")._("Your pickup point is now {name}.", name="Biblioteka")
        chosen = store.chosen_point(tg.core.db, tg.community().id, tg.core.db.execute("SELECT id FROM members WHERE ref = ?", [BARTEK.ref]).fetchone()[0])
        assert chosen is not None and chosen.id == ids[1]


@pytest.mark.parametrize("quick_replies", [False, True])
async def test_near_on_whatsapp_a_picture_link_pins_and_a_numbered_list(tmp_path: Path, tile_server, monkeypatch: pytest.MonkeyPatch, quick_replies: bool) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _tiles, template = tile_server
    monkeypatch.setenv("LOCALBOT_MAP__TILE_URL", template)
    extra = {"quick_replies": {3: QUICK_REPLY_3}} if quick_replies else {}
    async with whatsapp_rig(tmp_path, **extra) as rig:
        ids = add_points(rig.core.db, rig.console.community().id)
        await rig.join(ENGLISH)
        await rig.say(ENGLISH, "", Latitude=str(HOME[0]), Longitude=str(HOME[1]))
        assert len(await rig.replies(ENGLISH)) == 5
        picture, *pins, listing = rig.api.to(ENGLISH)[-5:]
        assert len(picture.media_urls) == 1 and "© OpenStreetMap contributors" in (picture.body or "")
        served = await rig.http.get(picture.media_urls[0])
        assert served.status_code == 200 and Image.open(io.BytesIO(served.content)).size == (800, 600)
        assert [p.body for p in pins] == ["1. Kiosk", "2. Biblioteka", "3. Park"]
        assert pins[0].persistent_action[0].startswith("geo:52.231000,21.015000|Zielona 3 · ")
        if quick_replies:
            assert listing.content_sid == QUICK_REPLY_3 and "1. Kiosk — 240 m" in listing.text
        else:
            assert "1. Kiosk — 240 m" in listing.text and "1) 1. Kiosk" in listing.text and "Reply with a number from 1 to 3." in listing.text
        await rig.say(ENGLISH, "2")
        assert await rig.replies(ENGLISH) == ["✓ Your pickup point is now Biblioteka."]
        assert store.chosen_point(rig.core.db, rig.console.community().id, rig.member(ENGLISH).id).id == ids[1]  # type: ignore[union-attr]
        # A Polish member far away hears how far, in Polish.
        await rig.join(POLISH)
        await rig.say(POLISH, "", Latitude="50.0614", Longitude="19.9366")
        far = await rig.replies(POLISH)
        assert far[0].startswith("Jesteś daleko od wszystkich punktów odbioru społeczności Sunny Estate: najbliższy, Biblioteka, jest 252 km stąd.")
