"""A member's own data: /mydata sends all of it as JSON, /forgetme deletes it after a confirmation.

Both act on the member who sends them and nobody else. The file goes to the member's private chat
(in a group the group only reads a note; a Telegram member who never opened a chat with the bot gets
a deep link that builds the file there). Forgetting is a conversation with buttons bound to the
member (``c:<conversation>:…``), held in the private chat, so nobody else in a group can press
"yes" for them. What is kept afterwards, and why, is in :mod:`localbot.privacy.registry`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from localbot import delivered
from localbot.community import store as community_store
from localbot.community.model import Member, Role
from localbot.events import Command
from localbot.handlers import conversation as conv
from localbot.handlers.context import Context, Effects, JobContext
from localbot.handlers.conversation import Answer, Conversation, Expect, Finish, Flow, Step
from localbot.handlers.router import HandlerResult, Router
from localbot.i18n import N_, Translator
from localbot.privacy import registry
from localbot.privacy.model import Subject
from localbot.replies import Choices, Document, PrivateLink, Reply, Text
from localbot.scheduler import Job

FORGET_FLOW = "privacy.forget"

#: What a feature does in the chat before a member is forgotten, such as giving up the member's
#: tasting places so that the waiting list moves up (``fn(ctx, member)``, by feature name).
_BEFORE_FORGET: dict[str, Callable[[Effects, Member], None]] = {}


def add_before_forget(name: str, fn: Callable[[Effects, Member], None]) -> None:
    """Register (or replace) a feature's step before forgetting; see :data:`_BEFORE_FORGET`."""
    _BEFORE_FORGET[name] = fn


def _subject(ctx: Context) -> Subject:
    return Subject(
        ctx.member,
        ctx.core.secret,
        ctx.now,
        base=Path(ctx.settings.database).resolve().parent,
        outbound=delivered.outbound_folder(ctx.settings.media_path),
    )


def _document(t: Translator, data: bytes, stamp: str) -> Document:
    return Document(
        data=data,
        filename=f"my-data-{stamp}.json",
        caption=t._("Everything I keep about you, as of now. Send /forgetme if you want me to delete it."),
        mime_type="application/json",
    )


def my_data(ctx: Context) -> list[Reply]:
    t = ctx.t
    if ctx.in_group and ctx.needs_private_link:
        return [
            PrivateLink(
                text=t._("{name}, I send your data only in our private chat. Tap the button below to get it there.", name=ctx.member.display_name),
                payload="mydata",
                label=t._("Get my data privately"),
            )
        ]
    data = json.dumps(registry.collect(ctx.db, _subject(ctx)), ensure_ascii=False, indent=2).encode()
    stamp = ctx.now.strftime("%Y-%m-%d")
    if not ctx.in_group:
        return [_document(t, data, stamp)]
    ctx.send_to_member(ctx.member, lambda mt: _document(mt, data, stamp))
    return [Text(text=t._("{name}, I've sent you your data privately.", name=ctx.member.display_name))]


def cmd_mydata(ctx: Context, cmd: Command) -> HandlerResult:
    return my_data(ctx)


def start_mydata(ctx: Context, cmd: Command, parts: list[str]) -> HandlerResult:
    return my_data(ctx)


# --- forgetting ----------------------------------------------------------------------------------


def cmd_forgetme(ctx: Context, cmd: Command) -> HandlerResult:
    return conv.start_flow(ctx, FORGET_FLOW, {}, private=True)


def _ask(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    lines = [
        t._("Do you want me to forget you?"),
        t._(
            "I will delete your name, your messenger account, your memberships, your conversations with me and the messages waiting for you. Your votes and answers stay only as anonymous counts: results do not change, but nothing links them to you any more."
        ),
    ]
    organising = [
        community.name
        for community in community_store.communities_of(ctx.db, ctx.member.id)
        if community_store.role_of(ctx.db, community.id, ctx.member.id) is Role.ORGANISER
    ]
    if organising:
        lines.append(t._("You will also stop being an organiser of {communities}.", communities=", ".join(organising)))
    lines.append(t._("This cannot be undone. If you write to me later, I will treat you as someone new."))
    return Choices(
        text="\n\n".join(lines),
        options=(c.option(t._("Yes, forget me"), "yes"), c.option(t._("No, keep my data"), "no")),
    )


def _take(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    if a.choice == "no":
        return Finish((Text(text=t._("Nothing was deleted.")),))
    if a.choice != "yes":
        return conv.pick_one(ctx)
    for before in _BEFORE_FORGET.values():
        before(ctx, ctx.member)
    registry.forget(ctx.db, _subject(ctx))
    return Finish((Text(text=t._("Done: I have forgotten you. Goodbye, and thank you for taking part.")),))


FORGET = Flow(name=FORGET_FLOW, first="confirm", steps={"confirm": Step(Expect.CHOICE | Expect.TEXT, _ask, _take)})


# --- what the outbox keeps --------------------------------------------------------------------------

TIDY_JOB = "outbox.tidy"
TIDY_EVERY = timedelta(minutes=10)


def job_tidy(ctx: JobContext, job: Job) -> None:
    """Clear what finished messages said, and delete published files whose links have expired
    (:mod:`localbot.delivered`); sends clear most of it at once, this catches the rest."""
    folder = delivered.outbound_folder(ctx.settings.media_path)
    delivered.clear_finished(ctx.db, folder, ctx.now)
    delivered.prune(folder)


def register(router: Router) -> None:
    router.job(TIDY_JOB, repeat=lambda now: now + TIDY_EVERY)(job_tidy)
    router.command("mydata", help=N_("Everything I keep about you, as a file"), needs_community=False, section="privacy")(cmd_mydata)
    router.command(
        "forgetme", help=N_("Delete everything I keep about you (asks first)"), needs_community=False, section="privacy"
    )(cmd_forgetme)
    router.start("mydata")(start_mydata)
    router.flow(FORGET)
