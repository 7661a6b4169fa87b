"""Fan-out drills: the messengers' limits hold, and one messenger's pace never slows another.

The fake Bot API here enforces Telegram's flood limits at their word (30 messages in any second
overall, 20 in any minute to a group, about one a second to a chat) and answers 429 over them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from localbot import outbox, scheduler
from localbot.adapters.base import DEFAULT_CAPABILITIES, DeliveryResult
from localbot.adapters.telegram import ChatPacer
from localbot.clock import ManualClock, from_iso
from localbot.core import Core
from localbot.events import Message, Sender
from localbot.handlers import build_router
from localbot.handlers.context import JobContext
from localbot.outbox import Outgoing
from localbot.replies import Text
from localbot.scheduler import Job
from localbot.settings import Settings
from localbot.storage import open_database
from localbot.storage.db import one
from tests.fakes.telegram_api import FloodLimits, Person
from tests.helpers import GROUP, RecordingAdapter
from tests.telegram_env import running


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max((sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times)), default=0)


async def test_a_fan_out_to_many_private_chats_keeps_to_telegrams_limit_in_every_second(tmp_path: Path) -> None:
    async with running(tmp_path, "webhook", pacer=ChatPacer(), flood=FloodLimits()) as env:
        now = env.core.clock.now()
        with env.core.db.atomic():
            for chat in range(70):
                outbox.enqueue(env.core.db, chat_ref=f"telegram:{5000 + chat}", reply=Text(text=f"Reminder {chat}"), now=now, purpose="reminder")
        env.core.wake()
        sent = await env.api.wait_for("sendMessage", count=70, timeout=20)
    times = [call.at for call in sent]
    assert env.api.refused(429) == []
    assert most_in_one_second(times) <= 30
    assert len({call["chat_id"] for call in sent}) == 70  # each chat once
    # and not much slower than the limit allows: 70 messages need a little over two seconds
    assert max(times) - min(times) < 4.0


class PacedAdapter(RecordingAdapter):
    """A messenger that takes its messages one at a time, ten a second (Twilio's pace per sender)."""

    def __init__(self, messenger: str) -> None:
        super().__init__(messenger, DEFAULT_CAPABILITIES[messenger])
        self._lock = asyncio.Lock()

    async def deliver(self, item: Outgoing) -> DeliveryResult:
        async with self._lock:
            await asyncio.sleep(0.1)
            return await super().deliver(item)


async def test_a_slow_messengers_queue_does_not_hold_up_another_messengers(core: Core) -> None:
    slow, fast = PacedAdapter("whatsapp"), RecordingAdapter("telegram")
    core.attach(slow)
    core.attach(fast)
    now = core.clock.now()
    with core.db.atomic():
        for member in range(20):  # the slow messenger's messages were queued first
            outbox.enqueue(core.db, chat_ref=f"whatsapp:+4860000{member:04d}", reply=Text(text="Reminder"), now=now)
        for member in range(20):
            outbox.enqueue(core.db, chat_ref=f"telegram:{7000 + member}", reply=Text(text="Reminder"), now=now)
    started = time.monotonic()
    await core.start()
    try:
        async with asyncio.timeout(10):
            while len(fast.delivered) < 20:
                await asyncio.sleep(0.005)
        fast_done, slow_so_far = time.monotonic() - started, len(slow.delivered)
        async with asyncio.timeout(10):
            while one(core.db, "SELECT 1 AS busy FROM outbox WHERE state IN ('pending', 'sending') LIMIT 1"):
                await asyncio.sleep(0.01)
    finally:
        await core.stop()
    assert fast_done < 0.5 and slow_so_far <= 3, (fast_done, slow_so_far)
    assert len(slow.delivered) == 20


async def test_an_edit_queued_while_the_last_one_is_being_sent_waits_the_full_interval(core: Core) -> None:
    """A burst of votes: the poll's edit was queued a while ago, is being sent now (Telegram's
    limiter may hold it for seconds), and a vote queues the next one. That one must not go out a
    moment after this one, as it did when 'being sent' counted from when the edit was queued."""
    key, interval = "telegram:-100|poll:1", timedelta(seconds=3)
    queued_at = core.clock.now()
    first = outbox.enqueue(core.db, chat_ref="telegram:-100", reply=Text(text="1 vote"), now=queued_at, coalesce_key=key, min_interval=interval)
    core.clock.advance(timedelta(seconds=10))  # it waited behind other messages …
    [claimed] = outbox.claim(core.db, core.clock.now(), ["telegram"])  # … and is being sent now
    assert claimed.id == first
    now = core.clock.now()
    second = outbox.enqueue(core.db, chat_ref="telegram:-100", reply=Text(text="2 votes"), now=now, coalesce_key=key, min_interval=interval)
    row = one(core.db, "SELECT next_attempt_at FROM outbox WHERE id = ?", [second])
    assert row is not None and from_iso(row["next_attempt_at"]) == now + interval


async def test_organiser_checks_in_a_busy_group_do_not_wait_behind_its_messages(tmp_path: Path) -> None:
    """Asking Telegram whether someone is a group admin sends nothing to the group, so the
    group's flood limit (20 messages a minute) must not pace it."""
    async with running(tmp_path, "webhook") as env:
        members = [Person(9100 + n, f"Member {n}", language_code="en") for n in range(9)]
        for member in members:
            await env.say(member, "hello")  # group chatter: they belong to the community now
        started = time.monotonic()
        for member in members:  # each asks, privately, for something only organisers may do
            await env.say(member, "/invite", env.private(member))
        checks = await env.api.wait_for("getChatMember", count=len(members), timeout=10)
        assert max(c.at for c in checks) - started < 2.0
        for member in members:
            [reply] = await env.next_messages(member.id)
            assert reply["text"] == "Only organisers can use /invite."


async def test_events_are_handled_between_the_jobs_of_a_deadline_wave(settings: Settings, clock: ManualClock) -> None:
    """Many deadlines at once (every community's poll closing at 18:00) must not shut members out
    until the last job is done: each job takes a while (a closing draws a chart), and events wait
    for at most one of them."""
    router = build_router()

    @router.job("drill.slow")
    def slow(ctx: JobContext, job: Job) -> None:
        time.sleep(0.05)  # a chart being drawn

    db = open_database(settings.database)
    core = Core(settings, db, clock=clock, router=router)
    core.attach(RecordingAdapter())
    for n in range(30):
        scheduler.schedule(db, "drill.slow", clock.now(), {"n": n}, now=clock.now())
    async def member_writes() -> float:
        await core.handle(Message(chat=GROUP, sender=Sender("console:bartek", "Bartek"), text="hello"))
        return time.monotonic()

    started = time.monotonic()
    wave = asyncio.create_task(core.run_due_jobs())  # the wave begins …
    handled = asyncio.create_task(member_writes())  # … and a member writes at once
    waited = await handled - started
    assert await wave == 30
    assert waited < 0.5, waited  # not the whole wave's 1.5 s
    db.close()
