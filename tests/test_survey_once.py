"""One-off surveys through the real core: start, answer every kind of question privately, wrong
answers of every kind in three languages with nothing stored lost, pause and resume (also across a
restart), starting mistakes, the ask budget, closing with a summary to every chat."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from localbot.adapters.base import DEFAULT_CAPABILITIES
from localbot.clock import ManualClock
from localbot.community import asks
from localbot.community import store as community_store
from localbot.community.model import ChannelKind
from localbot.core import Core
from localbot.events import (
    Chat,
    ChatKind,
    ChoicePicked,
    Command,
    MediaRef,
    Message,
    PhotoShared,
    Sender,
)
from localbot.replies import Choices, PrivateLink
from localbot.settings import Settings
from localbot.storage import open_database
from tests.helpers import Harness, RecordingAdapter, choices, texts
from tests.survey_helpers import studies  # noqa: F401  (a fixture)

ALL_RIGHT = ["1", "7:30", "1, 6", "2", "2, 3", "3", "4", "1, 3", "A free tasting", "-"]


async def answer_all(bot: Harness, name: str, answers: list[str] = ALL_RIGHT) -> str:
    await bot.send("1", name)  # "Take part" on the announcement in the group
    reply = ""
    for answer in answers:
        reply = texts(await bot.send(answer, name, chat=bot.private(name)))
    return reply


def stored(bot: Harness, name: str) -> dict[str, object]:
    member = bot.member(name)
    found = bot.core.db.query(
        """SELECT a.question, a.value FROM survey_answers a JOIN survey_entries e ON e.id = a.entry_id
           JOIN survey_participants p ON p.id = e.participant_id WHERE p.member_id = ?""",
        [member.id],
    )
    return {r["question"]: None if r["value"] is None else json.loads(r["value"]) for r in found}


async def test_start_take_part_and_answer_every_kind(bot: Harness, studies: Path) -> None:  # noqa: F811
    announcement = choices(await bot.send("/survey start coffee-habits"))
    assert announcement.text.startswith("📋 #1 Coffee habits") and "10 questions, answered privately with me." in announcement.text
    assert "Open until Mon, Jan 19" in announcement.text  # closes_after = "14d"
    assert [o.payload for o in announcement.options] == ["sv:take:1"]
    assert texts(await bot.send("1", "bartek")) == "Bartek, I've sent you a private message."
    first = await bot.outbox()
    assert [o.chat_ref for o in first] == ["console:bartek"]
    assert "Your answers are saved as you go" in first[0].reply.text and "How often do you drink coffee?" in first[0].reply.text
    me = bot.private("bartek")
    for answer in ALL_RIGHT[:-1]:
        await bot.send(answer, "bartek", chat=me)
    done = texts(await bot.send("-", "bartek", chat=me))
    assert done == "Thank you! When the survey closes, everyone gets a short summary."
    assert stored(bot, "bartek") == {
        "often": "daily", "first_cup": "07:30", "days": ["mon", "sat"], "where": {"option": "work"}, "with": ["breakfast", "sweet"],
        "cups": 3, "kiosk_liking": 4, "put_off": ["price", "queue"], "convince": "A free tasting", "shelf": None,
    }
    assert "answered, thank you!" in texts(await bot.send("/survey", "bartek", chat=me))
    assert "You have already answered “Coffee habits”" in texts(await bot.pick("sv:take:1", "bartek", chat=me))


async def test_conditions_skip_questions(bot: Harness, studies: Path) -> None:  # noqa: F811
    await bot.send("/survey start coffee-habits")
    await bot.send("1", "celina")
    me = bot.private("celina")
    reply = texts(await bot.send("4", "celina", chat=me))  # never: no time, days, place, pairing, cups
    assert "How much do you like the coffee from the estate kiosk?" in reply
    assert set(stored(bot, "celina")) == {"often"}


WRONG = {
    "en": {
        "pick": "Please pick one of the options (1 to 4).",
        "time": "I couldn't read that as a time of day.",
        "days": "“9” is not one of the options.",
        "place": "Please pick one of the options (1 to 5).",
        "required": "This question needs an answer.",
        "number": "Please answer with a number, for example 2 or 2.5.",
        "whole": "Please answer with a whole number.",
        "range": "Please give a number from 0 to 20.",
        "scale": "Please answer with a whole number from 1 to 5.",
        "long": "That's 301 characters; please keep it under 300.",
        "text": "Please answer in a few words.",
        "photo": "Please send a photo.",
        "days_ok": "Monday, Saturday",
        "scale_word": "great",
    },
    "pl": {
        "pick": "Wybierz jedną z opcji (od 1 do 4).",
        "time": "Nie rozumiem tej godziny.",
        "days": "„9” nie jest żadną z opcji.",
        "place": "Wybierz jedną z opcji (od 1 do 5).",
        "required": "To pytanie wymaga odpowiedzi.",
        "number": "Odpowiedz liczbą, na przykład 2 albo 2,5.",
        "whole": "Odpowiedz liczbą całkowitą.",
        "range": "Podaj liczbę od 0 do 20.",
        "scale": "Odpowiedz liczbą całkowitą od 1 do 5.",
        "long": "To 301 znaków; zmieść się w 300.",
        "text": "Odpowiedz kilkoma słowami.",
        "photo": "Wyślij zdjęcie.",
        "days_ok": "poniedziałek, sobota",
        "scale_word": "super",
    },
    "id": {
        "pick": "Silakan pilih salah satu opsi (1 sampai 4).",
        "time": "Saya tidak dapat membaca itu sebagai jam.",
        "days": "“9” bukan salah satu opsi.",
        "place": "Silakan pilih salah satu opsi (1 sampai 5).",
        "required": "Pertanyaan ini perlu dijawab.",
        "number": "Silakan jawab dengan angka, misalnya 2 atau 2,5.",
        "whole": "Silakan jawab dengan bilangan bulat.",
        "range": "Silakan berikan angka dari 0 sampai 20.",
        "scale": "Silakan jawab dengan bilangan bulat dari 1 sampai 5.",
        "long": "Itu 301 karakter; mohon tidak lebih dari 300.",
        "text": "Silakan jawab dengan beberapa kata.",
        "photo": "Silakan kirim foto.",
        "days_ok": "Senin, Sabtu",
        "scale_word": "bagus",
    },
}


@pytest.mark.parametrize("language", ["en", "pl", "id"])
async def test_wrong_answers_of_every_kind_in_three_languages(tmp_path: Path, studies: Path, language: str) -> None:  # noqa: F811
    expect = WRONG[language]
    settings = Settings(database=tmp_path / "w.db", language=language, timezone="Europe/Warsaw")
    db = open_database(settings.database)
    clock = ManualClock()
    bot = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter(), languages={"anna": language, "bartek": language})
    await bot.make_organiser("anna")
    await bot.send("/survey start coffee-habits")
    await bot.send("1", "bartek")
    me = bot.private("bartek")

    async def wrong(answer: str, message: str) -> None:
        before = stored(bot, "bartek")
        reply = texts(await bot.send(answer, "bartek", chat=me))
        assert message in reply, reply
        assert stored(bot, "bartek") == before  # nothing stored, nothing lost

    async def photo(message: str) -> None:
        before = stored(bot, "bartek")
        shared = PhotoShared(chat=me, sender=bot.sender("bartek"), media=MediaRef("console", str(tmp_path / "none.jpg")))
        assert message in texts(await bot.handle(shared))
        assert stored(bot, "bartek") == before

    await wrong("9", expect["pick"])  # single choice: not an option
    await bot.send("1", "bartek", chat=me)
    await wrong("half past seven", expect["time"])  # time of day that does not parse
    await bot.send("7:30", "bartek", chat=me)
    await wrong("1, 9", expect["days"])  # weekdays: one is no day
    await bot.send(expect["days_ok"], "bartek", chat=me)  # day names in the member's language
    await wrong("on the moon", expect["place"])  # place: not an option
    before = stored(bot, "bartek")
    assert expect["place"] in texts(await bot.locate(52.2, 21.0, "bartek", chat=me))  # this place question takes no pin
    assert stored(bot, "bartek") == before
    await bot.send("2", "bartek", chat=me)
    await wrong("-", expect["required"])  # multiple choice may not be skipped
    await bot.send("2, 3", "bartek", chat=me)
    await wrong("a lot", expect["number"])  # number: text
    await wrong("2,5", expect["whole"])  # number: not whole
    await wrong("25", expect["range"])  # number: out of range
    await bot.send("3", "bartek", chat=me)
    await wrong(expect["scale_word"], expect["scale"])  # text to a scale
    await wrong("7", expect["scale"])  # off the scale
    await bot.send("4", "bartek", chat=me)
    await bot.send("1, 3", "bartek", chat=me)
    await wrong("x" * 301, expect["long"])  # free text too long
    await photo(expect["text"])  # a photo where words are wanted
    await bot.send("A free tasting", "bartek", chat=me)
    await wrong("nice shelf", expect["photo"])  # words where a photo is wanted
    await bot.send("-", "bartek", chat=me)
    answers = stored(bot, "bartek")
    assert len(answers) == 10 and answers["days"] == ["mon", "sat"] and answers["cups"] == 3 and answers["shelf"] is None
    db.close()


async def test_pause_and_resume_also_across_a_restart(settings: Settings, studies: Path) -> None:  # noqa: F811
    clock = ManualClock()
    db = open_database(settings.database)
    bot = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter())
    await bot.make_organiser("anna")
    await bot.send("/survey start coffee-habits")
    await bot.send("1", "bartek")
    me = bot.private("bartek")
    for answer in ALL_RIGHT[:3]:
        await bot.send(answer, "bartek", chat=me)
    assert texts(await bot.send("/cancel", "bartek", chat=me)) == "Paused. Your answers so far are saved; send /survey to continue."
    mine = await bot.send("/survey", "bartek", chat=me)
    assert "Coffee habits: 3 answers so far." in texts(mine) and [o.payload for o in choices(mine).options] == ["sv:take:1"]
    db.close()

    db = open_database(settings.database)  # a new process
    bot = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter())
    resumed = texts(await bot.pick("sv:take:1", "bartek", chat=me))
    assert "Welcome back to “Coffee habits”. Let's continue where you stopped." in resumed
    assert "Where do you drink it most often?" in resumed
    for answer in ALL_RIGHT[3:]:
        await bot.send(answer, "bartek", chat=me)
    assert len(stored(bot, "bartek")) == 10
    # a restart in the middle of a question works too
    await bot.send("/survey pause", "bartek", chat=me)
    db.close()


async def test_telegram_members_get_a_deep_link_and_toggle_buttons(core: Core, clock: ManualClock, studies: Path) -> None:  # noqa: F811
    telegram = RecordingAdapter("telegram", DEFAULT_CAPABILITIES["telegram"])
    core.attach(telegram)
    group = Chat("telegram:-1001", ChatKind.GROUP, "Estate")
    boss = Sender("telegram:7", "Boss")
    telegram.admins.add((group.ref, boss.ref))
    await core.handle(Command(chat=group, sender=boss, name="survey", args="start coffee-habits"))
    member = Sender("telegram:8", "Ewa")
    replies = await core.handle(ChoicePicked(chat=group, sender=member, payload="sv:take:1"))
    assert isinstance(replies[0], PrivateLink) and replies[0].payload == "resume"
    private = Chat("telegram:8", ChatKind.PRIVATE)
    first = await core.handle(Command(chat=private, sender=member, name="start", args="resume"))
    assert isinstance(first[0], Choices) and "How often do you drink coffee?" in first[0].text
    assert [o.label for o in first[0].options] == ["Every day", "A few times a week", "Rarely", "Never"]
    conversation = first[0].options[0].payload.rsplit(":", 1)[0]
    assert first[0].options[0].payload == f"{conversation}:0.daily"  # question 0, option "daily"

    async def tap(value: str) -> list:  # type: ignore[type-arg]
        return await core.handle(ChoicePicked(chat=private, sender=member, payload=f"{conversation}:{value}"))

    await tap("0.daily")
    await core.handle(Message(chat=private, sender=member, text="7:30"))
    days = await tap("2.mon")  # with buttons a multiple choice is toggled, then finished with Done
    assert isinstance(days[0], Choices) and "✓ Monday" in [o.label for o in days[0].options]
    assert "Picked so far: Monday" in days[0].text and days[0].options[-1].label == "✅ Done"
    await tap("2.sat")
    await tap("2.sun")
    await tap("2.sun")  # tapped again: off
    assert "Where do you drink it most often?" in texts(await tap("2.done"))
    stale = texts(await tap("0.weekly"))  # a button of the first question, scrolled back to
    assert "That button belongs to an earlier question." in stale and "Where do you drink it most often?" in stale
    answers = [json.loads(r["value"]) for r in core.db.query("SELECT value FROM survey_answers WHERE question = 'days'")]
    assert answers == [["mon", "sat"]]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/survey start", "Which study? For example: /survey start coffee-habits."),
        ("/survey start nope", "I can't find a study called “nope”. Studies: coffee-diary, coffee-habits"),
        ("/survey start ../secrets", "“../secrets” is not a study name."),
        ("/survey start coffee-habits --until whenever", "I couldn't read the closing time “whenever”."),
        ("/survey start coffee-habits soon", "After the study's name I only understand --until WHEN"),
        ("/survey start coffee-diary --until 2d", "A 7-day diary needs to stay open at least 7 days"),
        ("/survey dance", "I don't know “/survey dance”."),
        ("/survey stop", "There are no open surveys right now."),
        ("/survey stop 4", "There is no survey “4”."),
        ("/survey join", "There are no open surveys right now."),
    ],
)
async def test_wrong_survey_commands_start_nothing(bot: Harness, studies: Path, command: str, expected: str) -> None:  # noqa: F811
    assert expected in texts(await bot.send(command))
    assert bot.core.db["survey_runs"].count == 0


async def test_a_broken_study_file_is_refused_with_its_problems(bot: Harness, studies: Path) -> None:  # noqa: F811
    source = (studies / "coffee-habits.toml").read_text().replace('show_if = { question = "often", any_of', 'show_if = { question = "ofte", any_of', 1)
    (studies / "broken.toml").write_text(source)
    reply = texts(await bot.send("/survey start broken"))
    assert "The study file broken.toml has problems, so nothing was started:" in reply
    assert "broken.toml:37: questions[2].show_if.question: unknown question “ofte” (known here: often)" in reply
    assert "Check it with: localbot survey validate" in reply
    assert "broken: has 1 problem (localbot survey validate)" in texts(await bot.send("/survey list"))
    assert bot.core.db["survey_runs"].count == 0


async def test_only_organisers_start_and_stop(bot: Harness, studies: Path) -> None:  # noqa: F811
    assert texts(await bot.send("/survey start coffee-habits", "bartek")) == "Only organisers can start surveys."
    await bot.send("/survey start coffee-habits")
    assert texts(await bot.send("/survey stop", "bartek")) == "Only organisers can close surveys."
    assert "Studies you can start" not in texts(await bot.send("/survey list", "bartek"))


async def test_closing_posts_what_the_group_said_to_every_chat(bot: Harness, studies: Path) -> None:  # noqa: F811
    telegram = RecordingAdapter("telegram", DEFAULT_CAPABILITIES["telegram"])
    bot.core.attach(telegram)
    with bot.core.db.atomic():
        community_store.add_channel(
            bot.core.db, community_id=bot.community().id, messenger="telegram", kind=ChannelKind.GROUP,
            chat_ref="telegram:-100", title="Sunny Estate TG", now=bot.clock.now(),
        )
    await bot.send("/survey start coffee-habits --until 2h")
    await bot.outbox()
    assert [o.chat_ref for o in telegram.take()] == ["telegram:-100"]  # announced there too
    for name in ("bartek", "celina", "dorota"):
        await answer_all(bot, name)
    await bot.wait(timedelta(hours=3))  # the deadline closes it
    await bot.outbox()
    [closing] = [o for o in telegram.take() if o.purpose == "results"]
    text = closing.reply.text
    assert text.startswith("🏁 Survey #1 is closed: Coffee habits.")
    assert "3 people answered." in text and "Where: At work or school (100%)" in text
    assert "What would convince a newcomer: A free tasting (100%)" in text
    assert "Busiest time: Monday, 06:00–08:00" in text
    assert "closed" in texts(await bot.send("/survey stop 1"))
    assert "This survey has closed" not in texts(await bot.send("/survey", "bartek"))


async def test_the_ask_budget_holds_a_start_and_says_when_it_fits(bot: Harness, studies: Path) -> None:  # noqa: F811
    community = bot.community()
    with bot.core.db.atomic():
        community_store.update_community_settings(bot.core.db, community.id, ask_budget=1)
    for name in ("bartek", "celina"):
        await bot.send("hi", name)
    await bot.send("/survey start coffee-habits")
    bot.clock.advance(timedelta(hours=1))
    refused = texts(await bot.send("/survey start coffee-diary"))
    assert "Starting now would ask 2 members more often than the community's budget of 1 asks a week: Bartek, Celina." in refused
    assert "It would fit from Mon, Jan 12, 10:00\u202fAM." in refused and "Nothing was started." in refused
    assert bot.core.db["survey_runs"].count == 1
    bot.clock.advance(timedelta(days=7))
    assert "Coffee diary" in texts(await bot.send("/survey start coffee-diary"))


async def test_members_reached_one_to_one_over_budget_are_not_messaged(bot: Harness, studies: Path) -> None:  # noqa: F811
    whatsapp = RecordingAdapter("whatsapp")
    bot.core.attach(whatsapp)
    community = bot.community()
    db = bot.core.db
    with db.atomic():
        community_store.roster_channel(db, community.id, "whatsapp", bot.clock.now())
        for number in ("+48600100200", "+48600100300"):
            member = community_store.touch_member(db, Sender(f"whatsapp:{number}", number), now=bot.clock.now(), private_chat_ref=f"whatsapp:{number}")
            community_store.ensure_membership(db, community.id, member.id, now=bot.clock.now())
        community_store.update_community_settings(db, community.id, ask_budget=1)
        tired = community_store.member_by_ref(db, "whatsapp:+48600100200")
        asks.record(db, community.id, [tired.id], kind="poll", ref="poll:1", now=bot.clock.now())
    reply = texts(await bot.send("/survey start coffee-habits"))
    assert "1 member who talks to me one to one has had this week's asks already, so I did not message them" in reply
    await bot.outbox()
    assert [o.chat_ref for o in whatsapp.take()] == ["whatsapp:+48600100300"]
    assert asks.asked(db, community.id, tired.id, bot.clock.now()) == 1  # still just the poll


def test_the_ask_budget_counts_a_rolling_week(db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    with db.atomic():
        community = community_store.create_community(db, name="Estate", language="en", timezone="UTC", now=now)
        ids = [community_store.touch_member(db, Sender(f"console:m{i}", f"M{i}"), now=now).id for i in range(3)]
        asks.record(db, community.id, ids[:2], kind="poll", ref="poll:1", now=now - timedelta(days=6))
        asks.record(db, community.id, ids[:1], kind="poll", ref="poll:2", now=now - timedelta(days=2))
        assert asks.record(db, community.id, ids[:1], kind="poll", ref="poll:2", now=now) == 0  # once per thing asked
    assert [asks.asked(db, community.id, i, now) for i in ids] == [2, 1, 0]
    check = asks.check(db, community, ids, now)
    assert check.budget == asks.DEFAULT_WEEKLY_BUDGET == 3 and check.fits
    with db.atomic():
        community_store.update_community_settings(db, community.id, ask_budget=2)
    community = community_store.get_community(db, community.id)
    check = asks.check(db, community, ids, now)
    assert check.over == (ids[0],) and check.fits_at == now - timedelta(days=6) + asks.WINDOW
    assert asks.check(db, community, ids, now, asks=3).fits_at is None  # more than the budget never fits


SHELF_FIRST = """
[survey]
mode = "once"
languages = ["en", "pl", "id"]
title = { en = "Shelves", pl = "Półki", id = "Rak" }

[[questions]]
id = "often"
kind = "single"
text = { en = "How often?", pl = "Jak często?", id = "Seberapa sering?" }
options = [
  { value = "daily", label = { en = "Daily", pl = "Codziennie", id = "Setiap hari" } },
  { value = "rarely", label = { en = "Rarely", pl = "Rzadko", id = "Jarang" } },
]

[[questions]]
id = "shelf"
kind = "photo"
text = { en = "Send a photo of the shelf.", pl = "Wyślij zdjęcie półki.", id = "Kirim foto raknya." }
"""

EARLIER_NUMBER = {
    "en": "That number picks from an earlier question's list. Here is the current one:",
    "pl": "Ten numer wybiera z listy wcześniejszego pytania. Oto bieżące pytanie:",
    "id": "Nomor itu memilih dari daftar pertanyaan sebelumnya. Ini pertanyaan yang sekarang:",
}


@pytest.mark.parametrize("language", ["en", "pl", "id"])
async def test_a_number_for_an_earlier_list_is_answered_in_numbers_not_buttons(tmp_path: Path, studies: Path, language: str) -> None:  # noqa: F811
    (studies / "shelves.toml").write_text(SHELF_FIRST, encoding="utf-8")
    settings = Settings(database=tmp_path / "n.db", language=language, timezone="Europe/Warsaw")
    db = open_database(settings.database)
    clock = ManualClock()
    bot = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter(), languages={"anna": language, "bartek": language})
    await bot.make_organiser("anna")
    await bot.send("/survey start shelves")
    await bot.send("1", "bartek")
    me = bot.private("bartek")
    await bot.send("1", "bartek", chat=me)
    # The photo question shows no list, so "2" still picks from the first question's numbers.
    reply = texts(await bot.send("2", "bartek", chat=me))
    assert EARLIER_NUMBER[language] in reply, reply
    assert "button" not in reply.lower() and "przycisk" not in reply.lower() and "tombol" not in reply.lower()
    assert stored(bot, "bartek") == {"often": "daily"}
    db.close()


@pytest.mark.parametrize(("language", "tap"), [("en", "Tap all that apply"), ("pl", "Zaznacz wszystko"), ("id", "Ketuk semua")])
async def test_numbered_chats_are_never_told_to_tap(tmp_path: Path, studies: Path, language: str, tap: str) -> None:  # noqa: F811
    settings = Settings(database=tmp_path / "t.db", language=language, timezone="Europe/Warsaw")
    db = open_database(settings.database)
    clock = ManualClock()
    bot = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter(), languages={"anna": language, "bartek": language})
    await bot.make_organiser("anna")
    shown = [texts(await bot.send("/survey start coffee-habits")), texts(await bot.send("1", "bartek"))]
    for answer in ALL_RIGHT:
        shown.append(texts(await bot.send(answer, "bartek", chat=bot.private("bartek"))))
    everything = "\n".join(shown)
    assert tap not in everything and "tap" not in everything.lower().split()
    db.close()
