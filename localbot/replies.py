"""What goes out: neutral replies that every adapter renders in its messenger's own way.

A handler returns these values and never calls a messenger. Choices degrade to numbered text where a
messenger has no buttons; an :class:`Edit` refers to an earlier reply by its ``key`` (for example
``poll:12``), so the adapter, not the handler, remembers which platform message that was.
Replies are serialisable (:func:`to_json` / :func:`from_json`) because messages to other chats wait in
the SQLite outbox until they are delivered.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, fields
from typing import Any, TypeAlias

MAX_PAYLOAD_BYTES = 64  # Telegram's callback_data limit, and a sane one everywhere else.


class ReplyError(ValueError):
    """A reply that no messenger could render (for example an over-long button payload)."""


@dataclass(frozen=True, slots=True)
class Option:
    """One button: the label a member sees and the short payload the bot gets back."""

    label: str
    payload: str

    def __post_init__(self) -> None:
        size = len(self.payload.encode())
        if not 1 <= size <= MAX_PAYLOAD_BYTES:
            raise ReplyError(f"choice payload must be 1-{MAX_PAYLOAD_BYTES} bytes, got {size}: {self.payload!r}")


@dataclass(frozen=True, kw_only=True)
class Text:
    text: str
    #: A stable name for this message (``poll:12``) so that it can be edited later.
    key: str | None = None


@dataclass(frozen=True, kw_only=True)
class Choices:
    text: str
    options: tuple[Option, ...]
    key: str | None = None
    #: Buttons per row where the messenger lays buttons out in a grid.
    columns: int = 1
    #: The answer may be several options ("1, 3"), as the text says: where choices are numbered,
    #: the messenger does not add its own "reply with a number" line.
    several: bool = False
    #: Where the messenger only lets the bot send an approved template (WhatsApp outside the
    #: 24-hour window), a one-line invitation to send instead of the question, and the payload its
    #: reply button carries; whatever the member answers, the flow asks its question again.
    invitation: str | None = None
    invitation_payload: str | None = None

    def __post_init__(self) -> None:
        if not self.options:
            raise ReplyError("a Choices reply needs at least one option")
        if self.invitation_payload is not None:
            Option("invitation", self.invitation_payload)  # the same limits as any button


@dataclass(frozen=True, kw_only=True)
class Location:
    latitude: float
    longitude: float
    #: With a title the messenger shows a venue (name and address), else a bare pin.
    title: str | None = None
    address: str | None = None


@dataclass(frozen=True, kw_only=True)
class Picture:
    data: bytes = field(repr=False)
    caption: str = ""
    filename: str = "picture.png"
    key: str | None = None


@dataclass(frozen=True, kw_only=True)
class Document:
    data: bytes = field(repr=False)
    filename: str
    caption: str = ""
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, kw_only=True)
class Edit:
    """Replace the text (and buttons) of the earlier reply sent with ``key`` in the same chat.

    Messengers that cannot edit drop it unless ``fallback`` is set, in which case they send the new
    text as a fresh message.
    """

    key: str
    text: str
    options: tuple[Option, ...] = ()
    columns: int = 1
    fallback: bool = False


@dataclass(frozen=True, kw_only=True)
class LiveEdit:
    """An edit of the message ``key`` whose content is rendered when it is *delivered*.

    Live counts change with every vote, but the outbox sends at most one edit every few seconds
    per chat; rendering at delivery means each burst costs one rendering, not one per vote. The
    ``view`` names a renderer registered with the router (``router.view``), ``ref`` says what it
    shows (a poll id), and ``language`` is the recipient chat's language.
    """

    key: str
    view: str
    ref: str
    language: str


@dataclass(frozen=True, kw_only=True)
class Ack:
    """A short confirmation of a button press ("Your vote: Pizza").

    Telegram shows it as the little notice of ``answerCallbackQuery``; elsewhere it is a text.
    """

    text: str


@dataclass(frozen=True, kw_only=True)
class PrivateLink:
    """Ask the member to continue in a private chat with the bot (Telegram deep link).

    ``payload`` is what ``/start`` will carry: at most 64 characters of ``[A-Za-z0-9_-]``.
    """

    text: str
    payload: str
    label: str


Reply: TypeAlias = Text | Choices | Location | Picture | Document | Edit | LiveEdit | Ack | PrivateLink

_TYPES: dict[str, type] = {
    cls.__name__.lower(): cls for cls in (Text, Choices, Location, Picture, Document, Edit, LiveEdit, Ack, PrivateLink)
}


def text_of(reply: Reply) -> str:
    """The human-readable text of a reply, for logs, tests and plain-text messengers."""
    if isinstance(reply, (Text, Choices, Edit, Ack, PrivateLink)):
        return reply.text
    if isinstance(reply, (Picture, Document)):
        return reply.caption
    if isinstance(reply, Location):
        return " ".join(part for part in (reply.title, reply.address) if part)
    if isinstance(reply, LiveEdit):
        return ""
    raise TypeError(reply)


def to_dict(reply: Reply) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(reply).__name__.lower()}
    for f in fields(reply):  # type: ignore[arg-type]
        value = getattr(reply, f.name)
        if isinstance(value, bytes):
            value = {"b64": base64.b64encode(value).decode()}
        elif f.name == "options":
            value = [[o.label, o.payload] for o in value]
        out[f.name] = value
    return out


def from_dict(data: dict[str, Any]) -> Reply:
    data = dict(data)
    cls = _TYPES[data.pop("type")]
    for name, value in list(data.items()):
        if isinstance(value, dict) and "b64" in value:
            data[name] = base64.b64decode(value["b64"])
        elif name == "options":
            data[name] = tuple(Option(label, payload) for label, payload in value)
    return cls(**data)  # type: ignore[no-any-return]


def to_json(reply: Reply) -> str:
    return json.dumps(to_dict(reply), ensure_ascii=False, separators=(",", ":"))


def from_json(text: str) -> Reply:
    return from_dict(json.loads(text))
