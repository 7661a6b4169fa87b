"""What a handler gets: the event, who and where, the member's language, and the effects it may cause.

A handler runs inside one database transaction per event and must not wait on the network (see
:mod:`localbot.handlers.router`). When it needs something from outside — whether a member is a
Telegram group admin, the bytes of a shared photo, a geocoded address — it calls
:meth:`Effects.lookup`. The first time, that raises :class:`Prefetch`; the core rolls the
transaction back, awaits the fetch *outside* it, and runs the handler again with the answer at hand.
Handlers therefore stay synchronous, a transaction never spans an await, and one slow network call
never holds the database.

Effects on other chats (announcements, reminders, edits of earlier messages) go through
:meth:`Effects.send` and :meth:`Effects.broadcast` into the outbox, committed with everything else.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlite_utils

from localbot import outbox, scheduler
from localbot.community import store as community_store
from localbot.community.model import ChannelKind, Community, Member, Role
from localbot.events import Event, MediaRef
from localbot.handlers.router import HandlerResult, as_replies
from localbot.i18n import Translator, translator
from localbot.replies import Edit, LiveEdit, Reply

if TYPE_CHECKING:
    from localbot.core import Core
    from localbot.handlers.conversation import Conversation
    from localbot.settings import Settings


class Prefetch(Exception):
    """Raised by :meth:`Effects.lookup` to have the core fetch something outside the transaction."""

    def __init__(self, key: Hashable, fetch: Callable[[], Awaitable[Any]]) -> None:
        super().__init__(f"prefetch {key!r}")
        self.key = key
        self.fetch = fetch


class LookupFailed(Exception):
    """A prefetch (admin check, download, geocoding) failed; handlers may catch it."""


class Failed:
    """How a failed fetch is kept among the lookups."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class LookupView(dict):  # type: ignore[type-arg]
    """Lookups as handlers see them: a failed fetch raises :class:`LookupFailed` where it is used."""

    def __getitem__(self, key: Hashable) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, Failed):
            raise LookupFailed(str(value.error)) from value.error
        return value


class HandlerError(Exception):
    """Stop handling and tell the member ``message`` (already translated); nothing is saved."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Recipient:
    chat_ref: str
    member: Member | None
    t: Translator
    edits: bool


class Effects:
    """Services shared by event handlers and scheduled jobs."""

    def __init__(self, core: Core, lookups: dict[Hashable, Any] | None = None) -> None:
        self.core = core
        self.db: sqlite_utils.Database = core.db
        self.settings: Settings = core.settings
        self.now: datetime = core.clock.now()
        self._lookups = lookups if lookups is not None else {}

    # --- outside information -------------------------------------------------------------------

    def lookup(self, key: Hashable, fetch: Callable[[], Awaitable[Any]]) -> Any:
        """The result of ``fetch()``, awaited by the core outside the transaction (see module doc)."""
        if key in self._lookups:
            return self._lookups[key]
        raise Prefetch(key, fetch)

    def media(self, media: MediaRef) -> bytes:
        """The bytes of a photo or file a member shared."""
        adapter = self.core.adapters.get(media.messenger)
        if adapter is None:
            raise HandlerError(self.core.translator_for(None, None)._("I could not fetch that file."))
        return self.lookup(("media", media.messenger, media.ref), lambda: adapter.download(media))  # type: ignore[no-any-return]

    # --- languages -----------------------------------------------------------------------------

    def translator_for(self, member: Member | None, community: Community | None = None) -> Translator:
        return self.core.translator_for(member, community)

    def community_t(self, community: Community) -> Translator:
        return translator(community.language)

    def known_organisers(self, community: Community) -> list[Member]:
        """Who organises ``community`` as far as the bot knows without asking a messenger: the
        members who hold the role, and those of ``LOCALBOT_ORGANISERS`` who belong to it (group
        admins are found only by asking, member by member: see :meth:`Context.is_organiser`)."""
        ids = set(community_store.organiser_ids(self.db, community.id))
        for ref in self.settings.organisers:
            member = community_store.member_by_ref(self.db, ref)
            if member is not None and community_store.role_of(self.db, community.id, member.id) is not None:
                ids.add(member.id)
        found = (community_store.get_member(self.db, member_id) for member_id in sorted(ids))
        return [member for member in found if member is not None]

    # --- effects on other chats ----------------------------------------------------------------

    def send(
        self,
        chat_ref: str,
        *replies: Reply,
        member_id: int | None = None,
        community_id: int | None = None,
        purpose: str = "message",
        coalesce_key: str | None = None,
        min_interval: timedelta | None = None,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
    ) -> list[int | None]:
        """Queue ``replies`` for ``chat_ref``; returns their outbox rows (None where ``dedupe_key``
        had queued that one already)."""
        queued: list[int | None] = []
        for index, reply in enumerate(replies):
            row = outbox.enqueue(
                self.db,
                chat_ref=chat_ref,
                reply=reply,
                now=self.now,
                member_id=member_id,
                community_id=community_id,
                purpose=purpose,
                coalesce_key=f"{chat_ref}|{coalesce_key}" if coalesce_key else None,
                min_interval=min_interval,
                dedupe_key=f"{dedupe_key}|{chat_ref}|{index}" if dedupe_key else None,
                not_before=not_before,
            )
            queued.append(row)
            self.core.note_menu(chat_ref, reply, self.now)
        return queued

    def private_chat_ref(self, member: Member) -> str:
        """Where the bot talks to ``member`` alone: in all our messengers the member's own ref."""
        return member.private_chat_ref or member.ref

    def send_to_member(
        self,
        member: Member,
        build: Callable[[Translator], HandlerResult],
        *,
        community: Community | None = None,
        purpose: str = "message",
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """Queue a private message, written in the member's own language."""
        replies = as_replies(build(self.translator_for(member, community)))
        self.send(
            self.private_chat_ref(member),
            *replies,
            member_id=member.id,
            community_id=community.id if community else None,
            purpose=purpose,
            dedupe_key=dedupe_key,
            not_before=not_before,
        )

    def recipients(
        self, community: Community, *, exclude_chat: str | None = None, edits_only: bool = False
    ) -> list[Recipient]:
        """Every chat that shows this community: its group chats (community language) and each
        roster member one to one (their own language). ``edits_only`` keeps only chats whose
        messenger can edit a message in place."""
        out: list[Recipient] = []
        for channel in community_store.channels_of(self.db, community.id):
            caps = self.core.capabilities(channel.messenger)
            if edits_only and not caps.edits:
                continue
            if channel.kind is ChannelKind.GROUP and channel.chat_ref:
                if channel.chat_ref != exclude_chat:
                    out.append(Recipient(channel.chat_ref, None, translator(community.language), caps.edits))
            else:
                for member in community_store.active_members(self.db, community.id, messenger=channel.messenger):
                    chat = self.private_chat_ref(member)
                    if chat != exclude_chat:
                        out.append(Recipient(chat, member, self.translator_for(member, community), caps.edits))
        return out

    def broadcast(
        self,
        community: Community,
        build: Callable[[Translator], HandlerResult],
        *,
        exclude_chat: str | None = None,
        purpose: str = "broadcast",
        dedupe_key: str | None = None,
        coalesce_key: str | None = None,
        min_interval: timedelta | None = None,
    ) -> int:
        """Queue a message to every chat of the community, each in its own language; returns how many.

        Edits go only where the messenger can edit; elsewhere they are dropped unless marked as
        ``fallback``, since re-sending a live count to every WhatsApp member would be spam.
        """
        rendered: dict[str, list[Reply]] = {}
        count = 0
        probe = as_replies(build(translator(community.language)))
        edits_only = bool(probe) and all(_is_edit(r) for r in probe)
        rendered[community.language] = probe
        for recipient in self.recipients(community, exclude_chat=exclude_chat, edits_only=edits_only):
            replies = rendered.get(recipient.t.language)
            if replies is None:
                replies = rendered[recipient.t.language] = as_replies(build(recipient.t))
            wanted = [r for r in replies if recipient.edits or not _is_edit(r)]
            if not wanted:
                continue
            self.send(
                recipient.chat_ref,
                *wanted,
                member_id=recipient.member.id if recipient.member else None,
                community_id=community.id,
                purpose=purpose,
                dedupe_key=dedupe_key,
                coalesce_key=coalesce_key,
                min_interval=min_interval,
            )
            count += 1
        return count

    def live_update(self, community: Community, *, key: str, view: str, ref: str, min_interval: timedelta | None = None) -> int:
        """Refresh the message ``key`` in every chat that can edit it, rendered by ``view`` when
        delivered (see :class:`~localbot.replies.LiveEdit`); bursts coalesce into one edit per chat."""
        count = 0
        for recipient in self.recipients(community, edits_only=True):
            self.send(
                recipient.chat_ref,
                LiveEdit(key=key, view=view, ref=ref, language=recipient.t.language),
                member_id=recipient.member.id if recipient.member else None,
                community_id=community.id,
                purpose="live",
                coalesce_key=key,
                min_interval=min_interval,
            )
            count += 1
        return count

    # --- scheduled work ------------------------------------------------------------------------

    def schedule(
        self,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
        *,
        dedupe_key: str | None = None,
        community_id: int | None = None,
    ) -> int:
        if kind not in self.core.router.jobs:
            raise ValueError(f"no handler registered for job kind {kind!r}")
        return scheduler.schedule(
            self.db, kind, due_at, payload, now=self.now, dedupe_key=dedupe_key, community_id=community_id
        )

    def cancel_job(self, dedupe_key: str) -> bool:
        return scheduler.cancel(self.db, dedupe_key)


def _is_edit(reply: Reply) -> bool:
    return isinstance(reply, LiveEdit) or (isinstance(reply, Edit) and not reply.fallback)


class JobContext(Effects):
    """What a scheduled job's handler gets."""


class Context(Effects):
    """What an event handler gets."""

    def __init__(
        self,
        core: Core,
        event: Event,
        member: Member,
        community: Community | None,
        lookups: dict[Hashable, Any] | None = None,
    ) -> None:
        super().__init__(core, lookups)
        self.event = event
        self.member = member
        self.community = community
        #: The member's language: for errors, confirmations and anything addressed to them.
        self.t: Translator = core.translator_for(member, community)
        #: The community's language: for what the whole group reads.
        self.ct: Translator = translator(community.language) if community else self.t
        self.conversation: Conversation | None = None

    @property
    def chat_ref(self) -> str:
        return self.event.chat.ref

    @property
    def in_group(self) -> bool:
        return self.event.chat.is_group

    @property
    def needs_private_link(self) -> bool:
        """The bot cannot write to this member first: their messenger opens private chats by deep
        link (Telegram) and they have never opened one, so a private answer needs their tap."""
        return self.core.capabilities(self.member.messenger).deep_links and self.member.private_chat_ref is None

    @property
    def buttons(self) -> bool:
        """This chat shows choices as buttons; without, as numbered lines answered by number."""
        return self.core.capabilities(self.event.messenger).buttons

    def is_organiser(self, community: Community | None = None) -> bool:
        """Organisers: ``LOCALBOT_ORGANISERS``, members given the role, and the admins of the
        community's group chats in the member's messenger (asked of the adapter, cached there)."""
        community = community or self.community
        if self.member.ref in self.settings.organisers:
            return True
        if community is None:
            return False
        if community_store.role_of(self.db, community.id, self.member.id) is Role.ORGANISER:
            return True
        adapter = self.core.adapters.get(self.member.messenger)
        if adapter is None:
            return False
        for channel in community_store.channels_of(self.db, community.id):
            if channel.kind is not ChannelKind.GROUP or channel.messenger != self.member.messenger or not channel.chat_ref:
                continue
            chat_ref = channel.chat_ref
            status = adapter.cached_admin(chat_ref, self.member.ref)
            if status is None:
                try:
                    status = self.lookup(
                        ("admin", chat_ref, self.member.ref), functools.partial(adapter.fetch_admin, chat_ref, self.member.ref)
                    )
                except LookupFailed:
                    status = False
            if status:
                return True
        return False

    def require_organiser(self, what: str) -> None:
        """Raise :class:`HandlerError` unless the member is an organiser; ``what`` is a translated
        phrase such as "close polls"."""
        if not self.is_organiser():
            raise HandlerError(self.t._("Only organisers can {what}.", what=what))

    def require_community(self) -> Community:
        if self.community is None:
            raise HandlerError(
                self.t._(
                    "You are not in a community yet. Use me in your neighbourhood group first, "
                    "or send JOIN and the code your organiser gave you."
                )
            )
        return self.community
