"""The real Telegram adapter, core and web process against the fake Bot API, in either mode.

``TelegramEnv.send`` delivers an update the way the mode under test receives it: queued for
getUpdates (long polling) or posted to ``/telegram`` with the secret header (webhook), through
the shared Starlette app that ``localbot run`` serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from localbot.adapters.telegram import SECRET_HEADER, ChatPacer, TelegramAdapter
from localbot.adapters.web import build_app
from localbot.clock import OffsetClock
from localbot.community import store as community_store
from localbot.core import Core
from localbot.settings import Settings, TelegramSettings
from localbot.storage import open_database
from localbot.storage.db import one
from tests.fakes.proxy import FaultyProxy
from tests.fakes.telegram_api import (
    TOKEN,
    Call,
    FakeBotAPI,
    FloodLimits,
    LocalServer,
    Person,
    Updates,
    group_json,
    private_json,
)

SECRET = "s3cret-Token_for-tests"
GROUP_ID = -1001234567890
GROUP = group_json(GROUP_ID, "Sunny Estate")
ANNA = Person(1001, "Anna", "Nowak", "anna_n", "pl")  # the group's admin
BARTEK = Person(1002, "Bartek", username="bartek", language_code="pl-PL")
CITRA = Person(1003, "Citra", language_code="id")
DAN = Person(1004, "Dan", language_code="en")


@dataclass
class TelegramEnv:
    api: FakeBotAPI
    core: Core
    adapter: TelegramAdapter
    mode: str
    updates: Updates
    clock: OffsetClock
    web_url: str | None = None
    http: httpx.AsyncClient | None = None
    seen: dict[int, int] = field(default_factory=dict)

    async def send(self, update: dict[str, Any]) -> httpx.Response | None:
        if self.mode == "polling":
            self.api.push(update)
            return None
        assert self.http is not None
        self.api.expect_query(update)
        response = await self.http.post(f"{self.web_url}/telegram", json=update, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200, response.text
        return response

    async def say(self, person: Person, text: str, chat: dict[str, Any] | None = None) -> dict[str, Any]:
        update = self.updates.message(chat or GROUP, person, text)
        await self.send(update)
        return update

    async def press(self, person: Person, message: dict[str, Any], data: str) -> str:
        """Press a button of a stored message; returns the callback query id."""
        update = self.updates.callback(person, message, data)
        await self.send(update)
        return str(update["callback_query"]["id"])

    async def answered(self, query_id: str, timeout: float = 5.0) -> str | None:
        calls = await self.api.wait_for("answerCallbackQuery", where=lambda c: c["callback_query_id"] == query_id, timeout=timeout)
        return calls[0].get("text")

    async def next_messages(self, chat_id: int, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """The next ``count`` messages sent to ``chat_id`` since the last time we looked."""
        start = self.seen.get(chat_id, 0)
        calls = await self.api.wait_for("sendMessage", chat_id=chat_id, count=start + count, timeout=timeout)
        self.seen[chat_id] = start + count
        return calls[start : start + count]

    async def outbox_idle(self, timeout: float = 5.0) -> None:
        """Wait until the outbox has nothing waiting or on its way (its results are recorded)."""
        async with asyncio.timeout(timeout):
            while one(self.core.db, "SELECT 1 AS busy FROM outbox WHERE state IN ('pending', 'sending') LIMIT 1"):
                await asyncio.sleep(0.01)

    async def skip(self, seconds: float) -> None:
        """Move the core's clock on (live-edit intervals, deadlines) and let the outbox look again."""
        self.clock.advance(timedelta(seconds=seconds))
        self.core.wake()

    def private(self, person: Person) -> dict[str, Any]:
        chat = private_json(person)
        self.api.chats[person.id] = chat
        return chat

    def community(self) -> Any:
        channel = community_store.channel_for_chat(self.core.db, f"telegram:{GROUP_ID}")
        assert channel is not None
        return community_store.get_community(self.core.db, channel.community_id)


def telegram_settings(tmp_path: Path, api: FakeBotAPI, *, webhook: bool, **extra: Any) -> Settings:
    telegram: dict[str, Any] = {"token": TOKEN, "api_url": api.api_url}
    if webhook:
        telegram |= {"webhook_url": "https://bot.example.org/telegram", "secret_token": SECRET}
    return Settings(database=tmp_path / "tg.db", timezone="Europe/Warsaw", telegram=TelegramSettings(**telegram), **extra)


@asynccontextmanager
async def running(
    tmp_path: Path,
    mode: str,
    *,
    pacer: ChatPacer | None = None,
    flood: FloodLimits | None = None,
    proxy: FaultyProxy | None = None,
    read_timeout: float | None = None,
    **extra: Any,
) -> AsyncIterator[TelegramEnv]:
    """Fake Bot API, database, core with its loops, the adapter, and (webhook) the web process.

    Members in tests answer faster than people do, so the per-chat pace is a tenth of the real
    one unless a test asks for another (the pace itself is tested on its own). With ``flood`` the
    fake enforces Telegram's flood limits; with ``proxy`` (not yet started) the adapter reaches the
    fake through it, and ``read_timeout`` shortens how long it waits for an answer."""
    api = FakeBotAPI(flood=flood)
    await api.start()
    api.chats[GROUP_ID] = GROUP
    if proxy is not None:
        proxy.upstream = api.url
        await proxy.start()
    settings = telegram_settings(tmp_path, api, webhook=mode == "webhook", **extra)
    if proxy is not None:
        settings.telegram.api_url = f"{proxy.url}/bot"
    db = open_database(settings.database)
    clock = OffsetClock()
    core = Core(settings, db, clock=clock)
    timeouts = {"read_timeout": read_timeout} if read_timeout is not None else {}
    adapter = TelegramAdapter(settings, core, pacer=pacer or ChatPacer(interval=0.1, burst=3), **timeouts)
    core.attach(adapter)
    web: LocalServer | None = None
    env = TelegramEnv(api, core, adapter, mode, Updates(), clock)
    try:
        await core.start()
        await adapter.start()
        if mode == "webhook":
            web = LocalServer(build_app(core, [adapter]))
            env.web_url = await web.start()
            env.http = httpx.AsyncClient(timeout=10)
        yield env
    finally:
        if env.http is not None:
            await env.http.aclose()
        if web is not None:
            await web.stop()
        await adapter.stop()
        await core.stop()
        db.close()
        if proxy is not None:
            await proxy.stop()
        await api.stop()
