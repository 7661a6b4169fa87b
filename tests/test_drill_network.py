"""Network drills: the messenger APIs answer 429 and 500, time out and drop connections; every
message still arrives once they recover, and none twice.

The real adapters talk to the fake APIs through :class:`~tests.fakes.proxy.FaultyProxy`, which
breaks chosen requests at the TCP level: closed before the request reaches the API, closed after
the API acted but before its answer comes back, or held until the adapter's time limit runs out.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

from localbot import outbox
from localbot.adapters.telegram import ChatPacer
from localbot.community import store as community_store
from localbot.events import Sender
from localbot.replies import Text
from localbot.storage.db import one
from tests.fakes.proxy import FaultyProxy
from tests.fakes.twilio_api import Fail, Garble
from tests.fakes.whatsapp_rig import whatsapp_rig
from tests.telegram_env import running


def queue_reminders(core, chats: list[str]) -> None:  # type: ignore[no-untyped-def]
    now = core.clock.now()
    with core.db.atomic():
        for chat in chats:
            outbox.enqueue(core.db, chat_ref=chat, reply=Text(text=f"Reminder for {chat}"), now=now, purpose="reminder")


async def test_telegram_messages_arrive_once_through_429_500_time_outs_and_dropped_connections(tmp_path: Path) -> None:
    proxy = FaultyProxy()
    async with running(tmp_path, "webhook", pacer=ChatPacer(), proxy=proxy, read_timeout=0.5) as env:
        env.api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        env.api.fail("sendMessage", 500, "Internal Server Error")
        env.api.fail("sendMessage", 502, "Bad Gateway")
        proxy.drop(times=2)  # these never reach Telegram
        proxy.stall(3.0)  # the adapter gives up after half a second; Telegram never saw it
        chats = [f"telegram:{8000 + n}" for n in range(8)]
        queue_reminders(env.core, chats)
        env.core.wake()
        sent = await env.api.wait_for("sendMessage", count=8, timeout=20)
        await env.outbox_idle(timeout=10)
        await asyncio.sleep(0.3)  # nothing more is on its way
        assert proxy.pending_faults == 0 and Counter(proxy.log)["stall"] == 1
        received = Counter(call["chat_id"] for call in env.api.sent("sendMessage"))
        assert received == Counter(int(chat.partition(":")[2]) for chat in chats)  # each once
        assert [c.error_code for c in env.api.calls if not c.ok] == [429, 500, 502]
        states = {row["state"] for row in env.core.db.query("SELECT state FROM outbox")}
        assert states == {"sent"} and len(sent) == 8


async def test_whatsapp_messages_arrive_once_through_500_429_garbled_answers_time_outs_and_drops(tmp_path: Path) -> None:
    proxy = FaultyProxy()
    async with whatsapp_rig(tmp_path, proxy=proxy, api_timeout=0.5) as rig:
        members = [f"whatsapp:+4860070{n:04d}" for n in range(8)]
        now = rig.clock.now()
        with rig.core.db.atomic():
            for address in members:  # each wrote to the bot a moment ago: the 24-hour window is open
                community_store.touch_member(rig.core.db, Sender(address, "Member"), now=now, private_chat_ref=address)
        rig.api.script.extend([Fail(500, 20500, "Internal Server Error"), Fail(429, 20429, "Too Many Requests"), Garble()])
        proxy.drop()  # before Twilio sees it
        proxy.drop_answer()  # Twilio sent it; the answer is lost
        proxy.stall(3.0)  # the adapter times out; Twilio never saw it
        queue_reminders(rig.core, members)
        for _ in range(12):  # the outbox's retries, with the clock moved past each back-off
            await rig.flush()
            if not one(rig.core.db, "SELECT 1 AS open FROM outbox WHERE state IN ('pending', 'sending') LIMIT 1"):
                break
            rig.clock.advance(timedelta(seconds=70))
            await asyncio.sleep(0)
        assert proxy.pending_faults == 0 and not rig.api.script
        received = Counter(m.to for m in rig.api.messages)
        assert received == Counter(members)  # each member once, whatever happened on the way
        assert {row["state"] for row in rig.core.db.query("SELECT state FROM outbox")} == {"sent"}
