"""A reminder to every member: how fast it leaves, and whether the messengers' limits hold.

One community with members on Telegram (each reached in their private chat) and on WhatsApp (its
roster, every window open). A scheduled job sends each of them a reminder through the outbox,
exactly as a feature's reminder job does (``ctx.send_to_member(..., purpose="reminder")``); the
core's delivery loop hands them to the real adapters, which talk to the fake APIs in another
process. Those enforce Telegram's flood limits and Twilio's pace per sender and answer 429 over
them. The figures: messages a second each API actually received, the most in any one second, and
the 429s. The limiter should hold the limits without slowing far below them.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench.harness import WEBHOOK_URL, Fakes
from localbot import scheduler
from localbot.adapters.telegram import TelegramAdapter
from localbot.adapters.whatsapp import WhatsAppAdapter
from localbot.clock import SystemClock
from localbot.community import store as community_store
from localbot.core import Core
from localbot.events import Sender
from localbot.handlers import build_router
from localbot.handlers.context import JobContext
from localbot.replies import Text
from localbot.scheduler import Job
from localbot.settings import Settings, TelegramSettings, TwilioSettings
from localbot.storage import open_database
from localbot.storage.db import one
from tests.fakes.telegram_api import TOKEN
from tests.fakes.whatsapp_rig import ACCOUNT, PUBLIC, SENDER
from tests.fakes.whatsapp_rig import TOKEN as TWILIO_TOKEN
from tests.telegram_env import SECRET

JOB = "bench.reminder"


def reminder(ctx: JobContext, job: Job) -> None:
    """What a reminder job of a feature does: one private message per member, in the outbox."""
    community = community_store.get_community(ctx.db, int(job.payload["community"]))
    assert community is not None
    for member in community_store.active_members(ctx.db, community.id):
        ctx.send_to_member(
            member,
            lambda t: Text(text="Reminder: the tasting starts at 18:00 at the kiosk. See you there!"),
            community=community,
            purpose="reminder",
            dedupe_key=f"{JOB}:{job.id}:{member.id}",
        )


def max_in_a_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def rate(times: list[float]) -> float:
    return (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else 0.0


async def fanout(folder: Path, fakes: Fakes, members: int) -> dict[str, Any]:
    settings = Settings(
        database=folder / "fanout.db",
        timezone="Europe/Warsaw",
        telegram=TelegramSettings(token=TOKEN, api_url=f"{fakes.telegram}/bot", webhook_url=WEBHOOK_URL, secret_token=SECRET),
        twilio=TwilioSettings(
            account_sid=ACCOUNT, auth_token=TWILIO_TOKEN, whatsapp_from=SENDER, public_url=PUBLIC, api_url=fakes.twilio
        ),
    )
    db = open_database(settings.database)
    router = build_router()
    router.job(JOB)(reminder)
    clock = SystemClock()
    core = Core(settings, db, clock=clock, router=router)
    now = clock.now()
    with db.atomic():
        community, _ = community_store.link_group_chat(
            db, chat_ref="telegram:-100555", title="Bench Estate", language="en", timezone="Europe/Warsaw", now=now
        )
        community_store.roster_channel(db, community.id, "whatsapp", now)
        for i in range(members):
            ref = f"telegram:{200_000 + i}"
            member = community_store.touch_member(db, Sender(ref, f"Member {i}", language=("pl", "id", "en")[i % 3]), now=now, private_chat_ref=ref)
            community_store.ensure_membership(db, community.id, member.id, now=now)
            address = f"whatsapp:+4860{i:07d}"
            member = community_store.touch_member(db, Sender(address, f"Member {i}"), now=now, private_chat_ref=address)
            community_store.ensure_membership(db, community.id, member.id, now=now)
        scheduler.schedule(db, JOB, now, {"community": community.id}, now=now)
    telegram, whatsapp = TelegramAdapter(settings, core), WhatsAppAdapter(settings, core)
    core.attach(telegram)
    core.attach(whatsapp)
    await fakes.reset()
    await telegram.start()
    await whatsapp.start()
    started = time.monotonic()
    await core.start()
    def count(states: str) -> int:
        row = one(db, f"SELECT COUNT(*) AS n FROM outbox WHERE purpose = 'reminder' AND state IN ({states})")
        return int(row["n"]) if row else 0

    try:
        # Twilio's ten a second sets the pace: give it that long, and a minute more.
        while (not count("'pending', 'sending', 'sent', 'failed', 'skipped'") or count("'pending', 'sending'")) and (
            time.monotonic() - started < members / 10 + 60
        ):
            await asyncio.sleep(0.25)
        took = time.monotonic() - started
    finally:
        await core.stop()
        await telegram.stop()
        await whatsapp.stop()
    states = {r["state"]: r["n"] for r in db.query("SELECT state, COUNT(*) AS n FROM outbox WHERE purpose = 'reminder' GROUP BY state")}
    db.close()
    calls = await fakes.telegram_calls()
    sent_tg = [c[3] for c in calls if c[0] == "sendMessage" and c[1] and (c[4] or 0) > 0]
    twilio = await fakes.twilio_messages()
    sent_wa = [m[2] for m in twilio["messages"]]
    return {
        "members_per_messenger": members,
        "took_s": round(took, 1),
        "outbox": states,
        "telegram": {
            "sent": len(sent_tg),
            "per_s": round(rate(sent_tg), 1),
            "max_in_1s": max_in_a_second(sent_tg),
            "rate_429": sum(1 for c in calls if c[2] == 429),
            "duplicates": len(sent_tg) - len({c[4] for c in calls if c[0] == "sendMessage" and c[1] and (c[4] or 0) > 0}),
        },
        "whatsapp": {
            "sent": len(sent_wa),
            "per_s": round(rate(sent_wa), 1),
            "max_in_1s": max_in_a_second(sent_wa),
            "rate_429": twilio["throttled"],
            "duplicates": len(sent_wa) - len({m[0] for m in twilio["messages"]}),
        },
    }

