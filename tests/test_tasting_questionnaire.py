"""At the session: check-in by an organiser or by location, then the questionnaire in the member's
private chat, sample by sample in their serving order, saved as it comes, paused and resumed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from localbot.adapters.base import DEFAULT_CAPABILITIES
from localbot.community import store as community_store
from localbot.events import Chat, ChatKind, ChoicePicked, Message, Sender
from localbot.replies import Choices, Edit, Reply
from localbot.tastings import store
from tests.helpers import Harness, RecordingAdapter, ack, choices, texts
from tests.tasting_helpers import KIOSK, menu, said, sessions, started


def answers_of(bot: Harness, participant: store.Participant) -> dict[tuple[int, str], str | None]:
    return {key: answer.value for key, answer in store.answers(bot.core.db, participant.id).items()}


async def book(bot: Harness, tasting: store.Tasting, session: store.Session, *names: str) -> list[store.Participant]:
    booked = []
    for name in names:
        await bot.pick(f"ts:up:{session.id}", name, chat=bot.private(name))
        found = store.participant_of(bot.core.db, tasting.id, bot.member(name).id)
        assert found is not None
        booked.append(found)
    await bot.outbox()
    return booked


async def say(bot: Harness, name: str, *lines: str) -> list[Reply]:
    replies: list[Reply] = []
    for line in lines:
        replies = await bot.send(line, name, chat=bot.private(name))
    return replies


async def test_an_organiser_checks_people_in_and_only_they_are_asked(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path)
    first, _second = sessions(bot, tasting)
    bartek, celina = await book(bot, tasting, first, "bartek", "celina")
    products = store.products(bot.core.db, tasting.id)
    order = store.serving_order(products, bartek)
    assert [p.position for p in order] == [0, 1, 2] and [p.position for p in store.serving_order(products, celina)] == [1, 2, 0]

    assert said(await bot.send("/checkin", "anna")) == "No session is on right now: check-in opens an hour before a session starts."
    assert said(await say(bot, "bartek", "/tasting continue")) == "Please check in at the session first: send /checkin there, or ask an organiser."
    assert said(await bot.pick(f"ts:go:{bartek.id}", "bartek", chat=bot.private("bartek"))).startswith("Please check in at the session first")

    bot.clock.set(first.starts_at - timedelta(minutes=20))
    listing = await bot.send("/checkin", "anna", chat=bot.private("anna"))
    assert "Check-in, session 1 of “Oat drinks”" in menu(listing)
    assert "0 of 2 here. Reply with a name's number to check them in (the same number again to undo)." in menu(listing)
    assert f"P1 Bartek: {' → '.join(str(p.code) for p in order)}" in menu(listing)  # the serving sheet for the helpers
    assert [o.label for o in choices(listing).options] == ["⬜ Bartek (P1)", "⬜ Celina (P2)"]
    in_group = choices(await bot.send("/checkin", "anna"))
    assert "P1 Bartek:" not in in_group.text  # the group sees names, not serving orders
    assert ack(await bot.pick(f"ts:ci:{bartek.id}", "celina")) == "Only organisers can check people in."

    toggled = await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))
    assert ack(toggled) == "P1 is checked in."
    updated = [r for r in toggled if isinstance(r, Edit)][0]
    assert "1 of 2 here." in updated.text and updated.options[0].label == "✅ Bartek (P1)" and updated.fallback
    [question] = [o.reply for o in await bot.outbox() if o.chat_ref == "console:bartek"]
    assert isinstance(question, Choices) and question.text.startswith("✅ You're checked in. Welcome!")
    assert f"Sample 1 of 3: please take the cup marked {order[0].code}." in question.text
    assert "Check the code and reply 1 to start (if your cup shows another code, type that code)." in question.text
    assert said(await bot.pick(f"ts:go:{celina.id}", "celina", chat=bot.private("celina"))).startswith("Please check in at the session first")

    # Sample 1: the code, then liking (0 and 10 are not on the scale), JAR (6 is not), CATA, a comment.
    liking = await say(bot, "bartek", "1")
    assert menu(liking).startswith(f"Sample {order[0].code}: how much do you like it overall?\nReply with a number from 1 to 9.")
    assert [o.label for o in choices(liking).options][0::8] == ["Dislike extremely", "Like extremely"]
    for wrong in ("0", "10", "seven"):
        assert said(await say(bot, "bartek", wrong)).startswith(f"“{wrong}” is not on the scale. Please answer with a whole number from 1 (dislike extremely) to 9")
    assert "how is the sweetness?" in said(await say(bot, "bartek", "7"))
    assert said(await say(bot, "bartek", "6")).startswith("“6” is not on the scale. Please answer with a whole number from 1 (not enough at all) to 5")
    assert "which of these words describe it?" in said(await say(bot, "bartek", "2"))
    assert "anything else you'd like to say about it?" in said(await say(bot, "bartek", "1, 2"))
    stopped = await say(bot, "bartek", "Nice and creamy", "/cancel")
    assert said(stopped) == "Paused. Your answers so far are saved; send /tasting to continue."
    saved = answers_of(bot, bartek)
    first_id = order[0].id
    assert saved == {(first_id, "liking"): "7", (first_id, "jar.sweetness"): "2", (first_id, "cata.creamy"): "1",
                     (first_id, "cata.watery"): "1", (first_id, "comment"): "Nice and creamy"}
    assert ack(await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))) == "P1 has started answering, so the check-in stays."

    # Resume; the helper served sample 3 second: its code is accepted, a code that does not exist is not.
    overview = await bot.send("/tasting", "bartek", chat=bot.private("bartek"))
    assert choices(overview).options[0].payload == f"ts:go:{bartek.id}"
    resumed = await bot.pick(f"ts:go:{bartek.id}", "bartek", chat=bot.private("bartek"))
    assert said(resumed).startswith(f"Welcome back! Let's continue where you stopped.\n\nSample 2 of 3: please take the cup marked {order[1].code}.")
    assert said(await say(bot, "bartek", "999")).startswith("There is no sample 999 in this tasting. Please check the code on the cup.")
    assert said(await say(bot, "bartek", str(order[0].code))).startswith(f"You have rated sample {order[0].code} already.")
    assert f"Sample {order[2].code}: how much do you like it overall?" in said(await say(bot, "bartek", str(order[2].code)))
    third = await say(bot, "bartek", "5", "3", "0", "-")
    assert said(third).startswith(f"Sample 3 of 3: please take the cup marked {order[1].code}.")
    last = await say(bot, "bartek", "1", "9", "4", "1", "Too sweet")
    assert said(last).startswith("Last question: which sample did you like best?")
    assert said(await say(bot, "bartek", "123")).startswith("There is no sample 123 in this tasting.")
    done = await say(bot, "bartek", str(order[1].code))
    assert said(done) == "🙏 Thank you! That was the last question: your answers are saved."
    saved = store.answers(bot.core.db, bartek.id)
    assert {(a.product_id, a.position) for a in saved.values() if a.question == "liking"} == {(order[0].id, 1), (order[2].id, 2), (order[1].id, 3)}
    assert saved[(order[2].id, "comment")].value is None and saved[(order[1].id, "jar.sweetness")].value == "4"
    assert {pid: a.value for (pid, q), a in saved.items() if q == "preference"} == {order[0].id: "0", order[1].id: "1", order[2].id: "0"}
    assert store.get_participant(bot.core.db, bartek.id).completed_at is not None  # type: ignore[union-attr]
    assert said(await bot.send("/tasting", "bartek", chat=bot.private("bartek"))).endswith("You have answered everything. Thank you!")


async def test_a_check_in_undone_and_done_again_sends_the_questions_again(bot: Harness, tmp_path: Path) -> None:
    """An organiser taps a name by mistake, undoes it, and taps it again when the member is there:
    the member, checked in again, gets the questions again and can answer them."""
    tasting = await started(bot, tmp_path)
    first, _second = sessions(bot, tasting)
    (bartek,) = await book(bot, tasting, first, "bartek")
    order = store.serving_order(store.products(bot.core.db, tasting.id), bartek)
    bot.clock.set(first.starts_at)
    await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))
    [question] = [o.reply for o in await bot.outbox() if o.chat_ref == "console:bartek"]
    assert ack(await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))) == "Check-in of P1 undone."
    assert said(await say(bot, "bartek", "1")) == "Only people who are checked in at the session answer the questions."

    bot.clock.advance(timedelta(minutes=5))
    assert ack(await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))) == "P1 is checked in."
    [again] = [o.reply for o in await bot.outbox() if o.chat_ref == "console:bartek"]
    assert again == question
    assert f"Sample {order[0].code}: how much do you like it overall?" in said(await say(bot, "bartek", "1"))
    await say(bot, "bartek", "8")
    assert answers_of(bot, bartek) == {(order[0].id, "liking"): "8"}


async def test_a_home_use_check_in_undone_and_done_again_sends_the_kit_message_again(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path, mode="home_use")
    first, _second = sessions(bot, tasting)
    (bartek,) = await book(bot, tasting, first, "bartek")
    bot.clock.set(first.starts_at)
    await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))
    [kit] = [o.reply for o in await bot.outbox() if o.chat_ref == "console:bartek"]
    await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))
    bot.clock.advance(timedelta(minutes=5))
    await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))
    assert [o.reply for o in await bot.outbox() if o.chat_ref == "console:bartek"] == [kit]
    await bot.wait(timedelta(days=3))
    [question] = [o.reply for o in await bot.outbox() if o.chat_ref == "console:bartek"]
    assert question.text.startswith("🍽 It's tasting time!")


async def test_a_member_checks_in_with_a_location_near_the_point(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path)
    first, _second = sessions(bot, tasting)
    (dorota,) = await book(bot, tasting, first, "dorota")
    early = await bot.send("/checkin", "dorota")
    assert said(early) == "Check-in opens half an hour before your session: Wed, Jan 7, 9:30 AM."
    bot.clock.set(first.starts_at + timedelta(minutes=5))
    assert said(await bot.send("/checkin", "dorota")) == "Dorota, I've sent you a private message."
    [asked] = [o.reply for o in await bot.outbox() if o.chat_ref == "console:dorota"]
    assert asked.text == "To check in, share your location (📎 → Location) so I can see you're at Kiosk."
    assert said(await say(bot, "dorota", "I'm here")).startswith("Please share your location (📎 → Location), or reply 1 to cancel.")
    far = await bot.locate(KIOSK[0] + 0.01, KIOSK[1], "dorota", chat=bot.private("dorota"))
    assert said(far).startswith("You seem to be 1.1 km from Kiosk. Share your location again when you are there.")
    assert store.get_participant(bot.core.db, dorota.id).checked_in_at is None  # type: ignore[union-attr]
    near = await bot.locate(KIOSK[0] + 0.0005, KIOSK[1], "dorota", chat=bot.private("dorota"))
    assert said(near).startswith("✅ You're checked in. Welcome!") and "Sample 1 of 3" in said(near)
    assert store.get_participant(bot.core.db, dorota.id).checked_in_at == bot.clock.now()  # type: ignore[union-attr]
    assert said(await bot.send("/checkin", "edek")).startswith("You have no place in a tasting.")


async def test_with_buttons_terms_are_toggled_and_a_ranking_is_picked_one_by_one(bot: Harness, tmp_path: Path) -> None:
    telegram = RecordingAdapter("telegram", DEFAULT_CAPABILITIES["telegram"])
    bot.core.attach(telegram)
    tasting = await started(bot, tmp_path, final="ranking")
    first, _second = sessions(bot, tasting)
    ola = Sender("telegram:42", "Ola")
    group, private = bot.chat, Chat("telegram:42", ChatKind.PRIVATE)
    await bot.core.handle(Message(chat=group, sender=ola, text="hello"))
    await bot.core.handle(ChoicePicked(chat=private, sender=ola, payload=f"ts:up:{first.id}"))
    ola_member = community_store.member_by_ref(bot.core.db, "telegram:42")
    participant = store.participant_of(bot.core.db, tasting.id, ola_member.id)  # type: ignore[union-attr]
    assert participant is not None and participant.booked
    bot.clock.set(first.starts_at)
    await bot.pick(f"ts:ci:{participant.id}", "anna", chat=bot.private("anna"))
    await bot.outbox()
    [question] = [o.reply for o in telegram.take() if o.chat_ref == "telegram:42" and isinstance(o.reply, Choices)][-1:]
    assert "Check the code and tap it to start" in question.text  # buttons: the old wording

    async def tap(label_start: str, current: Reply) -> list[Reply]:
        assert isinstance(current, Choices)
        option = next(o for o in current.options if o.label.startswith(label_start))
        return await bot.core.handle(ChoicePicked(chat=private, sender=ola, payload=option.payload))

    liking = choices(await tap("✓", question))
    assert liking.options[8].label == "9 · Like extremely"
    jar = choices(await tap("8 ·", liking))
    cata = choices(await tap("3 ·", jar))
    assert [o.label for o in cata.options] == ["Creamy", "Watery", "None of these"]
    cata = choices(await tap("Creamy", cata))
    assert [o.label for o in cata.options] == ["✓ Creamy", "Watery", "✅ Done"]
    cata = choices(await tap("Watery", cata))
    cata = choices(await tap("✓ Creamy", cata))  # tapped again: unticked
    assert [o.label for o in cata.options] == ["Creamy", "✓ Watery", "✅ Done"]
    comment = choices(await tap("✅ Done", cata))
    stale = await bot.core.handle(ChoicePicked(chat=private, sender=ola, payload=jar.options[0].payload))
    assert texts(stale).startswith("That button belongs to an earlier question.")
    nxt = choices(await tap("Skip", comment))
    for _sample in range(2):
        nxt = choices(await tap("✓", nxt))
        nxt = choices(await tap("5 ·", nxt))
        nxt = choices(await tap("3 ·", nxt))
        nxt = choices(await tap("None of these", nxt))
        nxt = choices(await tap("Skip", nxt))
    assert nxt.text.startswith("Last question: put the samples in order. Which did you like most?")
    codes = [o.label for o in nxt.options]
    nxt = choices(await tap(codes[2], nxt))
    assert nxt.text.startswith(f"Your order so far: {codes[2]}. Which comes next?") and [o.label for o in nxt.options] == codes[:2]
    done = await tap(codes[0], nxt)
    assert texts(done).startswith("🙏 Thank you!")
    ranks = {a.product_id: a.value for (pid, q), a in store.answers(bot.core.db, participant.id).items() if q == "rank"}
    by_code = {str(p.code): p.id for p in store.products(bot.core.db, tasting.id)}
    assert ranks == {by_code[codes[2]]: "1", by_code[codes[0]]: "2", by_code[codes[1]]: "3"}
    cata_answers = {q: a.value for (pid, q), a in store.answers(bot.core.db, participant.id).items() if q.startswith("cata.") and a.position == 1}
    assert cata_answers == {"cata.creamy": "0", "cata.watery": "1"}


async def test_a_ranking_typed_at_once_and_a_home_use_kit(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path, mode="home_use", final="ranking")
    first, _second = sessions(bot, tasting)
    (bartek,) = await book(bot, tasting, first, "bartek")
    bot.clock.set(first.starts_at)
    await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))
    [kit] = [o.reply for o in await bot.outbox() if o.chat_ref == "console:bartek"]
    assert said([kit]) == "✅ You have your kit. I'll send you the questions on Fri, Jan 9, 6:00 PM. Please don't taste the samples before then."
    await bot.wait(timedelta(days=1))
    assert [o for o in await bot.outbox() if o.chat_ref == "console:bartek"] == []
    await bot.wait(timedelta(days=2))
    [question] = [o.reply for o in await bot.outbox() if o.chat_ref == "console:bartek"]
    order = store.serving_order(store.products(bot.core.db, tasting.id), bartek)
    assert question.text.startswith("🍽 It's tasting time!") and f"Sample 1 of 3: take the pack marked {order[0].code}." in question.text
    for product in order:
        await say(bot, "bartek", str(product.code), "6", "3", "0", "-")
    codes = " ".join(str(p.code) for p in reversed(order))
    assert said(await say(bot, "bartek", f"{order[0].code} {order[0].code} {order[1].code}")).startswith("Please list every sample once, best first")
    assert said(await say(bot, "bartek", codes)).startswith("🙏 Thank you!")
    ranks = sorted((a.value, pid) for (pid, q), a in store.answers(bot.core.db, bartek.id).items() if q == "rank")
    assert ranks == [("1", order[2].id), ("2", order[1].id), ("3", order[0].id)]


async def test_a_closed_tasting_takes_no_more_answers_and_keeps_what_came(bot: Harness, tmp_path: Path) -> None:
    tasting = await started(bot, tmp_path)
    first, _second = sessions(bot, tasting)
    (bartek,) = await book(bot, tasting, first, "bartek")
    bot.clock.set(first.starts_at)
    await bot.pick(f"ts:ci:{bartek.id}", "anna", chat=bot.private("anna"))
    await bot.outbox()
    await say(bot, "bartek", "1", "8")
    assert said(await bot.send("/tasting close", "bartek")) == "Only organisers can close tastings."
    assert said(await bot.send("/tasting close")) == "Tasting #1 is closed: no more sign-ups or answers. See the results with /report 1."
    assert said(await say(bot, "bartek", "3")) == "This tasting has closed. Thank you: what you answered before is kept."
    assert len(store.answers(bot.core.db, bartek.id)) == 1
    assert said(await bot.send("/tasting close 1")) == "Tasting #1 is closed already."
    assert said(await bot.send("/tasting", "celina")) == "There is no open tasting right now."
