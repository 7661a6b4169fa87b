"""The Telegram adapter's building blocks on their own: pacing, ordering, fitting texts, settings."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from localbot.adapters.base import RetryLater, Undeliverable
from localbot.adapters.telegram import (
    ChatPacer,
    SenderOrder,
    TelegramAdapter,
    file_url_for,
    keyboard,
    shorten,
    split_text,
    telegram_length,
)
from localbot.adapters.web import build_app
from localbot.replies import Option
from localbot.settings import SettingsError, load_settings
from tests.fakes.telegram_api import LocalServer
from tests.telegram_env import GROUP_ID, running

# --- pacing ---------------------------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_pacer_allows_a_short_burst_then_one_message_a_second_per_chat() -> None:
    ticks = Ticks()
    pacer = ChatPacer(interval=1.0, burst=3, clock=ticks)
    assert [pacer.reserve(-1) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert pacer.reserve(-2) == 0.0  # another chat has its own pace
    ticks.now += 10  # a quiet spell refills the burst
    assert [pacer.reserve(-1) for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    ticks.now += 0.5
    assert pacer.reserve(-1) == pytest.approx(1.5)


def test_the_pacer_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        ChatPacer(interval=-1)
    with pytest.raises(ValueError):
        ChatPacer(burst=0)


async def test_messages_to_one_chat_are_paced_through_the_adapter(tmp_path: Path) -> None:
    from localbot import outbox
    from localbot.replies import Text

    async with running(tmp_path, "polling", pacer=ChatPacer(interval=0.2, burst=2)) as env:
        now = env.core.clock.now()
        with env.core.db.atomic():
            for n in range(5):
                outbox.enqueue(env.core.db, chat_ref=f"telegram:{GROUP_ID}", reply=Text(text=f"Message {n}"), now=now)
        env.core.wake()
        sent = await env.api.wait_for("sendMessage", chat_id=GROUP_ID, count=5)
        gaps = [later.at - earlier.at for earlier, later in zip(sent, sent[1:], strict=False)]
        assert [c["text"] for c in sent] == [f"Message {n}" for n in range(5)]
        assert gaps[0] < 0.15 and all(gap > 0.15 for gap in gaps[1:]), gaps


# --- ordering ---------------------------------------------------------------------------------------


def message_update(update_id: int, chat_id: int, user_id: int) -> Update:
    data = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "group", "title": "G"},
            "from": {"id": user_id, "is_bot": False, "first_name": "U"},
            "text": "hi",
        },
    }
    return Update.de_json(data, None)


async def test_updates_run_concurrently_but_in_order_per_member_and_chat() -> None:
    processor = SenderOrder(8)
    log: list[str] = []

    async def work(name: str, delay: float) -> None:
        log.append(f"{name} starts")
        await asyncio.sleep(delay)
        log.append(f"{name} ends")

    started = time.monotonic()
    await asyncio.gather(
        processor.process_update(message_update(1, -5, 1), work("anna 1", 0.2)),
        processor.process_update(message_update(2, -5, 1), work("anna 2", 0.0)),
        processor.process_update(message_update(3, -5, 2), work("bartek", 0.0)),
    )
    assert time.monotonic() - started < 0.35
    assert log.index("anna 2 starts") > log.index("anna 1 ends")  # Anna's second waits for her first
    assert log.index("bartek ends") < log.index("anna 1 ends")  # Bartek does not wait for Anna
    assert processor._locks == {}  # nothing kept once idle


# --- texts that fit ---------------------------------------------------------------------------------


def test_lengths_are_counted_as_telegram_counts_them() -> None:
    assert telegram_length("abc") == 3
    assert telegram_length("📊 Poll") == 7  # the emoji is two UTF-16 code units
    assert telegram_length("zażółć") == 6


def test_long_texts_split_at_line_ends_and_never_exceed_the_limit() -> None:
    text = "\n".join(f"{i:03d} " + "📊" * 10 for i in range(100))
    parts = split_text(text, limit=200)
    assert all(telegram_length(p) <= 200 for p in parts)
    assert "\n".join(parts) == text
    assert split_text("") == [] and split_text("short") == ["short"]
    unbroken = "x" * 450
    assert [len(p) for p in split_text(unbroken, limit=200)] == [200, 200, 50]


def test_a_text_that_must_stay_one_message_is_shortened_with_a_note() -> None:
    text = "\n".join(f"Line {i}" for i in range(100))
    short = shorten(text, 100, "(shortened)")
    assert telegram_length(short) <= 100 and short.startswith("Line 0\nLine 1") and short.endswith("…\n(shortened)")
    assert shorten("fits", 100, "(shortened)") == "fits"


def test_choices_become_rows_of_buttons_with_the_payload_as_callback_data() -> None:
    options = [Option(str(n), f"v:1:{n}") for n in range(1, 6)]
    markup = keyboard(options, columns=2)
    assert markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows == [[("1", "v:1:1"), ("2", "v:1:2")], [("3", "v:1:3"), ("4", "v:1:4")], [("5", "v:1:5")]]
    assert keyboard([], 3) is None
    assert len(keyboard(options, columns=40).inline_keyboard[0]) == 5  # type: ignore[union-attr]


def test_the_file_url_follows_the_api_url() -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    assert file_url_for("https://api.telegram.org/bot{token}/test") == "https://api.telegram.org/file/bot{token}/test"


# --- failures and settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RetryAfter(7), RetryLater(timedelta(seconds=7), "")),
        (TimedOut(), RetryLater(timedelta(seconds=4), "")),
        (NetworkError("connection reset"), RetryLater(timedelta(seconds=4), "")),
        (Forbidden("Forbidden: bot was blocked by the user"), Undeliverable("")),
        (BadRequest("Bad Request: chat not found"), Undeliverable("")),
    ],
)
def test_telegram_errors_map_to_retry_or_give_up(error: Any, expected: Any) -> None:
    result = TelegramAdapter._failure(error, attempts=3)
    assert type(result) is type(expected)
    if isinstance(expected, RetryLater):
        assert result.after == expected.after  # type: ignore[union-attr]


def test_a_malformed_webhook_secret_is_refused_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALBOT_TELEGRAM__SECRET_TOKEN", "not allowed!")
    with pytest.raises(SettingsError, match="LOCALBOT_TELEGRAM__SECRET_TOKEN"):
        load_settings()
    monkeypatch.setenv("LOCALBOT_TELEGRAM__SECRET_TOKEN", "x" * 257)
    with pytest.raises(SettingsError, match="1-256 characters"):
        load_settings()
    monkeypatch.setenv("LOCALBOT_TELEGRAM__SECRET_TOKEN", "Good_secret-123")
    assert load_settings().telegram.secret_token is not None


async def test_without_a_webhook_there_is_no_webhook_route(tmp_path: Path) -> None:
    import httpx

    async with running(tmp_path, "polling") as env:
        assert env.adapter.routes() == []
        web = LocalServer(build_app(env.core, [env.adapter]))
        url = await web.start()
        try:
            async with httpx.AsyncClient() as http:
                assert (await http.post(f"{url}/telegram", json={"update_id": 1})).status_code == 404
        finally:
            await web.stop()
