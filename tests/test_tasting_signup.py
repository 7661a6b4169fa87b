"""Signing up for a tasting: the announcement, a place with its calendar file and pin, one place per
member, the waiting list and its promotions, reminders exactly once, cancelled sessions, starting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from localbot import scheduler
from localbot.core import Core
from localbot.replies import Choices, Document, Location, Text
from localbot.tastings import store
from tests.helpers import Harness, ack, choices, texts
from tests.tasting_helpers import KIOSK, add_points, join, menu, plain, said, sessions, started, write_tasting


def unfold(data: bytes) -> list[str]:
    text = data.decode()
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF line ends only
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded at 75 octets
    return text.replace("\r\n ", "").split("\r\n")


async def test_a_place_comes_with_a_calendar_file_the_pin_and_a_way_to_cancel(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path)
    first, second = sessions(bot, tasting)
    announced = await bot.send("/tasting", "bartek")
    listed = choices(announced)
    assert "🍽 Tasting #1: Oat drinks" in listed.text and "Taste 3 blind-coded samples at the pickup point" in listed.text
    assert "Wed, Jan 7, 10:00 AM–12:00 PM · Kiosk — 5 places left" in plain(listed.text)
    assert [o.payload for o in listed.options] == [f"ts:up:{first.id}", f"ts:up:{second.id}"]

    assert ack(await bot.pick(f"ts:up:{first.id}", "bartek")) == "✅ You have a place! (details in our private chat)"
    sent = [o for o in await bot.outbox() if o.chat_ref == "console:bartek"]
    assert [type(o.reply) for o in sent] == [Text, Document, Location, Choices]
    confirmation, calendar, pin, cancel = (o.reply for o in sent)
    assert "Wed, Jan 7, 10:00 AM–12:00 PM · Kiosk, Kiosk street 1" in plain(confirmation.text) and "Your participant number: P1." in confirmation.text
    assert isinstance(calendar, Document) and calendar.mime_type == "text/calendar" and calendar.filename == "tasting-1.ics"
    lines = unfold(calendar.data)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert {"VERSION:2.0", "BEGIN:VEVENT", "END:VEVENT", "DTSTART:20260107T090000Z", "DTEND:20260107T110000Z",
            "DTSTAMP:20260105T090000Z", "SUMMARY:Tasting: Oat drinks", "LOCATION:Kiosk\\, Kiosk street 1",
            f"GEO:{KIOSK[0]:.6f};{KIOSK[1]:.6f}"} <= set(lines)
    assert any(line.startswith("UID:tasting-") and line.endswith("@localbot") for line in lines)
    assert any(line.startswith("DESCRIPTION:Your participant number: P1. Can't come?") for line in lines)
    assert isinstance(pin, Location) and (pin.latitude, pin.longitude) == KIOSK and pin.title == "1. Kiosk"
    [participant] = store.participants(bot.core.db, tasting.id)
    assert isinstance(cancel, Choices) and cancel.options[0].payload == f"ts:x:{participant.id}"
    assert participant.booked and participant.design_row == 0 and participant.label == "P1"
    assert "4 places left" in choices(await bot.send("/tasting", "celina")).text
    overview = said(await bot.send("/tasting", "bartek", chat=bot.private("bartek")))
    assert "You have a place: Wed, Jan 7, 10:00 AM–12:00 PM · Kiosk (participant P1)." in overview


async def test_one_place_per_member_a_waiting_list_and_a_promotion(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path, places=2)
    first, second = sessions(bot, tasting)
    for name in ("bartek", "celina"):
        await bot.pick(f"ts:up:{first.id}", name, chat=bot.private(name))
    await bot.outbox()
    full = await bot.pick(f"ts:up:{first.id}", "dorota", chat=bot.private("dorota"))
    assert choices(full).text == "Sorry, that session is full. Would you like to join its waiting list?"
    assert choices(full).options[0].payload == f"ts:wl:{first.id}"
    assert "full" in choices(await bot.send("/tasting", "edek")).text and "⏳ Waiting list:" in choices(await bot.send("/tasting", "edek")).options[0].label
    assert "You're on the waiting list (number 1)" in texts(await bot.pick(f"ts:wl:{first.id}", "dorota", chat=bot.private("dorota")))
    assert "You're on the waiting list (number 2)" in texts(await bot.pick(f"ts:wl:{first.id}", "edek", chat=bot.private("edek")))

    twice = await bot.pick(f"ts:up:{second.id}", "bartek", chat=bot.private("bartek"))
    assert choices(twice).text.startswith("You already have a place in this tasting: one place per person.")
    again = await bot.pick(f"ts:wl:{second.id}", "dorota", chat=bot.private("dorota"))
    assert choices(again).text.startswith("You are already on a waiting list for this tasting.")
    assert len(store.participants(bot.core.db, tasting.id)) == 4

    celina = store.participant_of(bot.core.db, tasting.id, bot.member("celina").id)
    assert celina is not None
    assert "Cancel your place in “Oat drinks”?" in texts(await bot.pick(f"ts:x:{celina.id}", "celina", chat=bot.private("celina")))
    assert "is cancelled. Thank you for letting us know!" in texts(await bot.pick(f"ts:xy:{celina.id}", "celina", chat=bot.private("celina")))
    told = [o for o in await bot.outbox() if o.chat_ref == "console:dorota"]
    assert "🎉 Good news: a place opened up, and it's yours!" in told[0].reply.text and isinstance(told[1].reply, Document)
    dorota = store.participant_of(bot.core.db, tasting.id, bot.member("dorota").id)
    assert dorota is not None and dorota.booked and dorota.design_row == 1  # the row celina freed
    pending = {j.payload["participant"] for j in scheduler.pending_jobs(bot.core.db, "tasting.remind")}
    assert pending == {store.participant_of(bot.core.db, tasting.id, bot.member("bartek").id).id, dorota.id}  # type: ignore[union-attr]
    edek = store.participant_of(bot.core.db, tasting.id, bot.member("edek").id)
    assert edek is not None and edek.waiting
    # A member on a waiting list may take a free place in another session instead.
    assert "You have a place!" in texts(await bot.pick(f"ts:up:{second.id}", "edek", chat=bot.private("edek")))
    assert store.get_participant(bot.core.db, edek.id).session_id == second.id  # type: ignore[union-attr]
    # Celina, having cancelled, may sign up again: the same participant, a new place.
    assert "You have a place!" in texts(await bot.pick(f"ts:up:{second.id}", "celina", chat=bot.private("celina")))
    assert store.participant_of(bot.core.db, tasting.id, bot.member("celina").id).label == celina.label  # type: ignore[union-attr]


async def test_reminders_a_day_and_two_hours_before_exactly_once(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path)
    first, _second = sessions(bot, tasting)
    await bot.pick(f"ts:up:{first.id}", "bartek", chat=bot.private("bartek"))
    await bot.pick(f"ts:up:{first.id}", "celina", chat=bot.private("celina"))
    celina = store.participant_of(bot.core.db, tasting.id, bot.member("celina").id)
    await bot.pick(f"ts:xy:{celina.id}", "celina", chat=bot.private("celina"))  # type: ignore[union-attr]
    await bot.outbox()

    bot.clock.set(first.starts_at - timedelta(hours=24))
    await bot.core.run_until_idle()
    sent = await bot.outbox()
    assert [(o.chat_ref, o.purpose) for o in sent] == [("console:bartek", "reminder")] * 3
    assert sent[0].reply.text.startswith("⏰ Tomorrow: tasting “Oat drinks”.")
    assert sent[0].reply.text.endswith("When you get there, reply 1 for “I'm here” (or an organiser checks you in).")  # numbered choices
    assert isinstance(sent[1].reply, Location) and [o.label for o in sent[2].reply.options] == ["📍 I'm here", "✖ Cancel my place"]

    restarted = Core(bot.core.settings, bot.core.db, clock=bot.clock)  # a restart: nothing due is run twice
    restarted.attach(bot.adapter)
    restarted.recover()
    await restarted.run_until_idle()
    assert await bot.outbox() == []

    bot.clock.set(first.starts_at - timedelta(hours=2))
    await bot.core.run_until_idle()
    soon = await bot.outbox()
    assert [o.chat_ref for o in soon] == ["console:bartek"] * 3 and soon[0].reply.text.startswith("⏰ In two hours: tasting “Oat drinks”.")
    await bot.wait(timedelta(hours=3))
    assert await bot.outbox() == []


async def test_a_cancelled_session_tells_everyone_signed_up(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path, places=1)
    first, second = sessions(bot, tasting)
    await bot.pick(f"ts:up:{first.id}", "bartek", chat=bot.private("bartek"))
    await bot.pick(f"ts:wl:{first.id}", "celina", chat=bot.private("celina"))
    await bot.outbox()
    listing = await bot.send("/tasting sessions", "anna", chat=bot.private("anna"))
    assert "1. Wed, Jan 7, 10:00 AM–12:00 PM · Kiosk — full (1 waiting) · 1 booked, 0 checked in" in menu(listing)
    assert [o.payload for o in choices(listing).options] == [f"ts:cs:{first.id}", f"ts:cs:{second.id}"]
    assert "Only organisers can cancel sessions." in texts(await bot.pick(f"ts:csy:{first.id}", "bartek", chat=bot.private("bartek")))
    confirm = await bot.pick(f"ts:cs:{first.id}", "anna", chat=bot.private("anna"))
    assert menu(confirm).startswith("Cancel session 1 (Wed, Jan 7, 10:00 AM–12:00 PM)? Everyone signed up for it will be told.")
    done = await bot.pick(f"ts:csy:{first.id}", "anna", chat=bot.private("anna"))
    assert texts(done) == "Session 1 is cancelled. I told the 2 people who had signed up for it."
    told = {o.chat_ref: o.reply.text for o in await bot.outbox()}
    assert told["console:bartek"].startswith("❌ Sorry: this session of “Oat drinks” is cancelled.")
    assert "Send /tasting to see the other sessions." in told["console:celina"]
    assert scheduler.pending_jobs(bot.core.db, "tasting.remind") == []
    assert texts(await bot.pick(f"ts:up:{first.id}", "dorota", chat=bot.private("dorota"))) == "That session was cancelled. Send /tasting to see the other sessions."
    assert "cancelled" in choices(await bot.send("/tasting", "dorota")).text
    assert "You have a place!" in texts(await bot.pick(f"ts:up:{second.id}", "bartek", chat=bot.private("bartek")))  # their place was released


async def test_a_session_that_has_started_takes_no_more_sign_ups(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path)
    first, second = sessions(bot, tasting)
    bot.clock.set(first.starts_at + timedelta(minutes=1))
    refused = await bot.pick(f"ts:up:{first.id}", "bartek", chat=bot.private("bartek"))
    assert texts(refused) == "That session has already started, so signing up for it is closed."
    menu = choices(await bot.send("/tasting", "bartek"))
    assert "signing up has closed" in menu.text and [o.payload for o in menu.options] == [f"ts:up:{second.id}"]


async def test_starting_a_tasting_and_what_stops_it(bot: Harness, tmp_path: Path) -> None:
    folder = tmp_path / "config" / "tastings"
    write_tasting(folder)
    await join(bot, "bartek")
    assert "has no pickup point of that name" in texts(await bot.send("/tasting start oat-drinks"))
    add_points(bot)
    assert texts(await bot.send("/tasting start oat-drinks", "bartek")) == "Only organisers can start tastings."
    assert texts(await bot.send("/tasting start coffee")).startswith("I can't find a tasting file called “coffee”. Files: oat-drinks")
    assert texts(await bot.send("/tasting start ../etc")).startswith("“../etc” is not a tasting name.")
    broken = (folder / "oat-drinks.toml").read_text().replace('name = "Oat Light"\n', "", 1)
    (folder / "broken.toml").write_text(broken.replace('[[products]]\nid = "choco"\nname = "Oat Cocoa"\n', ""))
    problems = texts(await bot.send("/tasting start broken"))
    assert problems.splitlines()[0] == "The tasting file broken.toml has problems, so nothing was started:"
    assert "broken.toml:10: products[2].name: is required" in problems and "products: has 2 products" not in problems
    whole = (folder / "oat-drinks.toml").read_text()
    (folder / "one.toml").write_text(whole.replace('[[products]]\nid = "light"\nname = "Oat Light"\n', "").replace('[[products]]\nid = "choco"\nname = "Oat Cocoa"\n', ""))
    assert "one.toml:6: products: has 1 product; a tasting compares 2 to 12" in texts(await bot.send("/tasting start one"))
    bot.clock.set(datetime(2026, 1, 7, 12, 0, tzinfo=UTC))
    assert "sessions[1].start: 2026-01-07 10:00 is in the past" in texts(await bot.send("/tasting start oat-drinks"))
    assert store.tastings(bot.core.db, bot.community().id) == []
    listing = texts(await bot.send("/tasting list"))
    assert "• oat-drinks: Oat drinks (3 products)" in listing and "• broken: has 1 problem (localbot tasting validate)" in listing


async def test_the_announcement_reaches_every_chat_and_counts_as_an_ask(bot: Harness, tmp_path: Path) -> None:
    from localbot.community import asks

    tasting = await started(bot, tmp_path)
    assert asks.asked(bot.core.db, bot.community().id, bot.member("bartek").id, bot.clock.now()) == 1
    assert asks.asked(bot.core.db, bot.community().id, bot.member("anna").id, bot.clock.now()) == 0  # the organiser starting it
    products = store.products(bot.core.db, tasting.id)
    assert sorted(p.code for p in products) == sorted({p.code for p in products}) and all(100 <= p.code <= 999 for p in products)


async def test_a_simple_tasting_step_by_step(bot: Harness, tmp_path: Path) -> None:
    await join(bot, "bartek")
    add_points(bot)
    me = bot.private("anna")
    assert said(await bot.send("/tasting new", "bartek")) == "Only organisers can start tastings."
    assert said(await bot.send("/tasting new")) == "Anna, I've sent you a private message."
    steps = [
        ("Crisps", "Now the products, one per message"),
        ("Salted", "A tasting compares at least two products: send the next one."),
        ("salted", "“salted” is on the list already."),
        ("1", "Send another product, or reply 1 if that's all."),  # no menu yet: "1" is a product's name
        ("Paprika", "Send another product, or reply 1 if that's all."),
        ("1", "When does the session start?"),  # Done
        ("yesterday 10:00", "I couldn't read “yesterday 10:00” as a day and time."),
        ("2026-01-04 10:00", "“2026-01-04 10:00” is in the past: a session must start later than now."),
        ("wednesday 18:00", "Until when?"),
        ("17:00", "The session must end after it starts (6:00 PM)."),
        ("20:00", "At which pickup point?"),
        ("1", "How many places does this session have?"),
        ("none", "Please send a whole number from 1 to 1000."),
        ("8", "When does the next session start? For example: saturday 10:00 or 2026-12-05 10:00. Or reply 1 if that's all."),
        ("1", "Send them separated by commas, or reply 1 for none."),  # Done; then the attributes
        ("a" * 41, "Please send up to 20 words or short phrases separated by commas, or reply 1 for none."),
        ("saltiness, crunchiness", "Which words can people tick"),
        ("greasy; fresh", "At the end, should people say which sample they liked best"),
        ("1", "Here is your tasting for Sunny Estate:"),
    ]
    for line, expected in steps:
        reply = said(await bot.send(line, chat=me))
        assert expected in reply, (line, reply)
    assert "Wed, Jan 7, 6:00 PM–8:00 PM · Kiosk · 8 places" in reply and "Products: Salted, 1, Paprika" in reply
    started_ = said(await bot.send("1", chat=me))
    assert started_.startswith("Started and announced in Sunny Estate:\n🍽 Tasting #1: Crisps")
    [tasting] = store.tastings(bot.core.db, bot.community().id)
    definition = tasting.definition
    assert [p.name for p in definition.products] == ["Salted", "1", "Paprika"] and [p.key for p in definition.products] == ["salted", "x_1", "paprika"]
    assert [a.key for a in definition.jar] == ["saltiness", "crunchiness"] and [c.key for c in definition.cata] == ["greasy", "fresh"]
    assert definition.languages == ("en",) and "# Made with /tasting new." in tasting.source
    [session] = sessions(bot, tasting)
    assert (session.starts_at, session.ends_at, session.places) == (datetime(2026, 1, 7, 17, 0, tzinfo=UTC), datetime(2026, 1, 7, 19, 0, tzinfo=UTC), 8)
    told = [o.reply.text for o in await bot.outbox() if o.chat_ref == "console:group"]
    assert told[0].startswith("🍽 Tasting #1: Crisps")


async def test_the_announcement_is_updated_where_the_messenger_can_edit(core: Core, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from localbot.events import Chat, ChatKind
    from localbot.replies import Edit
    from tests.helpers import RecordingAdapter

    telegram = RecordingAdapter("telegram")
    core.attach(telegram)
    bot = Harness(core, clock, telegram, chat=Chat("telegram:-100", ChatKind.GROUP, "Sunny Estate"))
    from localbot.community import store as community_store
    from localbot.community.model import Role
    from localbot.maps import store as point_store
    from localbot.maps.model import PointSpec

    await bot.send("hello", "anna")
    community = community_store.community_for_chat(core.db, "telegram:-100")
    assert community is not None
    with core.db.atomic():
        community_store.set_role(core.db, community.id, bot.member("anna").id, Role.ORGANISER, now=clock.now())
    await join(bot, "bartek")
    with core.db.atomic():
        point_store.create_point(core.db, community.id, PointSpec.build("Kiosk", *KIOSK), created_by=None, now=clock.now())
        point_store.create_point(core.db, community.id, PointSpec.build("Library", 52.24, 21.03), created_by=None, now=clock.now())
    write_tasting(tmp_path / "config" / "tastings", places=3)
    await bot.send("/tasting start oat-drinks")
    [tasting] = store.tastings(core.db, community.id)
    first = sessions(bot, tasting)[0]
    await bot.outbox()
    await bot.pick(f"ts:up:{first.id}", "bartek")
    edits = [o for o in await bot.outbox() if isinstance(o.reply, Edit)]
    assert len(edits) == 1 and edits[0].chat_ref == "telegram:-100" and edits[0].purpose == "live"
    assert edits[0].reply.key == f"tasting:{tasting.id}" and "Kiosk — 2 places left" in plain(edits[0].reply.text)
