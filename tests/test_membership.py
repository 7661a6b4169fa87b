"""Joining communities by code, leaving, switching and inviting, through the real core (console)."""

from __future__ import annotations

import pytest

from localbot.community import store as community_store
from localbot.community.invite import looks_like_code, normalise_code, whatsapp_link
from localbot.community.model import ChannelKind
from localbot.handlers.membership import is_join, is_leave
from localbot.replies import Picture
from tests.helpers import Harness, ack, choices, texts


def code_of(bot: Harness) -> str:
    code = bot.community().join_code
    assert code
    return code


def rosters(bot: Harness, community_id: int) -> list[str]:
    return [c.messenger for c in community_store.channels_of(bot.core.db, community_id) if c.kind is ChannelKind.ROSTER]


async def test_joining_a_community_that_has_a_group_chat_points_to_the_group(bot: Harness) -> None:
    reply = texts(await bot.send(f"JOIN {code_of(bot)}", "zoe", chat=bot.private("zoe")))
    assert reply.startswith("Welcome to Sunny Estate! Its polls and news are posted in its group chat")
    zoe = bot.member("zoe")
    assert community_store.role_of(bot.core.db, bot.community().id, zoe.id) is not None
    assert rosters(bot, bot.community().id) == []  # console members see the group: no second copy


async def test_a_community_without_group_reaches_its_members_one_by_one(bot: Harness) -> None:
    created = await bot.send("/newcommunity Oak Street", chat=bot.private("anna"))
    assert texts(created).startswith("Oak Street is ready, and you are its organiser.")
    oak = community_store.community_by_name(bot.core.db, "Oak Street")
    assert oak is not None and oak.join_code and oak.join_code in texts(created)
    assert len(created) == 1 and "wa.me" not in texts(created) and not any(isinstance(r, Picture) for r in created)  # no WhatsApp set up

    assert "Welcome to Oak Street! Its polls and news will reach you here." in texts(
        await bot.send(f"dołącz {oak.join_code.lower()}", "bartek", chat=bot.private("bartek"))
    )
    assert rosters(bot, oak.id) == ["console"]
    await bot.send("/poll Bins on Tuesday? | Yes | No", chat=bot.private("anna"))  # anna's current community: Oak Street
    delivered = await bot.outbox()
    assert [(o.chat_ref, o.purpose) for o in delivered] == [("console:bartek", "poll")]
    assert ack(await bot.send("1", "bartek", chat=bot.private("bartek"))) == "Your vote: Yes"


async def test_several_communities_switch_by_number_and_leave(bot: Harness) -> None:
    await bot.send("/newcommunity Oak Street", chat=bot.private("anna"))
    oak = community_store.community_by_name(bot.core.db, "Oak Street")
    assert oak is not None
    zoe = bot.private("zoe")
    await bot.send(f"JOIN {code_of(bot)}", "zoe", chat=zoe)
    joined = texts(await bot.send(f"GABUNG {oak.join_code}", "zoe", chat=zoe))
    assert "You are also in Sunny Estate. Send /communities to switch." in joined
    menu = choices(await bot.send("/communities", "zoe", chat=zoe))
    assert [o.label for o in menu.options] == ["Sunny Estate", "✓ Oak Street"]
    assert ack(await bot.send("1", "zoe", chat=zoe)) == "From now on I use Sunny Estate for you."
    assert "You are already in Oak Street; it is now your current community." in texts(await bot.send(f"JOIN {oak.join_code}", "zoe", chat=zoe))

    left = texts(await bot.send("LEAVE", "zoe", chat=zoe))
    assert left.startswith(f"You left Oak Street; its messages will no longer reach you. To come back, send JOIN {oak.join_code}.")
    assert left.endswith("Your current community is now Sunny Estate.")
    assert texts(await bot.send("/communities", "zoe", chat=zoe)) == "You are in Sunny Estate."
    assert ack(await bot.pick(f"cm:{oak.id}", "zoe", chat=zoe)).startswith("You are no longer in that community.")
    await bot.send("leave", "zoe", chat=zoe)
    assert texts(await bot.send("/leave", "zoe", chat=zoe)) == "You are not in any community, so there is nothing to leave."


async def test_invite_gives_the_code_and_a_new_one_replaces_it(bot: Harness) -> None:
    old = code_of(bot)
    assert texts(await bot.send("/invite")) == f"New members join Sunny Estate by sending me JOIN {old} in a private chat."
    renewed = texts(await bot.send("/invite new"))
    new = code_of(bot)
    assert new != old and renewed.startswith("Here is a new code; the old one no longer works.") and new in renewed
    assert texts(await bot.send(f"JOIN {old}", "zoe", chat=bot.private("zoe"))) == (
        f"There is no community with the code {old}. Please check it with your organiser."
    )
    assert texts(await bot.send("/invite", "bartek")) == "Only organisers can use /invite."
    assert texts(await bot.send("/invite please")) == "Send /invite for the join code, or /invite new to replace it with a new one."
    assert code_of(bot) == new


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("JOIN", "Please send JOIN and your community's code, for example JOIN K7Q2MX."),
        ("join !!!", "“!!!” does not look like a join code. Codes are letters and digits, for example K7Q2MX."),
        ("JOIN the group please", "“the group please” does not look like a join code."),
        ("/join", "Please send JOIN and your community's code"),
        ("/communities", "You are not in a community yet. Send JOIN and the code your organiser gave you."),
        ("/newcommunity Oak", "Only organisers can use /newcommunity."),
        ("LEAVE", "You are not in any community, so there is nothing to leave."),
    ],
)
async def test_wrong_joining_is_explained_and_changes_nothing(bot: Harness, message: str, expected: str) -> None:
    before = bot.core.db["memberships"].count
    assert expected in texts(await bot.send(message, "zoe", chat=bot.private("zoe")))
    assert bot.core.db["memberships"].count == before and bot.core.db["communities"].count == 1


async def test_wrong_new_communities(bot: Harness) -> None:
    anna = bot.private("anna")
    assert texts(await bot.send("/newcommunity", chat=anna)) == "Please name the community, for example /newcommunity Sunny Estate."
    assert texts(await bot.send("/newcommunity " + "x" * 81, chat=anna)) == "Please keep the name under 80 characters."
    assert texts(await bot.send("/newcommunity sunny estate", chat=anna)) == "There is already a community called sunny estate."
    assert texts(await bot.send("/newcommunity Oak", chat=bot.chat)) == "Please send /newcommunity to me in a private chat."
    assert bot.core.db["communities"].count == 1


async def test_join_words_are_private_chat_only_and_listed_in_help(bot: Harness) -> None:
    assert await bot.send(f"JOIN {code_of(bot)}", "zoe") == []  # group chatter, not for us
    help_text = texts(await bot.send("/help", "bartek"))
    assert "/join CODE — Join a community with the code from your organiser" in help_text and "/invite" not in help_text


def test_reading_what_members_type() -> None:
    assert normalise_code(" k7q-2mx ") == "K7Q2MX" and looks_like_code("K7Q2MX") and not looks_like_code("K7")
    assert all(is_join(word + " X") for word in ("JOIN", "Dołącz", "DOLACZ", "gabung"))
    assert not is_join("joining") and not is_join("")
    assert all(is_leave(word) for word in ("LEAVE", "leave!", "Wyjdź", "keluar")) and not is_leave("leave it open")
    assert whatsapp_link("whatsapp:+48 600 100 200", "K7Q2MX") == "https://wa.me/48600100200?text=JOIN%20K7Q2MX"
