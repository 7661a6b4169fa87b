"""The Telegram adapter end to end: the real python-telegram-bot Application, our core and SQLite,
and a fake Bot API server on 127.0.0.1 fed with updates in Telegram's own JSON, by long polling
and by webhook through the shared web process."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localbot import outbox, runtime
from localbot.adapters.telegram import SECRET_HEADER, TelegramAdapter
from localbot.community import store as community_store
from localbot.core import Core
from localbot.events import MediaRef
from localbot.i18n import translator
from localbot.replies import (
    Ack,
    Choices,
    Document,
    Edit,
    Location,
    Option,
    Picture,
    Reply,
    Text,
)
from localbot.settings import Settings, SettingsError, load_settings
from localbot.storage import open_database
from localbot.storage.db import one
from tests.fakes.telegram_api import TOKEN, Call, FakeBotAPI, Person
from tests.telegram_env import (
    ANNA,
    BARTEK,
    CITRA,
    DAN,
    GROUP,
    GROUP_ID,
    SECRET,
    TelegramEnv,
    running,
)

pl, id_, en = translator("pl"), translator("id"), translator("en")


@pytest.fixture(params=["polling", "webhook"])
async def tg(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TelegramEnv]:
    async with running(tmp_path, request.param) as env:
        env.api.set_status(GROUP_ID, ANNA.id, "administrator")
        yield env


@pytest.fixture
async def polling(tmp_path: Path) -> AsyncIterator[TelegramEnv]:
    async with running(tmp_path, "polling") as env:
        env.api.set_status(GROUP_ID, ANNA.id, "administrator")
        yield env


@pytest.fixture
async def webhook(tmp_path: Path) -> AsyncIterator[TelegramEnv]:
    async with running(tmp_path, "webhook") as env:
        yield env


def buttons(call: Call) -> list[list[dict[str, Any]]]:
    return call["reply_markup"]["inline_keyboard"]  # type: ignore[no-any-return]


def button(call: Call, data_suffix: str) -> str:
    """The callback data of the button whose data ends with ``data_suffix``."""
    for row in buttons(call):
        for b in row:
            if b.get("callback_data", "").endswith(data_suffix):
                return str(b["callback_data"])
    raise AssertionError(f"no button …{data_suffix} in {buttons(call)}")


def stored(env: TelegramEnv, call: Call) -> dict[str, Any]:
    """The message as the fake server keeps it (as a later callback query carries it)."""
    return env.api.message(call["chat_id"], call.result["message_id"])


def count(env: TelegramEnv, sql: str, params: list[Any] | None = None) -> int:
    row = one(env.core.db, sql, params or [])
    assert row is not None
    return int(next(iter(row.values())))


async def create_poll(env: TelegramEnv, text: str = "/poll Where do we meet? | Kiosk | Library | Park") -> Call:
    await env.say(ANNA, text)
    [call] = await env.next_messages(GROUP_ID)
    return call


# --- the poll in the group ------------------------------------------------------------------------


async def test_a_group_poll_is_created_voted_on_by_buttons_and_closed(tg: TelegramEnv) -> None:
    poll = await create_poll(tg)
    assert poll["text"].startswith("📊 Poll #1: Where do we meet?")
    assert [[b["text"] for b in row] for row in buttons(poll)] == [["Kiosk"], ["Library"], ["Park"]]
    message = stored(tg, poll)

    first = await tg.press(BARTEK, message, button(poll, ":2"))
    assert await tg.answered(first) == pl._("Your vote: {option}", option="Library") != en._("Your vote: {option}", option="Library")
    votes = [
        await tg.press(CITRA, message, button(poll, ":1")),
        await tg.press(DAN, message, button(poll, ":2")),
        await tg.press(BARTEK, message, button(poll, ":3")),
    ]
    assert [await tg.answered(q) for q in votes] == [
        id_._("Your vote: {option}", option="Kiosk"),
        "Your vote: Library",
        pl._("Changed your vote to {option}.", option="Park"),
    ]
    # The group message follows the votes, coalesced to one edit every few seconds.
    await tg.api.wait_for("editMessageText", chat_id=GROUP_ID)
    await tg.skip(3)
    [live] = await tg.api.wait_for("editMessageText", chat_id=GROUP_ID, where=lambda c: "3 people voted." in c["text"])
    assert live["message_id"] == poll.result["message_id"] and len(buttons(live)) == 3

    await tg.say(ANNA, "/close")
    [closing] = await tg.next_messages(GROUP_ID)
    assert closing["text"].startswith("🏁 Poll #1 is closed: Where do we meet?")
    assert "A tie between Kiosk, Library, Park." in closing["text"]
    await tg.skip(3)
    [final] = await tg.api.wait_for("editMessageText", chat_id=GROUP_ID, where=lambda c: "closed" in c["text"])
    assert "reply_markup" not in final.params  # the buttons are gone

    late = await tg.press(CITRA, message, button(poll, ":1"))
    assert await tg.answered(late) == id_._("Poll #{number} is closed; votes are no longer counted.", number=1)
    assert count(tg, "SELECT COUNT(*) FROM poll_votes") == 3


async def test_a_vote_edit_survives_flood_control_on_the_edit(polling: TelegramEnv) -> None:
    poll = await create_poll(polling)
    polling.api.fail("editMessageText", 429, "Too Many Requests: retry after 1", retry_after=1)
    query = await polling.press(BARTEK, stored(polling, poll), button(poll, ":1"))
    assert await polling.answered(query) == pl._("Your vote: {option}", option="Kiosk")  # at once
    started = time.monotonic()
    [edit] = await polling.api.wait_for("editMessageText", chat_id=GROUP_ID, timeout=8)
    assert "1 person voted." in edit["text"]
    assert time.monotonic() - started >= 0.9
    assert [c.ok for c in polling.api.calls if c.method == "editMessageText"] == [False, True]


async def test_a_confirmation_too_long_for_a_button_answer_is_shortened(polling: TelegramEnv) -> None:
    labels = [f"{name} " + "with a very long description of the snack " * 2 for name in ("Crisps", "Nuts", "Fruit")]
    poll = await create_poll(polling, "/poll --multi Snacks? | " + " | ".join(label.strip() for label in labels))
    message = stored(polling, poll)
    for n in (1, 2):
        await polling.answered(await polling.press(BARTEK, message, button(poll, f":{n}")))
    third = await polling.answered(await polling.press(BARTEK, message, button(poll, ":3")))
    assert third is not None and len(third) <= 200 and third.endswith("…")
    assert third.startswith(pl._("Added {option}. Your choices: {choices}", option=labels[2].strip(), choices="")[:20])
    assert count(polling, "SELECT COUNT(*) FROM poll_votes") == 3


# --- the private flow through a deep link ----------------------------------------------------------


async def test_a_wizard_moves_to_the_private_chat_through_a_deep_link(tg: TelegramEnv) -> None:
    await tg.say(ANNA, "/poll")
    [link] = await tg.next_messages(GROUP_ID)
    assert buttons(link)[0][0]["url"] == "https://t.me/localbot_test_bot?start=resume"
    assert "Anna" in link["text"] and link["text"] == pl._(
        "{name}, let's continue in a private chat: tap the button below.", name="Anna Nowak"
    )

    chat = tg.private(ANNA)
    await tg.say(ANNA, "/start resume", chat)
    [question] = await tg.next_messages(ANNA.id)
    assert question["text"] == pl._("Let's make a poll. What is the question? (Send /cancel to stop.)")
    await tg.say(ANNA, "Gdzie grillujemy?", chat)
    [first_option] = await tg.next_messages(ANNA.id)
    assert first_option["text"] == pl._("Now send the first option. One message per option, or several at once separated by |.")
    await tg.say(ANNA, "Park | Plaża", chat)
    [options] = await tg.next_messages(ANNA.id)
    for answer in (":done", ":single", ":named", ":none"):
        if answer == ":single":  # typed where a button was wanted: Telegram shows buttons, so say so
            await tg.say(ANNA, "może", chat)
            retry, options = await tg.next_messages(ANNA.id, 2)
            assert retry["text"] == pl._("Please pick one of the buttons.") == "Wybierz jeden z przycisków."
        data = button(options, answer)
        label = next(b["text"] for row in buttons(options) for b in row if b["callback_data"] == data)
        query = await tg.press(ANNA, stored(tg, options), data)
        assert await tg.answered(query) == f"✓ {label}"  # no confirmation of its own: the label pressed
        [options] = await tg.next_messages(ANNA.id)
    assert "Gdzie grillujemy?" in options["text"]  # the preview before posting
    await tg.press(ANNA, stored(tg, options), button(options, ":post"))
    posted, here = await tg.next_messages(ANNA.id, 2)
    assert posted["text"] == pl._("Posted to {community}. You can vote here too:", community="Sunny Estate")
    assert [b["text"] for row in buttons(here) for b in row] == ["Park", "Plaża"]

    [announced] = await tg.next_messages(GROUP_ID)  # through the outbox, in the community's language
    assert announced["text"].startswith("📊 Poll #1: Gdzie grillujemy?")
    vote = await tg.press(CITRA, stored(tg, announced), button(announced, ":2"))
    assert await tg.answered(vote) == id_._("Your vote: {option}", option="Plaża")
    assert count(tg, "SELECT COUNT(*) FROM poll_votes") == 1


async def test_a_member_who_blocked_the_bot_gets_a_pointer_in_the_group(polling: TelegramEnv) -> None:
    chat = polling.private(ANNA)
    await polling.say(ANNA, "/start", chat)
    await polling.next_messages(ANNA.id)
    polling.api.blocked.add(ANNA.id)

    await polling.say(ANNA, "/poll")
    [said] = await polling.next_messages(GROUP_ID)
    assert said["text"] == pl._("{name}, I've sent you a private message.", name="Anna Nowak")
    [pointer] = await polling.next_messages(GROUP_ID)
    assert pointer["text"].startswith("Anna Nowak, ") and buttons(pointer)[0][0]["url"].endswith("?start=resume")
    member = community_store.member_by_ref(polling.core.db, ANNA.ref)
    assert member is not None and member.private_chat_ref is None
    await polling.outbox_idle()
    assert count(polling, "SELECT COUNT(*) FROM outbox WHERE chat_ref = ? AND state = 'failed'", [ANNA.ref]) == 1

    # Next time the bot does not pretend: it offers the link straight away.
    await polling.say(ANNA, "/poll")
    [link] = await polling.next_messages(GROUP_ID)
    assert buttons(link)[0][0]["url"].endswith("?start=resume")
    polling.api.blocked.clear()
    await polling.say(ANNA, "/start resume", chat)
    [question] = await polling.next_messages(ANNA.id)
    assert question["text"] == pl._("Let's make a poll. What is the question? (Send /cancel to stop.)")


async def test_only_what_answers_a_member_earns_a_pointer_and_only_one(polling: TelegramEnv) -> None:
    await polling.say(BARTEK, "/polls")  # Bartek joins the community through the group
    await polling.next_messages(GROUP_ID)
    community = polling.community()
    polling.api.blocked.add(BARTEK.id)

    async def queue(*purposes: str) -> None:
        now = polling.core.clock.now()
        with polling.core.db.atomic():
            for purpose in purposes:
                outbox.enqueue(polling.core.db, chat_ref=BARTEK.ref, reply=Text(text=purpose), now=now, purpose=purpose, community_id=community.id)
        polling.core.wake()
        await polling.outbox_idle()

    await queue("reminder")  # he chose not to hear from the bot: no pointer
    assert len(polling.api.sent("sendMessage", GROUP_ID)) == 1
    await queue("message", "message")
    [pointer] = await polling.next_messages(GROUP_ID)
    assert pointer["text"] == pl._(
        "{name}, I can't write to you privately until you open a chat with me. Tap the button below, then ask me again.",
        name="Bartek",
    )
    assert buttons(pointer) == [[{"text": pl._("Open a chat with me"), "url": "https://t.me/localbot_test_bot"}]]
    await polling.outbox_idle()
    assert count(polling, "SELECT COUNT(*) FROM outbox WHERE chat_ref = ? AND state = 'failed'", [BARTEK.ref]) == 3
    assert len(polling.api.sent("sendMessage", GROUP_ID)) == 2  # "/polls" and one pointer


# --- flood control, network trouble, duplicates ---------------------------------------------------


async def test_a_429_with_retry_after_is_waited_out_and_the_reply_still_arrives(polling: TelegramEnv) -> None:
    polling.api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    await polling.say(BARTEK, "/polls")
    [reply] = await polling.next_messages(GROUP_ID, timeout=8)
    assert reply["text"] == "There are no open polls."
    assert time.monotonic() - started >= 1.0
    assert [c.ok for c in polling.api.calls if c.method == "sendMessage"] == [False, True]


async def test_a_reply_that_meets_network_trouble_waits_in_the_outbox(polling: TelegramEnv) -> None:
    polling.api.fail("sendMessage", 502, "Bad Gateway")
    await polling.say(BARTEK, "/polls")
    [reply] = await polling.next_messages(GROUP_ID, timeout=8)
    assert reply["text"] == "There are no open polls."
    await polling.outbox_idle()
    assert count(polling, "SELECT COUNT(*) FROM outbox WHERE chat_ref = ? AND state = 'sent'", [f"telegram:{GROUP_ID}"]) == 1


async def test_a_redelivered_update_is_processed_once(tg: TelegramEnv) -> None:
    update = tg.updates.message(GROUP, ANNA, "/poll Tea or coffee? | Tea | Coffee")
    await tg.send(update)
    await tg.send(update)
    await tg.say(ANNA, "/polls")  # the same sender's updates keep their order: this one comes last
    poll, listing = await tg.next_messages(GROUP_ID, 2)
    assert poll["text"].startswith("📊 Poll #1: Tea or coffee?")
    assert listing["text"].startswith("Open polls:") and "#2" not in listing["text"]
    assert count(tg, "SELECT COUNT(*) FROM polls") == 1

    press = tg.updates.callback(BARTEK, stored(tg, poll), button(poll, ":1"))
    await tg.send(press)
    await tg.send(press)
    assert await tg.answered(str(press["callback_query"]["id"])) == pl._("Your vote: {option}", option="Tea")
    await tg.say(BARTEK, "/polls")
    [after] = await tg.next_messages(GROUP_ID)
    assert "1 person voted" in after["text"]


async def test_a_burst_of_1000_votes_is_stored_and_edits_the_group_message_a_handful_of_times(polling: TelegramEnv) -> None:
    poll = await create_poll(polling, "/poll Which flavour? | Mango | Lime | Ginger")
    message = stored(polling, poll)
    voters = [Person(50_000 + i, f"Voter {i}", language_code=("pl", "id", "en")[i % 3]) for i in range(1000)]
    presses = [polling.updates.callback(person, message, f"v:1:{1 + i % 3}") for i, person in enumerate(voters)]
    started = time.monotonic()
    polling.api.push(*presses)
    answers = await polling.api.wait_for("answerCallbackQuery", count=1000, timeout=60)
    took = time.monotonic() - started
    assert all(call.get("text") for call in answers)
    assert count(polling, "SELECT COUNT(*) FROM poll_votes") == 1000
    [final] = await polling.api.wait_for("editMessageText", where=lambda c: "1000 people voted." in c["text"], timeout=10)
    assert "334" in final["text"] and "333" in final["text"]
    edits = polling.api.sent("editMessageText")
    # at most one edit every 3 seconds while the votes came in, plus the last one
    assert 1 <= len(edits) <= min(6, int(took / 3) + 3), (len(edits), took)
    print(f"\n1000 votes through the Telegram adapter: {took:.2f} s, {len(edits)} edits of the group message")


# --- the webhook ------------------------------------------------------------------------------


async def test_a_forged_webhook_is_refused_and_nothing_is_processed(webhook: TelegramEnv) -> None:
    assert webhook.http is not None
    url = f"{webhook.web_url}/telegram"
    update = webhook.updates.message(GROUP, ANNA, "/poll Forged? | Yes | No")
    for headers in ({}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: SECRET + "x"}, {SECRET_HEADER: SECRET[:-1]}):
        response = await webhook.http.post(url, json=update, headers=headers)
        assert response.status_code == 403
    assert count(webhook, "SELECT COUNT(*) FROM inbound_events") == 0
    assert webhook.api.sent("sendMessage") == []

    good = {SECRET_HEADER: SECRET}
    assert (await webhook.http.post(url, content=b"{not json", headers=good)).status_code == 400
    assert (await webhook.http.post(url, json=[1, 2], headers=good)).status_code == 400
    assert (await webhook.http.post(url, json={"update_id": 5, "message": "garbage"}, headers=good)).status_code == 200
    assert (await webhook.http.post(url, json={"update_id": 6, "poll_answer": {"odd": True}}, headers=good)).status_code == 200
    assert webhook.api.sent("sendMessage") == []
    health = (await webhook.http.get(f"{webhook.web_url}/healthz")).json()
    assert health["adapters"] == ["telegram"]


async def test_the_webhook_is_registered_with_the_secret_and_the_updates_we_need(webhook: TelegramEnv) -> None:
    registered = webhook.api.webhook
    assert registered is not None
    assert registered["url"] == "https://bot.example.org/telegram" and registered["secret_token"] == SECRET
    assert {"message", "callback_query", "chat_member"} <= set(registered["allowed_updates"])
    assert webhook.api.sent("getUpdates") == []


async def test_without_a_configured_secret_the_webhook_still_has_one(tmp_path: Path) -> None:
    api = FakeBotAPI()
    await api.start()
    try:
        telegram = {"token": TOKEN, "api_url": api.api_url, "webhook_url": "https://bot.example.org/telegram"}
        settings = Settings(database=tmp_path / "a.db", telegram=telegram)
        db = open_database(settings.database)
        first = TelegramAdapter(settings, Core(settings, db))
        again = TelegramAdapter(settings, Core(settings, db))
        assert first.secret_token == again.secret_token and len(first.secret_token) >= 32
        await first.start()
        assert api.webhook is not None and api.webhook["secret_token"] == first.secret_token
        await first.stop()
        db.close()
    finally:
        await api.stop()


# --- members, organisers, the group itself ----------------------------------------------------------


async def test_joins_are_welcomed_and_leaves_recorded(tg: TelegramEnv) -> None:
    await tg.send(tg.updates.chat_member(GROUP, CITRA, "left", "member"))
    [welcome] = await tg.next_messages(GROUP_ID)
    assert welcome["text"].startswith("Welcome to Sunny Estate, Citra!")
    robot = Person(777, "Helper")
    robot_update = tg.updates.chat_member(GROUP, robot, "left", "member")
    robot_update["chat_member"]["new_chat_member"]["user"]["is_bot"] = True
    await tg.send(robot_update)
    await tg.send(tg.updates.chat_member(GROUP, CITRA, "member", "left"))
    await tg.say(CITRA, "/polls")  # Citra's next update: the leave is processed by then
    await tg.next_messages(GROUP_ID)
    citra = community_store.member_by_ref(tg.core.db, CITRA.ref)
    assert citra is not None
    assert count(tg, "SELECT COUNT(*) FROM memberships WHERE member_id = ? AND left_at IS NULL", [citra.id]) == 1
    assert community_store.member_by_ref(tg.core.db, "telegram:777") is None
    asked = tg.api.webhook["allowed_updates"] if tg.api.webhook else sorted(tg.api.allowed_updates)
    assert "chat_member" in asked


async def test_organisers_are_the_group_admins_asked_once_and_kept_up_to_date(tmp_path: Path) -> None:
    async with running(tmp_path, "polling", organisers=[DAN.ref]) as env:
        await env.say(BARTEK, "/poll Q? | A | B")
        [refused] = await env.next_messages(GROUP_ID)
        assert refused["text"] == pl._("Only organisers can use /{name}.", name="poll")
        await env.say(BARTEK, "/close")
        await env.next_messages(GROUP_ID)
        assert len(env.api.sent("getChatMember")) == 1  # cached for a few minutes

        await env.send(env.updates.chat_member(GROUP, BARTEK, "member", "administrator", by=ANNA))
        await env.say(BARTEK, "/poll Q? | A | B")
        [poll] = await env.next_messages(GROUP_ID)
        assert poll["text"].startswith("📊 Poll #1")
        assert len(env.api.sent("getChatMember")) == 1  # the promotion itself told us

        await env.say(DAN, "/poll Second? | A | B")  # LOCALBOT_ORGANISERS, not a group admin
        [second] = await env.next_messages(GROUP_ID)
        assert second["text"].startswith("📊 Poll #2")


async def test_a_supergroup_migration_keeps_the_community(tmp_path: Path) -> None:
    old_id, new_id = -4001, -1009999
    old = {"id": old_id, "type": "group", "title": "Sunny Estate"}
    new = {"id": new_id, "type": "supergroup", "title": "Sunny Estate"}
    async with running(tmp_path, "polling") as env:
        env.api.chats[old_id], env.api.chats[new_id] = old, new
        env.api.set_status(old_id, ANNA.id, "creator")
        await env.say(ANNA, "/poll Still here? | Yes | No", old)
        await env.next_messages(old_id)
        await env.send(env.updates.message(old, ANNA, migrate_to_chat_id=new_id))
        await env.send(env.updates.message(new, ANNA, migrate_from_chat_id=old_id))
        await env.say(BARTEK, "/polls", new)
        [listing] = await env.next_messages(new_id)
        assert "#1 Still here?" in listing["text"]
        assert count(env, "SELECT COUNT(*) FROM communities") == 1

        # A message still addressed to the old group follows it to the supergroup.
        env.api.migrated[old_id] = new_id
        await enqueue(env, f"telegram:{old_id}", Text(text="Hello again"))
        [hello] = await env.next_messages(new_id)
        assert hello["text"] == "Hello again"


async def test_command_menus_are_published_per_language_and_for_admins(polling: TelegramEnv) -> None:
    menus = polling.api.commands
    assert set(menus) == {(scope, code) for scope in ("default", "all_chat_administrators") for code in ("", "en", "pl", "id")}
    everyone = {c["command"]: c["description"] for c in menus[("default", "pl")]}
    admins = {c["command"] for c in menus[("all_chat_administrators", "id")]}
    assert everyone["help"] == pl._("What I can do") != "What I can do"
    assert "poll" not in everyone and "close" not in everyone and "start" not in everyone
    assert {"poll", "close", "help", "results"} <= admins
    assert {c["command"] for c in menus[("default", "")]} == set(everyone)


# --- rendering every kind of reply ----------------------------------------------------------------


async def enqueue(env: TelegramEnv, chat_ref: str, *replies: Reply) -> None:
    now = env.core.clock.now()
    with env.core.db.atomic():
        for reply in replies:
            outbox.enqueue(env.core.db, chat_ref=chat_ref, reply=reply, now=now)
    env.core.wake()


async def test_every_reply_renders_natively(polling: TelegramEnv) -> None:
    api = polling.api
    chats = [Person(3000 + i, f"Reader {i}") for i in range(6)]
    for person in chats:
        polling.private(person)
    refs = [p.ref for p in chats]

    await enqueue(polling, refs[0], Location(latitude=52.2297, longitude=21.0122), Location(latitude=52.23, longitude=21.01, title="Kiosk", address="Main St 1"), Location(latitude=52.24, longitude=21.02, title="Library"))
    [pin] = await api.wait_for("sendLocation", chat_id=chats[0].id)
    assert (pin["latitude"], pin["longitude"]) == (52.2297, 21.0122)
    venues = await api.wait_for("sendVenue", chat_id=chats[0].id, count=2)
    assert [(v["title"], v["address"]) for v in venues] == [("Kiosk", "Main St 1"), ("Library", "52.24000, 21.02000")]

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    await enqueue(polling, refs[1], Picture(data=png, caption="Results", filename="chart.png", key="chart:1"), Edit(key="chart:1", text="Results, updated"))
    [photo] = await api.wait_for("sendPhoto", chat_id=chats[1].id)
    assert photo["photo"]["data"] == png and photo["caption"] == "Results"
    [caption] = await api.wait_for("editMessageCaption", chat_id=chats[1].id)
    assert caption["caption"] == "Results, updated" and caption["message_id"] == photo.result["message_id"]

    await enqueue(polling, refs[2], Document(data=b"poll,option\n1,Kiosk\n", filename="votes.csv", caption="Export"), Picture(data=png, caption="x" * 1500))
    [document] = await api.wait_for("sendDocument", chat_id=chats[2].id)
    assert document["document"] == {"filename": "votes.csv", "data": b"poll,option\n1,Kiosk\n"}
    [bare] = await api.wait_for("sendPhoto", chat_id=chats[2].id)
    assert "caption" not in bare.params
    [long_caption] = await api.wait_for("sendMessage", chat_id=chats[2].id)
    assert long_caption["text"] == "x" * 1500

    lines = "\n".join(f"Line {i:04d} " + "·" * 40 for i in range(150))  # about 7,500 characters
    await enqueue(polling, refs[3], Text(text=lines))
    parts = await api.wait_for("sendMessage", chat_id=chats[3].id, count=2)
    assert all(len(p["text"]) <= 4096 for p in parts) and "\n".join(p["text"] for p in parts) == lines

    await enqueue(polling, refs[4], Choices(text=lines, options=(Option("OK", "zz:1"),), key="long:1"), Ack(text="Saved"))
    summary, ack = await api.wait_for("sendMessage", chat_id=chats[4].id, count=2)
    assert len(summary["text"]) <= 4096 and summary["text"].startswith("Line 0000")
    assert summary["text"].endswith(en._("(shortened: the full text does not fit in one Telegram message)"))
    assert buttons(summary) == [[{"text": "OK", "callback_data": "zz:1"}]]
    assert ack["text"] == "✓ Saved"

    await enqueue(polling, refs[5], Text(text="Counting: 1", key="count:1"), Edit(key="count:1", text="Counting: 1"), Edit(key="missing", text="?"), Edit(key="gone", text="Fresh", fallback=True))
    first, fresh = await api.wait_for("sendMessage", chat_id=chats[5].id, count=2)
    assert (first["text"], fresh["text"]) == ("Counting: 1", "Fresh")
    await polling.outbox_idle()
    states = [state for (state,) in polling.core.db.execute("SELECT state FROM outbox WHERE chat_ref = ?", [refs[5]]).fetchall()]
    assert sorted(states) == ["sent", "sent", "sent", "skipped"]  # "not modified" is no error


# --- what members get wrong ---------------------------------------------------------------------


async def test_bad_input_gets_clear_answers_and_never_breaks_the_bot(polling: TelegramEnv) -> None:
    poll = await create_poll(polling, "/poll Q? | A | B")
    message = stored(polling, poll)
    stale = await polling.press(BARTEK, message, "zz:1:2")
    assert await polling.answered(stale) == pl._("This button no longer works.")
    gone = await polling.press(CITRA, message, "v:99:1")
    assert await polling.answered(gone) == id_._("I can't find that poll any more.")
    wrong = await polling.press(DAN, message, "v:1:9")
    assert await polling.answered(wrong) == "That option is not part of poll #1."

    inline = polling.updates.callback(DAN, message, "v:1:1")
    del inline["callback_query"]["message"]
    inline["callback_query"]["inline_message_id"] = "AAA"
    polling.api.push(inline)
    await polling.answered(str(inline["callback_query"]["id"]))

    # Not for us: a command to another bot, an edited message, a channel post; then a sentinel.
    await polling.say(ANNA, "/poll@other_bot Not ours? | A | B")
    edited = polling.updates.message(GROUP, ANNA, "/poll Edited? | A | B")
    edited["edited_message"] = edited.pop("message")
    polling.api.push(edited)
    post = polling.updates.message({"id": -100777, "type": "channel", "title": "News"}, ANNA, "/poll Channel? | A | B")
    post["channel_post"] = post.pop("message")
    polling.api.push(post)
    await polling.say(ANNA, "/frobnicate")
    [unknown] = await polling.next_messages(GROUP_ID)
    assert unknown["text"] == pl._("I don't know the command /{name}. Send /help to see what I can do.", name="frobnicate")
    assert count(polling, "SELECT COUNT(*) FROM polls") == 1

    anonymous = polling.updates.message(GROUP, Person(1087968824, "Group", username="GroupAnonymousBot"), "/poll Who? | A | B", sender_chat=GROUP)
    polling.api.push(anonymous)
    [who] = await polling.next_messages(GROUP_ID)
    assert "anonymously" in who["text"]

    chat = polling.private(CITRA)
    polling.api.push(polling.updates.message(chat, CITRA, sticker={"file_id": "st1", "file_unique_id": "s", "width": 512, "height": 512, "is_animated": False, "is_video": False, "type": "regular"}))
    [confused] = await polling.next_messages(CITRA.id)
    assert confused["text"] == id_._("I'm not sure what you mean. Send /help to see what I can do.")
    polling.api.push(polling.updates.location(chat, CITRA, 91.0, 21.0))
    [bad_place] = await polling.next_messages(CITRA.id)
    assert bad_place["text"] == id_._("That location does not look right. Please share it again.")
    polling.api.push(polling.updates.venue(chat, CITRA, 52.2, 21.0, "Kiosk", "Main St 1"))
    [place] = await polling.next_messages(CITRA.id)
    assert place["text"] == id_._("Thank you, but nothing needs a location from you right now.")
    polling.api.push(polling.updates.photo(chat, CITRA, "shelf1", caption="our shelf"))
    [photo] = await polling.next_messages(CITRA.id)
    assert photo["text"] == id_._("Thank you, but nothing needs a photo from you right now.")


async def test_a_press_that_cannot_be_read_is_still_answered_with_an_apology_in_the_members_language(tg: TelegramEnv) -> None:
    message = stored(tg, await create_poll(tg, "/poll Q? | A | B"))
    await tg.say(DAN, "/lang pl")  # Telegram says English; the member chose Polish
    await tg.next_messages(GROUP_ID)
    no_chat = tg.updates.callback(DAN, message, "v:1:1")
    no_chat["callback_query"]["message"] = {**message, "chat": None}  # a copy: the server keeps the original
    await tg.send(no_chat)
    assert await tg.answered(str(no_chat["callback_query"]["id"])) == pl._("Sorry, something went wrong on my side. Please try again.")
    nobody = tg.updates.callback(CITRA, message, "v:1:2")
    nobody["callback_query"]["from"] = None
    await tg.send(nobody)
    assert await tg.answered(str(nobody["callback_query"]["id"])) == en._("Sorry, something went wrong on my side. Please try again.")
    assert count(tg, "SELECT COUNT(*) FROM poll_votes") == 0


async def test_a_shared_photo_can_be_downloaded(polling: TelegramEnv) -> None:
    polling.api.files["shelf1"] = b"\xff\xd8\xff" + b"jpeg" * 100
    assert await polling.adapter.download(MediaRef("telegram", "shelf1")) == polling.api.files["shelf1"]


# --- start-up ---------------------------------------------------------------------------------


async def test_localbot_run_serves_telegram_by_polling_with_the_web_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeBotAPI()
    await api.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name, value in {
        "LOCALBOT_TELEGRAM__TOKEN": TOKEN,
        "LOCALBOT_TELEGRAM__API_URL": api.api_url,
        "LOCALBOT_DATABASE": str(tmp_path / "run.db"),
        "LOCALBOT_HTTP__PORT": str(port),
    }.items():
        monkeypatch.setenv(name, value)
    task = asyncio.create_task(runtime.serve(load_settings()))
    try:
        api.push({"update_id": 1, "message": {"message_id": 1, "date": int(time.time()), "chat": {"id": DAN.id, "type": "private", "first_name": "Dan"}, "from": DAN.json(), "text": "/help"}})
        [helped] = await api.wait_for("sendMessage", chat_id=DAN.id)
        assert helped["text"].startswith("Here is what I can do:")
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    health = (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.02)
        assert health["adapters"] == ["telegram"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await api.stop()


async def test_a_rejected_token_stops_start_up_with_one_clear_line(tmp_path: Path) -> None:
    api = FakeBotAPI()
    await api.start()
    try:
        settings = Settings(database=tmp_path / "b.db", telegram={"token": "999:not-the-token", "api_url": api.api_url})
        db = open_database(settings.database)
        adapter = TelegramAdapter(settings, Core(settings, db))
        with pytest.raises(SettingsError, match="LOCALBOT_TELEGRAM__TOKEN") as refused:
            await adapter.start()
        assert "999:not-the-token" not in str(refused.value)  # never echo a secret
        db.close()
    finally:
        await api.stop()
