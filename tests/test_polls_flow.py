"""Quick polls end to end through the core: create, vote, change, results, close, deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from localbot.polls import store
from localbot.replies import Edit, Picture, Text
from tests.helpers import Harness, ack, choices, only, texts


async def test_create_vote_change_results_and_close(bot: Harness) -> None:
    poll_msg = choices(await bot.send("/poll Where do we meet? | Kiosk | Library | Park"))
    assert poll_msg.key == "poll:1"
    assert [o.label for o in poll_msg.options] == ["Kiosk", "Library", "Park"]
    assert "Poll #1: Where do we meet?" in poll_msg.text

    assert ack(await bot.pick("v:1:1", "bartek")) == "Your vote: Kiosk"
    assert ack(await bot.pick("v:1:2", "celina")) == "Your vote: Library"
    assert ack(await bot.pick("v:1:2", "bartek")) == "Changed your vote to Library."
    assert ack(await bot.pick("v:1:2", "bartek")) == "You already voted for Library."

    results = texts(await bot.send("/results"))
    assert "2 · 100%" in results and "2 people voted." in results
    assert "Celina, Bartek" in results  # named poll shows who voted, in order of voting

    closing = texts(await bot.send("/close"))
    assert "Poll #1 is closed" in closing and "Most chosen: Library (100%)" in closing
    assert ack(await bot.pick("v:1:1", "dorota")) == "Poll #1 is closed; votes are no longer counted."
    poll = store.get_poll(bot.core.db, 1)
    assert poll is not None and store.tally(bot.core.db, poll).voters == 2


async def test_numbers_vote_where_there_are_no_buttons(bot: Harness) -> None:
    await bot.send("/poll Lunch? | Pizza | Soup")
    assert ack(await bot.send("2", "bartek")) == "Your vote: Soup"
    assert texts(await bot.send("5", "bartek")) == "Please answer with a number from 1 to 2."
    assert "1 person voted." in texts(await bot.send("/results"))


async def test_multiple_choice_toggles(bot: Harness) -> None:
    await bot.send("/poll --multi Snacks? | Kefir | Bread | Oat milk")
    assert ack(await bot.pick("v:1:1", "bartek")) == "Added Kefir. Your choices: Kefir"
    assert ack(await bot.pick("v:1:3", "bartek")) == "Added Oat milk. Your choices: Kefir, Oat milk"
    assert ack(await bot.pick("v:1:1", "bartek")) == "Removed Kefir. Your choices: Oat milk"
    assert ack(await bot.pick("v:1:3", "bartek")) == "Removed Oat milk. You have no choices in this poll now."
    assert "Nobody has voted yet." in texts(await bot.send("/results"))


async def test_flags_after_the_options_work_too(bot: Harness) -> None:
    poll_msg = choices(await bot.send("/poll Lunch? | Pizza | Sushi --multi --anon"))
    assert [o.label for o in poll_msg.options] == ["Pizza", "Sushi"]
    assert "Multiple choice" in poll_msg.text and "anonymous" in poll_msg.text


async def test_anonymous_poll_never_reveals_voters(bot: Harness) -> None:
    await bot.send("/poll --anon Secret? | Yes | No")
    await bot.pick("v:1:1", "bartek")
    await bot.pick("v:1:2", "celina")
    await bot.pick("v:1:1", "celina")  # a changed anonymous vote is still recognised as hers
    results = texts(await bot.send("/results"))
    assert "Bartek" not in results and "Celina" not in results
    assert "2 people voted." in results
    stored = list(bot.core.db.query("SELECT member_id, voter_key, created_at FROM poll_votes"))
    assert len(stored) == 2
    assert all(row["member_id"] is None for row in stored)
    assert all(row["voter_key"].startswith("a:") for row in stored)
    assert all(row["created_at"].endswith(":00:00.000Z") for row in stored)  # kept only to the hour
    # neither the keys nor anything else in the database names a member
    refs = {m["ref"] for m in bot.core.db.query("SELECT ref FROM members")}
    assert not any(ref in row["voter_key"] for row in stored for ref in refs)


async def test_live_counts_are_edits_coalesced_in_the_outbox(bot: Harness) -> None:
    await bot.send("/poll Lunch? | Pizza | Soup")
    for index in range(20):
        await bot.pick("v:1:1", f"voter{index}")
    edits = [r for r in bot.core.db.query("SELECT * FROM outbox WHERE purpose = 'live'")]
    # the console cannot edit messages: no live edits are queued for it at all
    assert edits == []


async def test_only_organisers_create_and_close(bot: Harness) -> None:
    assert texts(await bot.send("/poll Q? | A | B", "bartek")) == "Only organisers can use /poll."
    await bot.send("/poll Q? | A | B")
    assert texts(await bot.send("/close", "bartek")) == "Only organisers can use /close."
    poll = store.get_poll(bot.core.db, 1)
    assert poll is not None and poll.is_open


async def test_deadline_closes_through_the_scheduler_and_reports_back(bot: Harness) -> None:
    poll_msg = choices(await bot.send("/poll --until 2h Lunch? | Pizza | Soup"))
    assert "closes" in poll_msg.text
    await bot.pick("v:1:2", "bartek")
    assert await bot.wait(timedelta(hours=1)) == 0
    assert await bot.wait(timedelta(hours=1, minutes=1)) == 2  # the deadline, and the outbox's tidying (every ten minutes)
    delivered = await bot.outbox()
    final = [o for o in delivered if o.purpose == "results"]
    assert [o.chat_ref for o in final] == ["console:group", "console:group"]  # the text, then its chart
    assert "Poll #1 is closed" in final[0].reply.text and "Most chosen: Soup" in final[0].reply.text
    assert isinstance(final[1].reply, Picture) and final[1].reply.data.startswith(b"\x89PNG")
    assert texts(await bot.send("/close")) == "There is no open poll to close."


async def test_manual_close_cancels_the_deadline_job(bot: Harness) -> None:
    await bot.send("/poll --until 1d Lunch? | Pizza | Soup")
    await bot.send("/close")
    assert await bot.wait(timedelta(days=2)) == 0  # cancelled, nothing runs twice


async def test_close_a_named_poll_and_polls_list(bot: Harness) -> None:
    await bot.send("/poll First? | A | B")
    await bot.send("/poll Second? | C | D")
    listing = texts(await bot.send("/polls"))
    assert "#1 First?" in listing and "#2 Second?" in listing
    assert "Poll #1 is closed" in texts(await bot.send("/close 1"))
    assert "Poll #1 is already closed." == texts(await bot.send("/close 1"))
    assert "There is no poll #9." == texts(await bot.send("/close 9"))
    assert "Please give a poll number, for example 3." == texts(await bot.send("/results abc"))
    assert "#1" not in texts(await bot.send("/polls"))


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/poll Where?", "A poll needs at least two options"),
        ("/poll Where? | Kiosk", "A poll needs at least two options"),
        ("/poll Where? | Kiosk | | Park", "Option 2 is empty"),
        ("/poll Where? | Kiosk | kiosk", "“kiosk” is listed twice"),
        ("/poll " + "Q" * 301 + " | A | B", "The question is too long (301 characters)"),
        ("/poll Where? | " + "x" * 101 + " | B", "is too long. Please keep each option under 100 characters"),
        ("/poll Where? | " + " | ".join(f"o{i}" for i in range(13)), "at most 12 options; this one has 13"),
        ("/poll --weird Where? | A | B", "I don't know the option --weird"),
        ("/poll --until Where? | A | B", "I couldn't read the deadline “Where?”"),
        ("/poll --until 2020-01-01 Where? | A | B", "already in the past"),
        ("/poll --until 2y Where? | A | B", "I couldn't read the deadline"),
        ("/poll --until 500d Where? | A | B", "more than a year away"),
        ("/poll | A | B", "Please write a question"),
    ],
)
async def test_wrong_polls_are_explained_and_change_nothing(bot: Harness, command: str, expected: str) -> None:
    reply = only(await bot.send(command))
    assert isinstance(reply, Text)
    assert expected in reply.text
    assert bot.core.db["polls"].count == 0


async def test_votes_on_unknown_polls_and_options(bot: Harness) -> None:
    assert ack(await bot.pick("v:99:1", "bartek")) == "I can't find that poll any more."
    assert ack(await bot.pick("v:x:1", "bartek")) == "I can't find that poll any more."
    await bot.send("/poll Q? | A | B")
    assert ack(await bot.pick("v:1:7", "bartek")) == "That option is not part of poll #1."
    assert ack(await bot.pick("zz:1", "bartek")) == "This button no longer works."
    assert bot.core.db["poll_votes"].count == 0


async def test_results_and_close_without_polls(bot: Harness) -> None:
    assert texts(await bot.send("/results")) == "There are no polls yet. Organisers start one with /poll."
    assert texts(await bot.send("/close")) == "There is no open poll to close."
    assert texts(await bot.send("/polls")) == "There are no open polls."


async def test_poll_message_lists_live_counts_where_edits_exist(bot: Harness) -> None:
    from localbot.adapters.base import DEFAULT_CAPABILITIES
    from localbot.community import store as community_store
    from localbot.community.model import ChannelKind
    from tests.helpers import RecordingAdapter

    telegram = RecordingAdapter("telegram", DEFAULT_CAPABILITIES["telegram"])
    bot.core.attach(telegram)
    with bot.core.db.atomic():
        community_store.add_channel(
            bot.core.db, community_id=bot.community().id, messenger="telegram", kind=ChannelKind.GROUP,
            chat_ref="telegram:-100", title="Sunny Estate TG", now=bot.clock.now(),
        )
    await bot.send("/poll Lunch? | Pizza | Soup")
    await bot.outbox()
    assert [o.chat_ref for o in telegram.take()] == ["telegram:-100"]  # the announcement
    for index in range(30):
        await bot.pick("v:1:1", f"voter{index}")
    pending = list(bot.core.db.query("SELECT * FROM outbox WHERE purpose = 'live' AND state = 'pending'"))
    assert len(pending) == 1  # thirty votes, one pending edit
    await bot.outbox()
    delivered = telegram.take()
    assert len(delivered) == 1 and isinstance(delivered[0].reply, Edit)
    assert "30 people voted." in delivered[0].reply.text
    await bot.pick("v:1:2", "late")
    await bot.outbox()
    assert telegram.take() == []  # the next edit waits out the minimum interval
    bot.clock.advance(timedelta(seconds=3))
    await bot.outbox()
    later = telegram.take()
    assert len(later) == 1 and "31 people voted." in later[0].reply.text
