"""A bot process for the restart drill (tests/test_drill_restart.py), killed with SIGKILL by it.

The real core, with its job and delivery loops, and the real Telegram and WhatsApp adapters,
pointed at the drill's fake APIs; the clock is stopped at a given moment, so that exactly the work
due by then runs, and a restarted process sees the same moment. Usage:

    python -m tests.drill_child DATABASE MOMENT TELEGRAM_API_URL TWILIO_API_URL
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from localbot.adapters.telegram import TelegramAdapter
from localbot.adapters.whatsapp import WhatsAppAdapter
from localbot.clock import ManualClock, from_iso
from localbot.core import Core
from localbot.settings import Settings, TelegramSettings, TwilioSettings
from localbot.storage import open_database
from tests.fakes.telegram_api import TOKEN
from tests.fakes.whatsapp_rig import ACCOUNT, PUBLIC, SENDER
from tests.fakes.whatsapp_rig import TOKEN as TWILIO_TOKEN
from tests.telegram_env import SECRET

#: Approved templates for what goes out outside a member's 24-hour window.
TEMPLATES = {"prompt": "HX" + "e" * 32, "results": "HX" + "b" * 32, "broadcast": "HX" + "f" * 32}


def settings(database: Path, telegram_api: str = "http://127.0.0.1:9/bot", twilio_api: str = "http://127.0.0.1:9") -> Settings:
    return Settings(
        database=database,
        timezone="Europe/Warsaw",
        organisers="telegram:1",
        telegram=TelegramSettings(token=TOKEN, api_url=telegram_api, webhook_url="https://bot.example.org/telegram", secret_token=SECRET),
        twilio=TwilioSettings(
            account_sid=ACCOUNT,
            auth_token=TWILIO_TOKEN,
            whatsapp_from=SENDER,
            public_url=PUBLIC,
            api_url=twilio_api,
            messages_per_second=1000,
            templates=TEMPLATES,
        ),
    )


async def run(database: str, moment: str, telegram_api: str, twilio_api: str) -> None:
    config = settings(Path(database), telegram_api, twilio_api)
    db = open_database(config.database)
    core = Core(config, db, clock=ManualClock(from_iso(moment)))
    for adapter in (TelegramAdapter(config, core), WhatsAppAdapter(config, core)):
        core.attach(adapter)
        await adapter.start()
    await core.start()  # recovers what a killed predecessor left half-done, then runs
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(run(*sys.argv[1:5]))
