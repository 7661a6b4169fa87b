"""Results as pictures and results always reported back: the poll chart on /results, /close and
/report, and every chat of a community told when a poll or a survey closes, whichever way it closed."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from localbot.replies import Choices, Picture, Text
from tests.helpers import Harness, choices, texts
from tests.organiser_helpers import OTHER, organiser_elsewhere, roster_community
from tests.survey_helpers import EXAMPLES


def pictures(replies: list) -> list[Picture]:  # type: ignore[type-arg]
    return [r for r in replies if isinstance(r, Picture)]


async def test_results_close_and_report_carry_the_chart(bot: Harness) -> None:
    await bot.send("/poll Where? | Kiosk | Library | Park")
    assert pictures(await bot.send("/results")) == []  # nobody voted: no empty chart
    await bot.pick("v:1:2", "bartek")
    await bot.pick("v:1:2", "celina")
    await bot.pick("v:1:1", "dorota")
    [chart] = pictures(await bot.send("/results"))
    assert chart.data.startswith(b"\x89PNG") and chart.filename == "poll-1.png"
    report = await bot.send("/report poll 1")
    assert "Results of poll #1 (open): Where?" in texts(report) and len(pictures(report)) == 1
    closing = await bot.send("/close")
    assert "Most chosen: Library (67%)" in texts(closing) and len(pictures(closing)) == 1
    await bot.send("/lang pl", "bartek")
    [polish] = pictures(await bot.send("/results 1", "bartek", chat=bot.private("bartek")))
    assert polish.data != chart.data  # drawn in the reader's language


async def test_report_lists_polls_with_surveys_and_keeps_to_the_community(bot: Harness) -> None:
    shutil.copytree(EXAMPLES, Path.cwd() / "config" / "surveys")
    await bot.send("/poll Lunch? | Pizza | Soup")
    await bot.send("/survey start coffee-habits")
    listing = (await bot.send("/report"))[0]
    assert isinstance(listing, Choices)
    assert sorted(o.payload for o in listing.options) == ["rp:poll:1", "rp:survey:1"]
    assert "Results of poll #1" in texts(await bot.pick("rp:poll:1"))
    await organiser_elsewhere(bot, "zofia")
    assert texts(await bot.send("/report poll", "zofia", chat=OTHER)) == "I found no report matching “poll”. Send /report to see them all."
    assert "can't find" in texts(await bot.pick("rp:poll:1", "zofia", chat=OTHER))  # Sunny Estate's poll, not hers
    assert texts(await bot.send("/report", "bartek")) == "Only organisers can use /report."


async def test_every_chat_hears_when_a_poll_or_a_survey_closes(bot: Harness) -> None:
    """Sunny Estate has its group chat; Oak Street reaches each member one to one. Both are told,
    by the deadline and by an organiser alike."""
    shutil.copytree(EXAMPLES, Path.cwd() / "config" / "surveys")
    anna = bot.private("anna")
    await roster_community(bot, "Oak Street", ("bartek", "celina"))
    await bot.send("/askbudget 10", chat=anna)
    await bot.send("/poll --until 1h Oak lunch? | Pizza | Soup", chat=anna)
    await bot.send("/survey start coffee-habits --until 2h", chat=anna)
    await bot.outbox()
    await bot.wait(timedelta(hours=3))
    results = [o for o in await bot.outbox() if o.purpose == "results"]
    for member in ("console:anna", "console:bartek", "console:celina"):
        told = [o.reply.text for o in results if o.chat_ref == member and isinstance(o.reply, Text)]
        assert any("Poll #1 is closed: Oak lunch?" in text for text in told), member
        assert any("Coffee habits" in text for text in told), member
    assert not [o for o in results if isinstance(o.reply, Picture)]  # one to one: the text's bars, no picture each

    await bot.send("/poll Sunny lunch? | Pizza | Soup")  # in Sunny Estate's group
    await bot.send("/survey start coffee-habits")
    await bot.send("/close")
    await bot.send("/survey stop 1")
    group = [o for o in await bot.outbox() if o.purpose == "results"]
    assert group == []  # closed from the group itself: the group got the result as the reply
    later = choices(await bot.send("/poll --until 1h Later? | Yes | No"))
    await bot.pick(later.options[0].payload, "dorota")
    await bot.wait(timedelta(hours=2))
    posted = [o for o in await bot.outbox() if o.purpose == "results"]
    assert [o.chat_ref for o in posted] == ["console:group", "console:group"]
    assert "Poll #2 is closed: Later?" in posted[0].reply.text and isinstance(posted[1].reply, Picture)
