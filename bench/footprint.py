"""How long ``localbot run`` takes to start, and how much memory it holds when idle.

Both messengers are configured (Telegram by webhook, WhatsApp through Twilio), pointed at the
fake APIs. Start-up runs from launching the process until ``/healthz`` answers: interpreter,
imports, opening (and the first time creating) the database, asking the Bot API who we are,
publishing the command menus and registering the webhook. Memory is the resident set
(``VmRSS``) after the bot has been idle for a few seconds.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.harness import Bot, Fakes

IDLE_S = 5.0


async def footprint(folder: Path, fakes: Fakes, idle_s: float = IDLE_S) -> dict[str, Any]:
    bot = Bot(folder / "footprint", fakes)
    first = bot.start()
    try:
        await asyncio.sleep(idle_s)
        rss = bot.rss_mb()
    finally:
        bot.stop()
    again = bot.start()  # a restart: the database exists, nothing to migrate
    try:
        await asyncio.sleep(1.0)
        rss_restarted = bot.rss_mb()
    finally:
        bot.stop()
    return {"first_start_s": round(first, 2), "restart_s": round(again, 2), "idle_rss_mb": round(rss, 1), "rss_after_restart_mb": round(rss_restarted, 1)}
