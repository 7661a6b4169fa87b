"""Crash drills with real processes: ``localbot run`` killed with SIGKILL and started again.

No clean-up runs on SIGKILL: whatever SQLite had not committed is gone, whatever it had is kept
(WAL with ``synchronous=NORMAL`` survives a killed process). A webhook update is answered 200
only once it is committed, so Telegram delivers every update that was not answered again; the
core's event-id check makes that harmless.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

import httpx

from bench.harness import ApiUrls, Bot, blast, read_only
from bench.webhooks import telegram_post
from localbot.adapters.telegram import SECRET_HEADER
from localbot.i18n import translator
from tests.fakes.telegram_api import FakeBotAPI, Person, Updates
from tests.telegram_env import ANNA, GROUP, GROUP_ID, SECRET

PRESSES = 300
KILL_AFTER = 100


def consistent(conn: sqlite3.Connection) -> None:
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


async def test_kill_9_in_the_middle_of_a_vote_burst_loses_no_acknowledged_vote_and_counts_none_twice(tmp_path: Path) -> None:
    api = FakeBotAPI()
    await api.start()
    api.chats[GROUP_ID] = GROUP
    api.set_status(GROUP_ID, ANNA.id, "administrator")
    bot = Bot(tmp_path / "bot", ApiUrls(api.url, "http://127.0.0.1:9"))
    try:
        await asyncio.to_thread(bot.start)
        updates = Updates()
        async with httpx.AsyncClient(timeout=10) as http:
            poll = updates.message(GROUP, ANNA, "/poll Which flavour? | Mango | Lime | Ginger")
            assert (await http.post(f"{bot.url}/telegram", json=poll, headers={SECRET_HEADER: SECRET})).status_code == 200
        [announced] = api.sent("sendMessage", GROUP_ID)
        message = api.message(GROUP_ID, announced.result["message_id"])
        voters = [Person(300_000 + i, f"Voter {i}", language_code="pl") for i in range(PRESSES)]
        presses = [updates.callback(p, message, f"v:1:{1 + i % 3}") for i, p in enumerate(voters)]
        for press in presses:
            api.expect_query(press)
        requests = [telegram_post(p) for p in presses]

        burst = asyncio.create_task(blast(bot.url, requests))
        async with asyncio.timeout(30):
            while len(api.sent("answerCallbackQuery")) < KILL_AFTER:
                await asyncio.sleep(0.002)
        bot.kill()  # SIGKILL, in the middle of the burst
        first = await burst
        acknowledged = {c["callback_query_id"] for c in api.sent("answerCallbackQuery")}
        answered_200 = sum(1 for s in first if s.status == 200)
        assert KILL_AFTER <= len(acknowledged) < PRESSES and answered_200 < PRESSES

        # Telegram delivers again what was not answered with 200; here, for good measure, everything.
        await asyncio.to_thread(bot.start)
        again = await blast(bot.url, requests)
        assert all(s.status == 200 for s in again)
        with read_only(bot.database) as conn:
            consistent(conn)
            votes = Counter(ref for (ref,) in conn.execute("SELECT m.ref FROM poll_votes v JOIN members m ON m.id = v.member_id"))
            events = conn.execute("SELECT COUNT(*) FROM inbound_events").fetchone()[0]
    finally:
        await asyncio.to_thread(bot.stop)
        await api.stop()
    voter_of = {p["callback_query"]["id"]: p["callback_query"]["from"]["id"] for p in presses}
    # every vote the fake saw acknowledged is stored …
    assert all(votes[f"telegram:{voter_of[query]}"] == 1 for query in acknowledged)
    # … every press is stored once in the end, and none twice …
    assert sorted(votes) == sorted(f"telegram:{p.id}" for p in voters) and set(votes.values()) == {1}
    assert events == PRESSES + 1  # each update once (and the /poll)
    # … and no press was processed twice: a second run of the vote would have answered "You
    # already voted"; a delivery seen before gets only the button's label (which Telegram refuses
    # for a press answered already, and shows for one whose answer the crash cut off)
    first_vote = translator("pl")._("Your vote: {option}", option="")
    answers = [c for c in api.calls if c.method == "answerCallbackQuery"]
    assert all(c["text"].startswith((first_vote, "✓ ")) for c in answers), {c["text"] for c in answers}
