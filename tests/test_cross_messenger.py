"""One community, two messengers: a poll in the group chat, votes from the group and from WhatsApp
members, one merged result delivered to both.

The group here is the console's; the same test with a Telegram group follows once the Telegram
adapter is merged. WhatsApp traffic is real protocol traffic (signed webhooks in, the fake Twilio
API out), the group side is the console harness.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

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
