"""The core and the router: dispatch, exactly-once events, errors, prefetching, languages."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from localbot.clock import ManualClock
from localbot.core import Core
from localbot.events import (
    Chat,
    ChatKind,
    ChatMigrated,
    Command,
    MemberJoined,
    MemberLeft,
    Sender,
)
from localbot.handlers import build_router
from localbot.handlers.context import Context, HandlerError
from localbot.handlers.router import Router, Where
from localbot.i18n import N_
from localbot.replies import Text
from localbot.settings import Settings
from localbot.storage import open_database
from tests.helpers import GROUP, Harness, RecordingAdapter, texts


async def test_a_redelivered_event_is_processed_once(bot: Harness) -> None:
    await bot.send("/poll Q? | A | B")
    first = await bot.send("2", "bartek", event_id="console:42")
    again = await bot.send("2", "bartek", event_id="console:42")
    assert first and again == []
    assert bot.core.db["poll_votes"].count == 1


async def test_unknown_command_and_wrong_chat(bot: Harness) -> None:
    assert texts(await bot.send("/frobnicate")) == "I don't know the command /frobnicate. Send /help to see what I can do."


async def test_help_comes_from_registrations(settings: Settings, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    router = build_router()

    @router.command("ping", help=N_("Check that I am awake"), section="general")
    def ping(ctx: Context, cmd: Command) -> Text:
        return Text(text="pong")

    @router.command("secret", help=N_("Organisers only"), organiser_only=True)
    def secret(ctx: Context, cmd: Command) -> Text:
        return Text(text="ok")

    core = Core(settings, db, clock=clock, router=router)
    harness = Harness(core, clock, RecordingAdapter())
    help_text = texts(await harness.send("/help", "bartek"))
    assert "/ping — Check that I am awake" in help_text
    assert "/secret" not in help_text  # members are not shown organiser commands
    assert texts(await harness.send("/ping", "bartek")) == "pong"


async def test_group_only_and_private_only_commands(settings: Settings, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    router = Router()

    @router.command("here", help=N_("x"), where=Where.GROUP, needs_community=False)
    def here(ctx: Context, cmd: Command) -> Text:
        return Text(text="group ok")

    @router.command("mine", help=N_("x"), where=Where.PRIVATE, needs_community=False)
    def mine(ctx: Context, cmd: Command) -> Text:
        return Text(text="private ok")

    harness = Harness(Core(settings, db, clock=clock, router=router), clock, RecordingAdapter())
    assert texts(await harness.send("/here")) == "group ok"
    assert texts(await harness.send("/here", chat=harness.private("anna"))) == "Please use /here in your group chat."
    assert texts(await harness.send("/mine")) == "Please send /mine to me in a private chat."
    assert texts(await harness.send("/mine", chat=harness.private("anna"))) == "private ok"


async def test_private_chat_without_community_is_told_how_to_join(core: Core, clock: ManualClock) -> None:
    harness = Harness(core, clock, RecordingAdapter())
    reply = texts(await harness.send("/results", "zoe", chat=harness.private("zoe")))
    assert "You are not in a community yet" in reply


async def test_handler_error_rolls_back_only_the_handler(settings: Settings, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    router = Router()

    @router.command("half", help=N_("x"), needs_community=False)
    def half(ctx: Context, cmd: Command) -> Text:
        ctx.db.execute("UPDATE members SET name = 'CHANGED' WHERE id = ?", [ctx.member.id])
        raise HandlerError("refused")

    @router.command("boom", help=N_("x"), needs_community=False)
    def boom(ctx: Context, cmd: Command) -> Text:
        ctx.db.execute("UPDATE members SET name = 'CHANGED' WHERE id = ?", [ctx.member.id])
        raise RuntimeError("a bug")

    harness = Harness(Core(settings, db, clock=clock, router=router), clock, RecordingAdapter())
    assert texts(await harness.send("/half", "bartek", event_id="e1")) == "refused"
    assert texts(await harness.send("/boom", "bartek", event_id="e2")) == "Sorry, something went wrong on my side. Please try again."
    names = {row["name"] for row in db.query("SELECT name FROM members")}
    assert names == {"Bartek"}  # the member was recorded, the half-writes were not
    # the events count as processed: a re-delivery does not run the bug again
    assert await harness.send("/boom", "bartek", event_id="e2") == []


async def test_a_locked_database_asks_to_try_again_and_keeps_nothing(bot: Harness, settings: Settings) -> None:
    await bot.send("/poll Q? | A | B")
    blocker = sqlite3.connect(settings.database, timeout=0.1, isolation_level=None)
    bot.core.db.execute("PRAGMA busy_timeout=50")
    blocker.execute("BEGIN IMMEDIATE")
    try:
        reply = texts(await bot.send("1", "bartek", event_id="locked-1"))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert reply == "I could not save that just now. Please try again in a moment."
    assert bot.core.db["poll_votes"].count == 0
    # the event was not marked as processed, so the messenger's retry succeeds
    assert texts(await bot.send("1", "bartek", event_id="locked-1")) == "Your vote: A"


async def test_admin_status_is_fetched_outside_the_transaction(core: Core, clock: ManualClock) -> None:
    telegram = RecordingAdapter("telegram")
    core.attach(telegram)
    group = Chat("telegram:-1001", ChatKind.GROUP, "Estate")
    boss = Sender("telegram:7", "Boss")
    telegram.admins.add((group.ref, boss.ref))
    reply = await core.handle(Command(chat=group, sender=boss, name="poll", args="Q? | A | B"))
    assert "Poll #1" in texts(reply)
    assert telegram.admin_fetches == 1
    await core.handle(Command(chat=group, sender=boss, name="close", args=""))
    assert telegram.admin_fetches == 1  # cached by the adapter
    other = Sender("telegram:8", "Other")
    assert texts(await core.handle(Command(chat=group, sender=other, name="close"))) == "Only organisers can use /close."


async def test_settings_organisers_are_organisers_everywhere(tmp_path: Path, clock: ManualClock) -> None:
    settings = Settings(database=tmp_path / "o.db", organisers=["console:zoe"])
    db = open_database(settings.database)
    harness = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter())
    assert "Poll #1" in texts(await harness.send("/poll Q? | A | B", "zoe"))
    db.close()


async def test_language_resolution(core: Core, clock: ManualClock) -> None:
    harness = Harness(core, clock, RecordingAdapter(), languages={"piotr": "pl-PL", "sari": "id", "max": "de"})
    assert "Nie znam polecenia" in texts(await harness.send("/nope", "piotr"))
    assert "Saya tidak mengenal perintah" in texts(await harness.send("/nope", "sari"))
    assert "I don't know the command" in texts(await harness.send("/nope", "max"))  # unsupported → community's
    await harness.send("/lang id", "piotr")
    assert "Saya tidak mengenal perintah" in texts(await harness.send("/nope", "piotr"))  # chosen beats messenger


async def test_lang_command_and_wrong_language(bot: Harness) -> None:
    assert "Which language" in texts(await bot.send("/lang", "bartek"))
    assert texts(await bot.send("/lang xx", "bartek")) == "I speak en, pl, id. Choose one, for example /lang pl."
    assert texts(await bot.send("/lang pl", "bartek")) == "Od teraz będę pisać do Ciebie w języku: polski."
    assert "Ten przycisk już nie działa." in texts(await bot.pick("lang:xx", "bartek"))


async def test_join_leave_and_migration(bot: Harness) -> None:
    welcome = texts(await bot.handle(MemberJoined(chat=GROUP, sender=bot.sender("newbie"))))
    assert "Welcome to Sunny Estate, Newbie!" in welcome
    community = bot.community()
    await bot.handle(MemberLeft(chat=GROUP, sender=bot.sender("newbie")))
    row = next(bot.core.db.query("SELECT left_at FROM memberships WHERE member_id = ?", [bot.member("newbie").id]))
    assert row["left_at"] is not None
    await bot.handle(ChatMigrated(chat=GROUP, sender=bot.sender("anna"), new_ref="console:supergroup"))
    from localbot.community import store

    moved = store.channel_for_chat(bot.core.db, "console:supergroup")
    assert moved is not None and moved.community_id == community.id


async def test_locations_and_photos_nobody_asked_for(bot: Harness) -> None:
    private = bot.private("bartek")
    assert texts(await bot.locate(52.2, 21.0, "bartek", chat=private)) == "Thank you, but nothing needs a location from you right now."
    assert texts(await bot.locate(95.0, 21.0, "bartek", chat=private)) == "That location does not look right. Please share it again."
    assert await bot.locate(52.2, 21.0, "bartek") == []  # group chatter is not answered
    assert await bot.send("just chatting", "bartek") == []
    assert "I'm not sure what you mean" in texts(await bot.send("hello?", "bartek", chat=private))


async def test_prefetch_failures_become_polite_answers(core: Core, clock: ManualClock) -> None:
    class Broken(RecordingAdapter):
        async def fetch_admin(self, chat_ref: str, member_ref: str) -> bool:
            raise ConnectionError("telegram is down")

    core.attach(Broken("telegram"))
    group = Chat("telegram:-5", ChatKind.GROUP, "G")
    reply = await core.handle(Command(chat=group, sender=Sender("telegram:1", "A"), name="close"))
    assert texts(reply) == "Only organisers can use /close."  # unknown admin status is not admin
