"""Hostile traffic at the webhooks themselves: mangled Telegram updates and Twilio forms, forged
secrets and signatures, and bodies too large to read.

Property-based where the space is large: whatever the update or form, the web process answers
200, 400, 403 or 413, never 500; nothing is logged as an error (an exception inside the adapter
counts); a forged call changes nothing; the database stays consistent.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localbot.adapters.telegram import SECRET_HEADER, TelegramAdapter
from localbot.adapters.web import MAX_BODY_BYTES, build_app
from localbot.adapters.whatsapp import WhatsAppAdapter
from localbot.core import Core
from localbot.handlers import build_router
from localbot.settings import Settings, TelegramSettings, TwilioSettings
from localbot.storage import open_database
from localbot.storage.db import one
from tests.fakes.telegram_api import TOKEN, LocalServer, Person, Updates, group_json, private_json
from tests.fakes.whatsapp_rig import ACCOUNT, PUBLIC, SENDER, sign, whatsapp_rig
from tests.fakes.whatsapp_rig import TOKEN as TWILIO_TOKEN
from tests.hostile import LoopThread, hostile_payload, hostile_text, problems
from tests.telegram_env import ANNA, GROUP, SECRET, running

SETTINGS = settings(
    max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
WATCHED = ("localbot", "telegram", "uvicorn", "starlette", "httpx", "aiohttp")


@contextmanager
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    found: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.name.startswith(WATCHED):
                found.append(record)

    handler = Collect(logging.ERROR)
    logging.getLogger().addHandler(handler)
    try:
        yield found
    finally:
        logging.getLogger().removeHandler(handler)


async def in_loop(function: Any, *args: Any) -> Any:
    """Run ``function`` in the rig's thread (its SQLite connection belongs there)."""
    return function(*args)


# --- Telegram: mangled updates ---------------------------------------------------------------------

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text(40, long=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["id", "type", "text", "x"]), st.integers(), max_size=3),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside nested dicts and lists."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


@st.composite
def mangled_update(draw: st.DrawFn, updates: Updates, poll_message: dict[str, Any]) -> dict[str, Any]:
    person = Person(draw(st.integers(2000, 2010)), draw(hostile_text(20, long=False)) or "X", language_code=draw(st.sampled_from(["pl", "id", "en", None, "xx"])))
    # Many groups, so that Telegram's 20 messages a minute per group do not pace the test itself.
    group = group_json(draw(st.integers(-1009999999999, -1000000000000)), draw(hostile_text(20, long=False)) or "Group")
    chat = draw(st.sampled_from([group, private_json(person)]))
    base = draw(
        st.sampled_from(["text", "command", "callback", "location", "photo", "member"]).map(
            lambda kind: {
                "text": lambda: updates.message(chat, person, draw(hostile_text())),
                "command": lambda: updates.message(chat, person, "/" + draw(st.sampled_from(sorted(build_router().commands))) + " " + draw(hostile_text())),
                "callback": lambda: updates.callback(person, poll_message, draw(hostile_payload())),
                "location": lambda: updates.location(chat, person, draw(st.floats(-200, 200)), draw(st.floats(-400, 400))),
                "photo": lambda: updates.photo(chat, person, draw(hostile_text(20, long=False)) or "f", caption=draw(hostile_text(30, long=False))),
                "member": lambda: updates.chat_member(GROUP, person, "left", draw(st.sampled_from(["member", "administrator", "kicked", "weird"]))),
            }[kind]()
        )
    )
    update = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(paths(update)))
        parent = update
        for key in where[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            parent[where[-1]] = draw(ODD_VALUES)
        elif isinstance(parent, dict):
            del parent[where[-1]]
    return update


def test_mangled_telegram_updates_are_answered_200_or_400_and_never_break_anything(tmp_path: Path) -> None:
    loop = LoopThread()
    env_context = running(tmp_path, "webhook")
    env = loop.run(env_context.__aenter__())
    try:
        env.api.set_status(GROUP["id"], ANNA.id, "administrator")
        loop.run(env.say(ANNA, "/poll Where? | Kiosk | Library"))
        [poll] = loop.run(env.next_messages(GROUP["id"]))
        message = env.api.message(GROUP["id"], poll.result["message_id"])
        with errors_logged() as errors:

            @SETTINGS
            @given(st.lists(mangled_update(env.updates, message), min_size=5, max_size=25))
            def examples(updates: list[dict[str, Any]]) -> None:
                for update in updates:
                    query = update.get("callback_query")
                    if isinstance(query, dict) and isinstance(query.get("id"), str):
                        env.api.expect_query(update)
                    response = loop.run(env.http.post(f"{env.web_url}/telegram", json=update, headers={SECRET_HEADER: SECRET}))
                    assert response.status_code in (200, 400), (update, response.status_code)

            examples()
            loop.run(asyncio.sleep(0.2))  # what the last updates queued goes out
        assert not errors, [(r.name, r.getMessage()) for r in errors]
        assert loop.run(in_loop(problems, env.core.db, env.core.router)) == []
    finally:
        loop.run(env_context.__aexit__(None, None, None))
        loop.close()


# --- WhatsApp: mangled forms ---------------------------------------------------------------------


@st.composite
def mangled_form(draw: st.DrawFn, code: str) -> dict[str, str]:
    address = draw(st.sampled_from(["whatsapp:+48600100200", "whatsapp:+6281234567890", "whatsapp:+447700900001", "+48600", "whatsapp:+48 6"]))
    form = {
        "MessageSid": draw(st.sampled_from(["SM" + uuid4().hex, "SM" + uuid4().hex, "SMxyz", ""])),
        "AccountSid": ACCOUNT,
        "From": address,
        "To": SENDER,
        "Body": draw(st.one_of(hostile_text(), st.just(f"JOIN {code}"), st.sampled_from(["1", "2", "/help", "/poll", "LEAVE"]))),
        "NumMedia": draw(st.sampled_from(["0", "0", "1", "²", "99", "-1", ""])),
        "ProfileName": draw(hostile_text(30, long=False)),
    }
    optional = {
        "ButtonPayload": hostile_payload(),
        "ButtonText": hostile_text(20, long=False),
        "Latitude": st.one_of(st.floats().map(str), hostile_text(10, long=False)),
        "Longitude": st.one_of(st.floats().map(str), hostile_text(10, long=False)),
        "Address": hostile_text(40, long=False),
        "MediaUrl0": st.sampled_from(["https://api.twilio.com/media/1", "file:///etc/passwd", "", "http://" + "x" * 3000]),
        "MediaContentType0": st.sampled_from(["image/jpeg", "audio/ogg", "", "text/html"]),
        "Unexpected": hostile_text(20, long=False),
    }
    for name in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=4)):
        form[name] = draw(optional[name])
    return form


def test_mangled_twilio_forms_are_answered_200_or_400_and_never_break_anything(tmp_path: Path) -> None:
    loop = LoopThread()
    rig_context = whatsapp_rig(tmp_path)
    rig = loop.run(rig_context.__aenter__())
    try:
        loop.run(rig.console.send("/poll Where? | Kiosk | Library"))
        code = loop.run(in_loop(rig.code))
        with errors_logged() as errors:

            @SETTINGS
            @given(st.lists(mangled_form(code), min_size=5, max_size=25))
            def examples(forms: list[dict[str, str]]) -> None:
                for form in forms:
                    response = loop.run(rig.post("/twilio/whatsapp", form))
                    assert response.status_code in (200, 400), (form, response.status_code, response.text)
                loop.run(rig.flush())

            examples()
        assert not errors, [(r.name, r.getMessage()) for r in errors]
        assert loop.run(in_loop(problems, rig.core.db, rig.core.router)) == []
    finally:
        loop.run(rig_context.__aexit__(None, None, None))
        loop.close()


# --- forged calls --------------------------------------------------------------------------------


def test_a_forged_telegram_secret_is_refused_whatever_it_is(tmp_path: Path) -> None:
    settings_ = Settings(
        database=tmp_path / "forged.db",
        telegram=TelegramSettings(token=TOKEN, api_url="http://127.0.0.1:9/bot", webhook_url="https://bot.example.org/telegram", secret_token=SECRET),
    )
    db = open_database(settings_.database)
    core = Core(settings_, db)
    adapter = TelegramAdapter(settings_, core)
    update = Updates().message(GROUP, ANNA, "/poll Forged? | Yes | No")

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.one_of(st.text(max_size=300), st.just(SECRET[:-1]), st.just(SECRET + "x"), st.just(SECRET.upper()), st.just(" " + SECRET)))
    def forged(secret: str) -> None:
        if secret == SECRET:
            return
        asyncio.run(post_forged(core, adapter, update, secret))

    forged()
    assert one(db, "SELECT COUNT(*) AS n FROM inbound_events")["n"] == 0  # type: ignore[index]
    db.close()


async def post_forged(core: Core, adapter: TelegramAdapter, update: dict[str, Any], secret: str) -> None:
    transport = httpx.ASGITransport(app=build_app(core, [adapter]))
    async with httpx.AsyncClient(transport=transport, base_url="https://bot.example.org") as http:
        headers = {SECRET_HEADER: secret} if secret.isascii() and "\n" not in secret and "\r" not in secret else {}
        response = await http.post("/telegram", json=update, headers=headers)
    assert response.status_code == 403


async def test_a_forged_twilio_signature_is_refused_whatever_was_changed(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        genuine = {"MessageSid": "SM" + "2" * 32, "AccountSid": ACCOUNT, "From": "whatsapp:+48600100200", "To": SENDER, "Body": f"JOIN {rig.code()}", "NumMedia": "0"}
        signature = sign(PUBLIC + "/twilio/whatsapp", genuine)
        cases: list[tuple[dict[str, str], str]] = []

        @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.sampled_from(sorted(genuine)), hostile_text(30, long=False), st.text(max_size=40))
        def collect(field: str, value: str, forged_signature: str) -> None:
            if value != genuine[field]:
                cases.append(({**genuine, field: value}, signature))  # changed after signing
            cases.append((genuine, forged_signature))  # not Twilio's signature

        collect()
        for params, claimed in cases:
            if claimed == signature and params == genuine:
                continue
            if not claimed:
                response = await rig.post("/twilio/whatsapp", params, unsigned=True)
            else:
                sendable = claimed.isascii() and not any(c in claimed for c in "\r\n")  # what an HTTP header can carry
                response = await rig.post("/twilio/whatsapp", params, signature=claimed if sendable else "x")
            assert response.status_code == 403, (params, claimed)
        assert rig.member("whatsapp:+48600100200") is None and rig.api.requests == []
        assert (await rig.post("/twilio/whatsapp", genuine, signature=signature)).status_code == 200  # the genuine one works


# --- bodies too large ----------------------------------------------------------------------------


async def test_bodies_over_a_megabyte_are_refused_before_they_are_read(tmp_path: Path) -> None:
    twilio = TwilioSettings(account_sid=ACCOUNT, auth_token=TWILIO_TOKEN, whatsapp_from=SENDER, public_url=PUBLIC, api_url="http://127.0.0.1:9")
    async with running(tmp_path, "webhook", twilio=twilio) as env:
        whatsapp = WhatsAppAdapter(env.core.settings, env.core)
        web = LocalServer(build_app(env.core, [env.adapter, whatsapp]))  # both messengers, as 'localbot run' serves them
        url = await web.start()
        http = httpx.AsyncClient(timeout=30)
        big = b"{" + b" " * MAX_BODY_BYTES + b"}"

        async def streamed() -> Any:
            for _ in range(MAX_BODY_BYTES // 65536 + 2):
                yield b" " * 65536

        try:
            for path in ("/telegram", "/twilio/whatsapp", "/twilio/status"):
                declared = await http.post(f"{url}{path}", content=big, headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"})
                assert declared.status_code == 413, (path, declared.status_code)
                chunked = await http.post(f"{url}{path}", content=streamed(), headers={SECRET_HEADER: SECRET, "X-Twilio-Signature": "x"})
                assert chunked.status_code == 413, (path, chunked.status_code)
            # just under the limit is read (and refused for what it is, not for its size)
            under = await http.post(f"{url}/telegram", content=b"x" * (MAX_BODY_BYTES - 1), headers={SECRET_HEADER: SECRET})
            assert under.status_code == 400
            assert one(env.core.db, "SELECT COUNT(*) AS n FROM inbound_events")["n"] == 0  # type: ignore[index]
        finally:
            await http.aclose()
            await web.stop()
            await whatsapp.stop()
