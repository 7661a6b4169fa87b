"""A one-off survey through the real Telegram adapter and the fake Bot API on 127.0.0.1: the
announcement's button in the group, the deep link to the private chat, inline buttons that toggle a
multiple choice until Done, a stale button, and /report with its pictures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from localbot.i18n import translator
from tests.fakes.telegram_api import Call
from tests.survey_helpers import studies  # noqa: F401  (a fixture)
from tests.telegram_env import ANNA, BARTEK, GROUP_ID, TelegramEnv, running

pl = translator("pl")


@pytest.fixture
async def tg(tmp_path: Path, studies: Path) -> AsyncIterator[TelegramEnv]:  # noqa: F811
    async with running(tmp_path, "polling") as env:
        env.api.set_status(GROUP_ID, ANNA.id, "administrator")
        yield env


def labels(call: Call) -> list[str]:
    return [b["text"] for row in call["reply_markup"]["inline_keyboard"] for b in row]


def data(call: Call, label: str) -> str:
    return next(str(b["callback_data"]) for row in call["reply_markup"]["inline_keyboard"] for b in row if b["text"] == label)


async def test_a_survey_answered_with_telegram_buttons(tg: TelegramEnv) -> None:
    await tg.say(ANNA, "/survey start coffee-habits")
    [announcement] = await tg.next_messages(GROUP_ID)
    assert announcement["text"].startswith("📋 #1 Coffee habits") and labels(announcement) == ["▶ Take part"]  # the group's language

    query = await tg.press(BARTEK, tg.api.message(GROUP_ID, announcement.result["message_id"]), data(announcement, "▶ Take part"))
    await tg.answered(query)
    [pointer] = await tg.next_messages(GROUP_ID)  # Bartek has never opened a chat with the bot: a deep link
    assert pointer["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("?start=resume")

    chat = tg.private(BARTEK)
    await tg.say(BARTEK, "/start resume", chat)
    [first] = await tg.next_messages(BARTEK.id)
    assert "Jak często pijesz kawę?" in first["text"] and labels(first) == ["Codziennie", "Kilka razy w tygodniu", "Rzadko", "Nigdy"]

    async def press(call: Call, label: str) -> Call:
        await tg.press(BARTEK, tg.api.message(BARTEK.id, call.result["message_id"]), data(call, label))
        [following] = await tg.next_messages(BARTEK.id)
        return following

    time_question = await press(first, "Codziennie")
    assert "O której zwykle pijesz pierwszą kawę" in time_question["text"]
    await tg.say(BARTEK, "7:30", chat)
    [days] = await tg.next_messages(BARTEK.id)
    assert "Zaznacz wszystko, co pasuje, a potem Gotowe." in days["text"] and labels(days)[-1] == "✅ Gotowe"
    days = await press(days, "poniedziałek")
    assert "✓ poniedziałek" in labels(days) and pl._("Picked so far: {items}", items="poniedziałek") in days["text"]
    days = await press(days, "sobota")
    where = await press(days, "✅ Gotowe")
    assert "Gdzie pijesz ją najczęściej?" in where["text"]
    await tg.press(BARTEK, tg.api.message(BARTEK.id, first.result["message_id"]), data(first, "Rzadko"))  # scrolled back up
    said, stale = await tg.next_messages(BARTEK.id, 2)
    assert said["text"] == pl._("That button belongs to an earlier question. Here is the current one:")
    assert "Gdzie pijesz ją najczęściej?" in stale["text"]
    with_what = await press(stale, "W domu")
    with_what = await press(with_what, "Śniadanie")  # a tap toggles …
    cups = await press(with_what, "✅ Gotowe")  # … and Done answers
    assert "Ile filiżanek wypijasz w zwykły dzień?" in cups["text"]
    await tg.say(BARTEK, "25", chat)
    said, again = await tg.next_messages(BARTEK.id, 2)
    assert said["text"] == pl._("Please give a number from {minimum} to {maximum}.", minimum="0", maximum="20")
    assert "Ile filiżanek wypijasz w zwykły dzień?" in again["text"]  # asked again, nothing stored
    await tg.say(BARTEK, "2", chat)
    [liking] = await tg.next_messages(BARTEK.id)
    assert labels(liking) == ["1 — Wcale", "2", "3 — Może być", "4", "5 — Bardzo", "Pomiń"]  # a scale as buttons
    await press(liking, "4")

    answers = {r["question"]: json.loads(r["value"]) for r in tg.core.db.query("SELECT question, value FROM survey_answers")}
    assert answers == {
        "often": "daily", "first_cup": "07:30", "days": ["mon", "sat"], "where": {"option": "home"},
        "with": ["breakfast"], "cups": 2, "kiosk_liking": 4,
    }

    private = tg.private(ANNA)
    await tg.say(ANNA, "/report", private)
    [text] = await tg.next_messages(ANNA.id)
    assert text["text"].startswith("📋 Mapa nawyków, ankieta nr 1: Kawowe nawyki")
    photos = await tg.api.wait_for("sendPhoto", chat_id=ANNA.id, count=2)
    assert len(photos) == 2
