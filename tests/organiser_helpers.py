"""Communities the organiser-tools tests need besides the harness's own group: another group with
its own organiser, and a community whose members are reached one to one (as on WhatsApp)."""

from __future__ import annotations

from localbot.community import store as community_store
from localbot.community.model import Community, Role
from localbot.events import Chat, ChatKind
from tests.helpers import Harness

OTHER = Chat("console:elsewhere", ChatKind.GROUP, "Other Estate")


async def organiser_elsewhere(bot: Harness, name: str, chat: Chat = OTHER) -> Community:
    """``name`` organises the community of another group chat (and nothing else)."""
    await bot.send("hello", name, chat=chat)
    community = community_store.community_for_chat(bot.core.db, chat.ref)
    assert community is not None
    with bot.core.db.atomic():
        community_store.set_role(bot.core.db, community.id, bot.member(name).id, Role.ORGANISER, now=bot.clock.now())
    return community


async def roster_community(bot: Harness, name: str, members: tuple[str, ...], organiser: str = "anna") -> Community:
    """A community without a group chat, started by ``organiser``, that ``members`` joined by code."""
    await bot.send(f"/newcommunity {name}", organiser, chat=bot.private(organiser))
    community = community_store.community_by_name(bot.core.db, name)
    assert community is not None and community.join_code is not None
    for member in members:
        await bot.send(f"JOIN {community.join_code}", member, chat=bot.private(member))
    return community
