"""The outbox: queued messages are delivered in order, retried, coalesced, never lost."""

from __future__ import annotations

from datetime import timedelta

from localbot import outbox
from localbot.adapters.base import RetryLater, Sent, Undeliverable
from localbot.clock import ManualClock
from localbot.core import Core
from localbot.replies import Edit, Text
from tests.helpers import RecordingAdapter


class FlakyAdapter(RecordingAdapter):
    def __init__(self, script: list[object]) -> None:
        super().__init__("console")
        self.script = script

    async def deliver(self, item):  # type: ignore[no-untyped-def]
        self.delivered.append(item)
        result = self.script.pop(0) if self.script else Sent("ok")
        if isinstance(result, Exception):
            raise result
        return result


def queue(db, clock: ManualClock, chat: str, text: str, **kw) -> None:  # type: ignore[no-untyped-def]
    with db.atomic():
        outbox.enqueue(db, chat_ref=chat, reply=Text(text=text), now=clock.now(), **kw)


async def test_delivery_keeps_order_within_a_chat_and_retries(core: Core, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    adapter = FlakyAdapter([RetryLater(timedelta(seconds=5), "429"), Sent("1"), Sent("2")])
    core.attach(adapter)
    queue(db, clock, "console:a", "one")
    queue(db, clock, "console:a", "two")
    assert await core.deliver_pending() == 2
    assert [i.reply.text for i in adapter.take()] == ["one"]  # "two" waits behind "one"
    assert await core.deliver_pending() == 0
    clock.advance(timedelta(seconds=5))
    await core.deliver_pending()
    assert [i.reply.text for i in adapter.take()] == ["one", "two"]
    states = [r["state"] for r in db.query("SELECT state FROM outbox ORDER BY id")]
    assert states == ["sent", "sent"]


async def test_adapter_crash_is_a_retry_and_permanent_failure_is_recorded(core: Core, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    adapter = FlakyAdapter([ConnectionError("reset"), Undeliverable("bot was blocked")])
    core.attach(adapter)
    queue(db, clock, "console:a", "hello")
    queue(db, clock, "console:b", "hi")
    await core.deliver_pending()
    rows = {r["chat_ref"]: r for r in db.query("SELECT * FROM outbox")}
    assert rows["console:a"]["state"] == "pending" and "reset" in rows["console:a"]["last_error"]
    assert rows["console:b"]["state"] == "failed" and rows["console:b"]["last_error"] == "bot was blocked"


async def test_dedupe_key_queues_once(db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    queue(db, clock, "console:a", "x", dedupe_key="reminder:1")
    queue(db, clock, "console:a", "x", dedupe_key="reminder:1")
    assert db["outbox"].count == 1


async def test_coalescing_replaces_pending_edits_and_spaces_them(core: Core, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    adapter = RecordingAdapter("console")
    core.attach(adapter)
    for count in range(5):
        with db.atomic():
            outbox.enqueue(db, chat_ref="console:g", reply=Edit(key="poll:1", text=f"{count} votes"), now=clock.now(),
                           coalesce_key="g|poll:1", min_interval=timedelta(seconds=3))
    assert db["outbox"].count == 1
    await core.deliver_pending()
    assert [i.reply.text for i in adapter.take()] == ["4 votes"]
    with db.atomic():
        outbox.enqueue(db, chat_ref="console:g", reply=Edit(key="poll:1", text="5 votes"), now=clock.now(),
                       coalesce_key="g|poll:1", min_interval=timedelta(seconds=3))
    await core.deliver_pending()
    assert adapter.take() == []
    clock.advance(timedelta(seconds=3))
    await core.deliver_pending()
    assert [i.reply.text for i in adapter.take()] == ["5 votes"]


async def test_sends_caught_mid_flight_are_recovered(core: Core, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    queue(db, clock, "console:a", "hello")
    outbox.claim(db, clock.now(), ["console"])  # the process died while sending
    adapter = RecordingAdapter("console")
    core.attach(adapter)
    assert await core.deliver_pending() == 0
    core.recover()
    await core.deliver_pending()
    assert [i.reply.text for i in adapter.take()] == ["hello"]


async def test_messages_for_messengers_not_running_wait(core: Core, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    core.attach(RecordingAdapter("console"))
    queue(db, clock, "whatsapp:+48600100200", "hello")
    assert await core.deliver_pending() == 0
    assert next(db.query("SELECT state FROM outbox"))["state"] == "pending"


async def test_gives_up_after_max_attempts(core: Core, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    adapter = FlakyAdapter([RetryLater(timedelta(seconds=1), "busy")] * (outbox.MAX_ATTEMPTS + 1))
    core.attach(adapter)
    queue(db, clock, "console:a", "hello")
    for _ in range(outbox.MAX_ATTEMPTS + 1):
        await core.deliver_pending()
        clock.advance(timedelta(minutes=10))
    assert next(db.query("SELECT state FROM outbox"))["state"] == "failed"
