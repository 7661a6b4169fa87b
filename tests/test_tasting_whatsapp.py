"""A tasting on WhatsApp, through the real adapter and the fake Twilio API: the announcement as a
numbered list, signing up with a number, the calendar file as a media link, and the reminders as the
approved template once the member's 24-hour window has closed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from localbot.replies import text_of
from localbot.tastings import store
from tests.fakes.twilio_api import Garble
from tests.fakes.whatsapp_rig import ENGLISH, POLISH, PUBLIC, WhatsAppRig, whatsapp_rig
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
        assert "Gdy dotrzesz na miejsce, odpowiedz 1, czyli „Jestem na miejscu”" in templated[0].content_variables["2"]  # no "tap"
        assert {r["purpose"] for r in rig.outbox(POLISH)[-3:]} == {"reminder"}


# --- the questions, when the member's 24-hour window has closed -----------------------------------

QUESTIONS_TEMPLATE = "HX" + "f" * 32


async def signed_up(rig: WhatsAppRig, tmp_path: Path, *members: tuple[str, str], mode: str = "on_site") -> tuple[store.Tasting, store.Session]:
    """WhatsApp members join and take places in session 1 on Monday; the session is on Wednesday."""
    for address, name in members:
        await rig.join(address, name)
    add_points(rig.console)
    write_tasting(tmp_path / "config" / "tastings", mode=mode)
    await rig.console.send("/tasting start oat-drinks")
    for address, _name in members:
        await rig.replies(address)
        await rig.say(address, "1")
        await rig.replies(address)
    [tasting] = store.tastings(rig.core.db, rig.console.community().id)
    return tasting, store.sessions(rig.core.db, tasting.id)[0]


async def check_in(rig: WhatsAppRig, participant: store.Participant) -> None:
    """The organiser (on the console) taps the member's name at the table."""
    await rig.console.pick(f"ts:ci:{participant.id}", "anna", chat=rig.console.private("anna"))
    await rig.core.run_until_idle()
    await rig.flush()


def first_code(rig: WhatsAppRig, participant: store.Participant) -> int:
    return store.serving_order(store.products(rig.core.db, participant.tasting_id), participant)[0].code


async def test_checked_in_after_the_window_closed_the_member_gets_the_invitation_and_any_reply_brings_the_questions(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, templates={"tasting_questions": QUESTIONS_TEMPLATE}) as rig:
        tasting, session = await signed_up(rig, tmp_path, (POLISH, "Kasia"))
        [participant] = store.participants(rig.core.db, tasting.id)
        rig.clock.set(session.starts_at)  # Wednesday: Kasia last wrote on Monday
        await rig.core.run_until_idle()
        await rig.replies(POLISH)
        await check_in(rig, participant)

        invitation = rig.api.to(POLISH)[-1]
        assert invitation.content_sid == QUESTIONS_TEMPLATE and invitation.body is None
        assert invitation.content_variables == {
            "1": rig.console.community().name,
            "2": "✅ Obecność na degustacji „Napoje owsiane” potwierdzona. Odpowiedz na tę wiadomość, a wyślę Ci pytania.",
            "3": f"ts:go:{participant.id}",
        }
        [row] = [r for r in rig.outbox(POLISH) if r["purpose"] == "tasting_questions"]
        assert (row["state"], row["template"]) == ("sent", 1)
        await rig.replies(POLISH)

        # "ok" is not an answer to a question Kasia has not seen: the question comes, nothing is saved.
        await rig.say(POLISH, "ok")
        [question] = await rig.replies(POLISH)
        code = first_code(rig, participant)
        assert question.startswith("✅ Obecność potwierdzona. Witaj!") and f"kubeczek oznaczony kodem {code}" in question
        assert store.answers(rig.core.db, participant.id) == {}
        # From here on the window is open: the questions go out as they are, and answers count.
        await rig.say(POLISH, "1")
        assert f"Próbka {code}" in await rig.reply(POLISH)
        await rig.say(POLISH, "8")
        await rig.replies(POLISH)
        assert [a.value for a in store.answers(rig.core.db, participant.id).values()] == ["8"]
        assert all(m.content_sid is None for m in rig.api.to(POLISH)[-3:])


async def test_home_use_the_invitation_waits_days_for_the_button_and_the_questions_start_where_they_stand(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, templates={"tasting_questions": QUESTIONS_TEMPLATE}) as rig:
        tasting, session = await signed_up(rig, tmp_path, (POLISH, "Kasia"), mode="home_use")
        [participant] = store.participants(rig.core.db, tasting.id)
        rig.clock.set(session.starts_at)
        await rig.core.run_until_idle()
        await check_in(rig, participant)  # the kit is picked up; the tasting time is Friday 18:00
        await rig.replies(POLISH)
        assert session.taste_at is not None
        rig.clock.set(session.taste_at)
        await rig.core.run_until_idle()
        await rig.flush()
        invitation = rig.api.to(POLISH)[-1]
        assert invitation.content_sid == QUESTIONS_TEMPLATE
        assert invitation.content_variables["2"].startswith("🍽 Czas na degustację „Napoje owsiane”!")
        await rig.replies(POLISH)

        # Three days later Kasia taps the template's button.
        rig.clock.set(session.taste_at + timedelta(days=3))
        await rig.core.run_until_idle()
        await rig.say(POLISH, "Zaczynamy", ButtonPayload=invitation.content_variables["3"], ButtonText="Zaczynamy")
        [question] = await rig.replies(POLISH)
        code = first_code(rig, participant)
        assert question.startswith("🍽 Czas na degustację!") and f"opakowanie oznaczone kodem {code}" in question
        await rig.say(POLISH, "1")
        await rig.say(POLISH, "6")
        await rig.replies(POLISH)
        assert [a.value for a in store.answers(rig.core.db, participant.id).values()] == ["6"]

        # She stops, and a week later sends /tasting continue: the questions resume where they stand.
        rig.clock.set(session.taste_at + timedelta(days=10))
        await rig.say(POLISH, "/tasting continue")
        [resumed] = await rig.replies(POLISH)
        assert resumed.startswith("Witaj z powrotem!") and f"Próbka {code}" in resumed
        assert len(store.answers(rig.core.db, participant.id)) == 1


async def test_without_a_template_the_organiser_hears_who_was_not_reached_in_their_language(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        tasting, session = await signed_up(rig, tmp_path, (POLISH, "Kasia"), (ENGLISH, "John"))
        await rig.console.send("/lang pl", "anna", chat=rig.console.private("anna"))
        kasia, john = store.participants(rig.core.db, tasting.id)
        rig.clock.set(session.starts_at)
        await rig.core.run_until_idle()
        await rig.console.outbox()
        sent_before = {address: len(rig.api.to(address)) for address in (POLISH, ENGLISH)}
        await check_in(rig, kasia)
        await check_in(rig, john)
        assert {r["state"] for r in rig.core.db.query("SELECT state FROM outbox WHERE purpose = 'tasting_questions'")} == {"skipped"}
        assert {address: len(rig.api.to(address)) for address in (POLISH, ENGLISH)} == sent_before

        await rig.console.wait(timedelta(minutes=1))
        notices = [text_of(o.reply) for o in await rig.console.outbox() if "tasting_questions" in text_of(o.reply)]
        assert notices == [
            f"Nie udało mi się wysłać pytań degustacji w {rig.console.community().name} przez WhatsApp do: Kasia, John.\n"
            "WhatsApp pozwala mi pisać do kogoś tylko przez 24 godziny od jego ostatniej wiadomości, chyba że ustawiono "
            "zatwierdzony szablon dla wiadomości „tasting_questions” (zob. README). Poproś ich, żeby napisali do mnie cokolwiek: od razu przejdę z nimi dalej."
        ]

        # Kasia, told at the table, writes anything: the questions start. John never writes: nothing more
        # goes to him, and the organisers are not told again.
        await rig.say(POLISH, "hej")
        [question] = await rig.replies(POLISH)
        assert question.startswith("✅ Obecność potwierdzona. Witaj!") and f"kubeczek oznaczony kodem {first_code(rig, kasia)}" in question
        assert store.answers(rig.core.db, kasia.id) == {}
        await rig.console.wait(timedelta(days=7))
        assert len(rig.api.to(ENGLISH)) == sent_before[ENGLISH]
        assert not [o for o in await rig.console.outbox() if "tasting_questions" in text_of(o.reply)]
        assert store.answers(rig.core.db, john.id) == {}


@pytest.mark.parametrize("answered", ["after the retry", "before the retry"])
async def test_an_invitation_whose_answer_was_lost_is_known_as_a_template_from_its_status_callback(tmp_path: Path, answered: str) -> None:
    """Twilio takes the template but its answer is lost; the status callback (``&k=t``) brings the
    MessageSid. The outbox must know that the member got the invitation, not the question, so that
    their "1" brings the question instead of answering it."""
    async with whatsapp_rig(tmp_path, templates={"tasting_questions": QUESTIONS_TEMPLATE}) as rig:
        tasting, session = await signed_up(rig, tmp_path, (POLISH, "Kasia"))
        [participant] = store.participants(rig.core.db, tasting.id)
        rig.clock.set(session.starts_at)
        await rig.core.run_until_idle()
        await rig.replies(POLISH)
        rig.api.script.append(Garble())  # Twilio sends the invitation; its answer never arrives intact
        await check_in(rig, participant)
        invitation = rig.api.to(POLISH)[-1]
        assert invitation.content_sid == QUESTIONS_TEMPLATE and invitation.status_callback and "&k=t" in invitation.status_callback
        [row] = [r for r in rig.outbox(POLISH) if r["purpose"] == "tasting_questions"]
        assert row["state"] == "pending" and row["last_error"].startswith("outcome unknown since ")
        await rig.status(invitation.status_callback, invitation.sid, "delivered")
        await rig.replies(POLISH)

        if answered == "before the retry":
            await rig.say(POLISH, "1")
            [question] = await rig.replies(POLISH)
        rig.clock.advance(timedelta(seconds=2))
        await rig.flush()
        [row] = [r for r in rig.outbox(POLISH) if r["purpose"] == "tasting_questions"]
        assert (row["state"], row["template"], row["platform_id"]) == ("sent", 1, invitation.sid)
        assert [m.content_sid for m in rig.api.to(POLISH)].count(QUESTIONS_TEMPLATE) == 1  # not sent twice
        if answered == "after the retry":
            await rig.say(POLISH, "1")
            [question] = await rig.replies(POLISH)

        assert question.startswith("✅ Obecność potwierdzona. Witaj!") and f"kubeczek oznaczony kodem {first_code(rig, participant)}" in question
        assert store.answers(rig.core.db, participant.id) == {}


# --- everything else a tasting sends one member, when their window has closed ----------------------


async def test_home_use_the_kit_message_goes_as_the_reminder_template_when_the_window_has_closed(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, templates={"reminder": REMINDER_TEMPLATE}) as rig:
        tasting, session = await signed_up(rig, tmp_path, (POLISH, "Kasia"), mode="home_use")
        [participant] = store.participants(rig.core.db, tasting.id)
        rig.clock.set(session.starts_at)  # Wednesday: Kasia last wrote on Monday
        await rig.core.run_until_idle()
        await rig.replies(POLISH)
        await check_in(rig, participant)
        await rig.replies(POLISH)
        kit = rig.api.to(POLISH)[-1]
        assert kit.content_sid == REMINDER_TEMPLATE and kit.body is None
        assert kit.content_variables["2"].startswith("✅ Masz swój zestaw. Pytania wyślę Ci: pt., 9 sty, 18:00.")
        row = rig.outbox(POLISH)[-1]
        assert (row["purpose"], row["state"], row["template"]) == ("reminder", "sent", 1)


def unreached_notices(texts: list[str]) -> list[str]:
    return [text for text in texts if "WhatsApp" in text]


async def test_without_a_template_the_organisers_hear_by_name_who_missed_the_kit_message(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        tasting, session = await signed_up(rig, tmp_path, (POLISH, "Kasia"), mode="home_use")
        [kasia] = store.participants(rig.core.db, tasting.id)
        rig.clock.set(session.starts_at)
        await rig.core.run_until_idle()
        await rig.console.wait(timedelta(minutes=1))
        await rig.console.outbox()
        sent_before = len(rig.api.to(POLISH))
        await check_in(rig, kasia)  # her kit message cannot go: her window closed on Tuesday
        assert len(rig.api.to(POLISH)) == sent_before
        row = rig.outbox(POLISH)[-1]
        assert (row["purpose"], row["state"]) == ("reminder", "skipped")

        await rig.console.wait(timedelta(minutes=1))
        assert unreached_notices([text_of(o.reply) for o in await rig.console.outbox()]) == [
            f"I could not send a reminder or notice about what they signed up for in {rig.console.community().name} on WhatsApp to: Kasia.\n"
            "WhatsApp lets me write to someone only within 24 hours of their last message, unless an approved template is set up for "
            "“reminder” messages (see the README). Please let them know yourself."
        ]


async def test_without_a_template_the_organisers_hear_by_name_who_missed_the_reminders_and_a_cancelled_session(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        tasting, session = await signed_up(rig, tmp_path, (POLISH, "Kasia"), (ENGLISH, "John"))
        await rig.console.send("/lang pl", "anna", chat=rig.console.private("anna"))
        await rig.console.outbox()
        rig.clock.set(session.starts_at - timedelta(hours=23))  # Tuesday: the day-before reminders are due
        await rig.core.run_until_idle()
        await rig.flush()
        assert {r["state"] for r in rig.outbox(POLISH) + rig.outbox(ENGLISH) if r["purpose"] == "reminder"} == {"skipped"}
        # John writes before the organisers are told: a reminder is not sent again when a member
        # writes (unlike the questions), so he is named all the same.
        await rig.say(ENGLISH, "hello")
        await rig.replies(ENGLISH)
        await rig.console.wait(timedelta(minutes=1))
        community = rig.console.community().name
        named = (f"Nie udało mi się wysłać przypomnienia lub powiadomienia o ich zapisach w {community} przez WhatsApp do: Kasia, John.\n"
                 "WhatsApp pozwala mi pisać do kogoś tylko przez 24 godziny od jego ostatniej wiadomości, chyba że ustawiono zatwierdzony szablon "
                 "dla wiadomości „reminder” (zob. README). Przekaż im to, proszę, samodzielnie.")
        assert unreached_notices([text_of(o.reply) for o in await rig.console.outbox()]) == [named]  # one notice, each named once

        # The session is cancelled: John, who wrote an hour ago, is told; Kasia is not, and is named.
        await rig.console.pick(f"ts:csy:{session.id}", "anna", chat=rig.console.private("anna"))
        await rig.flush()
        assert (await rig.replies(ENGLISH))[0].startswith("❌ Sorry: this session of “Oat drinks” is cancelled.")
        await rig.console.wait(timedelta(minutes=1))
        notices = unreached_notices([text_of(o.reply) for o in await rig.console.outbox()])
        assert notices == [named.replace("Kasia, John", "Kasia")]
