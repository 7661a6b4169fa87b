"""The core: turns one event into replies, runs due jobs, and feeds queued messages to adapters.

Adapters call :meth:`Core.handle` with a neutral event and render the replies it returns. For each
event the core, in one SQLite transaction: records the event id (so a re-delivery is ignored),
refreshes the member, finds the community (linking a group chat on first use), dispatches to the
handler registered in the :class:`~localbot.handlers.router.Router`, and commits the handler's
writes together with any messages it queued for other chats. If the handler needs something from
the network it raises :class:`~localbot.handlers.context.Prefetch`; the core rolls back, awaits the
fetch, and runs the handler again (see :mod:`localbot.handlers.context`).

A handler's own mistake (:class:`HandlerError`) rolls back only the handler's writes and answers
the member; a bug does the same with an apology and a log entry; a database that is locked or full
answers "please try again" and records nothing, so a re-delivery can still succeed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import sqlite_utils

from localbot import delivered, outbox, scheduler
from localbot.adapters.base import (
    DEFAULT_CAPABILITIES,
    Adapter,
    Capabilities,
    RetryLater,
    Sent,
    Undeliverable,
)
from localbot.clock import Clock, SystemClock, iso
from localbot.community import store as community_store
from localbot.community.model import Community, Member
from localbot.events import (
    BotAdded,
    BotRemoved,
    ChatMigrated,
    ChoicePicked,
    Command,
    Event,
    LocationShared,
    MemberJoined,
    MemberLeft,
    Message,
    PhotoShared,
    well_typed,
)
from localbot.handlers import conversation as conv
from localbot.handlers.context import (
    Context,
    Effects,
    Failed,
    HandlerError,
    JobContext,
    LookupFailed,
    LookupView,
    Prefetch,
)
from localbot.handlers.router import Router, Where, as_replies
from localbot.i18n import Translator, normalize_language, translator
from localbot.replies import Ack, Choices, Edit, LiveEdit, Reply, Text
from localbot.settings import Settings
from localbot.storage.db import one
from localbot.storage.secret import load_or_create_secret
from localbot.text import whole_number

log = logging.getLogger(__name__)

MAX_PREFETCH_ROUNDS = 4
REMOVED_FROM_GROUP = "not sent: the bot was removed from this group"
LOOKUP_TIMEOUT_S = 15.0
_NUMBER = re.compile(r"^\s*#?(\d{1,3})\s*[.)]?\s*$")


class Core:
    def __init__(
        self,
        settings: Settings,
        db: sqlite_utils.Database,
        *,
        clock: Clock | None = None,
        router: Router | None = None,
        secret: bytes | None = None,
    ) -> None:
        from localbot.handlers import build_router

        self.settings = settings
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.router = router or build_router()
        self.adapters: dict[str, Adapter] = {}
        self.secret = secret or load_or_create_secret(settings.database)
        #: One per messenger's delivery loop (see :meth:`start`).
        self._wake_outbox: dict[str, asyncio.Event] = {}
        self._wake_jobs = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self._recurring_armed = False
        self.delivery_concurrency = 8
        #: Delivery outcomes the database could not take yet (see :meth:`_record`).
        self._unrecorded: list[Callable[[], Any]] = []

    # --- adapters ------------------------------------------------------------------------------

    def attach(self, adapter: Adapter) -> None:
        self.adapters[adapter.messenger] = adapter
        if self._running and adapter.messenger not in self._wake_outbox:
            self._start_delivery(adapter.messenger)

    def capabilities(self, messenger: str) -> Capabilities:
        adapter = self.adapters.get(messenger)
        if adapter is not None:
            return adapter.capabilities
        return DEFAULT_CAPABILITIES.get(messenger, DEFAULT_CAPABILITIES["console"])

    # --- languages -----------------------------------------------------------------------------

    def language_for(self, member: Member | None, community: Community | None) -> str:
        """Chosen with /lang, else what the messenger reports, else the community's, else the default."""
        if member is not None:
            chosen = normalize_language(member.language) or normalize_language(member.messenger_language)
            if chosen:
                return chosen
        if community is not None:
            return community.language
        return self.settings.language

    def translator_for(self, member: Member | None, community: Community | None) -> Translator:
        return translator(self.language_for(member, community))

    # --- events --------------------------------------------------------------------------------

    async def handle(self, event: Event) -> list[Reply]:
        """Process one event exactly once and return the replies for the chat it came from."""
        if not well_typed(event):
            log.warning("ignoring an event whose fields have the wrong types: %r", event)
            return []
        lookups: dict[Hashable, Any] = {}
        for _ in range(MAX_PREFETCH_ROUNDS):
            try:
                replies = self._handle_once(event, lookups)
            except Prefetch as wanted:
                lookups[wanted.key] = await _fetch(wanted)
                continue
            except Exception:  # noqa: BLE001 - whatever an event holds, nothing raises to the adapter
                log.exception("could not handle %r", event)
                return [self._failure(event, self._apology(event))]
            self.wake()
            self._wake_jobs.set()
            return replies
        log.error("event needed more than %d lookups: %r", MAX_PREFETCH_ROUNDS, event)
        return [self._failure(event, self._apology(event))]

    def _apology(self, event: Event) -> str:
        return translator(self._language_without_writing(event))._("Sorry, something went wrong on my side. Please try again.")

    def apology(self, sender_ref: str | None, language: object = None) -> str:
        """The same apology for what an adapter could not even turn into an event (a button press
        it must still answer), in the sender's language as far as it is known."""
        return translator(self._language_of(sender_ref, language))._("Sorry, something went wrong on my side. Please try again.")

    def _handle_once(self, event: Event, lookups: dict[Hashable, Any]) -> list[Reply]:
        now = self.clock.now()
        try:
            with self.db.atomic():
                if event.event_id is not None and not self._claim_event(event.event_id, now):
                    return []
                if isinstance(event, (BotAdded, BotRemoved)):
                    return self._bot_status(event, lookups)
                member, community, away = self._resolve(event, now)
                back: list[Reply] = []
                if away and not isinstance(event, ChoicePicked):
                    # Only a bot in the group gets its messages (a press of an old button is the
                    # exception): the notice that it was added back must have been missed.
                    back = self._bot_status(BotAdded(chat=event.chat, sender=event.sender, at=event.at, inferred=True), lookups)
                ctx = Context(self, event, member, community, LookupView(lookups))
                try:
                    with _savepoint(self.db):  # a refused request leaves no half-writes
                        replies = self.dispatch(ctx)
                except HandlerError as refused:
                    replies = [Text(text=refused.message)]
                except (Prefetch, sqlite3.OperationalError):
                    raise
                except LookupFailed:
                    replies = [self._failure(event, ctx.t._("I could not reach the messenger just now. Please try again in a moment."))]
                except Exception:
                    log.exception("handler failed for %r", event)
                    replies = [self._failure(event, ctx.t._("Sorry, something went wrong on my side. Please try again."))]
                replies = back + replies
                for reply in replies:
                    self.note_menu(event.chat.ref, reply, now)
                return replies
        except sqlite3.OperationalError as exc:  # locked, disk full, read-only: nothing was written
            log.error("database error while handling %r: %s", event, exc)
            t = translator(self._language_without_writing(event))
            return [self._failure(event, t._("I could not save that just now. Please try again in a moment."))]

    def _language_without_writing(self, event: Event) -> str:
        """The member's language when nothing can be written: reading usually still works (WAL
        lets readers past a writer, and a full disk can still be read)."""
        return self._language_of(event.sender.ref, event.sender.language)

    def _language_of(self, sender_ref: str | None, language: object) -> str:
        try:
            member = community_store.member_by_ref(self.db, sender_ref) if isinstance(sender_ref, str) else None
        except (sqlite3.Error, OverflowError, TypeError):
            member = None
        if member is not None:
            return self.language_for(member, None)
        return normalize_language(language if isinstance(language, str) else None) or self.settings.language

    def _failure(self, event: Event, text: str) -> Reply:
        """The core's own apology. Where a button press is answered in place (Telegram), only the
        member who pressed sees it; elsewhere it is a message in the chat."""
        if isinstance(event, ChoicePicked) and self.capabilities(event.messenger).buttons:
            return Ack(text=text)
        return Text(text=text)

    def _claim_event(self, event_id: str, now: Any) -> bool:
        cursor = self.db.conn.execute(
            "INSERT INTO inbound_events (event_id, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING", [event_id, iso(now)]
        )
        return cursor.rowcount > 0

    def _bot_status(self, event: BotAdded | BotRemoved, lookups: dict[Hashable, Any]) -> list[Reply]:
        """The bot itself was added to or removed from a group chat. Nothing a member did: no
        member is touched and no community is made (a group becomes one on its first use); the
        handlers get the effects alone. A handler's failure is logged and leaves no half-writes."""
        effects = Effects(self, LookupView(lookups))
        handlers: list[Any] = self.router.bot_added_handlers if isinstance(event, BotAdded) else self.router.bot_removed_handlers
        try:
            with _savepoint(self.db):
                return [r for handler in handlers for r in as_replies(handler(effects, event))]
        except (Prefetch, sqlite3.OperationalError):
            raise
        except Exception:  # noqa: BLE001 - the bot's own status must never break an update
            log.exception("handler failed for %r", event)
            return []

    def _resolve(self, event: Event, now: Any) -> tuple[Member, Community | None, bool]:
        """The member, their community, and whether the event came from a group chat the bot had
        been removed from (its community is still the one the event belongs to)."""
        chat = event.chat
        member = community_store.touch_member(
            self.db, event.sender, now=now, private_chat_ref=None if chat.is_group else chat.ref
        )
        if not chat.is_group:
            community_id = community_store.current_community_id(self.db, member.id)
            return member, community_store.get_community(self.db, community_id) if community_id else None, False
        community = community_store.community_for_chat(self.db, chat.ref)
        away = False
        if community is None:
            community = community_store.community_for_chat(self.db, chat.ref, active=False)
            away = community is not None
        if community is None:  # the bot's first event in this group
            community, _channel = community_store.link_group_chat(
                self.db,
                chat_ref=chat.ref,
                title=chat.title,
                language=self.settings.language,
                timezone=self.settings.timezone,
                now=now,
            )
        if isinstance(event, MemberLeft):
            community_store.leave_community(self.db, community.id, member.id, now=now)
        else:
            community_store.ensure_membership(self.db, community.id, member.id, now=now)
        return member, community, away

    def dispatch(self, ctx: Context) -> list[Reply]:
        event = ctx.event
        if isinstance(event, Command):
            return self._command(ctx, event)
        if isinstance(event, ChoicePicked):
            return self._choice(ctx, event)
        if isinstance(event, Message):
            return self._message(ctx, event)
        if isinstance(event, LocationShared):
            if not event.valid:
                return [Text(text=ctx.t._("That location does not look right. Please share it again."))]
            return self._media_like(ctx, event, conv.Expect.LOCATION, self.router.location_handlers)
        if isinstance(event, PhotoShared):
            return self._media_like(ctx, event, conv.Expect.PHOTO, self.router.photo_handlers)
        if isinstance(event, MemberJoined):
            return [r for handler in self.router.join_handlers for r in as_replies(handler(ctx, event))]
        if isinstance(event, ChatMigrated):
            community_store.move_chat(self.db, event.chat.ref, event.new_ref)
            return []
        return []

    def _command(self, ctx: Context, event: Command) -> list[Reply]:
        spec = self.router.commands.get(event.name)
        t = ctx.t
        if spec is None:
            return [Text(text=t._("I don't know the command /{name}. Send /help to see what I can do.", name=event.name))]
        caps = self.capabilities(event.messenger)
        if spec.where is Where.GROUP and not ctx.in_group and caps.group_chats:
            return [Text(text=t._("Please use /{name} in your group chat.", name=spec.name))]
        if spec.where is Where.PRIVATE and ctx.in_group:
            return [Text(text=t._("Please send /{name} to me in a private chat.", name=spec.name))]
        if spec.needs_community:
            ctx.require_community()
        if spec.organiser_only and not ctx.is_organiser():
            return [Text(text=t._("Only organisers can use /{name}.", name=spec.name))]
        return as_replies(spec.handler(ctx, event))

    def _choice(self, ctx: Context, event: ChoicePicked) -> list[Reply]:
        prefix, _, rest = event.payload.partition(":")
        parts = rest.split(":") if rest else []
        if prefix == "c":
            return self._conversation_choice(ctx, event, parts)
        handler = self.router.choices.get(prefix)
        if handler is None:
            return [Ack(text=ctx.t._("This button no longer works."))]
        return as_replies(handler(ctx, event, parts))

    def _conversation_choice(self, ctx: Context, event: ChoicePicked, parts: list[str]) -> list[Reply]:
        ident = whole_number(parts[0]) if parts else None
        current = conv.load_by_id(self.db, ident) if ident is not None else None
        if current is None or current.member_id != ctx.member.id:
            return [Ack(text=ctx.t._("This question is no longer open."))]
        flow = self.router.flows.get(current.flow)
        if flow is None:
            conv.end(ctx, current)
            return [Ack(text=ctx.t._("This question is no longer open."))]
        ctx.conversation = current
        return conv.advance(ctx, flow, current, conv.Answer.from_event(event, choice=":".join(parts[1:])))

    def _active_flow(self, ctx: Context) -> tuple[conv.Conversation, conv.Flow] | None:
        current = conv.load(self.db, ctx.member.id, ctx.chat_ref)
        if current is None:
            return None
        flow = self.router.flows.get(current.flow)
        if flow is None:
            conv.end(ctx, current)
            return None
        ctx.conversation = current
        return current, flow

    def _message(self, ctx: Context, event: Message) -> list[Reply]:
        active = self._active_flow(ctx)
        number = _NUMBER.match(event.text)
        menu = self.menu(ctx.chat_ref) if number and not self.capabilities(event.messenger).buttons else None
        if active is not None:
            current, flow = active
            if menu and conv.Expect.CHOICE in conv.expects(flow, current):
                index = int(number.group(1)) if number else 0
                if 1 <= index <= len(menu) and menu[index - 1].startswith(f"c:{current.id}:"):
                    return self._choice(ctx, _as_choice(event, menu[index - 1]))
            return conv.advance(ctx, flow, current, conv.Answer.from_event(event))
        if menu and number:
            index = int(number.group(1))
            if 1 <= index <= len(menu):
                return self._choice(ctx, _as_choice(event, menu[index - 1]))
            return [Text(text=ctx.t._("Please answer with a number from 1 to {count}.", count=len(menu)))]
        text = event.text.strip()
        for rule in self.router.text_rules:
            if rule.where is Where.PRIVATE and ctx.in_group:
                continue
            if rule.where is Where.GROUP and not ctx.in_group:
                continue
            if rule.matches(text):
                return as_replies(rule.handler(ctx, event))
        if ctx.in_group:
            return []  # ordinary group chatter is not for us
        return [Text(text=ctx.t._("I'm not sure what you mean. Send /help to see what I can do."))]

    def _media_like(self, ctx: Context, event: Event, kind: conv.Expect, handlers: list[Any]) -> list[Reply]:
        active = self._active_flow(ctx)
        if active is not None and kind in conv.expects(active[1], active[0]):
            return conv.advance(ctx, active[1], active[0], conv.Answer.from_event(event))
        for handler in handlers:
            replies = as_replies(handler(ctx, event))
            if replies:
                return replies
        if active is not None:
            return conv.advance(ctx, active[1], active[0], conv.Answer.from_event(event))
        if ctx.in_group:
            return []
        if kind is conv.Expect.LOCATION:
            return [Text(text=ctx.t._("Thank you, but nothing needs a location from you right now."))]
        return [Text(text=ctx.t._("Thank you, but nothing needs a photo from you right now."))]

    # --- numbered choices for messengers without buttons ---------------------------------------

    def note_menu(self, chat_ref: str, reply: Reply, now: Any) -> None:
        """Remember the latest choices shown in a chat without buttons, so "2" means option 2."""
        if not isinstance(reply, (Choices, Edit)) or not reply.options:
            return
        if self.capabilities(chat_ref.partition(":")[0]).buttons:
            return
        payloads = "\x1f".join(option.payload for option in reply.options)
        self.db.execute(
            "INSERT INTO menus (chat_ref, options, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_ref) DO UPDATE SET options = excluded.options, created_at = excluded.created_at",
            [chat_ref, payloads, iso(now)],
        )

    def menu(self, chat_ref: str) -> list[str] | None:
        row = one(self.db, "SELECT options FROM menus WHERE chat_ref = ?", [chat_ref])
        return row["options"].split("\x1f") if row else None

    # --- message keys (for edits) --------------------------------------------------------------

    def remember_message(self, chat_ref: str, key: str, platform_id: str) -> None:
        self.db.execute(
            "INSERT INTO message_refs (chat_ref, key, platform_id, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (chat_ref, key) DO UPDATE SET platform_id = excluded.platform_id, updated_at = excluded.updated_at",
            [chat_ref, key, platform_id, iso(self.clock.now())],
        )

    def message_ref(self, chat_ref: str, key: str) -> str | None:
        row = one(self.db, "SELECT platform_id FROM message_refs WHERE chat_ref = ? AND key = ?", [chat_ref, key])
        return row["platform_id"] if row else None

    # --- scheduled jobs ------------------------------------------------------------------------

    async def run_due_jobs(self, limit: int = 100) -> int:
        """Run every job that is due now; returns how many ran."""
        if not self._recurring_armed:
            self._arm_recurring()
        ran = 0
        for job in scheduler.claim_due(self.db, self.clock.now(), limit):
            await self._run_job(job)
            ran += 1
            # A job is synchronous and may take a while (a poll's closing draws its chart): between
            # jobs, let waiting events in and what the job queued go out, rather than after the batch.
            # A timer, not sleep(0): that would put this task back in the queue ahead of what
            # became ready meanwhile (a webhook request), which would then wait for one more job.
            self.wake()
            await asyncio.sleep(0.001)
        return ran

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Run due jobs until none is due (jobs may schedule jobs); the console's ``:wait`` uses it."""
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_due_jobs()
            if not ran:
                break
            total += ran
        return total

    def _arm_recurring(self) -> None:
        """Once per process: every recurring job kind has its job waiting (see :meth:`Router.job`)."""
        now = self.clock.now()
        with self.db.atomic():
            for kind, repeat in self.router.recurring.items():
                scheduler.arm(self.db, kind, repeat(now), now=now)
        self._recurring_armed = True

    async def _run_job(self, job: scheduler.Job) -> None:
        handler = self.router.jobs.get(job.kind)
        lookups: dict[Hashable, Any] = {}
        for _ in range(MAX_PREFETCH_ROUNDS):
            try:
                with self.db.atomic():
                    if handler is None:
                        raise LookupError(f"no handler for job kind {job.kind!r}")
                    handler(JobContext(self, LookupView(lookups)), job)
                    scheduler.finish(self.db, job.id, self.clock.now())
                    self._repeat(job)
                return
            except Prefetch as wanted:
                lookups[wanted.key] = await _fetch(wanted)
            except Exception as exc:
                log.exception("job %s (%s) failed", job.id, job.kind)
                self._failed(job, f"{type(exc).__name__}: {exc}")
                return
        self._failed(job, "too many lookups")

    def _failed(self, job: scheduler.Job, error: str) -> None:
        with self.db.atomic():
            if not scheduler.fail(self.db, job, error, self.clock.now()):
                self._repeat(job)  # a recurring job that gave up this time still runs next time

    def _repeat(self, job: scheduler.Job) -> None:
        repeat = self.router.recurring.get(job.kind)
        if repeat is not None:
            now = self.clock.now()
            scheduler.arm(self.db, job.kind, repeat(now), now=now)

    # --- outbox delivery -----------------------------------------------------------------------

    def wake(self) -> None:
        """Have the delivery loop look at the outbox now: for adapters that queue a message
        themselves (a reply postponed by flood control) outside :meth:`handle`."""
        for event in self._wake_outbox.values():
            event.set()

    async def deliver_pending(self, limit: int = 200, messengers: list[str] | None = None) -> int:
        """Deliver what is due in the outbox (for ``messengers``, by default all): in order within a
        chat, several chats at once."""
        if not self._record_held():
            return 0  # the database still takes nothing: claim nothing more until it does
        items = outbox.claim(self.db, self.clock.now(), sorted(self.adapters) if messengers is None else messengers, limit)
        if not items:
            return 0
        by_chat: dict[str, list[outbox.Outgoing]] = defaultdict(list)
        for item in items:
            by_chat[item.chat_ref].append(item)
        gate = asyncio.Semaphore(self.delivery_concurrency)

        async def run_chat(queue: list[outbox.Outgoing]) -> None:
            async with gate:
                for position, item in enumerate(queue):
                    if not await self._deliver_one(item):
                        # keep the chat's order: what follows a failed message waits for it
                        for later in queue[position + 1 :]:
                            self._record(
                                functools.partial(
                                    outbox.mark_retry, self.db, later, self.clock.now(), outbox.backoff(1), "waiting for an earlier message"
                                )
                            )
                        return

        await asyncio.gather(*(run_chat(queue) for queue in by_chat.values()))
        return len(items)

    async def _deliver_one(self, item: outbox.Outgoing) -> bool:
        adapter = self.adapters[item.messenger]
        if self._removed_from(item.chat_ref):
            # Claimed before the bot learnt it was removed from the group (the rest was given up then).
            self._record(functools.partial(outbox.mark_failed, self.db, item.id, REMOVED_FROM_GROUP, skipped=True))
            return True
        if isinstance(item.reply, LiveEdit):
            rendered = self._render_live(item.reply)
            if rendered is None:
                self._record(functools.partial(self._record_failed, item, Undeliverable("nothing to show any more", skipped=True)))
                return True
            item = dataclasses.replace(item, reply=rendered)
        try:
            result = await adapter.deliver(item)
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not stop the queue
            log.exception("delivery of outbox %s failed", item.id)
            result = RetryLater(outbox.backoff(item.attempts), f"{type(exc).__name__}: {exc}")
        now = self.clock.now()
        if isinstance(result, Sent):
            self._record(functools.partial(self._record_sent, item, result, now))
            return True
        if isinstance(result, RetryLater):
            self._record(functools.partial(self._record_retry, item, now, result))
            return False
        assert isinstance(result, Undeliverable)
        self._record(functools.partial(self._record_failed, item, result))
        return True

    def _removed_from(self, chat_ref: str) -> bool:
        """Whether ``chat_ref`` is a group chat the bot was removed from (its channel is inactive)."""
        try:
            return one(self.db, "SELECT 1 AS gone FROM channels WHERE chat_ref = ? AND active = 0", [chat_ref]) is not None
        except sqlite3.Error:  # cannot tell: try to deliver, and let the messenger say
            return False

    def _record_sent(self, item: outbox.Outgoing, result: Sent, now: Any) -> None:
        with self.db.atomic():
            outbox.mark_sent(self.db, item.id, now, result.platform_id, template=result.template)
            key = getattr(item.reply, "key", None)
            if key and result.platform_id and not isinstance(item.reply, Edit):
                self.remember_message(item.chat_ref, key, result.platform_id)
            adapter = self.adapters.get(item.messenger)
            if adapter is None or not adapter.delivery_reports:
                self._clear_delivered(item.id)  # nothing will ask for it again
            else:  # a final report may have overtaken the API's answer
                marks = ",".join("?" for _ in delivered.FINAL_REPORTS)
                self._clear_delivered(item.id, f"delivery_status IN ({marks})", delivered.FINAL_REPORTS)

    def _record_retry(self, item: outbox.Outgoing, now: Any, result: RetryLater) -> None:
        with self.db.atomic():
            if not outbox.mark_retry(self.db, item, now, result.after, result.error):
                self._clear_delivered(item.id)

    def _record_failed(self, item: outbox.Outgoing, result: Undeliverable) -> None:
        with self.db.atomic():
            outbox.mark_failed(self.db, item.id, result.error, skipped=result.skipped)
            self._clear_delivered(item.id)

    def _clear_delivered(self, outbox_id: int, condition: str = "1", params: tuple[str, ...] = ()) -> None:
        """A finished message keeps its bookkeeping, not what it said (:mod:`localbot.delivered`)."""
        delivered.clear(self.db, delivered.outbound_folder(self.settings.media_path), f"id = ? AND {condition}", [outbox_id, *params])

    def _record(self, write: Callable[[], Any]) -> None:
        """Record how a delivery went. If the database takes nothing just now (locked, disk full),
        the write is held and tried again before anything else is claimed; the row stays 'sending'
        meanwhile, so it is neither sent again nor forgotten (a restart would send it again)."""
        if not self._unrecorded:
            try:
                write()
                return
            except sqlite3.OperationalError as exc:
                log.error("could not record a delivery (%s); holding it until the database takes it", exc)
        self._unrecorded.append(write)

    def _record_held(self) -> bool:
        """Write the held records, oldest first; False while the database still refuses."""
        while self._unrecorded:
            try:
                self._unrecorded[0]()
            except sqlite3.OperationalError:
                return False
            self._unrecorded.pop(0)
        return True

    def _render_live(self, live: LiveEdit) -> Reply | None:
        view = self.router.views.get(live.view)
        if view is None:
            log.error("no view %r registered for a live edit", live.view)
            return None
        return view(self.db, live.ref, translator(live.language))

    # --- background loops ----------------------------------------------------------------------

    def recover(self) -> None:
        """After a crash or restart: unfinished jobs and sends go back to their queues."""
        with self.db.atomic():
            jobs = scheduler.recover(self.db)
            sends = outbox.recover(self.db)
        if jobs or sends:
            log.info("recovered %d jobs and %d outgoing messages", jobs, sends)

    async def start(self) -> None:
        self.recover()
        self._running = True
        self._tasks = [asyncio.create_task(self._job_loop(), name="localbot-jobs")]
        for messenger in sorted(self.adapters):
            self._start_delivery(messenger)

    def _start_delivery(self, messenger: str) -> None:
        """A delivery loop per messenger: Twilio's ten messages a second must not hold up Telegram's thirty."""
        self._wake_outbox[messenger] = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._outbox_loop(messenger), name=f"localbot-outbox-{messenger}"))

    async def stop(self) -> None:
        self._running = False
        self._wake_jobs.set()
        self.wake()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []
        self._wake_outbox = {}

    async def _sleep_until(self, event: asyncio.Event, due: Any, cap: float) -> None:
        delay = cap
        if due is not None:
            delay = max(0.0, min(cap, (due - self.clock.now()).total_seconds()))
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation.
        try:
            async with asyncio.timeout(delay):
                await event.wait()
        except TimeoutError:
            pass
        event.clear()

    async def _job_loop(self) -> None:
        while self._running:
            try:
                await self.run_due_jobs()
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("job loop")
            await self._sleep_until(self._wake_jobs, scheduler.next_due(self.db), 30.0)

    async def _outbox_loop(self, messenger: str) -> None:
        while self._running:
            try:
                if await self.deliver_pending(messengers=[messenger]):
                    continue
            except Exception:  # noqa: BLE001
                log.exception("outbox loop (%s)", messenger)
            await self._sleep_until(self._wake_outbox[messenger], outbox.next_attempt(self.db, [messenger]), 5.0)


async def _fetch(wanted: Prefetch) -> Any:
    """Await a look-up with a time limit; a failure is kept as :class:`Failed` for the handler."""
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT_S):
            return await wanted.fetch()
    except Exception as exc:  # noqa: BLE001 - any network failure becomes an answer
        log.warning("lookup %r failed: %s", wanted.key, exc)
        return Failed(exc)


@contextlib.contextmanager
def _savepoint(db: sqlite_utils.Database) -> Iterator[None]:
    """The handler's savepoint inside the event's transaction (what ``db.atomic()`` does when nested,
    under one fixed name: this runs for every event, and a random name per event costs)."""
    db.conn.execute("SAVEPOINT handler")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK TO SAVEPOINT handler")
            db.conn.execute("RELEASE SAVEPOINT handler")
        raise
    db.conn.execute("RELEASE SAVEPOINT handler")


def _as_choice(event: Message, payload: str) -> ChoicePicked:
    return ChoicePicked(chat=event.chat, sender=event.sender, at=event.at, event_id=None, payload=payload)
