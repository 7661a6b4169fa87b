"""Multi-step conversations: the guided poll, re-asks, /cancel, stale buttons, and restarts."""

from __future__ import annotations

from datetime import timedelta

from localbot.clock import ManualClock
from localbot.core import Core
from localbot.replies import Choices, PrivateLink, Text
from localbot.settings import Settings
from localbot.storage import open_database
from tests.helpers import Harness, RecordingAdapter, choices, texts


async def test_guided_poll_moves_to_private_and_posts_to_the_group(bot: Harness) -> None:
    reply = texts(await bot.send("/poll"))
    assert reply == "Anna, I've sent you a private message."
    first = await bot.outbox()
    assert first[0].chat_ref == "console:anna" and "What is the question?" in first[0].reply.text
    me = bot.private("anna")
    assert "first option" in texts(await bot.send("Where do we meet?", chat=me))
    assert "Send the next option." in texts(await bot.send("Kiosk", chat=me))
    options_prompt = choices(await bot.send("Library | Park", chat=me))
    assert "• Park" in options_prompt.text
    assert "one option or several" in texts(await bot.send("1", chat=me))  # 1) Done
    assert "who voted for what" in texts(await bot.send("2", chat=me))  # several
    assert "When should the poll close" in texts(await bot.send("2", chat=me))  # anonymous
    confirm = choices(await bot.send("friday 18:00", chat=me))
    assert "Multiple choice" in confirm.text and "anonymous" in confirm.text and "• Kiosk" in confirm.text
    done = await bot.send("1", chat=me)
    assert "Posted to Sunny Estate" in texts(done)
    announced = await bot.outbox()
    assert [o.chat_ref for o in announced] == ["console:group"]
    assert "Where do we meet?" in announced[0].reply.text
    assert bot.core.db["conversations"].count == 0


async def test_wrong_answers_get_a_clear_reask(bot: Harness) -> None:
    me = bot.private("anna")
    await bot.send("/poll", chat=me)
    reply = await bot.send("Q" * 400, chat=me)
    assert "The question is too long (400 characters)" in texts(reply)
    assert "What is the question?" in texts(reply)  # asked again
    await bot.send("Lunch?", chat=me)
    await bot.send("Pizza", chat=me)
    reply = await bot.send("pizza", chat=me)
    assert "“pizza” is listed twice" in texts(reply) and "Options so far:" in texts(reply)
    await bot.send("Soup", chat=me)
    await bot.send("1", chat=me)  # Done
    reply = await bot.send("maybe", chat=me)
    assert "Please reply with one of the numbers." in texts(reply)  # the console numbers its choices
    await bot.send("1", chat=me)  # one option
    await bot.send("1", chat=me)  # names
    reply = await bot.send("yesterday-ish", chat=me)
    assert "I couldn't read the deadline “yesterday-ish”" in texts(reply)
    assert "When should the poll close" in texts(reply)


async def test_cancel_and_stale_buttons(bot: Harness) -> None:
    me = bot.private("anna")
    await bot.send("/poll", chat=me)
    await bot.send("Lunch?", chat=me)
    conversation_id = next(bot.core.db.query("SELECT id FROM conversations"))["id"]
    assert texts(await bot.send("/cancel", chat=me)) == "Cancelled. Nothing was saved from that conversation."
    assert texts(await bot.send("/cancel", chat=me)) == "There is nothing to cancel."
    assert "This question is no longer open." in texts(await bot.pick(f"c:{conversation_id}:done", chat=me))
    assert bot.core.db["polls"].count == 0


async def test_somebody_elses_conversation_button_does_nothing(bot: Harness) -> None:
    me = bot.private("anna")
    await bot.send("/poll", chat=me)
    conversation_id = next(bot.core.db.query("SELECT id FROM conversations"))["id"]
    assert "no longer open" in texts(await bot.pick(f"c:{conversation_id}:done", "bartek", chat=bot.private("bartek")))


async def test_a_restart_in_the_middle_loses_nothing(settings: Settings, clock: ManualClock) -> None:
    db = open_database(settings.database)
    first = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter())
    await first.make_organiser("anna")
    me = first.private("anna")
    await first.send("/poll", chat=me)
    await first.send("Lunch?", chat=me)
    await first.send("Pizza | Soup", chat=me)
    db.close()

    db = open_database(settings.database)  # a new process
    second = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter())
    assert "one option or several" in texts(await second.send("1", chat=me))
    await second.send("1", chat=me)
    await second.send("1", chat=me)
    await second.send("1", chat=me)  # no deadline
    assert "Posted to" in texts(await second.send("1", chat=me))
    poll = next(db.query("SELECT question FROM polls"))
    assert poll["question"] == "Lunch?"
    db.close()


async def test_messengers_with_deep_links_get_a_private_link(core: Core, clock: ManualClock) -> None:
    from localbot.events import Chat, ChatKind, Command, Sender

    telegram = RecordingAdapter("telegram")
    core.attach(telegram)
    group = Chat("telegram:-1001", ChatKind.GROUP, "Estate")
    boss = Sender("telegram:7", "Boss")
    telegram.admins.add((group.ref, boss.ref))
    replies = await core.handle(Command(chat=group, sender=boss, name="poll"))
    assert isinstance(replies[0], PrivateLink) and replies[0].payload == "resume"
    # The member taps the link: /start resume in the private chat picks the flow up.
    private = Chat("telegram:7", ChatKind.PRIVATE)
    resumed = await core.handle(Command(chat=private, sender=boss, name="start", args="resume"))
    assert "What is the question?" in texts(resumed)
    assert "first option" in texts(await core.handle(__import__("localbot.events").events.Message(chat=private, sender=boss, text="Lunch?")))


async def test_deadline_that_passes_during_the_wizard(bot: Harness) -> None:
    me = bot.private("anna")
    await bot.send("/poll", chat=me)
    for answer in ("Lunch?", "Pizza | Soup", "1", "1", "1", "2"):  # deadline: in 2 hours
        await bot.send(answer, chat=me)
    bot.clock.advance(timedelta(hours=3))
    reply = await bot.send("1", chat=me)
    assert "That deadline has passed in the meantime" in texts(reply)
    assert isinstance(reply[-1], Choices)
    assert bot.core.db["polls"].count == 0


async def test_start_with_unknown_payload(bot: Harness) -> None:
    me = bot.private("bartek")
    assert "That link is no longer valid" in texts(await bot.send("/start bogus-1", "bartek", chat=me))
    assert "Hello Bartek!" in texts(await bot.send("/start", "bartek", chat=me))
    assert "There is nothing to continue" in texts(await bot.send("/start resume", "bartek", chat=me))
    assert isinstance((await bot.send("/start", "bartek", chat=me))[0], Text)
