"""Prompts say what the chat shows: "tap" only where choices are buttons (Telegram); where they are
numbered (the console, WhatsApp) the prompt names the number to reply with.

The checks read what the bot actually sent in a walk through each conversation of polls, pickup
points, care, membership, community, privacy and export, in three languages: the console by piping
a script into ``localbot shell``, WhatsApp through signed Twilio webhooks and the fake Twilio API,
Telegram through the fake Bot API.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localbot.i18n import translator
from localbot.maps.texts import HOURS_EXAMPLE
from tests.fakes.whatsapp_rig import ENGLISH, INDONESIAN, POLISH, whatsapp_rig
from tests.telegram_env import ANNA, BARTEK, CITRA, DAN, GROUP_ID, running
from tests.test_console import localbot

#: Words that send a member looking for a button: English, Polish, Indonesian. A link can be tapped
#: on every messenger ("On WhatsApp they can tap this link", "mengetuk tautan ini").
BUTTON_WORDS = re.compile(r"\btap\b(?! this link)|\bbuttons?\b|stuknij|dotknij|przycisk|\bketuk|tombol", re.IGNORECASE)

KIOSK = (52.2310, 21.0150)
HOME = (52.2297, 21.0122)
LANGUAGE_NUMBER = {"en": 1, "pl": 2, "id": 3}  # as /lang lists them: English, polski, Indonesia


def button_words(text: str) -> list[str]:
    return [match.group(0) for match in BUTTON_WORDS.finditer(text)]


def numbered_hints(language: str) -> list[str]:
    """What the prompts of the walk below say where choices are numbered."""
    t = translator(language)
    return [
        t._("Send another option, or reply {number} for Done.", number=1),
        t._("When is it open? For example: {example}. Or reply {number} for “Not known”.", example=HOURS_EXAMPLE, number=2),
        t._("Anything members should know? For example: ring the bell, ask for Ania. Or reply {number} for “No note”.", number=1),
        t._("Please write the note as text, or reply {number} for “No note”.", number=1),
        t._("Reply with a point's number to make it your pickup point."),
    ]


def test_the_detector_finds_button_wording_in_every_language() -> None:
    for language in ("en", "pl", "id"):
        t = translator(language)
        for text in (
            t._("Send another option, or tap Done."),
            t._("When is it open? For example: {example}. Or tap “Not known”.", example=HOURS_EXAMPLE),
            t._("Anything members should know? For example: ring the bell, ask for Ania. Or tap “No note”."),
            t._("Please write the note as text, or tap “No note”."),
            t._("Tap a point to make it your pickup point."),
            t._("Please write the opening hours, or tap one of the buttons."),
            t._("Please pick one of the buttons."),
        ):
            assert button_words(text), (language, text)
        for text in numbered_hints(language):
            assert not button_words(text), (language, text)
        link = t._("On WhatsApp they can tap this link, or scan the code in the picture: {link}", link="https://wa.me/1")
        assert not button_words(link), link


# --- the console -----------------------------------------------------------------------------------


def console_script(language: str) -> str:
    """Anna (the organiser) and Bartek through every conversation, each in ``language``."""
    return f"""\
/lang {language}
/poll
:private
Lunch?
Pizza | Soup
Salad
1
maybe
1
1
:loc 52.2 21.0
1
1
:as bartek
:group
/lang {language}
1
:as anna
:group
/addpoint Kiosk
:private
:loc {KIOSK[0]} {KIOSK[1]}
:loc {KIOSK[0]} {KIOSK[1]}
Mon-Fri 10-18
:loc {KIOSK[0]} {KIOSK[1]}
1
/editpoint 1
4
1
5
/points
/point 1
/removepoint 1
2
/rules
/setrules Be kind.
/setwelcome Hello, {{name}}!
/askbudget
/communities
/invite
/export
3
/mydata
/forgetme
2
/lang
{LANGUAGE_NUMBER[language]}
/help
:as bartek
:private
/near
:loc {HOME[0]} {HOME[1]}
1
/rules
/forgetme
maybe
2
:group
/results
"""


@pytest.mark.parametrize("language", ["en", "pl", "id"])
def test_no_button_wording_reaches_the_console(tmp_path: Path, language: str) -> None:
    done = localbot("shell", stdin=console_script(language), cwd=tmp_path, env={"LOCALBOT_MAP__TILE_URL": ""})
    assert done.returncode == 0, done.stderr
    said = "\n".join(line for line in done.stdout.splitlines() if not re.match(r"^\w+@(group|private)> ", line))
    assert button_words(said) == [], said
    t = translator(language)
    for hint in numbered_hints(language):
        assert hint in said, hint
    # ...and the numbers do what the prompts say.
    assert t._("Added pickup point {number}: {name}. Members find it with /near and /points.", number=1, name="Kiosk") in said
    assert t._("Your pickup point is now {name}.", name="Kiosk") in said
    assert t._("Nothing was deleted.") in said and t._("Please reply with one of the numbers.") in said
    assert "1 person voted." in said  # Bartek's "1" in the group was a vote


# --- WhatsApp --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "language"), [(ENGLISH, "en"), (POLISH, "pl"), (INDONESIAN, "id")])
async def test_no_button_wording_reaches_whatsapp(tmp_path: Path, address: str, language: str) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        rig.core.settings.organisers.append(address)
        seen: list[str] = []

        async def say(body: str = "", **fields: str) -> list[str]:
            await rig.say(address, body, **fields)
            got = await rig.replies(address)
            seen.extend(got)
            return got

        def pin(where: tuple[float, float]) -> dict[str, str]:
            return {"Latitude": str(where[0]), "Longitude": str(where[1])}

        await say(f"JOIN {rig.code()}")
        for line in ("/poll", "Lunch?", "Pizza | Soup", "Salad", "1", "maybe", "1", "1"):
            await say(line)
        await say(**pin((52.2, 21.0)))  # a location where a deadline was wanted
        await say("1")
        await say("1")
        await rig.console.send("1", "bartek")  # a vote from the console group

        await say("/addpoint Kiosk")
        await say(**pin(KIOSK))
        await say(**pin(KIOSK))  # a location where opening hours were wanted
        await say("Mon-Fri 10-18")
        await say(**pin(KIOSK))  # a location where a note was wanted
        await say("1")
        for line in ("/editpoint 1", "4", "1", "5", "/points", "/point 1", "/removepoint 1", "2"):
            await say(line)
        await say("/near")
        await say(**pin(HOME))
        await say("1")
        for line in ("/rules", "/setrules Be kind.", "/setwelcome Hello, {name}!", "/askbudget", "/communities", "/invite"):
            await say(line)
        for line in ("/export", "3", "/mydata", "/forgetme", "maybe", "2", "/lang", str(LANGUAGE_NUMBER[language]), "/help", "/results"):
            await say(line)

        said = "\n".join(seen)
        assert button_words(said) == [], said
        t = translator(language)
        for hint in numbered_hints(language):
            assert hint in said, hint
        assert t._("Added pickup point {number}: {name}. Members find it with /near and /points.", number=1, name="Kiosk") in said
        assert t._("Your pickup point is now {name}.", name="Kiosk") in said
        assert t._("Nothing was deleted.") in said and t._("Please reply with one of the numbers.") in said
        assert rig.core.db["polls"].count == 1 and rig.core.db["poll_votes"].count == 1


# --- Telegram keeps its buttons, and says so -------------------------------------------------------


async def test_telegram_keeps_the_button_wording(tmp_path: Path) -> None:
    pl = translator("pl")
    async with running(tmp_path, "polling", map={"tile_url": None}) as tg:
        tg.api.set_status(GROUP_ID, ANNA.id, "administrator")
        await tg.say(ANNA, "/help")
        await tg.next_messages(GROUP_ID)
        for person in (BARTEK, DAN, CITRA):
            await tg.say(person, "Cześć!")
        chat = tg.private(ANNA)
        await tg.say(ANNA, "/start", chat)
        await tg.next_messages(ANNA.id)

        await tg.say(ANNA, "/poll")  # in the group: organisers are the group's admins; the wizard goes privately
        await tg.next_messages(GROUP_ID)
        for line in ("Gdzie?", "Park | Plaża"):
            await tg.next_messages(ANNA.id)
            await tg.say(ANNA, line, chat)
        [options] = await tg.next_messages(ANNA.id)
        assert options["text"].endswith("\n" + pl._("Send another option, or tap Done.")) and "dotknij" in options["text"]
        await tg.say(ANNA, "/cancel", chat)
        await tg.next_messages(ANNA.id)

        await tg.say(ANNA, "/addpoint Kiosk")
        await tg.next_messages(GROUP_ID)
        await tg.next_messages(ANNA.id)
        tg.api.push(tg.updates.location(chat, ANNA, *KIOSK))
        [hours] = await tg.next_messages(ANNA.id)
        assert hours["text"] == pl._("When is it open? For example: {example}. Or tap “Not known”.", example=HOURS_EXAMPLE)
        await tg.say(ANNA, "pn-pt 10-18", chat)
        _summary, note = await tg.next_messages(ANNA.id, 2)
        assert note["text"] == pl._("Anything members should know? For example: ring the bell, ask for Ania. Or tap “No note”.")
        tg.api.push(tg.updates.location(chat, ANNA, *KIOSK))
        retry, _again = await tg.next_messages(ANNA.id, 2)
        assert retry["text"] == pl._("Please write the note as text, or tap “No note”.") == "Napisz uwagi jako tekst albo stuknij „Bez uwag”."
        await tg.say(ANNA, "Dzwonić dwa razy", chat)

        for person, language in ((BARTEK, "pl"), (DAN, "en"), (CITRA, "id")):
            tg.api.push(tg.updates.location(tg.private(person), person, *HOME))
            [listing] = await tg.api.wait_for("sendMessage", chat_id=person.id, timeout=10)
            tap = translator(language)._("Tap a point to make it your pickup point.")
            assert listing["text"].endswith("\n" + tap) and listing["reply_markup"]["inline_keyboard"]
