"""One community, two messengers: a poll in the group chat, votes from the group and from WhatsApp
members, one merged result delivered to both.

WhatsApp traffic is real protocol traffic (signed webhooks in, the fake Twilio API out). The group
is either the console's (the harness) or a real Telegram group: python-telegram-bot against the
fake Bot API, with the WhatsApp adapter attached to the same core, as ``localbot run`` does when
both messengers are configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from localbot.polls import store as polls
from tests.fakes.whatsapp_rig import ENGLISH, POLISH, WhatsAppRig, whatsapp_rig
from tests.helpers import ack, texts


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[WhatsAppRig]:
    async with whatsapp_rig(tmp_path) as made:
        yield made


async def test_a_group_poll_merges_votes_from_the_group_and_whatsapp(rig: WhatsAppRig) -> None:
    group = rig.console
    await rig.join(ENGLISH, name="Emma")
    await rig.join(POLISH, name="Ola")

    await group.send("/poll Where do we meet? | Kiosk | Library | Park")
    assert (await rig.reply(ENGLISH)).startswith("📊 Poll #1: Where do we meet?")
    assert (await rig.reply(POLISH)).startswith("📊 Głosowanie nr 1: Where do we meet?")

    assert ack(await group.send("1", "bartek")) == "Your vote: Kiosk"
    assert ack(await group.send("2", "celina")) == "Your vote: Library"
    await rig.say(ENGLISH, "2")
    await rig.say(POLISH, "Library", ButtonPayload="v:1:2", ButtonText="Library")
    assert await rig.replies(ENGLISH) == ["✓ Your vote: Library"]
    assert await rig.replies(POLISH) == ["✓ Twój głos: Library"]

    closing = texts(await group.send("/close"))
    assert "Poll #1 is closed: Where do we meet?" in closing and "Most chosen: Library (75%)" in closing
    assert "4 people voted." in closing and "Emma" in closing and "Ola" in closing

    english, polish = await rig.reply(ENGLISH), await rig.reply(POLISH)
    assert english == closing  # the same merged tally, in Emma's language
    assert "Najczęściej wybierane: Library (75%)" in polish and "Zagłosowały 4 osoby." in polish
    assert [o for o in group.adapter.take() if o.purpose == "results"] == []  # the group had it as the reply

    poll = polls.get_poll(rig.core.db, 1)
    assert poll is not None
    channels = sorted(row["channel"] for row in rig.core.db.query("SELECT channel FROM poll_votes"))
    assert channels == ["console", "console", "whatsapp", "whatsapp"]
    assert await rig.replies(ENGLISH) == [] and await rig.replies(POLISH) == []  # each got it once


async def test_an_organiser_on_whatsapp_starts_a_poll_step_by_step_and_the_group_gets_it(rig: WhatsAppRig) -> None:
    rig.core.settings.organisers.append(ENGLISH)
    await rig.join(ENGLISH, name="Emma")
    for answer in ("/poll", "Lunch on Friday?", "Pizza", "Soup | Salad", "1", "1", "1", "1"):
        await rig.say(ENGLISH, answer)
    confirm = (await rig.replies(ENGLISH))[-1]
    assert confirm.startswith("Here is your poll for Sunny Estate:") and confirm.endswith("1) Post it\n2) Cancel\nReply with a number from 1 to 2.")
    await rig.say(ENGLISH, "1")
    posted = await rig.replies(ENGLISH)
    assert posted[0] == "Posted to Sunny Estate. You can vote here too:" and posted[1].startswith("📊 Poll #1: Lunch on Friday?")
    (announcement,) = [o for o in rig.console.adapter.take() if o.purpose == "poll"]
    assert announcement.chat_ref == "console:group" and [o.label for o in announcement.reply.options] == ["Pizza", "Soup", "Salad"]  # type: ignore[union-attr]
    assert ack(await rig.console.send("3", "bartek")) == "Your vote: Salad"
    await rig.say(ENGLISH, "3")
    assert await rig.replies(ENGLISH) == ["✓ Your vote: Salad"]


@dataclass
class TwoMessengers:
    """A Telegram group (python-telegram-bot against the fake Bot API) and WhatsApp members (signed
    webhooks, the fake Twilio API) in one community, as ``localbot run`` serves them."""

    tg: Any
    twilio: Any
    web: httpx.AsyncClient

    async def whatsapp_says(self, address: str, body: str, **fields: str) -> None:
        from tests.fakes.whatsapp_rig import ACCOUNT, PUBLIC, SENDER, sign

        params = {"MessageSid": "SM" + uuid4().hex, "AccountSid": ACCOUNT, "From": address, "To": SENDER,
                  "Body": body, "NumMedia": "0", "ProfileName": fields.pop("name", ""), **fields}
        response = await self.web.post("/twilio/whatsapp", data=params,
                                       headers={"X-Twilio-Signature": sign(PUBLIC + "/twilio/whatsapp", params)})
        assert response.status_code == 200, response.text

    async def received(self, address: str, count: int) -> list[str]:
        async with asyncio.timeout(10):
            while len(self.twilio.to(address)) < count:
                await asyncio.sleep(0.02)
        return [m.text for m in self.twilio.to(address)]


@contextlib.asynccontextmanager
async def telegram_and_whatsapp(tmp_path: Path) -> AsyncIterator[TwoMessengers]:
    """Anna (a group admin) starts the community in the Telegram group; Emma and Ola join it on WhatsApp."""
    from localbot.adapters.web import build_app
    from localbot.adapters.whatsapp import WhatsAppAdapter
    from localbot.settings import TwilioSettings
    from tests.fakes.twilio_api import FakeTwilioApi
    from tests.fakes.whatsapp_rig import ACCOUNT, PUBLIC, SENDER, TOKEN
    from tests.telegram_env import ANNA, GROUP_ID, running

    async with FakeTwilioApi(ACCOUNT, TOKEN, lambda: datetime.now(UTC)) as twilio:
        whatsapp_settings = TwilioSettings.model_validate(
            {"account_sid": ACCOUNT, "auth_token": TOKEN, "whatsapp_from": SENDER, "public_url": PUBLIC,
             "api_url": twilio.base_url, "messages_per_second": 1000}
        )
        async with running(tmp_path, "polling", twilio=whatsapp_settings) as tg:
            tg.api.set_status(GROUP_ID, ANNA.id, "administrator")
            whatsapp = WhatsAppAdapter(tg.core.settings, tg.core)
            tg.core.attach(whatsapp)
            transport = httpx.ASGITransport(app=build_app(tg.core, [tg.adapter, whatsapp]))
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as web:
                both = TwoMessengers(tg, twilio, web)
                # The Telegram group becomes a community on its first message; WhatsApp members join it by code.
                await tg.say(ANNA, "/polls")
                await tg.next_messages(GROUP_ID)  # "There are no open polls." — the group is linked now
                code = tg.community().join_code
                await both.whatsapp_says(ENGLISH, f"JOIN {code}", name="Emma")
                await both.whatsapp_says(POLISH, f"JOIN {code}", name="Ola")
                await both.received(ENGLISH, 1)
                await both.received(POLISH, 1)
                yield both
            await whatsapp.stop()


async def test_one_poll_across_a_telegram_group_and_whatsapp_members(tmp_path: Path) -> None:
    from tests.telegram_env import ANNA, BARTEK, CITRA, GROUP_ID

    async with telegram_and_whatsapp(tmp_path) as both:
        tg, twilio, received, whatsapp_says = both.tg, both.twilio, both.received, both.whatsapp_says
        await tg.say(ANNA, "/poll Where do we meet? | Kiosk | Library | Park")
        [poll] = await tg.next_messages(GROUP_ID)
        assert poll["text"].startswith("📊 Poll #1: Where do we meet?")
        assert (await received(ENGLISH, 2))[-1].startswith("📊 Poll #1: Where do we meet?")
        assert (await received(POLISH, 2))[-1].startswith("📊 Głosowanie nr 1: Where do we meet?")

        message = tg.api.message(GROUP_ID, poll.result["message_id"])
        await tg.answered(await tg.press(BARTEK, message, "v:1:1"))
        await tg.answered(await tg.press(CITRA, message, "v:1:2"))
        await whatsapp_says(ENGLISH, "2")
        await whatsapp_says(POLISH, "Library", ButtonPayload="v:1:2", ButtonText="Library")
        assert (await received(ENGLISH, 3))[-1] == "✓ Your vote: Library"
        assert (await received(POLISH, 3))[-1] == "✓ Twój głos: Library"

        await tg.say(ANNA, "/close")
        [closing] = await tg.next_messages(GROUP_ID)
        assert "Poll #1 is closed: Where do we meet?" in closing["text"]
        assert "Most chosen: Library (75%)" in closing["text"] and "4 people voted." in closing["text"]
        english = (await received(ENGLISH, 4))[-1]
        polish = (await received(POLISH, 4))[-1]
        assert english == closing["text"]  # one merged result, the same in the group and on WhatsApp
        assert "Najczęściej wybierane: Library (75%)" in polish and "Zagłosowały 4 osoby." in polish
        await tg.outbox_idle()
        assert len(twilio.to(ENGLISH)) == 4 and len(twilio.to(POLISH)) == 4  # each message once
        channels = sorted(row["channel"] for row in tg.core.db.query("SELECT channel FROM poll_votes"))
        assert channels == ["telegram", "telegram", "whatsapp", "whatsapp"]


async def test_an_anonymous_poll_does_not_give_away_the_lone_whatsapp_voter(tmp_path: Path) -> None:
    """Three votes in the Telegram group and Emma's, the only one from WhatsApp: nothing in the
    database, the export, the dashboard or /mydata tells which vote was hers, or who voted first."""
    from collections import Counter

    from tests.telegram_env import ANNA, BARTEK, CITRA, GROUP_ID
    from tests.test_console import localbot

    async with telegram_and_whatsapp(tmp_path) as both:
        tg = both.tg
        await tg.say(ANNA, "/poll --anon Which day? | Monday | Tuesday | Friday")
        [poll] = await tg.next_messages(GROUP_ID)
        message = tg.api.message(GROUP_ID, poll.result["message_id"])
        await tg.answered(await tg.press(BARTEK, message, "v:1:2"))  # cast in the order 2, 1, 2, 3
        await both.whatsapp_says(ENGLISH, "1")
        assert (await both.received(ENGLISH, 3))[-1] == "✓ Your vote: Monday"
        await tg.answered(await tg.press(CITRA, message, "v:1:2"))
        await tg.answered(await tg.press(ANNA, message, "v:1:3"))

        stored = tg.core.db.execute("SELECT id, channel, member_id FROM poll_votes ORDER BY id").fetchall()
        assert [(channel, member) for _id, channel, member in stored] == [("", None)] * 4  # no messenger, no member
        assert all(ident > 2**20 for ident, _channel, _member in stored)  # random row ids, not 1, 2, 3, 4 in voting order

        done = localbot("--db", str(tg.core.settings.database), "export", "polls", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        rows = list(csv.DictReader(io.StringIO(done.stdout)))
        assert [r["option"] for r in rows] == ["Monday", "Tuesday", "Tuesday", "Friday"]  # by option, not by vote
        assert {(r["voter"], r["channel"]) for r in rows} == {("", "")}
        assert len({r["time"] for r in rows}) == 1 and rows[0]["time"].endswith(":00:00Z")  # the hour only
        exported = Counter(r["option"] for r in rows)

        await tg.say(ANNA, "/results")
        results = (await tg.next_messages(GROUP_ID))[0]
        shown = results["text"] if "text" in results.result else results["caption"]
        assert "4 people voted." in shown and "Emma" not in shown and "Bartek" not in shown
        counted = {r["option"]: r["votes"] for r in tg.core.db.query("SELECT option, votes FROM poll_option_counts WHERE poll = 1")}
        assert counted == {"Monday": 1, "Tuesday": 2, "Friday": 1} == dict(exported)  # the dashboard's counts
        assert list(tg.core.db.query("SELECT * FROM named_votes")) == []

        await both.whatsapp_says(ENGLISH, "/mydata")
        await both.received(ENGLISH, 4)
        sent = both.twilio.to(ENGLISH)[-1]
        links = sent.media_urls or re.findall(r"https://\S+", sent.body or "")
        mine = json.loads((await both.web.get(links[-1])).content)
        assert mine["polls"]["votes"] == [] and "Monday" not in json.dumps(mine["polls"], ensure_ascii=False)
