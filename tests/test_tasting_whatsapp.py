"""A tasting on WhatsApp, through the real adapter and the fake Twilio API: the announcement as a
numbered list, signing up with a number, the calendar file as a media link, and the reminders as the
approved template once the member's 24-hour window has closed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from localbot.tastings import store
from tests.fakes.whatsapp_rig import POLISH, PUBLIC, whatsapp_rig
from tests.tasting_helpers import add_points, write_tasting

REMINDER_TEMPLATE = "HX" + "a" * 32


async def test_signing_up_on_whatsapp_and_a_reminder_by_template(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, templates={"reminder": REMINDER_TEMPLATE}) as rig:
        await rig.join(POLISH)
        add_points(rig.console)
        write_tasting(tmp_path / "config" / "tastings")
        await rig.console.send("/tasting start oat-drinks")
        [announcement] = await rig.replies(POLISH)
        assert announcement.startswith("🍽 Degustacja nr 1: Napoje owsiane") and "1) ✋ Zapisz mnie: śr., 7 sty, 10:00 · Kiosk" in announcement

        await rig.say(POLISH, "1")
        confirmation = await rig.replies(POLISH)
        assert confirmation[0].startswith("✅ Masz miejsce!") and "Twój numer uczestnika: P1." in confirmation[0]
        calendar = rig.api.to(POLISH)[-3]  # WhatsApp takes no calendar files: a link the phone opens instead
        assert calendar.media_urls == [] and calendar.text.startswith("Dodaj do swojego kalendarza\nhttps://")
        link = calendar.text.splitlines()[1]
        assert "/media/" in link and "/tasting-1.ics?" in link
        served = await rig.http.get(link.removeprefix(PUBLIC))
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/calendar")
        assert served.content.startswith(b"BEGIN:VCALENDAR\r\n")
        assert "1) ✖ Odwołaj moje miejsce" in confirmation[-1]
        [tasting] = store.tastings(rig.core.db, rig.console.community().id)
        first = store.sessions(rig.core.db, tasting.id)[0]

        rig.clock.set(first.starts_at - timedelta(hours=24))  # a day later: the member has not written since
        await rig.core.run_until_idle()
        await rig.flush()
        templated = [m for m in rig.api.to(POLISH) if m.content_sid == REMINDER_TEMPLATE]
        assert templated and all(m.body is None for m in templated)
        assert templated[0].content_variables["2"].startswith("⏰ Jutro: degustacja „Napoje owsiane”.")
        assert {r["purpose"] for r in rig.outbox(POLISH)[-3:]} == {"reminder"}
