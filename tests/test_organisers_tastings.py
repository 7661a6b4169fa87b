"""Organiser tools meet tastings: a member's places in /mydata, /forgetme that gives up a booked
place so the waiting list moves up and keeps a checked-in taster's scores without their comment,
the digest's tasting line and the tastings export in the chat."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from localbot.replies import Document
from localbot.tastings import store
from tests.helpers import Harness, texts
from tests.tasting_helpers import sessions, started


async def booked_waiting_and_answered(bot: Harness, tmp_path: Path) -> tuple[store.Tasting, store.Participant]:
    """Bartek holds the only place of session 1 with Celina waiting for it; Dorota tasted at
    session 2 and left a comment. Returns the tasting and Dorota's place."""
    tasting = await started(bot, tmp_path, places=1)
    first, second = sessions(bot, tasting)
    await bot.pick(f"ts:up:{first.id}", "bartek", chat=bot.private("bartek"))
    await bot.pick(f"ts:wl:{first.id}", "celina", chat=bot.private("celina"))
    db, now = bot.core.db, bot.clock.now()
    with db.atomic():
        dorota = store.sign_up(db, tasting, second, bot.member("dorota").id, now=now, waiting=False)
        store.check_in(db, dorota, by=bot.member("anna").id, method="organiser", now=now)
        product = store.products(db, tasting.id)[0]
        store.save_answer(db, dorota.id, product.id, "liking", "8", position=1, source="chat", now=now)
        store.save_answer(db, dorota.id, product.id, "comment", "Dorota from flat 12 loved it", position=1, source="chat", now=now)
    await bot.outbox()
    return tasting, dorota


async def test_forgetme_gives_up_places_and_keeps_scores(bot: Harness, tmp_path: Path) -> None:
    tasting, dorota = await booked_waiting_and_answered(bot, tmp_path)
    mine = (await bot.send("/mydata", "bartek", chat=bot.private("bartek")))[0]
    assert isinstance(mine, Document)
    [place] = json.loads(mine.data)["tastings"]["places"]
    assert place["participant"] == "P1" and place["status"] == "booked" and place["title"] == "Oat drinks"

    await bot.send("/forgetme", "bartek", chat=bot.private("bartek"))
    await bot.send("1", "bartek", chat=bot.private("bartek"))
    celina = store.participant_of(bot.core.db, tasting.id, bot.member("celina").id)
    assert celina is not None and celina.booked  # the waiting list moved up
    told = [o for o in await bot.outbox() if o.chat_ref == "console:celina"]
    assert any("a place opened up, and it's yours!" in texts([o.reply]) for o in told)
    gone = store.participant_by_label(bot.core.db, tasting.id, "P1")
    assert gone is not None and gone.member_id is None and gone.status == "cancelled"

    await bot.send("/forgetme", "dorota", chat=bot.private("dorota"))
    await bot.send("1", "dorota", chat=bot.private("dorota"))
    kept = store.participant_by_label(bot.core.db, tasting.id, dorota.label)
    assert kept is not None and kept.member_id is None and kept.checked_in  # still counts, as nobody
    answers = {q: a.value for (_pid, q), a in store.answers(bot.core.db, dorota.id).items()}
    assert answers == {"liking": "8"}  # the score stays, the comment that could name her went


async def test_the_digest_and_the_export_know_tastings(bot: Harness, tmp_path: Path) -> None:
    await bot.wait(timedelta())
    await booked_waiting_and_answered(bot, tmp_path)
    bot.clock.set(datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    await bot.wait(timedelta())
    [digest] = [o for o in await bot.outbox() if o.purpose == "digest"]
    assert "🍽 Tastings this week:\n  #1 Oat drinks — 2 of 11 places booked, 1 waiting, 1 checked in, 0 answered · open" in digest.reply.text

    [sheet] = await bot.send("/export tastings", chat=bot.private("anna"))
    assert isinstance(sheet, Document) and sheet.filename.startswith("sunny-estate-tastings-")
    rows = list(csv.DictReader(io.StringIO(sheet.data.decode())))
    assert {r["participant"] for r in rows} == {"P3"} and {r["question"] for r in rows} == {"liking", "comment"}
