"""Restart drill: a bot killed with SIGKILL while the work that fell due during its absence goes
out (a poll's deadline, tasting reminders, diary prompts to members on Telegram and WhatsApp), and
started again.

Each due job runs once (its effects and its "done" are one transaction), each message is
delivered once: the Telegram requests the crash cut off never reached Telegram and are sent
again; the Twilio requests it cut off did reach Twilio, whose list of sent messages the adapter
reads before sending again (decision 15), so they are not repeated.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import read_only
from localbot.clock import ManualClock, from_iso, iso
from localbot.community import store as community_store
from localbot.core import Core
from localbot.events import Chat, ChatKind, ChoicePicked, Command, Message, Sender
from localbot.maps import store as point_store
from localbot.maps.model import PointSpec
from localbot.replies import Choices
from localbot.storage import open_database
from tests import drill_child
from tests.fakes.proxy import FaultyProxy
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioApi
from tests.fakes.whatsapp_rig import ACCOUNT, TOKEN
from tests.survey_helpers import studies  # noqa: F401  (a fixture)
from tests.tasting_helpers import KIOSK, write_tasting

ROOT = Path(__file__).resolve().parent.parent
JOINED = datetime(2026, 3, 25, 16, 0, tzinfo=UTC)  # a Wednesday; the diary starts on Thursday
GROUP = Chat("telegram:-1009001", ChatKind.GROUP, "Sunny Estate")
ANNA = Sender("telegram:1", "Anna", language="pl")


def private(member: Sender) -> Chat:
    return Chat(member.ref, ChatKind.PRIVATE)


async def prepare(database: Path) -> None:
    """A community in a Telegram group and on WhatsApp; a poll with a deadline; a diary that three
    members on each messenger joined. Nothing is delivered: no adapter is attached yet."""
    db = open_database(database)
    core = Core(drill_child.settings(database), db, clock=ManualClock(JOINED))
    await core.handle(Command(chat=GROUP, sender=ANNA, name="poll", args="--until 2h Where do we meet? | Kiosk | Library"))
    on_telegram = [Sender(f"telegram:{100 + i}", f"Tomek {i}", language="pl") for i in range(3)]
    on_whatsapp = [Sender(f"whatsapp:+4860010{i:04d}", f"Wanda {i}", language="pl") for i in range(3)]
    for member in on_telegram:
        await core.handle(Message(chat=GROUP, sender=member, text="hello"))
        await core.handle(Command(chat=private(member), sender=member, name="start"))
    code = community_store.community_for_chat(db, GROUP.ref).join_code  # type: ignore[union-attr]
    for member in on_whatsapp:
        await core.handle(Message(chat=private(member), sender=member, text=f"JOIN {code}"))
    [announcement] = [r for r in await core.handle(Command(chat=GROUP, sender=ANNA, name="survey", args="start coffee-diary")) if isinstance(r, Choices)]
    for member in on_telegram:
        await core.handle(ChoicePicked(chat=GROUP, sender=member, payload=announcement.options[0].payload))
        await core.handle(Message(chat=private(member), sender=member, text="7-22"))
    for member in on_whatsapp:
        await core.handle(Message(chat=private(member), sender=member, text="1"))  # the announcement's "Join"
        await core.handle(Message(chat=private(member), sender=member, text="7-22"))
    # a tasting on Thursday afternoon that everyone signs up for: reminders a day and two hours before
    community = community_store.community_for_chat(db, GROUP.ref)
    assert community is not None
    with db.atomic():
        point_store.create_point(db, community.id, PointSpec.build("Kiosk", *KIOSK, address="Kiosk street 1"), created_by=None, now=JOINED)
    write_tasting(Path("config/tastings"), first=("2026-03-26 14:00", "2026-03-26 16:00"), second=None, places=10)
    [tasting] = [r for r in await core.handle(Command(chat=GROUP, sender=ANNA, name="tasting", args="start oat-drinks")) if isinstance(r, Choices)]
    for member in on_telegram:
        await core.handle(ChoicePicked(chat=GROUP, sender=member, payload=tasting.options[0].payload))
    for member in on_whatsapp:
        await core.handle(Message(chat=private(member), sender=member, text="1"))  # "Sign me up"
    db.close()


def busiest_moment(database: Path) -> tuple[datetime, set[int]]:
    """The moment on the diary's first day when the most prompts can still go out, and which."""
    with read_only(database) as conn:
        entries = [
            (entry, from_iso(planned), from_iso(send_by))
            for entry, planned, send_by in conn.execute("SELECT id, planned_at, send_by FROM survey_entries WHERE kind = 'prompt'")
        ]
    first_day = [e for e in entries if e[1] < JOINED + timedelta(hours=23)]
    best = max((planned for _, planned, _ in first_day), key=lambda t: sum(1 for _, p, s in entries if p <= t <= s))
    return best, {entry for entry, planned, send_by in entries if planned <= best <= send_by}


def start_child(database: Path, moment: datetime, telegram: str, twilio: str, folder: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (folder / "child.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.drill_child", str(database), iso(moment), f"{telegram}/bot", twilio], cwd=folder, env=env, stdout=log, stderr=log
    )


async def settled(database: Path, timeout: float = 30) -> None:
    """Until nothing is left to run or to send at the stopped clock."""
    async with asyncio.timeout(timeout):
        while True:
            with read_only(database) as conn:
                busy = conn.execute("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')").fetchone()[0]
                running = conn.execute("SELECT COUNT(*) FROM jobs WHERE state = 'running'").fetchone()[0]
            if not busy and not running:
                return
            await asyncio.sleep(0.05)


async def test_work_due_during_a_crash_is_done_once_and_every_message_delivered_once(tmp_path: Path, studies: Path) -> None:  # noqa: F811
    database = tmp_path / "restart.db"
    await prepare(database)
    moment, due_prompts = busiest_moment(database)
    assert due_prompts, "no prompt can go out at the chosen moment"
    telegram, twilio_proxy, telegram_proxy = FakeBotAPI(), FaultyProxy(), FaultyProxy()
    await telegram.start()
    async with FakeTwilioApi(ACCOUNT, TOKEN, lambda: moment) as twilio:
        telegram_proxy.upstream, twilio_proxy.upstream = telegram.url, twilio.base_url
        await telegram_proxy.start()
        await twilio_proxy.start()
        # Let a few messages through, then hold the rest, so that the crash finds some in flight.
        telegram_proxy.allow(3, match=b"/sendMessage")
        telegram_proxy.hold(1000, match=b"/sendMessage")
        twilio_proxy.allow(2, match=b"POST ")
        twilio_proxy.hold(1000, match=b"POST ")
        first = start_child(database, moment, telegram_proxy.url, twilio_proxy.url, tmp_path)
        try:
            async with asyncio.timeout(30):
                while not (telegram_proxy.held and twilio_proxy.held):
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
        finally:
            first.kill()  # SIGKILL
            first.wait()
        in_flight = (telegram_proxy.held, twilio_proxy.held)
        telegram_proxy.clear()
        twilio_proxy.clear()
        telegram_proxy.release(forward=False)  # Telegram never got these
        twilio_proxy.release(forward=True)  # Twilio got these and sent them; the answers went nowhere
        async with asyncio.timeout(10):
            while len(twilio.messages) < 2 + in_flight[1]:
                await asyncio.sleep(0.01)

        second = start_child(database, moment, telegram_proxy.url, twilio_proxy.url, tmp_path)
        try:
            await settled(database)
        finally:
            second.kill()
            second.wait()
        await telegram_proxy.stop()
        await twilio_proxy.stop()
        await telegram.stop()
        to_whatsapp = Counter(m.to for m in twilio.messages)

    with read_only(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # (the poll's message was a direct answer in the preparation, never delivered: its live
        # edit at closing has nothing to edit, and is skipped)
        states = Counter(state for (state,) in conn.execute("SELECT state FROM outbox WHERE purpose != 'live'"))
        rows_per_chat = Counter(chat for (chat,) in conn.execute("SELECT chat_ref FROM outbox WHERE state = 'sent'"))
        sent_prompts = {entry for (entry,) in conn.execute("SELECT id FROM survey_entries WHERE status = 'sent'")}
        prompt_rows = Counter(key.split("|")[0] for (key,) in conn.execute("SELECT dedupe_key FROM outbox WHERE purpose = 'prompt'"))
        results = conn.execute("SELECT COUNT(*) FROM outbox WHERE purpose = 'results'").fetchone()[0]
        polls = conn.execute("SELECT status FROM polls").fetchall()
        jobs = Counter(state for (state,) in conn.execute("SELECT state FROM jobs WHERE due_at <= ?", [iso(moment)]))
        reminders_due = conn.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'tasting.remind' AND due_at <= ?", [iso(moment)]).fetchone()[0]
        reminder_rows = Counter(key.split("|")[0] for (key,) in conn.execute("SELECT dedupe_key FROM outbox WHERE purpose = 'reminder'"))
    assert all(in_flight), in_flight  # the crash did cut messages off on both messengers
    assert set(states) == {"sent"}, states
    # every due job ran once: the poll closed once (results to the group and the three on
    # WhatsApp), exactly the prompts still in time went out, each once
    assert polls == [("closed",)] and results == 4
    assert sent_prompts == due_prompts and set(prompt_rows.values()) == {1}
    assert set(jobs) == {"done"}
    # every tasting reminder due (a day before, for all six who signed up) went out once
    assert reminders_due >= 6 and len(reminder_rows) == reminders_due and set(reminder_rows.values()) == {3}
    # every message arrived once: as many at each chat as the outbox sent there
    to_telegram = Counter(f"telegram:{c['chat_id']}" for c in telegram.sent() if c.method.startswith("send"))
    assert to_telegram + Counter({chat: n for chat, n in to_whatsapp.items()}) == rows_per_chat
