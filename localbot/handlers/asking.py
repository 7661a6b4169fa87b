"""Announcing something new to a whole community within the weekly ask budget (polls, surveys, tastings).

Two steps around creating the thing announced, in the same transaction (see
:mod:`localbot.community.asks`): :func:`group_members_to_ask` first, which refuses the start when
a group post would take a member over the budget (a group post cannot leave anyone out), then
:func:`announce`, which posts to every other chat of the community, leaves out the members reached
one to one who are over the budget, and records the asks made. The organiser starting it is not
being asked.
"""

from __future__ import annotations

from collections.abc import Callable

from localbot.community import asks
from localbot.community import store as community_store
from localbot.community.model import ChannelKind, Community
from localbot.handlers.context import Context, HandlerError
from localbot.i18n import Translator
from localbot.replies import Reply


def group_members_to_ask(ctx: Context, community: Community) -> list[int]:
    """The members a group post would ask; raises :class:`HandlerError` naming those it would
    take over the budget, and when the start would fit."""
    t = ctx.t
    group_messengers = {
        c.messenger for c in community_store.channels_of(ctx.db, community.id) if c.kind is ChannelKind.GROUP and c.chat_ref
    }
    members = [m for m in community_store.active_members(ctx.db, community.id) if m.id != ctx.member.id]
    in_groups = [m for m in members if m.messenger in group_messengers]
    budget = asks.check(ctx.db, community, [m.id for m in in_groups], ctx.now)
    if budget.fits:
        return [m.id for m in in_groups]
    names = ", ".join(m.display_name for m in in_groups if m.id in budget.over)
    message = t.n_(
        "Starting now would ask {n} member more often than the community's budget of {budget} asks a week: {names}.",
        "Starting now would ask {n} members more often than the community's budget of {budget} asks a week: {names}.",
        len(budget.over),
        budget=budget.budget,
        names=names,
    )
    if budget.fits_at is not None:
        message += " " + t._("It would fit from {when}.", when=t.datetime(budget.fits_at, community.tz))
    raise HandlerError(message + " " + t._("Nothing was started. Organisers can change the budget with /askbudget."))


def announce(
    ctx: Context,
    community: Community,
    build: Callable[[Translator], Reply],
    *,
    asked_in_groups: list[int],
    kind: str,
    ref: str,
    dedupe_key: str,
    purpose: str = "broadcast",
) -> int:
    """Post ``build(t)`` to every chat of the community but this one and record the asks; returns
    how many members reached one to one were left out because of the budget. ``purpose`` labels
    the messages in the outbox (a new poll is ``poll``)."""
    asked = list(asked_in_groups)
    held_back = 0
    for recipient in ctx.recipients(community, exclude_chat=ctx.chat_ref):
        if recipient.member is not None and recipient.member.id != ctx.member.id:
            if not asks.check(ctx.db, community, [recipient.member.id], ctx.now).fits:
                held_back += 1
                continue
            asked.append(recipient.member.id)
        ctx.send(
            recipient.chat_ref,
            build(recipient.t),
            member_id=recipient.member.id if recipient.member else None,
            community_id=community.id,
            purpose=purpose,
            dedupe_key=dedupe_key,
        )
    asks.record(ctx.db, community.id, asked, kind=kind, ref=ref, now=ctx.now)
    return held_back
