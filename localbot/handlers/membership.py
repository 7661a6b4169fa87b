"""Belonging to communities without a group chat: JOIN and LEAVE, /communities, /invite, /newcommunity.

No bot can sit in a WhatsApp group, so a WhatsApp "group" is a community whose members talk to the
bot one to one. They join by sending ``JOIN <code>`` (or the word in their language) in a private
chat, leave with ``LEAVE``, and pick their current community with ``/communities`` when they belong
to several. Organisers get the code, a ready ``wa.me`` link and a QR code from ``/invite``.

Nothing here is WhatsApp-specific in mechanism: a console or Telegram member can join by code from a
private chat too. The one WhatsApp fact that reaches this module is the 24-hour window, through the
``roster.unreached`` job: when an adapter had to skip members whose window was closed, the
community's organisers are told how many were not reached, once that message's deliveries settle.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from localbot import scheduler
from localbot.care import texts
from localbot.community import invite
from localbot.community import store as community_store
from localbot.community.model import ChannelKind, Community, Member, Role
from localbot.events import ChoicePicked, Command, Message
from localbot.handlers.care import rules_text
from localbot.handlers.context import Context, HandlerError, JobContext
from localbot.handlers.router import HandlerResult, Router, Where
from localbot.i18n import N_, Translator
from localbot.replies import Ack, Choices, Option, Picture, Reply, Text
from localbot.scheduler import Job
from localbot.storage.db import one
from localbot.text import whole_number

#: The words that join or leave, in every language we speak, with and without Polish letters
#: (phones without a Polish keyboard send "DOLACZ").
JOIN_WORDS = frozenset({"join", "dołącz", "dolacz", "gabung"})
LEAVE_WORDS = frozenset({"leave", "wyjdź", "wyjdz", "keluar"})

MAX_NAME = 80

UNREACHED_JOB = "roster.unreached"
#: How long after the last skipped delivery the organisers are told: a fan-out paced at the
#: messenger's rate takes a while, and one summary beats one notice per member.
UNREACHED_SETTLE = timedelta(minutes=2)

#: The purposes whose skipped deliveries organisers hear about, and how the summary names them.
#: One-off messages and conversations are left out: the summary itself is one, and a summary about
#: an organiser's own closed window would only ask for another.
WHAT_BY_PURPOSE = {
    "poll": N_("the new poll"),
    "results": N_("the results"),
    "broadcast": N_("an announcement"),
    "prompt": N_("a survey question"),
    "digest": N_("the weekly digest"),
}
MESSENGER_NAMES = {"whatsapp": "WhatsApp", "telegram": "Telegram", "console": "console"}
#: Purposes of messages to one member that the organisers must act on, member by member: the
#: summary names who was not reached. (A member checked in at a tasting is standing at the table;
#: one whose session was cancelled, or who got a place, must hear of it somehow.)
NAMED_BY_PURPOSE = {
    "tasting_questions": N_("the tasting questions"),
    "reminder": N_("a reminder or notice about what they signed up for"),
}
#: Named purposes whose message a member gets anyway once they write (the questionnaire carries on):
#: members who have written since the skip are left out of the summary.
RESUMED_BY_WRITING = frozenset({"tasting_questions"})
#: Named summaries gather the members skipped within this long of each other.
NAMED_SETTLE = timedelta(seconds=30)


# --- joining and leaving -----------------------------------------------------------------------


def is_join(text: str) -> bool:
    words = text.split(maxsplit=1)
    return bool(words) and words[0].casefold() in JOIN_WORDS


def is_leave(text: str) -> bool:
    return text.strip().rstrip("!.").casefold() in LEAVE_WORDS


def join(ctx: Context, typed: str) -> HandlerResult:
    t = ctx.t
    raw = typed.strip()
    if not raw:
        raise HandlerError(t._("Please send JOIN and your community's code, for example JOIN K7Q2MX."))
    code = invite.normalise_code(raw)
    if not invite.looks_like_code(code):
        raise HandlerError(
            t._("“{text}” does not look like a join code. Codes are letters and digits, for example K7Q2MX.", text=raw[:24])
        )
    community = community_store.community_by_code(ctx.db, code)
    if community is None:
        raise HandlerError(t._("There is no community with the code {code}. Please check it with your organiser.", code=code))
    joined = invite.join(ctx.db, ctx.member, community, now=ctx.now)
    lines = [_welcome(t, ctx.member, joined)]
    rules = rules_text(t, community) if joined.new else None
    if rules:
        lines.append(rules)
    others = [c.name for c in community_store.communities_of(ctx.db, ctx.member.id) if c.id != community.id]
    if others:
        lines.append(t._("You are also in {communities}. Send /communities to switch.", communities=", ".join(others)))
    return Text(text="\n\n".join(lines))


def _welcome(t: Translator, member: Member, joined: invite.Joined) -> str:
    community = joined.community
    if not joined.new:
        return t._("You are already in {community}; it is now your current community.", community=community.name)
    custom = texts.welcome(community, member.display_name)
    if custom:
        return custom
    if joined.via_group:
        return t._(
            "Welcome to {community}! Its polls and news are posted in its group chat: ask your organiser to add you there. Send /help to see what I can do here.",
            community=community.name,
        )
    return t._(
        "Welcome to {community}! Its polls and news will reach you here. Send /help to see what I can do, or LEAVE to stop getting them.",
        community=community.name,
    )


def leave(ctx: Context) -> HandlerResult:
    t = ctx.t
    community = ctx.community
    if community is None:
        raise HandlerError(t._("You are not in any community, so there is nothing to leave."))
    community_store.leave_community(ctx.db, community.id, ctx.member.id, now=ctx.now)
    lines = [
        t._(
            "You left {community}; its messages will no longer reach you. To come back, send JOIN {code}.",
            community=community.name,
            code=community.join_code or "",
        )
    ]
    current = community_store.current_community_id(ctx.db, ctx.member.id)
    now_in = community_store.get_community(ctx.db, current) if current else None
    if now_in is not None:
        lines.append(t._("Your current community is now {community}.", community=now_in.name))
    return Text(text="\n".join(lines))


def cmd_join(ctx: Context, cmd: Command) -> HandlerResult:
    return join(ctx, cmd.args)


def text_join(ctx: Context, message: Message) -> HandlerResult:
    words = message.text.split(maxsplit=1)
    return join(ctx, words[1] if len(words) == 2 else "")


def cmd_leave(ctx: Context, cmd: Command) -> HandlerResult:
    return leave(ctx)


def text_leave(ctx: Context, message: Message) -> HandlerResult:
    return leave(ctx)


# --- several communities -----------------------------------------------------------------------


def cmd_communities(ctx: Context, cmd: Command) -> HandlerResult:
    t = ctx.t
    mine = community_store.communities_of(ctx.db, ctx.member.id)
    if not mine:
        raise HandlerError(t._("You are not in a community yet. Send JOIN and the code your organiser gave you."))
    if len(mine) == 1:
        return Text(text=t._("You are in {community}.", community=mine[0].name))
    current = ctx.community.id if ctx.community else None
    return Choices(
        text=t._("You are in several communities; ✓ marks the one I use now. Which one should I use?"),
        options=tuple(Option(("✓ " if c.id == current else "") + c.name, f"cm:{c.id}") for c in mine),
    )


def on_community_choice(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    t = ctx.t
    ident = whole_number(parts[0]) if len(parts) == 1 else None
    chosen = community_store.get_community(ctx.db, ident) if ident is not None else None
    if chosen is None or community_store.role_of(ctx.db, chosen.id, ctx.member.id) is None:
        return Ack(text=t._("You are no longer in that community. Send /communities to see where you are."))
    community_store.set_current_community(ctx.db, ctx.member.id, chosen.id)
    return Ack(text=t._("From now on I use {community} for you.", community=chosen.name))


# --- inviting ----------------------------------------------------------------------------------


def cmd_invite(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    wanted = cmd.args.strip().lower()
    if wanted not in ("", "new"):
        raise HandlerError(ctx.t._("Send /invite for the join code, or /invite new to replace it with a new one."))
    t = ctx.ct if ctx.in_group else ctx.t
    if wanted == "new" or not community.join_code:
        lead = t._("Here is a new code; the old one no longer works.") if community.join_code else None
        return invitation(ctx, t, community, invite.renew_code(ctx.db, community), lead=lead)
    return invitation(ctx, t, community, community.join_code)


def invitation(ctx: Context, t: Translator, community: Community, code: str, *, lead: str | None = None) -> list[Reply]:
    """How to join: the code, and where WhatsApp is set up, a wa.me link and its QR code."""
    lines = [lead] if lead else []
    lines.append(t._("New members join {community} by sending me JOIN {code} in a private chat.", community=community.name, code=code))
    replies: list[Reply] = []
    sender = ctx.settings.twilio.whatsapp_from
    if sender:
        link = invite.whatsapp_link(sender, code)
        lines.append(t._("On WhatsApp they can tap this link, or scan the code in the picture: {link}", link=link))
        caption = t._("Scan to join {community} on WhatsApp.", community=community.name)
        replies.append(Picture(data=invite.qr_png(link), caption=caption, filename=f"join-{code}.png"))
    return [Text(text="\n".join(lines)), *replies]


def cmd_newcommunity(ctx: Context, cmd: Command) -> HandlerResult:
    """A community without a group chat (everyone on WhatsApp), started from a private chat by an
    organiser (``LOCALBOT_ORGANISERS``, or an organiser of their current community), who becomes
    its organiser."""
    t = ctx.t
    name = " ".join(cmd.args.split())
    if not name:
        raise HandlerError(t._("Please name the community, for example /newcommunity Sunny Estate."))
    if len(name) > MAX_NAME:
        raise HandlerError(t._("Please keep the name under {limit} characters.", limit=MAX_NAME))
    if community_store.community_by_name(ctx.db, name) is not None:
        raise HandlerError(t._("There is already a community called {name}.", name=name))
    community = community_store.create_community(ctx.db, name=name, language=t.language, timezone=ctx.settings.timezone, now=ctx.now)
    invite.join(ctx.db, ctx.member, community, now=ctx.now)
    community_store.set_role(ctx.db, community.id, ctx.member.id, Role.ORGANISER, now=ctx.now)
    assert community.join_code is not None  # every new community gets one
    lead = t._("{community} is ready, and you are its organiser.", community=community.name)
    return invitation(ctx, t, community, community.join_code, lead=lead)


# --- members a messenger would not let us reach --------------------------------------------------


def report_unreached_later(
    db: sqlite_utils.Database, *, community_id: int, purpose: str, batch: str, messenger: str, now: datetime, row: int | None = None
) -> None:
    """Arrange for the organisers to hear how many members a message could not reach.

    Called by an adapter each time it skips a member (the caller's transaction decides). A message
    to the whole community is one *batch* of outbox rows with the same community, purpose and
    creation time; each skip moves the batch's one summary job a little later, so it runs once the
    deliveries have settled. If a late skip reopens a finished job, the new count is reported.

    Messages to one member each (:data:`NAMED_BY_PURPOSE`) are gathered by community and purpose
    instead: the job collects the skipped rows, and its summary names the members.
    """
    if purpose in NAMED_BY_PURPOSE and row is not None:
        key = f"unreached:{community_id}:{purpose}:{messenger}"
        waiting = one(db, "SELECT payload FROM jobs WHERE dedupe_key = ? AND state = 'pending'", [key])
        rows = json.loads(waiting["payload"]).get("rows", []) if waiting else []
        scheduler.schedule(
            db,
            UNREACHED_JOB,
            now + NAMED_SETTLE,
            {"community_id": community_id, "purpose": purpose, "messenger": messenger, "rows": sorted({*rows, row})},
            now=now,
            dedupe_key=key,
            community_id=community_id,
        )
        return
    if purpose not in WHAT_BY_PURPOSE:
        return
    scheduler.schedule(
        db,
        UNREACHED_JOB,
        now + UNREACHED_SETTLE,
        {"community_id": community_id, "purpose": purpose, "batch": batch, "messenger": messenger},
        now=now,
        dedupe_key=f"unreached:{community_id}:{purpose}:{batch}:{messenger}",
        community_id=community_id,
    )


def job_unreached(ctx: JobContext, job: Job) -> None:
    payload = job.payload
    community = community_store.get_community(ctx.db, int(payload["community_id"]))
    if community is None:
        return
    if "rows" in payload:
        _report_named(ctx, community, payload)
        return
    purpose, batch, messenger = str(payload["purpose"]), str(payload["batch"]), str(payload["messenger"])
    if purpose not in WHAT_BY_PURPOSE:
        return
    counts = one(
        ctx.db,
        """SELECT COUNT(*) AS total, COALESCE(SUM(state = 'skipped'), 0) AS skipped FROM outbox
           WHERE community_id = ? AND purpose = ? AND created_at = ? AND messenger = ?""",
        [community.id, purpose, batch, messenger],
    )
    skipped = int(counts["skipped"]) if counts else 0
    if not skipped:
        return
    total = int(counts["total"]) if counts else skipped

    def build(t: Translator) -> Text:
        return Text(text=unreached_text(t, community, messenger, purpose, skipped, total))

    dedupe = f"unreached:{community.id}:{purpose}:{batch}:{messenger}:{skipped}"
    organisers = ctx.known_organisers(community)
    for member in organisers:
        ctx.send_to_member(member, build, community=community, dedupe_key=dedupe)
    if not organisers:  # nobody holds the role: the group chats are where organisers read
        for channel in community_store.channels_of(ctx.db, community.id):
            if channel.kind is ChannelKind.GROUP and channel.chat_ref:
                ctx.send(channel.chat_ref, build(ctx.community_t(community)), community_id=community.id, dedupe_key=dedupe)


def _report_named(ctx: JobContext, community: Community, payload: dict[str, Any]) -> None:
    """Tell the organisers who did not get a message meant for them alone, by name, leaving out
    members who have written since where that brings the message (:data:`RESUMED_BY_WRITING`:
    writing opened their window, and the flow asked them again)."""
    purpose, messenger = str(payload["purpose"]), str(payload["messenger"])
    if purpose not in NAMED_BY_PURPOSE:
        return
    ids = [int(i) for i in payload.get("rows", []) if isinstance(i, int)]
    names: list[str] = []
    for row_id in ids:
        row = one(ctx.db, "SELECT member_id, state, created_at FROM outbox WHERE id = ? AND community_id = ?", [row_id, community.id])
        if row is None or row["state"] != "skipped" or row["member_id"] is None:
            continue
        member = community_store.get_member(ctx.db, row["member_id"])
        if member is None or (purpose in RESUMED_BY_WRITING and (member.last_inbound_at or "") > row["created_at"]):
            continue
        if member.display_name not in names:
            names.append(member.display_name)
    if not names:
        return

    def build(t: Translator) -> Text:
        return Text(text=named_unreached_text(t, community, messenger, purpose, names))

    dedupe = f"unreached:{community.id}:{purpose}:{messenger}:{','.join(str(i) for i in ids)}"
    organisers = ctx.known_organisers(community)
    for member in organisers:
        ctx.send_to_member(member, build, community=community, dedupe_key=dedupe)
    if not organisers:
        for channel in community_store.channels_of(ctx.db, community.id):
            if channel.kind is ChannelKind.GROUP and channel.chat_ref:
                ctx.send(channel.chat_ref, build(ctx.community_t(community)), community_id=community.id, dedupe_key=dedupe)


def named_unreached_text(t: Translator, community: Community, messenger: str, purpose: str, names: list[str]) -> str:
    name = MESSENGER_NAMES.get(messenger, messenger)
    first = t._(
        "I could not send {what} in {community} on {messenger} to: {names}.",
        what=t._(NAMED_BY_PURPOSE[purpose]),
        community=community.name,
        messenger=name,
        names=", ".join(names),
    )
    if purpose in RESUMED_BY_WRITING:
        why = t._(
            "{messenger} lets me write to someone only within 24 hours of their last message, unless an approved template is set up for “{purpose}” messages (see the README). Ask them to send me any message: I'll carry on with them at once.",
            messenger=name,
            purpose=purpose,
        )
    else:
        why = t._(
            "{messenger} lets me write to someone only within 24 hours of their last message, unless an approved template is set up for “{purpose}” messages (see the README). Please let them know yourself.",
            messenger=name,
            purpose=purpose,
        )
    return f"{first}\n{why}"


def unreached_text(t: Translator, community: Community, messenger: str, purpose: str, skipped: int, total: int) -> str:
    name = MESSENGER_NAMES.get(messenger, messenger)
    what = t._(WHAT_BY_PURPOSE[purpose])
    first = t.n_(
        "{n} of {total} members on {messenger} did not get {what} in {community}.",
        "{n} of {total} members on {messenger} did not get {what} in {community}.",
        skipped,
        total=total,
        messenger=name,
        what=what,
        community=community.name,
    )
    why = t._(
        "{messenger} lets me write to someone only within 24 hours of their last message, unless an approved template is set up for “{purpose}” messages (see the README). Ask them to send me a message now and then.",
        messenger=name,
        purpose=purpose,
    )
    return f"{first}\n{why}"


def register(router: Router) -> None:
    router.command(
        "join", help=N_("Join a community with the code from your organiser"), usage="CODE", where=Where.PRIVATE, needs_community=False
    )(cmd_join)
    router.command("leave", help=N_("Leave your current community"), where=Where.PRIVATE, needs_community=False)(cmd_leave)
    router.command(
        "communities", help=N_("Your communities, and which one I use for you"), where=Where.PRIVATE, needs_community=False
    )(cmd_communities)
    router.command(
        "invite",
        help=N_("The join code, a WhatsApp link and a QR code for new members (new: a fresh code)"),
        usage="[new]",
        organiser_only=True,
        section="organisers",
    )(cmd_invite)
    router.command(
        "newcommunity",
        help=N_("Start a community without a group chat, for members on WhatsApp"),
        usage="NAME",
        organiser_only=True,
        where=Where.PRIVATE,
        needs_community=False,
        section="organisers",
    )(cmd_newcommunity)
    router.text("join", is_join)(text_join)
    router.text("leave", is_leave)(text_leave)
    router.choice("cm")(on_community_choice)
    router.job(UNREACHED_JOB)(job_unreached)
