"""Test support: a real adapter that records what it delivers, and a harness that plays members.

Nothing here replaces our own modules; the harness drives the real core, router, handlers and
SQLite exactly as an adapter does, and :class:`RecordingAdapter` is a complete (if quiet) adapter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from localbot.adapters.base import (
    DEFAULT_CAPABILITIES,
    Adapter,
    Capabilities,
    DeliveryResult,
    Sent,
)
from localbot.clock import ManualClock
from localbot.community import store as community_store
from localbot.community.model import Role
from localbot.core import Core
from localbot.events import (
    Chat,
    ChatKind,
    ChoicePicked,
    Command,
    Event,
    LocationShared,
    Message,
    Sender,
    split_command,
)
from localbot.outbox import Outgoing
from localbot.replies import Ack, Choices, Reply, text_of


class RecordingAdapter(Adapter):
    """Delivers into a list; admin status comes from a set, as a messenger would answer."""

    def __init__(self, messenger: str = "console", capabilities: Capabilities | None = None) -> None:
        self.messenger = messenger
        self.capabilities = capabilities or DEFAULT_CAPABILITIES[messenger]
        self.delivered: list[Outgoing] = []
        self.admins: set[tuple[str, str]] = set()
        self.admin_fetches = 0
        self._cache: dict[tuple[str, str], bool] = {}

    async def deliver(self, item: Outgoing) -> DeliveryResult:
        self.delivered.append(item)
        return Sent(platform_id=f"{self.messenger}-{item.id}")

    def cached_admin(self, chat_ref: str, member_ref: str) -> bool | None:
        return self._cache.get((chat_ref, member_ref))

    async def fetch_admin(self, chat_ref: str, member_ref: str) -> bool:
        self.admin_fetches += 1
        answer = (chat_ref, member_ref) in self.admins
        self._cache[(chat_ref, member_ref)] = answer
        return answer

    def take(self) -> list[Outgoing]:
        out, self.delivered = self.delivered, []
        return out


GROUP = Chat("console:group", ChatKind.GROUP, "Sunny Estate")


@dataclass
class Harness:
    core: Core
    clock: ManualClock
    adapter: RecordingAdapter
    languages: dict[str, str | None] = field(default_factory=dict)
    chat: Chat = GROUP
    event_counter: int = 0

    # --- people ---

    def sender(self, name: str) -> Sender:
        return Sender(f"console:{name}", name.capitalize(), language=self.languages.get(name))

    def private(self, name: str) -> Chat:
        return Chat(f"console:{name}", ChatKind.PRIVATE)

    def member(self, name: str):  # type: ignore[no-untyped-def]
        return community_store.member_by_ref(self.core.db, f"console:{name}")

    async def make_organiser(self, name: str) -> None:
        await self.send("hello", name)  # links the group and creates the member
        member = self.member(name)
        community = self.community()
        with self.core.db.atomic():
            community_store.set_role(self.core.db, community.id, member.id, Role.ORGANISER, now=self.clock.now())

    def community(self):  # type: ignore[no-untyped-def]
        channel = community_store.channel_for_chat(self.core.db, GROUP.ref)
        assert channel is not None
        return community_store.get_community(self.core.db, channel.community_id)

    # --- talking ---

    async def handle(self, event: Event) -> list[Reply]:
        return await self.core.handle(event)

    async def send(self, text: str, who: str = "anna", chat: Chat | None = None, event_id: str | None = None) -> list[Reply]:
        chat = chat or self.chat
        parsed = split_command(text) if text.startswith("/") else None
        if parsed:
            event: Event = Command(chat=chat, sender=self.sender(who), name=parsed[0], args=parsed[1], event_id=event_id)
        else:
            event = Message(chat=chat, sender=self.sender(who), text=text, event_id=event_id)
        return await self.core.handle(event)

    async def pick(self, payload: str, who: str = "anna", chat: Chat | None = None) -> list[Reply]:
        return await self.core.handle(ChoicePicked(chat=chat or self.chat, sender=self.sender(who), payload=payload))

    async def locate(self, lat: float, lon: float, who: str = "anna", chat: Chat | None = None) -> list[Reply]:
        return await self.core.handle(LocationShared(chat=chat or self.chat, sender=self.sender(who), latitude=lat, longitude=lon))

    async def wait(self, delta: timedelta) -> int:
        self.clock.advance(delta)
        return await self.core.run_until_idle()

    async def outbox(self) -> list[Outgoing]:
        while await self.core.deliver_pending():
            pass
        return self.adapter.take()


def texts(replies: Iterable[Reply]) -> str:
    """The replies' texts, one per line; a picture without a caption adds nothing."""
    return "\n".join(text for text in map(text_of, replies) if text)


def only(replies: list[Reply]) -> Reply:
    assert len(replies) == 1, replies
    return replies[0]


def choices(replies: list[Reply]) -> Choices:
    found = [r for r in replies if isinstance(r, Choices)]
    assert found, replies
    return found[-1]


def ack(replies: list[Reply]) -> str:
    found = [r for r in replies if isinstance(r, Ack)]
    assert found, replies
    return found[0].text


def with_language(sender: Sender, language: str) -> Sender:
    return replace(sender, language=language)
