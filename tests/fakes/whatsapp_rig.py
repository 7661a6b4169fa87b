"""A bot with the real WhatsApp adapter and the console group, driven the way Twilio drives it.

Webhooks are form posts signed with Twilio's own ``RequestValidator`` and sent over HTTP (httpx's
ASGI transport) to the real Starlette app of the web process; what the bot sends reaches the fake
Twilio API on 127.0.0.1 through ``LOCALBOT_TWILIO__API_URL``. The console side is the usual
:class:`~tests.helpers.Harness`, so one test can play members of both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from twilio.request_validator import RequestValidator

from localbot.adapters.twilio_api import TwilioApi
from localbot.adapters.web import build_app
from localbot.adapters.whatsapp import WhatsAppAdapter
from localbot.clock import ManualClock
from localbot.community import store as community_store
from localbot.core import Core
from localbot.settings import Settings, TwilioSettings
from localbot.storage import open_database
from tests.fakes.proxy import FaultyProxy
from tests.fakes.twilio_api import FakeTwilioApi
from tests.helpers import Harness, RecordingAdapter

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-auth-token-0123456789abcdef"
SENDER = "whatsapp:+14155238886"
PUBLIC = "https://bot.example.org"
POLL_TEMPLATE = "HX" + "a" * 32
RESULTS_TEMPLATE = "HX" + "b" * 32
QUICK_REPLY_2 = "HX" + "c" * 32
QUICK_REPLY_3 = "HX" + "d" * 32

#: Members by language: the country code of the number sets it until they choose with /lang.
ENGLISH, POLISH, INDONESIAN = "whatsapp:+447700900001", "whatsapp:+48600100200", "whatsapp:+6281234567890"


def sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(TOKEN).compute_signature(url, params)


@dataclass
class WhatsAppRig:
    core: Core
    clock: ManualClock
    adapter: WhatsAppAdapter
    api: FakeTwilioApi
    http: httpx.AsyncClient
    console: Harness

    async def post(self, path: str, params: dict[str, str], *, signature: str | None = None, unsigned: bool = False) -> httpx.Response:
        headers = {} if unsigned else {"X-Twilio-Signature": signature or sign(PUBLIC + path, params)}
        return await self.http.post(path, data=params, headers=headers)

    async def say(self, address: str, body: str = "", *, sid: str | None = None, name: str = "", **fields: str) -> httpx.Response:
        """Twilio posting what ``address`` sent; extra fields such as ``ButtonPayload`` or ``Latitude``."""
        params = {
            "MessageSid": sid or "SM" + uuid4().hex,
            "AccountSid": ACCOUNT,
            "From": address,
            "To": SENDER,
            "Body": body,
            "NumMedia": "0",
            "ProfileName": name,
            "WaId": address.removeprefix("whatsapp:+"),
            **fields,
        }
        response = await self.post("/twilio/whatsapp", params)
        assert response.status_code == 200, response.text
        return response

    async def status(self, callback: str, sid: str, state: str, **fields: str) -> httpx.Response:
        """Twilio posting a status callback to the URL the bot gave when sending."""
        path = callback.removeprefix(PUBLIC)
        params = {"MessageSid": sid, "MessageStatus": state, "AccountSid": ACCOUNT, **fields}
        return await self.post(path, params)

    async def flush(self) -> None:
        """Deliver everything that is due (the outbox loop's work, run to the end)."""
        while await self.core.deliver_pending():
            pass

    async def replies(self, address: str) -> list[str]:
        """Deliver what is due, then what ``address`` received since the last call."""
        await self.flush()
        seen = self._seen.get(address, 0)
        received = self.api.to(address)
        self._seen[address] = len(received)
        return [m.text for m in received[seen:]]

    async def reply(self, address: str) -> str:
        got = await self.replies(address)
        assert len(got) == 1, got
        return got[0]

    async def join(self, address: str, name: str = "") -> None:
        await self.say(address, f"JOIN {self.code()}", name=name)
        await self.replies(address)

    def code(self) -> str:
        code = self.console.community().join_code
        assert code
        return code

    def member(self, address: str) -> Any:
        return community_store.member_by_ref(self.core.db, address)

    def outbox(self, chat_ref: str) -> list[dict[str, Any]]:
        return list(self.core.db.query("SELECT * FROM outbox WHERE chat_ref = ? ORDER BY id", [chat_ref]))

    def __post_init__(self) -> None:
        self._seen: dict[str, int] = {}


@asynccontextmanager
async def whatsapp_rig(
    tmp_path: Path, *, router: Any = None, proxy: FaultyProxy | None = None, api_timeout: float | None = None, **twilio: Any
) -> AsyncIterator[WhatsAppRig]:
    """With ``proxy`` (not yet started) the adapter reaches the fake API through it; ``api_timeout``
    shortens how long it waits for Twilio's answers."""
    clock = ManualClock()
    async with FakeTwilioApi(ACCOUNT, TOKEN, clock.now) as api:
        api_url = api.base_url
        if proxy is not None:
            proxy.upstream = api.base_url
            api_url = await proxy.start()
        settings = Settings(
            database=tmp_path / "wa.db",
            timezone="Europe/Warsaw",
            twilio=TwilioSettings.model_validate(
                {
                    "account_sid": ACCOUNT,
                    "auth_token": TOKEN,
                    "whatsapp_from": SENDER,
                    "public_url": PUBLIC,
                    "api_url": api_url,
                    "messages_per_second": 1000,
                    **twilio,
                }
            ),
        )
        db = open_database(settings.database)
        core = Core(settings, db, clock=clock, router=router)
        console = RecordingAdapter("console")
        core.attach(console)
        twilio_api = None
        if api_timeout is not None:
            assert settings.twilio.account_sid and settings.twilio.whatsapp_from
            twilio_api = TwilioApi(ACCOUNT, TOKEN, settings.twilio.whatsapp_from, api_url=api_url, per_second=1000, timeout=api_timeout)
        adapter = WhatsAppAdapter(settings, core, api=twilio_api)
        core.attach(adapter)
        harness = Harness(core, clock, console)
        await harness.make_organiser("anna")
        transport = httpx.ASGITransport(app=build_app(core, [adapter]))
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as http:
            try:
                yield WhatsAppRig(core, clock, adapter, api, http, harness)
            finally:
                await adapter.stop()
                db.close()
                if proxy is not None:
                    await proxy.stop()
