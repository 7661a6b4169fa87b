"""What the outbox keeps after sending must not give members away (localbot/delivered.py).

Through the real adapters: an anonymous vote and a /near leave no trace of the vote or the place in
any table or in the media folder once delivered, while delivery bookkeeping (status callbacks, the
re-send as a template after 63016) still works; /forgetme and retention remove a member's files.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from localbot import delivered
from localbot.handlers.privacy import TIDY_JOB
from localbot.privacy import registry
from localbot.privacy.model import Expiry
from localbot.scheduler import pending_jobs
from tests.fakes.whatsapp_rig import ENGLISH, POLL_TEMPLATE, WhatsAppRig, whatsapp_rig
from tests.maps_support import tile_server  # noqa: F401 - fixture
from tests.telegram_env import ANNA, BARTEK, GROUP_ID, running
from tests.test_maps_messengers import HOME, add_points

LABEL = "Pineapple"


def traces(db: sqlite_utils.Database, needle: str, *, member_id: int | None = None, ref: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Rows of every table whose text holds ``needle``; with ``member_id``/``ref``, only rows that
    also point at that member (a ``member_id`` column, or the member's reference in the text)."""
    found = []
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'")]
    for table in tables:
        for row in db.query(f"SELECT * FROM [{table}]"):
            text = " ".join(str(v) for v in row.values() if v is not None)
            if needle not in text:
                continue
            if member_id is None and ref is None:
                found.append((table, row))
            elif (member_id is not None and row.get("member_id") == member_id) or (ref is not None and ref in text):
                found.append((table, row))
    return found


def outbound_files(rig_or_db_path: Path) -> list[Path]:
    folder = delivered.outbound_folder(rig_or_db_path)
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


async def report_all(rig: WhatsAppRig, address: str, state: str = "delivered") -> None:
    """Twilio reporting every message sent to ``address`` as ``state``."""
    for message in rig.api.to(address):
        if message.status_callback:
            assert (await rig.status(message.status_callback, message.sid, state)).status_code == 204


async def anonymous_vote_on_whatsapp(rig: WhatsAppRig) -> None:
    await rig.core.run_due_jobs()  # what the job loop does first: recurring jobs armed
    await rig.join(ENGLISH, name="Emma")
    await rig.console.send(f"/poll --anon Secret? | Yes | {LABEL}")
    await rig.replies(ENGLISH)
    await rig.say(ENGLISH, "2")
    assert await rig.replies(ENGLISH) == [f"✓ Your vote: {LABEL}"]


async def test_an_anonymous_vote_on_whatsapp_leaves_no_trace_once_delivered(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        await anonymous_vote_on_whatsapp(rig)
        emma = rig.member(ENGLISH)
        # Until Twilio reports it, the confirmation is kept: a 63016 would send it again.
        assert traces(rig.core.db, f"Your vote: {LABEL}")
        await report_all(rig, ENGLISH, "delivered")
        assert traces(rig.core.db, "Your vote") == []
        assert traces(rig.core.db, LABEL, member_id=emma.id, ref=ENGLISH) == []
        assert [(r["state"], r["delivery_status"], r["payload"]) for r in rig.outbox(ENGLISH)][-1] == ("sent", "delivered", "")
        assert all(r["platform_id"] and r["dedupe_key"] for r in rig.outbox(ENGLISH)[-1:])
        # A late or repeated report about a cleared message changes nothing and breaks nothing.
        last = rig.api.to(ENGLISH)[-1]
        assert last.status_callback
        assert (await rig.status(last.status_callback, last.sid, "read")).status_code == 204
        assert rig.outbox(ENGLISH)[-1]["delivery_status"] == "read"


async def test_without_a_report_the_text_goes_after_twilio_s_longest_queueing(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        await anonymous_vote_on_whatsapp(rig)
        await rig.console.wait(timedelta(hours=9))
        assert traces(rig.core.db, f"Your vote: {LABEL}")
        await rig.console.wait(timedelta(hours=1, minutes=10))
        assert traces(rig.core.db, "Your vote") == []
        assert [job.kind for job in pending_jobs(rig.core.db, TIDY_JOB)] == [TIDY_JOB]  # it keeps coming back


async def test_a_63016_after_the_text_is_gone_is_recorded_and_not_sent_again(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, templates={"poll": POLL_TEMPLATE}) as rig:
        await rig.core.run_due_jobs()
        await rig.join(ENGLISH)
        await rig.console.send("/poll Lunch? | Pizza | Soup")
        await rig.flush()
        announced = rig.api.to(ENGLISH)[-1]
        assert announced.status_callback
        await rig.console.wait(timedelta(hours=11))
        await rig.flush()
        before = len(rig.api.to(ENGLISH))
        await rig.status(announced.status_callback, announced.sid, "failed", ErrorCode="63016")
        await rig.flush()
        assert len(rig.api.to(ENGLISH)) == before
        row = [r for r in rig.outbox(ENGLISH) if r["purpose"] == "poll"][0]
        assert (row["state"], row["delivery_status"], row["payload"]) == ("sent", "failed", "")


async def test_the_template_re_send_after_63016_still_works_and_then_forgets_the_text(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, templates={"poll": POLL_TEMPLATE}) as rig:
        await rig.join(ENGLISH)
        await rig.console.send("/poll Lunch? | Pizza | Soup")
        await rig.flush()
        free_form = rig.api.to(ENGLISH)[-1]
        assert free_form.status_callback
        await rig.status(free_form.status_callback, free_form.sid, "sent")  # progress: the text stays
        await rig.status(free_form.status_callback, free_form.sid, "failed", ErrorCode="63016")
        await rig.flush()
        template = rig.api.to(ENGLISH)[-1]
        assert template.content_sid == POLL_TEMPLATE and "Lunch?" in template.content_variables["2"]
        assert template.status_callback
        await rig.status(template.status_callback, template.sid, "delivered")
        row = [r for r in rig.outbox(ENGLISH) if r["purpose"] == "poll"][0]
        assert (row["state"], row["platform_id"], row["delivery_status"], row["payload"]) == ("sent", template.sid, "delivered", "")


async def test_near_on_whatsapp_leaves_no_trace_of_the_place(tmp_path: Path, tile_server, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _tiles, template = tile_server
    monkeypatch.setenv("LOCALBOT_MAP__TILE_URL", template)
    async with whatsapp_rig(tmp_path) as rig:
        add_points(rig.core.db, rig.console.community().id)
        await rig.join(ENGLISH)
        await rig.say(ENGLISH, "/near")
        await rig.replies(ENGLISH)
        await rig.say(ENGLISH, "", Latitude=str(HOME[0]), Longitude=str(HOME[1]))
        answer = await rig.replies(ENGLISH)
        assert "1. Kiosk — 240 m" in answer[-1]
        media = rig.core.settings.media_path
        assert len(outbound_files(media)) == 1  # the map with the "You are here" dot, for Twilio to fetch
        await report_all(rig, ENGLISH, "delivered")
        assert outbound_files(media) == []
        for distance in ("240 m", "You are here", "nearest to you", f"{HOME[0]}"):
            assert traces(rig.core.db, distance) == [], distance
        assert (await rig.http.get(rig.api.to(ENGLISH)[-5].media_urls[0])).status_code == 404


async def test_mydata_files_go_with_forgetme_even_before_delivery(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        await rig.join(ENGLISH, name="Emma")
        await rig.say(ENGLISH, "/mydata")
        await rig.replies(ENGLISH)
        media = rig.core.settings.media_path
        assert len(outbound_files(media)) == 1  # the JSON file, at a signed link
        await rig.say(ENGLISH, "/forgetme")
        await rig.replies(ENGLISH)
        await rig.say(ENGLISH, "1")
        assert (await rig.replies(ENGLISH))[-1].startswith("Done: I have forgotten you.")
        assert outbound_files(media) == []
        assert traces(rig.core.db, "Emma") == []


async def test_retention_deletes_the_files_of_members_it_forgets_and_expired_ones(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        await rig.join(ENGLISH, name="Emma")
        await rig.say(ENGLISH, "/mydata")
        await rig.say(ENGLISH, "LEAVE")
        await rig.replies(ENGLISH)
        media = rig.core.settings.media_path
        [mine] = outbound_files(media)
        stray = delivered.outbound_folder(media) / ("0" * 32)  # published long ago, its links dead
        stray.write_bytes(b"old chart")
        os.utime(stray, (time.time() - 7200, time.time() - 7200))
        rig.clock.advance(timedelta(days=400))
        now = rig.clock.now()
        expiry = Expiry(before=now - timedelta(days=365), secret=rig.core.secret, now=now, outbound=delivered.outbound_folder(media))
        done = registry.purge(rig.core.db, expiry)
        assert done["members forgotten"] == 1 and done["core: expired media files deleted"] == 1
        assert outbound_files(media) == [] and rig.member(ENGLISH) is None


async def test_expired_media_is_deleted_by_the_recurring_job(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        folder = delivered.outbound_folder(rig.core.settings.media_path)
        folder.mkdir(parents=True)
        old, fresh = folder / ("1" * 32), folder / ("2" * 32)
        old.write_bytes(b"an hour and a bit")
        fresh.write_bytes(b"just now")
        os.utime(old, (time.time() - 3700, time.time() - 3700))
        await rig.core.run_due_jobs()
        assert old.exists()
        await rig.console.wait(timedelta(minutes=11))
        assert not old.exists() and fresh.exists()


async def test_on_telegram_a_vote_and_near_from_the_group_leave_no_trace(tmp_path: Path, tile_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _tiles, template = tile_server
    async with running(tmp_path, "polling", map={"tile_url": template, "timeout": 2}) as tg:
        tg.api.set_status(GROUP_ID, ANNA.id, "administrator")
        await tg.say(ANNA, "/help")
        await tg.say(BARTEK, "Cześć!")
        await tg.next_messages(GROUP_ID)
        add_points(tg.core.db, tg.community().id)
        chat = tg.private(BARTEK)
        await tg.say(BARTEK, "/start", chat)
        await tg.next_messages(BARTEK.id)
        await tg.say(ANNA, f"/poll --anon Secret? | Yes | {LABEL}")
        [poll] = await tg.next_messages(GROUP_ID)
        [pick] = [b["callback_data"] for row in poll["reply_markup"]["inline_keyboard"] for b in row if b["text"] == LABEL]
        query = await tg.press(BARTEK, tg.api.message(GROUP_ID, poll.result["message_id"]), pick)
        assert LABEL in (await tg.answered(query) or "")
        await tg.say(BARTEK, "/near")  # in the group: the question moves to his private chat
        await tg.next_messages(GROUP_ID)
        [question] = await tg.next_messages(BARTEK.id)
        assert "Share your location" in question["text"] or "lokalizacj" in question["text"]
        tg.api.push(tg.updates.location(chat, BARTEK, *HOME))
        await tg.api.wait_for("sendVenue", chat_id=BARTEK.id, count=3)
        [listing] = await tg.next_messages(BARTEK.id)
        assert "1. Kiosk — 240 m" in listing["text"]
        await tg.skip(10)
        await tg.outbox_idle()
        db = tg.core.db
        bartek = db.execute("SELECT id FROM members WHERE ref = ?", [BARTEK.ref]).fetchone()[0]
        assert traces(db, LABEL, member_id=bartek, ref=BARTEK.ref) == []
        assert traces(db, "240 m") == [] and traces(db, f"{HOME[0]}") == []
        assert db.execute("SELECT COUNT(*) FROM outbox WHERE payload != ''").fetchone()[0] == 0
        assert outbound_files(tg.core.settings.media_path) == []


def test_what_still_keeps_a_payload_is_found_without_reading_every_message_ever_sent(tmp_path: Path) -> None:
    """Clearing runs on every delivery and in the recurring tidying: with a long history of sent
    messages, its queries must go through the index of rows that still keep a payload."""
    from localbot.storage import open_database

    db = open_database(tmp_path / "bot.db")
    folder = tmp_path / "outbound"
    folder.mkdir()
    plans: list[str] = []

    def explain(statement: str) -> None:
        if "payload != ''" in statement and statement.lstrip().upper().startswith("SELECT"):
            plans.extend(row[3] for row in db.conn.execute("EXPLAIN QUERY PLAN " + statement))

    db.conn.set_trace_callback(explain)
    try:
        picture = '{"type": "picture", "data": {"b64": "aGVsbG8="}}'
        delivered.clear(db, folder, "id = ?", [1])
        db.execute(
            "INSERT INTO outbox (id, messenger, chat_ref, purpose, payload, state, next_attempt_at, created_at) VALUES (1, 'telegram', 'telegram:1', 'results', ?, 'sent', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [picture],
        )
        (folder / delivered.media_key(b"hello")).write_bytes(b"hello")
        assert delivered.clear(db, folder, "id = ?", [1]) == 1
        delivered.clear_finished(db, folder, datetime(2026, 11, 21, tzinfo=UTC))
    finally:
        db.conn.set_trace_callback(None)
    scans = [plan for plan in plans if plan.startswith("SCAN outbox") and "outbox_kept" not in plan]
    assert plans and scans == [] and not any("outbox_due" in plan for plan in plans), plans
    assert not (folder / delivered.media_key(b"hello")).exists()
