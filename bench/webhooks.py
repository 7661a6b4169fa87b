"""Webhook throughput: button presses posted to ``/telegram`` and signed Twilio posts to
``/twilio/whatsapp`` of a running ``localbot run``, next to a bare bot in the same harness.

Telegram: one poll in a group, then a vote per update from distinct members, each update a
callback query; the bot stores the vote and answers the press (``answerCallbackQuery`` to the
fake Bot API in another process). The rate counts answers at the fake; latency runs from the
post to its answer. WhatsApp: members who joined the community by code vote by number ("2"), as
WhatsApp members do; the rate counts webhook answers, and the stored votes are checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import uuid4

import httpx
from twilio.request_validator import RequestValidator

from bench.harness import (
    TELEGRAM_CONNECTIONS,
    Bot,
    Fakes,
    Sample,
    blast,
    http_request,
    percentile,
    scalar,
    wait_until,
)
from localbot.adapters.telegram import SECRET_HEADER
from tests.fakes.telegram_api import Person, Updates
from tests.fakes.whatsapp_rig import ACCOUNT, PUBLIC, SENDER
from tests.fakes.whatsapp_rig import TOKEN as TWILIO_TOKEN
from tests.telegram_env import ANNA, GROUP, GROUP_ID, SECRET

BARE_BOT = str(Path(__file__).resolve().parent / "bare_bot.py")
WHATSAPP_ORGANISER = "whatsapp:+447700900000"


@dataclass
class Run:
    """What one burst of webhooks gave."""

    count: int
    rate: float  # completed per second, first post to last completion
    p50_ms: float
    p99_ms: float
    completed: int
    cpu_s: float | None = None  # the bot's CPU time for the burst

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"count": self.count, "completed": self.completed, "p50_ms": round(self.p50_ms, 1), "p99_ms": round(self.p99_ms, 1)}
        if self.cpu_s:
            out["cpu_s"] = round(self.cpu_s, 2)
            out["per_cpu_second"] = round(self.count / self.cpu_s)
        return out


def _run(samples: list[Sample], done_at: dict[int, float], cpu_s: float | None = None) -> Run:
    """Rate and latency from the loader's samples and when each request was completed."""
    latencies = [(done_at[s.index] - s.sent) * 1000 for s in samples if s.index in done_at]
    first = min(s.sent for s in samples)
    last = max(done_at.values(), default=first)
    return Run(len(samples), len(done_at) / max(last - first, 1e-9), percentile(latencies, 50), percentile(latencies, 99), len(done_at), cpu_s)


# --- Telegram -----------------------------------------------------------------------------------


def telegram_post(update: dict[str, Any]) -> bytes:
    body = json.dumps(update, separators=(",", ":")).encode()
    return http_request("/telegram", body, {"Content-Type": "application/json", SECRET_HEADER: SECRET})


async def post_update(bot: Bot, update: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(f"{bot.url}/telegram", json=update, headers={SECRET_HEADER: SECRET})
        response.raise_for_status()


async def create_group_poll(bot: Bot, fakes: Fakes, updates: Updates, question: str = "Which flavour? | Mango | Lime | Ginger") -> dict[str, Any]:
    """Anna, an admin of the group, starts a poll; returns its message as Telegram keeps it."""
    await fakes.post("/telegram/chat", GROUP)
    await fakes.post("/telegram/status", {"chat_id": GROUP_ID, "user_id": ANNA.id, "status": "administrator"})
    await post_update(bot, updates.message(GROUP, ANNA, f"/poll {question}"))
    calls = await fakes.telegram_calls()
    [message_id] = [c[7] for c in calls if c[0] == "sendMessage" and c[1] and c[4] == GROUP_ID][-1:]
    return dict(await fakes.get("/telegram/message", chat_id=GROUP_ID, message_id=message_id))


def voters(count: int, first_id: int = 100_000) -> list[Person]:
    return [Person(first_id + i, f"Voter {i}", language_code=("pl", "id", "en")[i % 3]) for i in range(count)]


async def expect_presses(fakes: Fakes, presses: list[dict[str, Any]]) -> None:
    ids = [p["callback_query"]["id"] for p in presses]
    for start in range(0, len(ids), 5000):
        await fakes.post("/telegram/queries", ids[start : start + 5000])


async def answers_since(fakes: Fakes, since: int) -> list[list[Any]]:
    calls = (await fakes.get("/telegram/calls", since=since))["calls"]
    return [c for c in calls if c[0] == "answerCallbackQuery" and c[1]]


async def press_burst(
    bot: Bot, fakes: Fakes, presses: list[dict[str, Any]], *, rate: float | None = None, timeout: float = 120
) -> tuple[list[Sample], dict[int, float], float | None]:
    """Post the presses; returns the samples, when each press was answered (by index), and the
    bot's CPU seconds for the burst."""
    await expect_presses(fakes, presses)
    since = len(await fakes.telegram_calls())
    index_of = {p["callback_query"]["id"]: i for i, p in enumerate(presses)}
    cpu_before = bot.cpu_seconds()
    samples = await blast(bot.url, [telegram_post(p) for p in presses], connections=TELEGRAM_CONNECTIONS, rate=rate)

    async def all_answered() -> list[list[Any]] | None:
        found = await answers_since(fakes, since)
        return found if len(found) >= len(presses) else None

    answered = await wait_until(all_answered, timeout) or await answers_since(fakes, since)
    cpu = bot.cpu_seconds() - cpu_before
    done_at = {index_of[c[5]]: c[3] for c in answered if c[5] in index_of}
    return samples, done_at, cpu


async def telegram_webhook(folder: Path, fakes: Fakes, count: int) -> dict[str, Any]:
    """localbot and the bare bot, each with ``count`` presses; plus the votes localbot stored."""
    bot = Bot(folder / "telegram-localbot", fakes)
    with bot.running():
        updates = Updates()
        message = await create_group_poll(bot, fakes, updates)
        await press_burst(bot, fakes, [updates.callback(p, message, "v:1:1") for p in voters(50, 90_000)])  # warm up
        presses = [updates.callback(p, message, f"v:1:{1 + i % 3}") for i, p in enumerate(voters(count))]
        ours = _run(*await press_burst(bot, fakes, presses))
        stored = scalar(bot.database, "SELECT COUNT(*) FROM poll_votes") - 50
    bare = {http: await _bare_presses(folder / f"telegram-bare-{http}", fakes, count, http) for http in ("httpx", "aiohttp")}
    return {"ours": ours, "bare": bare["httpx"], "bare_aiohttp": bare["aiohttp"], "stored": stored}


async def _bare_presses(folder: Path, fakes: Fakes, count: int, http: str) -> Run:
    bare_bot = Bot(folder, fakes, program=BARE_BOT, program_args=(http,))
    with bare_bot.running():
        updates = Updates()
        message = {"message_id": 1, "chat": GROUP, "date": 0, "text": "Which flavour?"}
        await press_burst(bare_bot, fakes, [updates.callback(p, message, "v:1:1") for p in voters(50, 90_000)])
        presses = [updates.callback(p, message, f"v:1:{1 + i % 3}") for i, p in enumerate(voters(count))]
        return _run(*await press_burst(bare_bot, fakes, presses))


# --- WhatsApp -----------------------------------------------------------------------------------


def twilio_post(sender: str, body: str, path: str = "/twilio/whatsapp") -> bytes:
    params = {
        "MessageSid": "SM" + uuid4().hex,
        "AccountSid": ACCOUNT,
        "From": sender,
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
        "ProfileName": "",
        "WaId": sender.removeprefix("whatsapp:+"),
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, params)
    return http_request(path, urlencode(params).encode(), {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


def whatsapp_members(count: int) -> list[str]:
    """Members from Poland, Indonesia and the UK (the country code sets their language)."""
    prefixes = ("+4860", "+62812", "+44770")
    return [f"whatsapp:{prefixes[i % 3]}{i:07d}" for i in range(count)]


async def whatsapp_say(bot: Bot, sender: str, body: str) -> None:
    [sample] = await blast(bot.url, [twilio_post(sender, body)], connections=1)
    if sample.status != 200:
        raise RuntimeError(f"WhatsApp webhook answered {sample.status} to {body!r}")


async def whatsapp_community(bot: Bot, members: list[str]) -> None:
    """A WhatsApp-only community: the organiser creates it, the members join by code, a poll starts."""
    await whatsapp_say(bot, WHATSAPP_ORGANISER, "/newcommunity Bench Estate")
    code = scalar(bot.database, "SELECT join_code FROM communities WHERE name = 'Bench Estate'")
    joins = await blast(bot.url, [twilio_post(m, f"JOIN {code}") for m in members], connections=8)
    if any(s.status != 200 for s in joins):
        raise RuntimeError("a JOIN was not accepted")
    await whatsapp_say(bot, WHATSAPP_ORGANISER, "/poll Which flavour? | Mango | Lime | Ginger")


def _answered(samples: list[Sample]) -> dict[int, float]:
    return {s.index: s.done for s in samples if s.status == 200}


async def whatsapp_webhook(folder: Path, fakes: Fakes, count: int) -> dict[str, Any]:
    members = whatsapp_members(count)
    bot = Bot(folder / "whatsapp-localbot", fakes, organisers=WHATSAPP_ORGANISER)
    with bot.running():
        await whatsapp_community(bot, members)
        posts = [twilio_post(m, str(1 + i % 3)) for i, m in enumerate(members)]
        cpu_before = bot.cpu_seconds()
        samples = await blast(bot.url, posts, connections=TELEGRAM_CONNECTIONS)
        ours = _run(samples, _answered(samples), bot.cpu_seconds() - cpu_before)
        stored = scalar(bot.database, "SELECT COUNT(*) FROM poll_votes")
    bare_bot = Bot(folder / "whatsapp-bare", fakes, program=BARE_BOT)
    with bare_bot.running():
        posts = [twilio_post(m, str(1 + i % 3)) for i, m in enumerate(members)]
        samples = await blast(bare_bot.url, posts, connections=TELEGRAM_CONNECTIONS)
        bare = _run(samples, _answered(samples))
    return {"ours": ours, "bare": bare, "stored": stored}
