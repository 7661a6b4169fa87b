"""What every adapter offers the core, and what the core knows about each messenger.

The core never imports a messenger library. It asks an adapter only for the few things that differ
between messengers: how to deliver a queued reply, whether a member is a group admin, how to fetch a
shared photo, and what the messenger can render (:class:`Capabilities`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from localbot.events import MediaRef

if TYPE_CHECKING:
    from localbot.outbox import Outgoing


@dataclass(frozen=True, slots=True)
class Capabilities:
    #: Choices render as tappable buttons; without them they become numbered text.
    buttons: bool
    #: A sent message can be edited in place (live poll counts).
    edits: bool
    #: The bot can only reach a member privately after the member opened a link to it (Telegram).
    deep_links: bool
    #: Longest text one message may carry.
    max_text: int
    #: The bot can sit in a group chat (Telegram, console); without, the community is a roster.
    group_chats: bool = True
    #: Most buttons one message may carry.
    max_buttons: int = 100


#: What each messenger can do, for cores running without that adapter attached (tests, exports).
DEFAULT_CAPABILITIES: dict[str, Capabilities] = {
    "telegram": Capabilities(buttons=True, edits=True, deep_links=True, max_text=4096),
    "whatsapp": Capabilities(
        buttons=False, edits=False, deep_links=False, max_text=1600, group_chats=False, max_buttons=3
    ),
    "console": Capabilities(buttons=False, edits=False, deep_links=False, max_text=100_000),
}


@dataclass(frozen=True, slots=True)
class Sent:
    platform_id: str | None = None
    #: Sent as an approved template instead of the message itself (WhatsApp outside the 24-hour
    #: window): the member saw the template's text, or the reply's ``invitation``, not the reply.
    template: bool = False


@dataclass(frozen=True, slots=True)
class RetryLater:
    after: timedelta
    error: str


@dataclass(frozen=True, slots=True)
class Undeliverable:
    """Permanent failure (blocked the bot, unknown chat): retrying would not help."""

    error: str
    #: ``skipped`` when the message was deliberately not sent (e.g. no template for a closed window).
    skipped: bool = False


DeliveryResult = Sent | RetryLater | Undeliverable


class Adapter:
    """Base class for messenger adapters; subclasses override what their messenger supports."""

    messenger: str = ""
    capabilities: Capabilities = DEFAULT_CAPABILITIES["console"]
    #: The messenger reports later whether a sent message arrived (Twilio's status callbacks), and
    #: such a report may have the message sent again: the outbox keeps its text until then
    #: (:mod:`localbot.delivered`). Without reports, a sent message's text is cleared at once.
    delivery_reports: bool = False

    async def deliver(self, item: Outgoing) -> DeliveryResult:
        """Send one queued reply to ``item.chat_ref``."""
        raise NotImplementedError

    def cached_admin(self, chat_ref: str, member_ref: str) -> bool | None:
        """Whether the member administers the group chat, if known without a network call."""
        return False

    async def fetch_admin(self, chat_ref: str, member_ref: str) -> bool:
        """Ask the messenger (and remember the answer for a while)."""
        return False

    async def in_group(self, chat_ref: str) -> bool:
        """Whether the bot is in the group chat now (asked when an update comes from a group it
        was removed from). Where nobody can remove it (the console), it always is."""
        return True

    async def download(self, media: MediaRef) -> bytes:
        """The bytes of a photo or file a member shared."""
        raise NotImplementedError(f"{self.messenger} cannot download media")

    def routes(self) -> list[Any]:
        """Starlette routes this adapter serves in the shared web process (webhooks, media)."""
        return []

    async def start(self) -> None:
        """Begin receiving (polling, webhooks registered). Called once the core is ready."""

    async def stop(self) -> None:
        """Stop receiving and release connections."""
