"""What comes in: one neutral, typed event per thing a member does, whatever the messenger.

Adapters translate messenger traffic into these values; the handler layer never sees a Telegram
``Update`` or a Twilio form post. Each event carries the chat it happened in, who did it, and an
``event_id`` that the core uses to process a re-delivered event only once.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache

from localbot.refs import messenger_of


class ChatKind(StrEnum):
    GROUP = "group"
    PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class Chat:
    ref: str
    kind: ChatKind
    title: str | None = None

    @property
    def is_group(self) -> bool:
        return self.kind is ChatKind.GROUP


@dataclass(frozen=True, slots=True)
class Sender:
    ref: str
    name: str
    #: The language the messenger reports for this person (Telegram's ``language_code``), if any.
    language: str | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Where a photo or file can be fetched from: a messenger file id, a URL or a local path."""

    messenger: str
    ref: str
    mime_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True, kw_only=True)
class Event:
    chat: Chat
    sender: Sender
    #: When the messenger says it happened; the core falls back to its clock.
    at: datetime | None = None
    #: A messenger-unique id (Telegram update id, Twilio MessageSid) for exactly-once processing.
    event_id: str | None = None

    @property
    def messenger(self) -> str:
        return messenger_of(self.chat.ref)


@dataclass(frozen=True, kw_only=True)
class Message(Event):
    text: str


@dataclass(frozen=True, kw_only=True)
class Command(Event):
    name: str
    args: str = ""

    @property
    def argv(self) -> list[str]:
        return self.args.split()


@dataclass(frozen=True, kw_only=True)
class ChoicePicked(Event):
    payload: str


@dataclass(frozen=True, kw_only=True)
class LocationShared(Event):
    latitude: float
    longitude: float
    address: str | None = None
    label: str | None = None

    @property
    def valid(self) -> bool:
        return (
            math.isfinite(self.latitude)
            and math.isfinite(self.longitude)
            and -90.0 <= self.latitude <= 90.0
            and -180.0 <= self.longitude <= 180.0
        )


@dataclass(frozen=True, kw_only=True)
class PhotoShared(Event):
    media: MediaRef
    caption: str = ""


@dataclass(frozen=True, kw_only=True)
class MemberJoined(Event):
    """The sender joined the chat (or, on WhatsApp, the community)."""


@dataclass(frozen=True, kw_only=True)
class MemberLeft(Event):
    """The sender left the chat or the community."""


@dataclass(frozen=True, kw_only=True)
class BotRemoved(Event):
    """The bot itself is no longer in the group chat: removed by ``sender`` (or it left, or the
    group was deleted). Nothing a member did: the core hands it to the handlers without making
    ``sender`` a member of anything."""


@dataclass(frozen=True, kw_only=True)
class BotAdded(Event):
    """The bot itself was added to the group chat, by ``sender``.

    ``inferred``: no messenger said so; an update came from a group the bot had been removed from
    (the notice was missed), so the handlers ask the messenger before believing it.
    """

    inferred: bool = False


@dataclass(frozen=True, kw_only=True)
class ChatMigrated(Event):
    """The chat got a new id (a Telegram group upgraded to a supergroup); the community keeps it."""

    new_ref: str


_COMMAND = re.compile(r"^/([A-Za-z][A-Za-z0-9_]{0,31})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?$", re.DOTALL)


def split_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """``"/poll@mybot Where? | A | B"`` → ``("poll", "Where? | A | B")``; ``None`` if not a command.

    A command addressed to another bot (``/poll@otherbot``) is not ours and yields ``None``.
    """
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    name, addressee, args = match.groups()
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None
    return name.lower(), (args or "").strip()


def _check_for(hint: typing.Any) -> typing.Callable[[object], bool]:
    """A check that a value has the annotated type (what events use: classes, unions, None, floats)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [_check_for(option) for option in typing.get_args(hint)]
        return lambda value: any(check(value) for check in options)
    if hint is type(None):
        return lambda value: value is None
    if hint is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        inner = _checker(hint)
        return lambda value: isinstance(value, hint) and inner(value)
    if isinstance(hint, type):
        return lambda value: isinstance(value, hint)
    return lambda value: True  # nothing more elaborate is used in events


@cache
def _checker(cls: type) -> typing.Callable[[object], bool]:
    """One check per field of a dataclass, built once per class (this runs on every event)."""
    hints = typing.get_type_hints(cls)
    checks = [(f.name, _check_for(hints[f.name])) for f in dataclasses.fields(cls)]
    return lambda value: all(check(getattr(value, name)) for name, check in checks)


def well_typed(value: object) -> bool:
    """Whether an event (or a part of one) holds what its annotations say, all the way down.

    Adapters build events from what a messenger sent, and a messenger's library may pass on
    whatever the JSON held (python-telegram-bot does not check types): a longitude that is text, a
    button's data that is a number. The core refuses such an event at the door.
    """
    kind: type = type(value)  # typed as a plain class: mypy finds type[object] not Hashable
    return _checker(kind)(value)
