"""The bot removed from a Telegram group, and added back, end to end: the real python-telegram-bot
Application and our core against the fake Bot API, which sends ``my_chat_member`` updates and
answers everything addressed to a group the bot was removed from with 403 Forbidden, as Telegram
does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from localbot import outbox
from localbot.adapters.telegram import ALLOWED_UPDATES
from localbot.community import store as community_store
from localbot.i18n import Translator, translator
from localbot.replies import Text
from localbot.storage.db import one, rows
from tests.fakes.telegram_api import BOT_ID, Call, group_json, private_json
from tests.telegram_env import ANNA, BARTEK, CITRA, DAN, GROUP, GROUP_ID, TelegramEnv, running

pl, id_, en = translator("pl"), translator("id"), translator("en")
GROUP_REF = f"telegram:{GROUP_ID}"
#: Who is told, each in their own language: Anna (a group admin who starts the polls), Citra and
#: Dan (LOCALBOT_ORGANISERS).
ORGANISERS = ((ANNA, pl), (CITRA, id_), (DAN, en))


@pytest.fixture(params=["polling", "webhook"])
async def tg(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TelegramEnv]:
    async with running(tmp_path, request.param, organisers=[CITRA.ref, DAN.ref]) as env:
        env.api.set_status(GROUP_ID, ANNA.id, "administrator")
        yield env


@pytest.fixture
async def polling(tmp_path: Path) -> AsyncIterator[TelegramEnv]:
    async with running(tmp_path, "polling", organisers=[CITRA.ref, DAN.ref]) as env:
        env.api.set_status(GROUP_ID, ANNA.id, "administrator")
        yield env


def count(env: TelegramEnv, sql: str, params: list[Any] | None = None) -> int:
    row = one(env.core.db, sql, params or [])
    assert row is not None
    return int(next(iter(row.values())))


def stored_data(env: TelegramEnv) -> dict[str, Any]:
    """What the community keeps: none of it may change when the bot leaves or comes back."""
    return {
        "communities": rows(env.core.db, "SELECT * FROM communities ORDER BY id"),
        "members": rows(env.core.db, "SELECT id, ref, name, language FROM members ORDER BY id"),
        "memberships": rows(env.core.db, "SELECT community_id, member_id, role FROM memberships WHERE left_at IS NULL ORDER BY 1, 2"),
        "votes": count(env, "SELECT COUNT(*) FROM poll_votes"),
        "message ids": count(env, "SELECT COUNT(*) FROM message_refs WHERE chat_ref = ?", [GROUP_REF]),
    }


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


def organiser_messages(env: TelegramEnv) -> list[int]:
    return [len(env.api.sent("sendMessage", person.id)) for person, _t in ORGANISERS]


def button(call: Call, suffix: str) -> str:
    return next(
        str(b["callback_data"]) for row in call["reply_markup"]["inline_keyboard"] for b in row if b["callback_data"].endswith(suffix)
    )


def removed(t: Translator, waiting: int = 0) -> str:
    lines = [
        "⚠️ "
        + t._(
            "I was removed from the {messenger} group “{group}”, so the polls, results, reminders and announcements of {community} no longer go there.",
            messenger="Telegram",
            group="Sunny Estate",
            community="Sunny Estate",
        ),
        t._("Nothing is lost: members, votes and answers are kept, and members can still use me in a private chat."),
    ]
    if waiting:
        lines.append(
            t.n_(
                "{n} message that was waiting for the group will not be sent.",
                "{n} messages that were waiting for the group will not be sent.",
                waiting,
            )
        )
    lines.append(
        t._(
            "To bring me back, add me to the group again (as an admin, so that I see who joins): it then gets the messages of {community} again.",
            community="Sunny Estate",
        )
    )
    return "\n".join(lines)


def back(t: Translator) -> str:
    return (
        "✅ "
        + t._(
            "I am back in the {messenger} group “{group}”: the polls, results, reminders and announcements of {community} go there again.",
            messenger="Telegram",
            group="Sunny Estate",
            community="Sunny Estate",
        )
        + "\n"
        + t._("Messages meant for the group while I was away are not sent late.")
    )


async def a_community_with_a_poll(env: TelegramEnv, poll: str = "/poll Where do we meet? | Kiosk | Library") -> Call:
    """Anna (an admin) starts a poll in the group; Bartek, Citra and Dan vote with its buttons."""
    await env.say(ANNA, poll)
    [message] = await env.next_messages(GROUP_ID)
    stored = env.api.message(GROUP_ID, message.result["message_id"])
    for person, choice in ((BARTEK, ":1"), (CITRA, ":2"), (DAN, ":2")):
        await env.answered(await env.press(person, stored, button(message, choice)))
    await env.skip(3)  # let the coalesced edit of the group message go out
    await env.outbox_idle()
    return message


async def settled(env: TelegramEnv) -> None:
    """Every update sent so far is processed, and what it queued is delivered: Bartek's /help in his
    private chat is answered after them (the fake delivers updates in order, the webhook one at a
    time), and the outbox is idle after that."""
    chat = env.private(BARTEK)
    await env.say(BARTEK, "/help", chat)
    await env.next_messages(BARTEK.id)
    await env.outbox_idle()


def to_group_since(env: TelegramEnv, start: int) -> list[Call]:
    """Every call addressed to the group after the first ``start`` calls, answered or refused."""
    return [c for c in env.api.calls[start:] if c.params.get("chat_id") == GROUP_ID]


# --- removed, told, and back ---------------------------------------------------------------------


async def test_a_removed_bot_stops_posting_tells_the_organisers_and_comes_back(tg: TelegramEnv) -> None:
    poll = await a_community_with_a_poll(tg)
    community = tg.community()
    # Something is still waiting for the group: a reminder due in an hour.
    now = tg.core.clock.now()
    with tg.core.db.atomic():
        outbox.enqueue(
            tg.core.db, chat_ref=GROUP_REF, reply=Text(text="Reminder"), now=now, community_id=community.id,
            purpose="reminder", not_before=now + timedelta(hours=1),
        )
    before = stored_data(tg)
    calls_before = len(tg.api.calls)

    tg.api.remove_bot(GROUP_ID)
    kicked = tg.updates.my_chat_member(GROUP, "administrator", "kicked", by=ANNA)
    await tg.send(kicked)
    for person, t in ORGANISERS:
        [notice] = await tg.next_messages(person.id)
        assert notice["text"] == removed(t, waiting=1)
    assert removed(pl, 1) != removed(en, 1) != removed(id_, 1)

    assert community_store.channel_for_chat(tg.core.db, GROUP_REF) is None
    inactive = community_store.channel_for_chat(tg.core.db, GROUP_REF, active=False)
    assert inactive is not None and inactive.community_id == community.id
    [reminder] = rows(tg.core.db, "SELECT state, last_error FROM outbox WHERE chat_ref = ? AND purpose = 'reminder'", [GROUP_REF])
    assert reminder["state"] == "skipped" and "the bot was removed from this group" in reminder["last_error"]

    # The same update again, and another that says the same: nobody is told twice.
    await tg.send(kicked)
    await tg.send(tg.updates.my_chat_member(GROUP, "kicked", "left", by=ANNA))
    # An old button in the group still counts (Telegram passes its press on), but no edit is tried.
    query = await tg.press(BARTEK, tg.api.message(GROUP_ID, poll.result["message_id"]), button(poll, ":2"))
    assert await tg.answered(query) == pl._("Changed your vote to {option}.", option="Library")
    await tg.skip(3)
    # A poll started privately (by Dan, of LOCALBOT_ORGANISERS: the group's admins cannot be asked
    # any more) reaches the community's other chats, not the group.
    await tg.say(DAN, "/poll Tea or coffee? | Tea | Coffee", tg.private(DAN))
    [mine] = await tg.next_messages(DAN.id)
    assert mine["text"].startswith("📊 Poll #2: Tea or coffee?")
    await settled(tg)
    assert organiser_messages(tg) == [1, 1, 2]
    assert to_group_since(tg, calls_before) == []  # nothing at all was addressed to the group
    assert [c for c in tg.api.calls if c.method == "getChatMember" and c.params["user_id"] == BOT_ID] == []  # a press proves nothing
    assert stored_data(tg) == before
    assert count(tg, "SELECT COUNT(*) FROM polls") == 2

    # Dan adds the bot back: the same community's group again, and the organisers are told.
    tg.api.add_bot(GROUP_ID)
    await tg.send(tg.updates.my_chat_member(GROUP, "left", "member", by=DAN))
    for person, t in ORGANISERS:
        [notice] = await tg.next_messages(person.id)
        assert notice["text"] == back(t)
    channel = community_store.channel_for_chat(tg.core.db, GROUP_REF)
    assert channel is not None and channel.community_id == community.id
    assert count(tg, "SELECT COUNT(*) FROM communities") == 1
    await tg.send(tg.updates.my_chat_member(GROUP, "member", "administrator", by=DAN))  # promoted: nothing to say

    # Votes edit the group's poll message again (it still shows 1 and 2: Bartek's change while the
    # bot was away could not reach it), and new polls are announced there.
    for person in (CITRA, DAN):
        await tg.answered(await tg.press(person, tg.api.message(GROUP_ID, poll.result["message_id"]), button(poll, ":1")))
    await tg.skip(3)
    [edit] = await tg.api.wait_for("editMessageText", chat_id=GROUP_ID, where=lambda c: "2 · 67%" in c["text"].split("Library")[0])
    assert edit["message_id"] == poll.result["message_id"] and "3 people voted." in edit["text"]
    await tg.say(DAN, "/poll Sunday or Monday? | Sunday | Monday", tg.private(DAN))
    [announced] = await tg.next_messages(GROUP_ID)
    assert announced["text"].startswith("📊 Poll #3: Sunday or Monday?")
    await settled(tg)
    assert organiser_messages(tg) == [2, 2, 4]
    after = stored_data(tg)
    assert after["members"] == before["members"] and after["memberships"] == before["memberships"] and after["votes"] == before["votes"]


async def test_a_missed_removal_is_noticed_on_the_first_refused_message(polling: TelegramEnv) -> None:
    """The bot was down when it was kicked: the poll's results, due meanwhile, are refused with
    403, and that does what the missed update would have done, once."""
    await a_community_with_a_poll(polling, "/poll --until 1h Where do we meet? | Kiosk | Library")
    before = stored_data(polling)
    polling.api.remove_bot(GROUP_ID)  # and no update says so
    calls_before = len(polling.api.calls)

    polling.clock.advance(timedelta(hours=1, minutes=1))
    await polling.core.run_due_jobs()  # the deadline closes the poll: results and chart to the group
    for person, t in ORGANISERS:
        [notice] = await polling.next_messages(person.id)
        assert notice["text"] in (removed(t), removed(t, waiting=1))
    await polling.outbox_idle()
    # The first of the messages for the group (the poll message's last edit, the results, their
    # chart) is refused; the others are not even tried.
    [refused] = to_group_since(polling, calls_before)
    assert refused.error_code == 403
    states = rows(polling.core.db, "SELECT state, last_error FROM outbox WHERE chat_ref = ? AND state != 'sent' ORDER BY id", [GROUP_REF])
    assert [r["state"] for r in states] == ["failed", "skipped", "skipped"]
    assert states[0]["last_error"] == "Forbidden: bot was kicked from the supergroup chat"
    assert all("the bot was removed from this group" in r["last_error"] for r in states[1:])
    assert community_store.channel_for_chat(polling.core.db, GROUP_REF) is None

    # Later messages for the community are not even tried in the group; nobody is told again.
    await polling.say(DAN, "/poll Tea or coffee? | Tea | Coffee", polling.private(DAN))
    await polling.next_messages(DAN.id)
    await settled(polling)
    assert len(to_group_since(polling, calls_before)) == 1
    assert organiser_messages(polling) == [1, 1, 2]
    assert stored_data(polling) == before


async def test_a_deleted_group_is_given_up_like_a_kick(polling: TelegramEnv) -> None:
    await polling.say(ANNA, "/polls")
    await polling.say(DAN, "/polls")
    await polling.next_messages(GROUP_ID, 2)
    polling.api.remove_bot(GROUP_ID, "deleted")
    await polling.say(DAN, "/poll Tea or coffee? | Tea | Coffee", polling.private(DAN))
    _poll, notice = await polling.next_messages(DAN.id, 2)
    assert notice["text"] == removed(en)  # Dan organises; Anna (an admin Telegram can no longer be asked about) started nothing
    await polling.outbox_idle()
    assert polling.api.sent("sendMessage", ANNA.id) == []
    [failed] = rows(polling.core.db, "SELECT state, last_error FROM outbox WHERE chat_ref = ?", [GROUP_REF])
    assert failed["state"] == "failed" and "the group chat was deleted" in failed["last_error"]
    assert community_store.channel_for_chat(polling.core.db, GROUP_REF) is None


async def test_a_missed_return_is_checked_with_telegram_before_it_is_believed(polling: TelegramEnv) -> None:
    await a_community_with_a_poll(polling)
    polling.api.remove_bot(GROUP_ID)
    await polling.send(polling.updates.my_chat_member(GROUP, "administrator", "kicked", by=ANNA))
    await polling.next_messages(ANNA.id)
    await polling.outbox_idle()

    # A message written before the kick, processed after it: Telegram says the bot is out, and the
    # answer to it is refused.
    calls_before = len(polling.api.calls)
    await polling.say(BARTEK, "/polls")
    await until(lambda: any(c.method == "sendMessage" for c in to_group_since(polling, calls_before)))
    await settled(polling)
    asked = [c for c in polling.api.calls if c.method == "getChatMember" and c.params["user_id"] == BOT_ID]
    assert len(asked) == 1 and asked[0].error_code == 403
    assert [c.error_code for c in to_group_since(polling, calls_before)] == [403, 403]  # the question, the answer
    assert community_store.channel_for_chat(polling.core.db, GROUP_REF) is None
    assert organiser_messages(polling) == [1, 1, 1]

    # The bot was added back while it was down and the update was lost: the next message from the
    # group makes it ask, and Telegram says it is in.
    polling.api.add_bot(GROUP_ID)
    await polling.say(BARTEK, "/polls")
    [listing] = await polling.next_messages(GROUP_ID)
    assert listing["text"].startswith("Open polls:")
    for person, t in ORGANISERS:
        notices = await polling.api.wait_for("sendMessage", chat_id=person.id, count=2)
        assert notices[-1]["text"] == back(t)
    assert community_store.channel_for_chat(polling.core.db, GROUP_REF) is not None
    await polling.say(BARTEK, "/polls")
    await polling.next_messages(GROUP_ID)
    assert len([c for c in polling.api.calls if c.method == "getChatMember" and c.params["user_id"] == BOT_ID]) == 2


# --- what must not count as the bot removed -------------------------------------------------------


async def test_updates_about_other_bots_unknown_groups_and_private_chats_change_nothing(polling: TelegramEnv) -> None:
    # A group the bot was never used in: removed from it, added to another, nothing is made of it.
    stranger = group_json(-1005550001, "Somewhere else")
    newcomer = group_json(-1005550002, "New neighbours")
    polling.api.chats[newcomer["id"]] = newcomer
    await polling.send(polling.updates.my_chat_member(stranger, "member", "kicked", by=DAN))
    await polling.send(polling.updates.my_chat_member(newcomer, "left", "member", by=DAN))
    await settled(polling)
    assert count(polling, "SELECT COUNT(*) FROM communities") == 0
    assert community_store.member_by_ref(polling.core.db, DAN.ref) is None
    assert [c.params["chat_id"] for c in polling.api.sent("sendMessage")] == [BARTEK.id]  # the /help of settled()
    # ... and the new group still becomes a community on first use, as before.
    await polling.say(ANNA, "/polls", newcomer)
    await polling.next_messages(newcomer["id"])
    assert count(polling, "SELECT COUNT(*) FROM communities") == 1

    await polling.say(ANNA, "/polls")
    await polling.next_messages(GROUP_ID)
    before = stored_data(polling)
    # Another bot removed from our group (a forged or confused update): not about us.
    robot = {"id": 777, "is_bot": True, "first_name": "Helper", "username": "helper_bot"}
    await polling.send(polling.updates.my_chat_member(GROUP, "administrator", "kicked", by=ANNA, bot=robot))
    # Bartek blocks the bot in his private chat: as before, only the delivery path notices.
    chat = polling.private(BARTEK)
    await polling.say(BARTEK, "/start", chat)
    await polling.next_messages(BARTEK.id)
    await polling.send(polling.updates.my_chat_member(private_json(BARTEK), "member", "kicked", by=BARTEK))
    await settled(polling)
    assert community_store.channel_for_chat(polling.core.db, GROUP_REF) is not None
    bartek = community_store.member_by_ref(polling.core.db, BARTEK.ref)
    assert bartek is not None and bartek.private_chat_ref == BARTEK.ref
    assert stored_data(polling) == before
    assert polling.api.sent("sendMessage", ANNA.id) == [] and polling.api.sent("sendMessage", DAN.id) == []

    # His refusal still forgets his private chat and points him to the bot in the group, which stays.
    polling.api.blocked.add(BARTEK.id)
    with polling.core.db.atomic():
        outbox.enqueue(polling.core.db, chat_ref=BARTEK.ref, reply=Text(text="Hi"), now=polling.core.clock.now(), community_id=polling.community().id)
    polling.core.wake()
    [pointer] = await polling.next_messages(GROUP_ID)
    assert pointer["text"].startswith("Bartek, ")
    bartek = community_store.member_by_ref(polling.core.db, BARTEK.ref)
    assert bartek is not None and bartek.private_chat_ref is None
    assert community_store.channel_for_chat(polling.core.db, GROUP_REF) is not None


async def test_a_group_that_only_forbids_posting_keeps_the_bot(polling: TelegramEnv) -> None:
    await polling.say(ANNA, "/polls")
    await polling.next_messages(GROUP_ID)
    polling.api.fail("sendMessage", 400, "Bad Request: not enough rights to send text messages to the chat")
    await polling.say(ANNA, "/polls")
    await until(lambda: any(c.error_code == 400 for c in polling.api.calls))
    await settled(polling)
    assert [c.error_code for c in polling.api.calls if c.method == "sendMessage" and c.params["chat_id"] == GROUP_ID] == [None, 400]
    assert community_store.channel_for_chat(polling.core.db, GROUP_REF) is not None
    assert polling.api.sent("sendMessage", ANNA.id) == []


async def test_my_chat_member_is_asked_for_in_both_modes(tg: TelegramEnv) -> None:
    assert "my_chat_member" in ALLOWED_UPDATES
    if tg.mode == "polling":
        await until(lambda: "chat_member" in tg.api.allowed_updates)  # the first getUpdates asked
    asked = tg.api.webhook["allowed_updates"] if tg.api.webhook else sorted(tg.api.allowed_updates)
    assert {"message", "callback_query", "chat_member", "my_chat_member"} <= set(asked)
