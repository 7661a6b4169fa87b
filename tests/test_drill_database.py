"""Database drills through the real adapters: locked by another writer, or the disk full.

Whatever a member did is either saved whole or not at all, and they are told so in their
language: on Telegram a press is answered in place (only they see it), on WhatsApp the answer
comes back even when the outbox itself cannot take it. A full disk is simulated with SQLite's
``max_page_count`` (the database may not grow), which fails writes with SQLITE_FULL exactly as a
full disk does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from localbot import outbox
from localbot.adapters.base import DeliveryResult
from localbot.core import Core
from localbot.i18n import translator
from localbot.outbox import Outgoing
from localbot.replies import Text
from localbot.settings import Settings
from localbot.storage.db import one
from tests.fakes.telegram_api import Person
from tests.fakes.whatsapp_rig import POLISH, WhatsAppRig, whatsapp_rig
from tests.helpers import RecordingAdapter
from tests.telegram_env import ANNA, GROUP_ID, TelegramEnv, running

pl = translator("pl")
COULD_NOT_SAVE = "I could not save that just now. Please try again in a moment."


def count(db: Any, sql: str, params: list[Any] | None = None) -> int:
    row = one(db, sql, params or [])
    assert row is not None
    return int(next(iter(row.values())))


def consistent(db: Any) -> None:
    assert [tuple(r.values()) for r in db.query("PRAGMA integrity_check")] == [("ok",)]
    assert list(db.query("PRAGMA foreign_key_check")) == []


@contextmanager
def locked(database: Path, db: Any) -> Iterator[None]:
    """Another writer holds the database (a backup, a maintenance script); the bot gives up fast."""
    db.execute("PRAGMA busy_timeout=50")
    blocker = sqlite3.connect(database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        db.execute("PRAGMA busy_timeout=5000")


@contextmanager
def disk_full(db: Any) -> Iterator[None]:
    """The database may not grow by a single page, as on a full disk."""
    pages = count(db, "PRAGMA page_count")
    db.execute(f"PRAGMA max_page_count={pages}")
    try:
        yield
    finally:
        db.execute("PRAGMA max_page_count=1073741823")


async def group_poll(env: TelegramEnv) -> dict[str, Any]:
    env.api.set_status(GROUP_ID, ANNA.id, "administrator")
    await env.say(ANNA, "/poll Where do we meet? | Kiosk | Library")
    [poll] = await env.next_messages(GROUP_ID)
    return env.api.message(GROUP_ID, poll.result["message_id"])


async def test_a_press_while_the_database_is_locked_is_answered_in_place_and_saves_nothing(tmp_path: Path) -> None:
    async with running(tmp_path, "webhook") as env:
        message = await group_poll(env)
        bartek = Person(4242, "Bartek", language_code="en")
        await env.say(bartek, "/lang pl")  # he chose Polish; his Telegram still says English
        group_messages = len(env.api.sent("sendMessage", GROUP_ID))
        with locked(env.core.settings.database, env.core.db):
            answer = await env.answered(await env.press(bartek, message, "v:1:1"))
        assert answer == pl._(COULD_NOT_SAVE)
        assert len(env.api.sent("sendMessage", GROUP_ID)) == group_messages  # nothing told to the whole group
        assert count(env.core.db, "SELECT COUNT(*) FROM poll_votes") == 0
        consistent(env.core.db)
        assert await env.answered(await env.press(bartek, message, "v:1:1")) == pl._("Your vote: {option}", option="Kiosk")


async def test_when_the_disk_fills_during_a_burst_each_vote_is_saved_whole_or_the_member_is_told(tmp_path: Path) -> None:
    async with running(tmp_path, "webhook") as env:
        message = await group_poll(env)
        acknowledged: list[int] = []
        with disk_full(env.core.db):
            for n in range(400):
                voter = Person(60_000 + n, f"Voter {n}", language_code="pl")
                answer = await env.answered(await env.press(voter, message, f"v:1:{1 + n % 2}"))
                if answer == pl._(COULD_NOT_SAVE):
                    refused = voter
                    break
                assert answer.startswith(pl._("Your vote: {option}", option=""))
                acknowledged.append(voter.id)
            else:
                raise AssertionError("the database never filled up")
            stored = {r["ref"] for r in env.core.db.query("SELECT m.ref FROM poll_votes v JOIN members m ON m.id = v.member_id")}
            assert stored == {f"telegram:{v}" for v in acknowledged}  # every acknowledged vote, and only those
            # a poll (its options, its announcement, its deadline job) is all or nothing too
            polls, options = count(env.core.db, "SELECT COUNT(*) FROM polls"), count(env.core.db, "SELECT COUNT(*) FROM poll_options")
            long_options = " | ".join(f"Option number {i} with a long, long name" for i in range(12))
            await env.say(ANNA, f"/poll --until 3d Which day suits everybody best this month? | {long_options}")
            [reply] = await env.next_messages(GROUP_ID)
            assert reply["text"] == pl._(COULD_NOT_SAVE) or reply["text"].startswith("📊")
            if reply["text"] == pl._(COULD_NOT_SAVE):
                assert (count(env.core.db, "SELECT COUNT(*) FROM polls"), count(env.core.db, "SELECT COUNT(*) FROM poll_options")) == (polls, options)
            consistent(env.core.db)
        # space again: the member's next press counts
        assert await env.answered(await env.press(refused, message, "v:1:1")) == pl._("Your vote: {option}", option="Kiosk")


async def whatsapp_poll(rig: WhatsAppRig, members: list[str]) -> None:
    for address in members:
        await rig.join(address)
    await rig.console.send("/poll Where do we meet? | Kiosk | Library")
    for address in members:
        await rig.replies(address)


def twiml_messages(response: Any) -> list[str]:
    import xml.etree.ElementTree as ET

    return [m.text or "" for m in ET.fromstring(response.text).iter("Message")]


async def test_a_whatsapp_vote_while_the_database_is_locked_is_answered_in_the_webhook_response(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        await whatsapp_poll(rig, [POLISH])
        with locked(rig.core.settings.database, rig.core.db):
            response = await rig.say(POLISH, "1")
        assert twiml_messages(response) == [pl._(COULD_NOT_SAVE)]
        assert count(rig.core.db, "SELECT COUNT(*) FROM poll_votes") == 0
        consistent(rig.core.db)
        assert twiml_messages(await rig.say(POLISH, "1")) == []  # with the database back, through the outbox
        assert await rig.reply(POLISH) == "✓ " + pl._("Your vote: {option}", option="Kiosk")


async def test_when_the_disk_fills_whatsapp_members_are_told_and_nothing_is_half_written(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        members = [f"whatsapp:+4860080{n:04d}" for n in range(3)]
        await whatsapp_poll(rig, members)
        told: list[str] = []
        with disk_full(rig.core.db):
            for n in range(400):
                address = f"whatsapp:+4860090{n:04d}"
                response = await rig.say(address, f"JOIN {rig.code()}")  # newcomers keep arriving
                told = twiml_messages(response) or await rig.replies(address)
                if told == [pl._(COULD_NOT_SAVE)]:
                    break
            else:
                raise AssertionError("the database never filled up")
            assert rig.member(address) is None  # not half a member
            consistent(rig.core.db)
        told = twiml_messages(await rig.say(address, f"JOIN {rig.code()}")) or await rig.replies(address)
        assert told and told != [pl._(COULD_NOT_SAVE)] and rig.member(address) is not None


class LockingAdapter(RecordingAdapter):
    """Delivers, and while the message is on its way another writer takes the database."""

    def __init__(self, database: Path) -> None:
        super().__init__("console")
        self.blocker = sqlite3.connect(database, isolation_level=None)

    async def deliver(self, item: Outgoing) -> DeliveryResult:
        self.blocker.execute("BEGIN IMMEDIATE")
        return await super().deliver(item)


async def test_a_delivery_the_database_cannot_record_is_held_not_sent_again(core: Core, settings: Settings) -> None:
    adapter = LockingAdapter(settings.database)
    core.attach(adapter)
    core.db.execute("PRAGMA busy_timeout=50")
    outbox.enqueue(core.db, chat_ref="console:bartek", reply=Text(text="Reminder"), now=core.clock.now())
    await core.deliver_pending()  # sent, but 'sent' cannot be written: held, nothing raised
    assert [i.reply for i in adapter.delivered] == [Text(text="Reminder")]
    assert count(core.db, "SELECT COUNT(*) FROM outbox WHERE state = 'sending'") == 1
    assert await core.deliver_pending() == 0  # still locked: nothing more is claimed
    adapter.blocker.execute("ROLLBACK")
    await core.deliver_pending()
    assert count(core.db, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == 1
    assert len(adapter.delivered) == 1
    adapter.blocker.close()
