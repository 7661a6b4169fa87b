"""Plain values for the people and places of a community."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo


class Role(StrEnum):
    MEMBER = "member"
    ORGANISER = "organiser"


class ChannelKind(StrEnum):
    #: A group chat the bot sits in (Telegram group, console group).
    GROUP = "group"
    #: Members who talk to the bot one to one on behalf of the community (WhatsApp).
    ROSTER = "roster"


@dataclass(frozen=True, slots=True)
class Community:
    id: int
    name: str
    language: str
    timezone: str
    join_code: str | None = None
    settings: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Community:
        return cls(
            id=row["id"],
            name=row["name"],
            language=row["language"],
            timezone=row["timezone"],
            join_code=row["join_code"],
            settings=json.loads(row["settings"] or "{}"),
        )


@dataclass(frozen=True, slots=True)
class Channel:
    id: int
    community_id: int
    messenger: str
    kind: ChannelKind
    chat_ref: str | None
    title: str | None
    #: False once the bot was removed from the group chat: it gets none of the community's messages.
    active: bool = True

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Channel:
        return cls(
            id=row["id"],
            community_id=row["community_id"],
            messenger=row["messenger"],
            kind=ChannelKind(row["kind"]),
            chat_ref=row["chat_ref"],
            title=row["title"],
            active=bool(row["active"]),
        )


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    ref: str
    messenger: str
    name: str
    username: str | None = None
    #: The language the member chose with /lang.
    language: str | None = None
    #: The language the messenger reported.
    messenger_language: str | None = None
    #: The chat where the bot can talk to this member alone, once known.
    private_chat_ref: str | None = None
    last_inbound_at: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.username or self.ref.partition(":")[2]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Member:
        return cls(
            id=row["id"],
            ref=row["ref"],
            messenger=row["messenger"],
            name=row["name"],
            username=row["username"],
            language=row["language"],
            messenger_language=row["messenger_language"],
            private_chat_ref=row["private_chat_ref"],
            last_inbound_at=row["last_inbound_at"],
        )
