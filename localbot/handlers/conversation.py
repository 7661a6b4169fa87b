"""Multi-step conversations (wizards, questionnaires) whose state lives in SQLite.

python-telegram-bot's ``ConversationHandler`` keeps state in memory and only for Telegram; ours is a
row per member and chat, so WhatsApp and the console run the same flows and a restart in the middle
of a questionnaire loses nothing. A :class:`Flow` is a set of named :class:`Step` values; each step
says what it asks (``prompt``), what kind of answer it expects, and what to do with an answer
(``accept``), which returns :class:`Goto`, :class:`Retry` or :class:`Finish`. An answer the step
cannot use gets a clear re-ask: the reason, then the question again.

Buttons inside a conversation carry ``c:<conversation id>:<value>``, so a button from an earlier,
finished conversation is recognised as stale instead of being applied to the new one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Flag, auto
from typing import TYPE_CHECKING, Any

import sqlite_utils

from localbot.clock import iso
from localbot.events import (
    ChoicePicked,
    Event,
    LocationShared,
    MediaRef,
    Message,
    PhotoShared,
)
from localbot.handlers.router import HandlerResult, as_replies
from localbot.replies import Option, Reply, Text
from localbot.storage.db import one

if TYPE_CHECKING:
    from localbot.handlers.context import Context, Effects


class Expect(Flag):
    TEXT = auto()
    CHOICE = auto()
    LOCATION = auto()
    PHOTO = auto()


@dataclass
class Conversation:
    id: int
    member_id: int
    chat_ref: str
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)

    def option(self, label: str, value: str) -> Option:
        """A button that answers this conversation's current question with ``value``."""
        return Option(label, f"c:{self.id}:{value}")


@dataclass(frozen=True)
class Answer:
    """What the member sent, in whichever form it came."""

    event: Event
    text: str | None = None
    choice: str | None = None
    location: tuple[float, float] | None = None
    photo: MediaRef | None = None

    @classmethod
    def from_event(cls, event: Event, choice: str | None = None) -> Answer:
        if isinstance(event, Message):
            return cls(event, text=event.text.strip())
        if isinstance(event, ChoicePicked):
            return cls(event, choice=choice)
        if isinstance(event, LocationShared):
            return cls(event, location=(event.latitude, event.longitude))
        if isinstance(event, PhotoShared):
            return cls(event, photo=event.media, text=event.caption or None)
        return cls(event)


@dataclass(frozen=True)
class Goto:
    step: str
    replies: tuple[Reply, ...] = ()


@dataclass(frozen=True)
class Retry:
    """Re-ask the current question after ``message`` (translated) explains what was wrong."""

    message: str


def pick_one(ctx: Context) -> Retry:
    """Re-ask a question whose answer must be one of its choices, as this chat shows them."""
    if ctx.buttons:
        return Retry(ctx.t._("Please pick one of the buttons."))
    return Retry(ctx.t._("Please reply with one of the numbers."))


@dataclass(frozen=True)
class Finish:
    replies: tuple[Reply, ...] = ()


Outcome = Goto | Retry | Finish


@dataclass(frozen=True)
class Step:
    expects: Expect
    prompt: Callable[[Context, Conversation], HandlerResult]
    accept: Callable[[Context, Conversation, Answer], Outcome]


@dataclass
class Flow:
    name: str
    steps: dict[str, Step]
    first: str
    #: What to say when the member sends /cancel.
    on_cancel: Callable[[Context, Conversation], HandlerResult] | None = None

    def __post_init__(self) -> None:
        if self.first not in self.steps:
            raise ValueError(f"flow {self.name!r}: first step {self.first!r} is not defined")


# --- storage -----------------------------------------------------------------------------------


def _from_row(row: dict[str, Any]) -> Conversation:
    return Conversation(
        id=row["id"],
        member_id=row["member_id"],
        chat_ref=row["chat_ref"],
        flow=row["flow"],
        step=row["step"],
        data=json.loads(row["data"]),
    )


def load(db: sqlite_utils.Database, member_id: int, chat_ref: str) -> Conversation | None:
    row = one(db, "SELECT * FROM conversations WHERE member_id = ? AND chat_ref = ?", [member_id, chat_ref])
    return _from_row(row) if row else None


def load_by_id(db: sqlite_utils.Database, conversation_id: int) -> Conversation | None:
    row = one(db, "SELECT * FROM conversations WHERE id = ?", [conversation_id])
    return _from_row(row) if row else None


def save(ctx: Effects, conversation: Conversation) -> None:
    ctx.db.execute(
        "UPDATE conversations SET step = ?, data = ?, updated_at = ? WHERE id = ?",
        [conversation.step, json.dumps(conversation.data, ensure_ascii=False), iso(ctx.now), conversation.id],
    )


def end(ctx: Context, conversation: Conversation) -> None:
    ctx.db.execute("DELETE FROM conversations WHERE id = ?", [conversation.id])


# --- running flows -----------------------------------------------------------------------------


def open_for(
    db: sqlite_utils.Database, *, member_id: int, chat_ref: str, flow: Flow, data: dict[str, Any], now: datetime
) -> Conversation:
    """Store ``flow`` as the member's conversation in ``chat_ref`` at its first step, replacing any
    conversation open there, without asking anything yet.

    :func:`begin` uses it for a member who just did something; a scheduled job uses it directly to
    open a questionnaire for a member who is not the one speaking (a diary prompt), and renders the
    first question itself in that member's language.
    """
    db.execute("DELETE FROM conversations WHERE member_id = ? AND chat_ref = ?", [member_id, chat_ref])
    cursor = db.execute(
        """INSERT INTO conversations (member_id, chat_ref, flow, step, data, started_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [member_id, chat_ref, flow.name, flow.first, json.dumps(data, ensure_ascii=False), iso(now), iso(now)],
    )
    return Conversation(int(cursor.lastrowid or 0), member_id, chat_ref, flow.name, flow.first, dict(data))


def begin(ctx: Context, flow: Flow, data: dict[str, Any], chat_ref: str) -> tuple[Conversation, list[Reply]]:
    """Start ``flow`` for the member in ``chat_ref``, replacing any conversation open there."""
    conversation = open_for(ctx.db, member_id=ctx.member.id, chat_ref=chat_ref, flow=flow, data=data, now=ctx.now)
    return conversation, prompt(ctx, flow, conversation)


def prompt(ctx: Context, flow: Flow, conversation: Conversation) -> list[Reply]:
    return as_replies(flow.steps[conversation.step].prompt(ctx, conversation))


def advance(ctx: Context, flow: Flow, conversation: Conversation, answer: Answer) -> list[Reply]:
    """Feed one answer to the current step and move on as it says."""
    step = flow.steps.get(conversation.step)
    if step is None:  # the flow changed under a stored conversation: start it over
        conversation.step = flow.first
        save(ctx, conversation)
        return [Text(text=ctx.t._("Let's start this again.")), *prompt(ctx, flow, conversation)]
    outcome = step.accept(ctx, conversation, answer)
    if isinstance(outcome, Retry):
        save(ctx, conversation)  # accept() may have kept partial answers in data
        return [Text(text=outcome.message), *prompt(ctx, flow, conversation)]
    if isinstance(outcome, Finish):
        end(ctx, conversation)
        return list(outcome.replies)
    if outcome.step not in flow.steps:
        raise ValueError(f"flow {flow.name!r} has no step {outcome.step!r}")
    conversation.step = outcome.step
    save(ctx, conversation)
    return [*outcome.replies, *prompt(ctx, flow, conversation)]


def expects(flow: Flow, conversation: Conversation) -> Expect:
    step = flow.steps.get(conversation.step)
    return step.expects if step else Expect.TEXT


def start_flow(ctx: Context, name: str, data: dict[str, Any], *, private: bool = False) -> list[Reply]:
    """Start a registered flow; with ``private`` it runs in the member's private chat.

    From a group chat the first question is sent privately when the messenger lets the bot write
    first (console, WhatsApp, or a Telegram member who has opened a chat with the bot); otherwise
    the member gets a deep link, and ``/start resume`` picks the flow up where it stands.
    """
    from localbot.replies import PrivateLink

    flow = ctx.core.router.flows[name]
    if not private or not ctx.in_group:
        _conversation, replies = begin(ctx, flow, data, ctx.chat_ref)
        return replies
    target = ctx.private_chat_ref(ctx.member)
    _conversation, replies = begin(ctx, flow, data, target)
    t = ctx.t
    if ctx.needs_private_link:
        return [
            PrivateLink(
                text=t._("{name}, let's continue in a private chat: tap the button below.", name=ctx.member.display_name),
                payload="resume",
                label=t._("Continue privately"),
            )
        ]
    ctx.send(target, *replies, member_id=ctx.member.id, purpose="conversation")
    return [Text(text=t._("{name}, I've sent you a private message.", name=ctx.member.display_name))]
