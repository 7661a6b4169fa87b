"""The bot's own place in group chats: removed from a group, and added back.

A group chat is one of a community's channels. When the bot is removed from it (kicked, or the
group deleted), the messenger either says so (Telegram's ``my_chat_member``, a :class:`BotRemoved`
event) or, when that notice was missed, refuses the next message to the group (the adapter then
calls :func:`refused`). Either way :func:`bot_removed` acts once: the channel becomes inactive, so
broadcasts, live edits, reminders and results no longer go there; the messages still waiting for
it are kept but skipped, with the reason; and the organisers are told privately, each in their own
language, what happened and how to bring the bot back. Nothing the community stored changes: its
members, polls, votes and answers stay, and members can still use the bot in a private chat.

When the bot is added back (:class:`BotAdded`), :func:`bot_added` makes the same channel active
again for the same community and tells the organisers. If an update comes from a group the bot had
been removed from, the notice of its return was missed: the core passes an ``inferred`` BotAdded,
and the messenger is asked whether the bot really is in the group before anything changes. A group
the bot was never used in is not a community yet, and being added there changes nothing: it becomes
one on first use, as it always did.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from localbot import outbox
from localbot.care import digest as digests
from localbot.community import store as community_store
from localbot.community.model import Channel, Community, Member
from localbot.events import BotAdded, BotRemoved
from localbot.handlers.context import Effects, LookupFailed
from localbot.handlers.membership import MESSENGER_NAMES
from localbot.handlers.router import HandlerResult, Router
from localbot.i18n import Translator
from localbot.refs import messenger_of
from localbot.replies import Text
from localbot.storage.db import rows

if TYPE_CHECKING:
    from localbot.core import Core

log = logging.getLogger(__name__)


# --- who is told ---------------------------------------------------------------------------------


def organisers_to_tell(ctx: Effects, community: Community, by: Member | None = None) -> list[Member]:
    """Everyone the bot knows organises ``community``, without asking a messenger (a group it was
    removed from can no longer be asked who its admins are): role holders and
    ``LOCALBOT_ORGANISERS``; those who asked for the weekly digest (only organisers can); members
    who started a poll, survey or tasting there (only organisers can); and ``by``, who just added
    or removed the bot (a group admin)."""
    ids = {member.id for member in ctx.known_organisers(community)}
    ids |= {member_id for member_id, wanted in digests.choices(ctx.db, community.id).items() if wanted}
    starters = rows(
        ctx.db,
        """SELECT created_by AS id FROM polls WHERE community_id = :c AND created_by IS NOT NULL
           UNION SELECT created_by FROM survey_runs WHERE community_id = :c AND created_by IS NOT NULL
           UNION SELECT created_by FROM tastings WHERE community_id = :c AND created_by IS NOT NULL""",
        {"c": community.id},
    )
    ids |= {row["id"] for row in starters}
    found = (community_store.get_member(ctx.db, member_id) for member_id in sorted(ids))
    members = [m for m in found if m is not None and community_store.role_of(ctx.db, community.id, m.id) is not None]
    if by is not None and all(m.id != by.id for m in members):
        members.append(by)
    return members


# --- the texts -----------------------------------------------------------------------------------


def _group(channel: Channel, community: Community) -> tuple[str, str]:
    return MESSENGER_NAMES.get(channel.messenger, channel.messenger), channel.title or community.name


def removed_text(t: Translator, channel: Channel, community: Community, given_up: int) -> str:
    messenger, group = _group(channel, community)
    lines = [
        "⚠️ "
        + t._(
            "I was removed from the {messenger} group “{group}”, so the polls, results, reminders and announcements of {community} no longer go there.",
            messenger=messenger,
            group=group,
            community=community.name,
        ),
        t._("Nothing is lost: members, votes and answers are kept, and members can still use me in a private chat."),
    ]
    if given_up:
        lines.append(
            t.n_(
                "{n} message that was waiting for the group will not be sent.",
                "{n} messages that were waiting for the group will not be sent.",
                given_up,
            )
        )
    lines.append(
        t._(
            "To bring me back, add me to the group again (as an admin, so that I see who joins): it then gets the messages of {community} again.",
            community=community.name,
        )
    )
    return "\n".join(lines)


def back_text(t: Translator, channel: Channel, community: Community) -> str:
    messenger, group = _group(channel, community)
    return "\n".join(
        [
            "✅ "
            + t._(
                "I am back in the {messenger} group “{group}”: the polls, results, reminders and announcements of {community} go there again.",
                messenger=messenger,
                group=group,
                community=community.name,
            ),
            t._("Messages meant for the group while I was away are not sent late."),
        ]
    )


# --- removed and back ----------------------------------------------------------------------------


def bot_removed(ctx: Effects, chat_ref: str, *, reason: str, by: Member | None = None) -> bool:
    """The bot is no longer in the group chat ``chat_ref`` (the caller's transaction decides).
    Returns False, changing nothing, when the chat is no community's group or was handled already."""
    channel = community_store.deactivate_channel(ctx.db, chat_ref)
    if channel is None:
        return False
    community = community_store.get_community(ctx.db, channel.community_id)
    assert community is not None  # a channel belongs to a community (ON DELETE CASCADE)
    given_up = outbox.give_up(ctx.db, chat_ref, f"not sent: the bot was removed from this group ({reason})")
    told = organisers_to_tell(ctx, community, by)
    for member in told:
        ctx.send_to_member(member, lambda t: Text(text=removed_text(t, channel, community, given_up)), community=community)
    log.warning(
        "removed from %s (%s) of community %s: %s; %d waiting messages given up, %d organisers told",
        chat_ref, channel.title, community.id, reason, given_up, len(told),
    )
    return True


def bot_added(ctx: Effects, chat_ref: str, *, title: str | None = None, by: Member | None = None) -> bool:
    """The bot is back in a group chat it had been removed from: the same community's channel again.
    Returns False, changing nothing, for a group that is no community's or that was active anyway."""
    channel = community_store.reactivate_channel(ctx.db, chat_ref, title=title)
    if channel is None:
        return False
    community = community_store.get_community(ctx.db, channel.community_id)
    assert community is not None
    told = organisers_to_tell(ctx, community, by)
    for member in told:
        ctx.send_to_member(member, lambda t: Text(text=back_text(t, channel, community)), community=community)
    log.info("back in %s (%s) of community %s; %d organisers told", chat_ref, channel.title, community.id, len(told))
    return True


def refused(core: Core, chat_ref: str, error: str) -> bool:
    """An adapter's word that the messenger refused a message to the group chat ``chat_ref``
    because the bot is no longer in it (the removal notice was missed, e.g. while the bot was
    down). Runs :func:`bot_removed` in a transaction of its own, so only the first refusal acts."""
    with core.db.atomic():
        changed = bot_removed(Effects(core), chat_ref, reason=error)
    if changed:
        core.wake()
    return changed


# --- the events ----------------------------------------------------------------------------------


def on_bot_removed(ctx: Effects, event: BotRemoved) -> HandlerResult:
    by = community_store.member_by_ref(ctx.db, event.sender.ref)
    bot_removed(ctx, event.chat.ref, reason=f"{event.messenger} says it was removed by {event.sender.ref}", by=by)
    return None


def on_bot_added(ctx: Effects, event: BotAdded) -> HandlerResult:
    if community_store.channel_for_chat(ctx.db, event.chat.ref, active=False) is None:
        return None  # a group it is in anyway, or a new one: that becomes a community on first use
    if event.inferred:
        if not _in_group(ctx, event.chat.ref):
            return None  # an update from before the removal, processed after it
        by = None  # whoever wrote is not necessarily who added the bot
    else:
        by = community_store.member_by_ref(ctx.db, event.sender.ref)
    bot_added(ctx, event.chat.ref, title=event.chat.title, by=by)
    return None


def _in_group(ctx: Effects, chat_ref: str) -> bool:
    adapter = ctx.core.adapters.get(messenger_of(chat_ref))
    if adapter is None:
        return False
    try:
        return bool(ctx.lookup(("in group", chat_ref), functools.partial(adapter.in_group, chat_ref)))
    except LookupFailed:
        return False  # cannot tell just now: the next update from the group asks again


def register(router: Router) -> None:
    router.on_bot_removed(on_bot_removed)
    router.on_bot_added(on_bot_added)
