"""Telegram through python-telegram-bot: the bot in real groups, by long polling or by webhook.

Inbound, every update becomes one neutral event whose ``event_id`` is ``telegram:<update_id>``, so
the core ignores an update Telegram delivers twice; the replies the core returns are rendered
natively: choices as inline keyboards whose callback data are the short payloads pointing at SQLite
rows, locations as pins or venues, pictures as photos, exports as documents, edits as edits, and
acknowledgements as the answer to the button press (every press is answered). Outbound, the core's
outbox hands queued messages to :meth:`TelegramAdapter.deliver`.

Flood safety comes in layers: python-telegram-bot's ``AIORateLimiter`` keeps the bot under
Telegram's overall and per-group limits and retries after a 429; :class:`ChatPacer` adds the
per-chat pace the limiter does not cover; the outbox coalesces live edits of a poll message.
Updates are processed concurrently, in order per member and chat (:class:`SenderOrder`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
import warnings
from base64 import urlsafe_b64encode
from collections.abc import Callable, Hashable, Sequence
from datetime import timedelta
from json import JSONDecodeError
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    CallbackQuery,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
    User,
)
from telegram import Chat as TgChat
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)
from telegram.warnings import PTBDeprecationWarning

from localbot import outbox
from localbot.adapters.base import (
    DEFAULT_CAPABILITIES,
    Adapter,
    DeliveryResult,
    RetryLater,
    Sent,
    Undeliverable,
)
from localbot.adapters.telegram_http import READ_TIMEOUT, AiohttpRequest
from localbot.community import store as community_store
from localbot.community.model import ChannelKind
from localbot.core import Core
from localbot.events import (
    BotAdded,
    BotRemoved,
    Chat,
    ChatKind,
    ChoicePicked,
    Command,
    Event,
    LocationShared,
    MediaRef,
    MemberJoined,
    MemberLeft,
    Message,
    PhotoShared,
    Sender,
    split_command,
)
from localbot.events import (
    ChatMigrated as ChatMigratedEvent,
)
from localbot.handlers import channels
from localbot.i18n import SUPPORTED, Translator, translator
from localbot.outbox import Outgoing
from localbot.replies import (
    Ack,
    Choices,
    Document,
    Edit,
    Location,
    Option,
    Picture,
    PrivateLink,
    Reply,
    Text,
)
from localbot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

#: What we ask Telegram for; ``chat_member`` must be named explicitly to receive joins at all, and
#: ``my_chat_member`` (the bot's own status: removed from a group, added back) is then needed too.
ALLOWED_UPDATES = ("message", "callback_query", "chat_member", "my_chat_member")
WEBHOOK_PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = DEFAULT_CAPABILITIES["telegram"].max_text
MAX_CAPTION = 1024
MAX_ANSWER = 200  # answerCallbackQuery's text limit
MAX_BUTTONS_PER_ROW = 8
ADMIN_TTL_S = 300.0
#: Telegram's limits hold in *any* second and *any* minute, but aiolimiter (under AIORateLimiter)
#: is a bucket that lets its capacity and a full period's refill through together: with its
#: defaults 60 messages could go in the first second of a fan-out and 40 to a group in a minute.
#: A bucket of capacity C refilling at R a second lets at most C + R·T through in T seconds, so:
#: overall a burst of 3 then 25 a second (≤ 28 in any second: the rest is room for the moments a
#: busy event loop sends a few admitted messages late, and together), per group a burst of 5 then
#: one every 4 seconds (≤ 20 in any minute).
OVERALL_BURST, OVERALL_PER_SECOND = 3, 25
GROUP_BURST, GROUP_PER_MINUTE = 5, 15
#: Bot API methods that put a message in a chat or change one: what the flood limits count.
MESSAGE_ENDPOINTS = ("send", "edit", "copyMessage", "forwardMessage")
POINTER_TTL_S = 600.0
#: Private sends that answer something the member just did; a failed one earns a pointer in the group.
POINTER_PURPOSES = ("conversation", "message")
_START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


# --- text that fits ------------------------------------------------------------------------------


def telegram_length(text: str) -> int:
    """Telegram measures texts in UTF-16 code units: an emoji such as 📊 counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> tuple[str, str]:
    """The longest head of ``text`` within ``limit``, preferring to end at a line break."""
    if telegram_length(text) <= limit:
        return text, ""
    low, high = 0, min(len(text), limit)
    while low < high:  # the longest prefix that fits (a prefix never shrinks when it grows)
        middle = (low + high + 1) // 2
        if telegram_length(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    head = text[:low]
    newline = head.rfind("\n")
    if newline > low // 2:
        head = head[: newline + 1]
    return head, text[len(head) :]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """A long plain text as several messages, broken at line ends where possible."""
    parts: list[str] = []
    rest = text
    while rest.strip():
        head, rest = _cut(rest, limit)
        if head.strip():
            parts.append(head.rstrip("\n"))
    return parts


def shorten(text: str, limit: int, note: str) -> str:
    """A text that must stay one message (it has buttons or is edited later): its head and ``note``."""
    if telegram_length(text) <= limit:
        return text
    tail = "\n…\n" + note
    head, _ = _cut(text, max(0, limit - telegram_length(tail)))
    return head.rstrip("\n") + tail


def keyboard(options: Sequence[Option], columns: int = 1) -> InlineKeyboardMarkup | None:
    """Choices as inline buttons; the callback data is the option's short payload."""
    if not options:
        return None
    width = max(1, min(columns, MAX_BUTTONS_PER_ROW))
    buttons = [InlineKeyboardButton(option.label or "·", callback_data=option.payload) for option in options]
    return InlineKeyboardMarkup([buttons[i : i + width] for i in range(0, len(buttons), width)])


def file_url_for(api_url: str) -> str:
    """The Bot API serves files next to methods: ``…/bot`` → ``…/file/bot``."""
    head, found, tail = api_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if found else api_url


# --- references ----------------------------------------------------------------------------------


def ref_of(ident: int) -> str:
    return f"telegram:{ident}"


def id_of(ref: str) -> int:
    messenger, _, ident = ref.partition(":")
    if messenger != "telegram":
        raise ValueError(f"not a Telegram reference: {ref!r}")
    return int(ident)


def is_private_ref(ref: str) -> bool:
    """Private chats have the user's (positive) id; groups and supergroups are negative."""
    return not ref.partition(":")[2].startswith("-")


# --- updates → events ----------------------------------------------------------------------------


def sender_of(user: User) -> Sender:
    def text(value: object) -> str | None:  # python-telegram-bot does not check the JSON's types
        return value if isinstance(value, str) else None

    return Sender(ref_of(user.id), str(user.full_name), language=text(user.language_code), username=text(user.username))


def chat_of(chat: TgChat) -> Chat | None:
    if chat.type == ChatType.PRIVATE:
        return Chat(ref_of(chat.id), ChatKind.PRIVATE)
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        return Chat(ref_of(chat.id), ChatKind.GROUP, chat.title)
    return None  # channels: the bot does not take part in them


def is_member(member: ChatMember) -> bool:
    if member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER):
        return True
    return member.status == ChatMemberStatus.RESTRICTED and bool(getattr(member, "is_member", False))


def event_of(update: Update, bot_username: str | None, bot_id: int | None = None) -> Event | None:
    """The neutral event for an update, or None for what is not for us (edits, channels, bots)."""
    event_id = f"telegram:{update.update_id}"
    if update.my_chat_member is not None:
        return _bot_status_of(update.my_chat_member, bot_id, event_id)
    if update.callback_query is not None:
        query = update.callback_query
        chat = chat_of(query.message.chat) if query.message is not None else None
        if chat is None or not query.data or query.from_user.is_bot:
            return None
        return ChoicePicked(chat=chat, sender=sender_of(query.from_user), payload=query.data, event_id=event_id)
    if update.chat_member is not None:
        change = update.chat_member
        chat = chat_of(change.chat)
        person = change.new_chat_member.user
        was, now = is_member(change.old_chat_member), is_member(change.new_chat_member)
        if chat is None or person.is_bot or was == now:
            return None
        kind = MemberJoined if now else MemberLeft
        return kind(chat=chat, sender=sender_of(person), at=change.date, event_id=event_id)
    message = update.message
    if message is None:
        return None
    chat = chat_of(message.chat)
    user = message.from_user
    if chat is None or user is None or user.is_bot or message.sender_chat is not None:
        return None
    common: dict[str, Any] = {"chat": chat, "sender": sender_of(user), "at": message.date, "event_id": event_id}
    if message.migrate_to_chat_id:
        return ChatMigratedEvent(new_ref=ref_of(message.migrate_to_chat_id), **common)
    if message.left_chat_member is not None:
        left = message.left_chat_member
        if left.is_bot:
            return None
        return MemberLeft(**{**common, "sender": sender_of(left)})
    if message.text is not None:
        parsed = split_command(message.text, bot_username)
        if parsed is not None:
            return Command(name=parsed[0], args=parsed[1], **common)
        if split_command(message.text) is not None:
            return None  # /command@otherbot: addressed to another bot in the group
        return Message(text=message.text, **common)
    if message.venue is not None:
        venue = message.venue
        return LocationShared(
            latitude=venue.location.latitude,
            longitude=venue.location.longitude,
            address=venue.address or None,
            label=venue.title or None,
            **common,
        )
    if message.location is not None:
        return LocationShared(latitude=message.location.latitude, longitude=message.location.longitude, **common)
    caption = message.caption or ""
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return PhotoShared(media=MediaRef("telegram", largest.file_id, mime_type="image/jpeg"), caption=caption, **common)
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        media = MediaRef("telegram", document.file_id, mime_type=document.mime_type, filename=document.file_name)
        return PhotoShared(media=media, caption=caption, **common)
    if chat.kind is ChatKind.PRIVATE and message.effective_attachment is not None:
        # A sticker, voice note or file in a private chat still deserves an answer: an empty
        # message gets "I'm not sure what you mean" or, inside a conversation, its question again.
        return Message(text="", **common)
    return None  # service messages (pins, joins, titles) and group chatter in other forms


def _bot_status_of(change: ChatMemberUpdated, bot_id: int | None, event_id: str) -> Event | None:
    """The bot's own status in a group went from out to in (added) or from in to out (removed:
    kicked, left, or the group deleted). A private chat blocked or unblocked is left to the
    delivery path, as before; a change that keeps the bot in the group (promoted, demoted) is
    nothing to us; and an update about anyone but this bot is not believed."""
    chat = chat_of(change.chat)
    subject = change.new_chat_member.user
    if chat is None or not chat.is_group or bot_id is None or subject.id != bot_id:
        return None
    was, now = is_member(change.old_chat_member), is_member(change.new_chat_member)
    if was == now:
        return None
    kind = BotAdded if now else BotRemoved
    return kind(chat=chat, sender=sender_of(change.from_user), at=change.date, event_id=event_id)


# --- flood safety and ordering -------------------------------------------------------------------


class MessageRateLimiter(AIORateLimiter):
    """python-telegram-bot's limiter, for what Telegram's flood limits count: messages sent or
    changed. AIORateLimiter counts every request that names a chat, so an organiser check
    (``getChatMember``) in a busy group waited its turn behind the group's messages, seconds each."""

    async def process_request(
        self, callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any], rate_limit_args: int | None
    ) -> Any:
        if not endpoint.startswith(MESSAGE_ENDPOINTS):
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


class ChatPacer:
    """Spaces the messages to one chat: on average one per ``interval`` seconds, with short bursts.

    Telegram asks bots not to send more than about one message per second to a chat and tolerates
    short bursts; ``AIORateLimiter`` covers the overall and per-group limits, not this one. This is
    the generic cell rate algorithm: each chat has a theoretical arrival time, and a message may go
    when that time is less than ``burst - 1`` intervals away. Slots are booked without awaiting, so
    concurrent senders to one chat queue up in the order they asked.
    """

    def __init__(self, interval: float = 1.0, burst: int = 3, *, clock: Callable[[], float] = time.monotonic) -> None:
        if interval < 0 or burst < 1:
            raise ValueError("interval must be >= 0 and burst >= 1")
        self.interval = interval
        self.tolerance = (burst - 1) * interval
        self._clock = clock
        self._due: dict[int, float] = {}

    def reserve(self, chat_id: int) -> float:
        """Book the next slot for ``chat_id``; returns how many seconds to wait for it."""
        now = self._clock()
        due = max(self._due.get(chat_id, now), now)
        self._due[chat_id] = due + self.interval
        if len(self._due) > 10_000:
            self._due = {chat: at for chat, at in self._due.items() if at > now}
        return max(0.0, due - self.tolerance - now)

    async def wait(self, chat_id: int) -> None:
        delay = self.reserve(chat_id)
        if delay > 0:
            await asyncio.sleep(delay)


def ordering_key(update: object) -> Hashable:
    if not isinstance(update, Update):
        return None
    chat, user = update.effective_chat, update.effective_user
    # Ids are integers; anything else (a malformed update) must still make a usable key.
    return (chat.id if chat and isinstance(chat.id, int) else None, user.id if user and isinstance(user.id, int) else None)


class SenderOrder(BaseUpdateProcessor):
    """Updates run concurrently, except that one member's updates in one chat keep their order.

    Telegram shows a spinner until a button press is answered, so a burst of votes must not queue
    behind each other's network round trips; but a member answering a questionnaire sends "Kiosk"
    and then "Library", and those must reach the conversation in that order.
    """

    def __init__(self, max_concurrent_updates: int = 32) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: dict[Hashable, int] = {}

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        key = ordering_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def retry_after_of(error: RetryAfter) -> timedelta:
    with warnings.catch_warnings():  # the attribute's type changes in PTB 23; both forms work here
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


class _NothingToEdit(Exception):
    """An edit of a message this chat never got (or whose id was never recorded)."""


# --- the adapter ---------------------------------------------------------------------------------


class TelegramAdapter(Adapter):
    messenger = "telegram"
    capabilities = DEFAULT_CAPABILITIES["telegram"]

    def __init__(
        self, settings: Settings, core: Core, *, pacer: ChatPacer | None = None, concurrency: int = 32, read_timeout: float = READ_TIMEOUT
    ) -> None:
        tg = settings.telegram
        if tg.token is None or not tg.token.get_secret_value():
            raise SettingsError("setting telegram.token (LOCALBOT_TELEGRAM__TOKEN) is needed for Telegram")
        self.settings = settings
        self.core = core
        self.pacer = pacer or ChatPacer()
        self.webhook_url = tg.webhook_url
        self.api_url = tg.api_url
        secret = tg.secret_token.get_secret_value() if tg.secret_token else None
        #: Without a configured secret, one is derived from the instance secret: webhooks are never open.
        self.secret_token = secret or urlsafe_b64encode(
            hmac.new(core.secret, b"localbot telegram webhook", hashlib.sha256).digest()
        ).decode().rstrip("=")
        builder = (
            Application.builder()
            .token(tg.token.get_secret_value())
            .base_url(tg.api_url)
            .base_file_url(tg.file_url or file_url_for(tg.api_url))
            .request(AiohttpRequest(read_timeout=read_timeout))
            .get_updates_request(AiohttpRequest(connections=1))
            .rate_limiter(
                MessageRateLimiter(
                    overall_max_rate=OVERALL_BURST,
                    overall_time_period=OVERALL_BURST / OVERALL_PER_SECOND,
                    group_max_rate=GROUP_BURST,
                    group_time_period=60 * GROUP_BURST / GROUP_PER_MINUTE,
                    max_retries=3,
                )
            )
            .concurrent_updates(SenderOrder(concurrency))
            .job_queue(None)  # scheduled work lives in SQLite (localbot.scheduler)
        )
        if self.webhook_url:
            builder = builder.updater(None)
        self.app: Application = builder.build()  # type: ignore[type-arg]
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self._admins: dict[tuple[str, str], tuple[bool, float]] = {}
        self._pointed: dict[int, float] = {}

    @property
    def bot(self) -> Any:
        return self.app.bot

    @property
    def username(self) -> str | None:
        try:
            return str(self.app.bot.username)
        except RuntimeError:  # before initialize() has asked getMe
            return None

    @property
    def bot_id(self) -> int | None:
        try:
            return int(self.app.bot.id)
        except RuntimeError:
            return None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Ask Telegram who we are, publish the command menus, then poll or register the webhook."""
        httpx_log = logging.getLogger("httpx")
        if httpx_log.level == logging.NOTSET:
            httpx_log.setLevel(logging.WARNING)  # its INFO lines carry the bot token in the URL
        try:
            await self.app.initialize()
        except TelegramError as exc:
            await self.bot.shutdown()  # its HTTP connections, opened before getMe failed
            if isinstance(exc, InvalidToken):  # (its message would repeat the token: not ours)
                raise SettingsError("setting telegram.token (LOCALBOT_TELEGRAM__TOKEN): Telegram does not accept this token") from None
            raise SettingsError(f"cannot reach the Telegram Bot API at {self.api_url} (LOCALBOT_TELEGRAM__API_URL): {exc}") from None
        await self.publish_commands()
        await self.app.start()
        try:
            if self.webhook_url:
                await self.bot.set_webhook(
                    self.webhook_url, secret_token=self.secret_token, allowed_updates=list(ALLOWED_UPDATES)
                )
            else:
                assert self.app.updater is not None
                await self.app.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES), error_callback=self._polling_error)
        except TelegramError as exc:
            await self.stop()
            what = f"the webhook {self.webhook_url} (LOCALBOT_TELEGRAM__WEBHOOK_URL)" if self.webhook_url else "long polling"
            raise SettingsError(f"Telegram refused {what}: {exc}") from None
        mode = f"webhook {self.webhook_url}" if self.webhook_url else "long polling"
        log.info("Telegram: @%s by %s", self.username, mode)

    async def stop(self) -> None:
        """Stop receiving; updates being processed finish first. A webhook stays registered, so
        Telegram keeps what arrives while we are down and delivers it after a restart."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    def _polling_error(self, error: TelegramError) -> None:
        if isinstance(error, Conflict):
            log.error("another program receives this bot's updates (a second localbot, or a webhook): %s", error)
        elif isinstance(error, InvalidToken):
            log.error("Telegram no longer accepts the bot token: %s", error)
        else:
            log.warning("polling Telegram failed, retrying: %s", error)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update could not be processed: %r", update, exc_info=context.error)

    async def publish_commands(self) -> None:
        """The command menu in every language: members see theirs, group admins also see the
        organiser commands (Telegram picks the list by the user's language and the chat scope)."""
        specs = [s for s in self.core.router.commands.values() if not s.hidden and _COMMAND_NAME.fullmatch(s.name)]
        languages: list[str | None] = [None, *SUPPORTED]
        try:
            for language in languages:
                t = translator(language or self.settings.language)
                listed = [BotCommand(s.name, t._(s.help)[:256]) for s in specs]
                everyone = [c for c, s in zip(listed, specs, strict=True) if not s.organiser_only]
                await self.bot.set_my_commands(everyone, language_code=language)
                await self.bot.set_my_commands(listed, scope=BotCommandScopeAllChatAdministrators(), language_code=language)
        except TelegramError as exc:
            log.warning("could not publish the command menu: %s", exc)

    # --- the webhook --------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [Route(WEBHOOK_PATH, self._webhook, methods=["POST"])] if self.webhook_url else []

    async def _webhook(self, request: Request) -> Response:
        """One update from Telegram, answered only after it is processed: if we crash first,
        Telegram delivers it again and the core's event-id check keeps that harmless."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        if not self.app.running:
            return PlainTextResponse("starting or stopping; try again", status_code=503)
        try:
            data = await request.json()
        except (JSONDecodeError, UnicodeDecodeError):
            return PlainTextResponse("not JSON", status_code=400)
        if not isinstance(data, dict):
            return PlainTextResponse("not an update", status_code=400)
        try:
            update = Update.de_json(data, self.bot)
        except Exception as exc:  # noqa: BLE001 - an update we cannot read must not come back forever
            log.warning("ignoring an update python-telegram-bot cannot read: %s", exc)
            return Response(status_code=200)
        try:
            await self.app.update_processor.process_update(update, self.app.process_update(update))
        except Exception as exc:  # noqa: BLE001 - nor must one that breaks its processing
            log.warning("ignoring an update python-telegram-bot cannot process: %r", exc, exc_info=True)
        return Response(status_code=200)

    # --- inbound ------------------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Event in, replies out; nothing raises from here, and every button press is answered."""
        query = update.callback_query
        event: Event | None = None
        replies: list[Reply] = []
        try:
            if update.chat_member is not None:
                self._note_admin(update.chat_member.chat.id, update.chat_member.new_chat_member)
            event = event_of(update, self.username, self.bot_id)
        except Exception as exc:  # noqa: BLE001 - malformed past what python-telegram-bot checks
            log.warning("ignoring a Telegram update that cannot be read: %r", exc)
            if query is not None:  # still stop the button's spinner
                user = query.from_user
                apology = self.core.apology(ref_of(user.id) if user else None, user.language_code if user else None)
                await self._answer(query, [apology])
            return
        try:
            if event is not None:
                replies = await self.core.handle(event)
            else:
                await self._not_for_the_core(update)
        except Exception:  # noqa: BLE001 - one bad update must not stop the others
            log.exception("Telegram update %s failed", update.update_id)
        if query is not None:
            await self._answer(query, [r.text for r in replies if isinstance(r, Ack)])
            replies = [r for r in replies if not isinstance(r, Ack)]
        if event is not None and replies:
            await self._reply(event.chat.ref, replies)

    async def _not_for_the_core(self, update: Update) -> None:
        """Commands posted anonymously (an admin with "Remain anonymous", or a linked channel)
        cannot be tied to a member; say so rather than stay silent."""
        message = update.message
        if message is None or message.sender_chat is None or not message.text:
            return
        chat = chat_of(message.chat)
        if chat is None or split_command(message.text, self.username) is None:
            return
        t = self._chat_translator(chat.ref)
        await self._reply(
            chat.ref,
            [
                Text(
                    text=t._(
                        "You are posting anonymously as the group, so I can't tell who you are. "
                        "To use my commands, turn off “Remain anonymous” in your admin rights."
                    )
                )
            ],
        )

    async def _answer(self, query: CallbackQuery, acks: list[str]) -> None:
        """Stop the button's spinner with the confirmation ("Your vote: Pizza"), or at least the
        label of the button pressed."""
        text = "\n".join(a for a in acks if a) or _pressed_label(query)
        if text and telegram_length(text) > MAX_ANSWER:
            text = _cut(text, MAX_ANSWER - 1)[0].rstrip() + "…"
        try:
            await self.bot.answer_callback_query(query.id, text=text or None)
        except TelegramError as exc:  # too old (over 15 s) or answered already: nothing to fix
            log.info("could not answer a button press: %s", exc)

    async def _reply(self, chat_ref: str, replies: Sequence[Reply]) -> None:
        """Send the replies to the chat an update came from. A transient failure moves the reply
        and all that follow it to the outbox, which keeps their order and retries."""
        for position, reply in enumerate(replies):
            try:
                message_id = await self._put(chat_ref, reply)
            except _NothingToEdit:
                continue
            except TelegramError as exc:
                result = self._failure(exc, attempts=1)
                if isinstance(result, RetryLater):
                    log.info("reply to %s postponed: %s", chat_ref, exc)
                    self._postpone(chat_ref, replies[position:], result.after)
                    return
                log.warning("reply to %s not delivered: %s", chat_ref, exc)
                if not is_private_ref(chat_ref) and _removed_from_group(exc):
                    self._group_closed(chat_ref, exc)
                    return  # nothing more gets there
                continue
            except Exception:  # noqa: BLE001 - one reply we cannot render must not stop the others
                log.exception("reply to %s could not be rendered: %r", chat_ref, reply)
                continue
            key = getattr(reply, "key", None)
            if key and message_id is not None and not isinstance(reply, Edit):
                self.core.remember_message(chat_ref, key, str(message_id))

    def _postpone(self, chat_ref: str, replies: Sequence[Reply], after: timedelta) -> None:
        now = self.core.clock.now()
        with self.core.db.atomic():
            for reply in replies:
                outbox.enqueue(self.core.db, chat_ref=chat_ref, reply=reply, now=now, not_before=now + after)
        self.core.wake()

    # --- outbound -----------------------------------------------------------------------------

    async def deliver(self, item: Outgoing) -> DeliveryResult:
        try:
            message_id = await self._put(item.chat_ref, item.reply)
        except _NothingToEdit:
            return Undeliverable("no earlier message to edit in this chat", skipped=True)
        except TelegramError as exc:
            result = self._failure(exc, attempts=item.attempts)
            if isinstance(result, Undeliverable):
                if is_private_ref(item.chat_ref):
                    if _unreachable(exc):
                        self._private_chat_closed(item)
                elif _removed_from_group(exc):
                    self._group_closed(item.chat_ref, exc)
            return result
        return Sent(str(message_id) if message_id is not None else None)

    @staticmethod
    def _failure(error: TelegramError, *, attempts: int) -> RetryLater | Undeliverable:
        """Flood control and network trouble are worth another try; a refusal is not."""
        if isinstance(error, RetryAfter):
            return RetryLater(retry_after_of(error), str(error))
        if isinstance(error, (Forbidden, BadRequest)):  # BadRequest is a NetworkError: test it first
            return Undeliverable(str(error))
        return RetryLater(outbox.backoff(attempts), f"{type(error).__name__}: {error}")

    async def _put(self, chat_ref: str, reply: Reply) -> int | None:
        """Render one reply in a chat; returns the Telegram message id (of the first message)."""
        try:
            chat_id = id_of(chat_ref)
        except ValueError:
            raise BadRequest(f"not a Telegram chat: {chat_ref!r}") from None
        try:
            return await self._render(chat_id, chat_ref, reply)
        except ChatMigrated as moved:  # the group became a supergroup: follow it, keep the community
            new_ref = ref_of(moved.new_chat_id)
            with self.core.db.atomic():
                community_store.move_chat(self.core.db, chat_ref, new_ref)
            message_id = await self._render(moved.new_chat_id, new_ref, reply)
            key = getattr(reply, "key", None)
            if key and message_id is not None and not isinstance(reply, Edit):
                self.core.remember_message(new_ref, key, str(message_id))
            return message_id

    async def _render(self, chat_id: int, chat_ref: str, reply: Reply) -> int | None:
        if isinstance(reply, Edit):
            return await self._edit(chat_id, chat_ref, reply)
        if isinstance(reply, Choices):
            return await self._send_text(chat_id, self._fit(chat_ref, reply.text), keyboard(reply.options, reply.columns))
        if isinstance(reply, PrivateLink):
            link = f"https://t.me/{self.username}"
            if _START_PAYLOAD.fullmatch(reply.payload):
                link += f"?start={reply.payload}"
            button = InlineKeyboardMarkup([[InlineKeyboardButton(reply.label, url=link)]])
            return await self._send_text(chat_id, self._fit(chat_ref, reply.text), button)
        if isinstance(reply, Text) and reply.key:
            return await self._send_text(chat_id, self._fit(chat_ref, reply.text))
        if isinstance(reply, (Text, Ack)):
            return await self._send_texts(chat_id, reply.text if isinstance(reply, Text) else f"✓ {reply.text}")
        if isinstance(reply, Location):
            return await self._send_location(chat_id, reply)
        if isinstance(reply, (Picture, Document)):
            return await self._send_file(chat_id, reply)
        raise TypeError(f"cannot render {reply!r}")

    async def _send_text(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None) -> int | None:
        if not text.strip():
            return None
        await self.pacer.wait(chat_id)
        sent = await self.bot.send_message(chat_id, text, reply_markup=markup)
        return int(sent.message_id)

    async def _send_texts(self, chat_id: int, text: str) -> int | None:
        """A plain text over Telegram's limit goes as several messages rather than losing its end."""
        first: int | None = None
        for part in split_text(text):
            message_id = await self._send_text(chat_id, part)
            first = first if first is not None else message_id
        return first

    async def _send_location(self, chat_id: int, reply: Location) -> int:
        await self.pacer.wait(chat_id)
        if reply.title:
            # A venue needs an address; without one, the coordinates are the most honest stand-in.
            address = reply.address or f"{reply.latitude:.5f}, {reply.longitude:.5f}"
            sent = await self.bot.send_venue(chat_id, reply.latitude, reply.longitude, reply.title, address)
        else:
            sent = await self.bot.send_location(chat_id, reply.latitude, reply.longitude)
        return int(sent.message_id)

    async def _send_file(self, chat_id: int, reply: Picture | Document) -> int:
        """A photo or document; a caption over Telegram's 1,024 characters follows as text."""
        fits = telegram_length(reply.caption) <= MAX_CAPTION
        caption = reply.caption if fits else None
        upload = InputFile(reply.data, filename=reply.filename)
        await self.pacer.wait(chat_id)
        if isinstance(reply, Picture):
            sent = await self.bot.send_photo(chat_id, upload, caption=caption or None)
        else:
            sent = await self.bot.send_document(chat_id, upload, caption=caption or None)
        if not fits:
            await self._send_texts(chat_id, reply.caption)
        return int(sent.message_id)

    async def _edit(self, chat_id: int, chat_ref: str, reply: Edit) -> int | None:
        """Edit the message sent earlier under ``reply.key``; an unchanged text is no error."""
        platform_id = self.core.message_ref(chat_ref, reply.key)
        text = self._fit(chat_ref, reply.text)
        markup = keyboard(reply.options, reply.columns)
        if platform_id is None:
            if reply.fallback:
                return await self._send_text(chat_id, text, markup)
            raise _NothingToEdit(reply.key)
        message_id = int(platform_id)
        await self.pacer.wait(chat_id)
        try:
            try:
                await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
            except BadRequest as exc:
                if "no text in the message" not in str(exc).lower():
                    raise
                caption = self._fit(chat_ref, reply.text, MAX_CAPTION)  # a photo: edit its caption
                await self.bot.edit_message_caption(chat_id=chat_id, message_id=message_id, caption=caption, reply_markup=markup)
        except BadRequest as exc:
            problem = str(exc).lower()
            if "not modified" in problem:
                return message_id
            if reply.fallback and ("not found" in problem or "can't be edited" in problem):
                return await self._send_text(chat_id, text, markup)
            raise
        return message_id

    def _fit(self, chat_ref: str, text: str, limit: int = MAX_TEXT) -> str:
        """One message, whatever the length: a summary (the head and a note) when it is too long."""
        if telegram_length(text) <= limit:
            return text
        t = self._chat_translator(chat_ref)
        return shorten(text, limit, t._("(shortened: the full text does not fit in one Telegram message)"))

    def _chat_translator(self, chat_ref: str) -> Translator:
        """A group reads the community's language; a private chat its member's."""
        db = self.core.db
        community = community_store.community_for_chat(db, chat_ref)
        if community is not None:
            return translator(community.language)
        return self.core.translator_for(community_store.member_by_ref(db, chat_ref), None)

    def _private_chat_closed(self, item: Outgoing) -> None:
        """The member blocked the bot or never opened a chat with it. Forget their private chat, so
        that the next flow offers a link instead of writing first; and if this message answered
        something they just did, point them to the bot in the group rather than fail silently."""
        db = self.core.db
        member = community_store.member_by_ref(db, item.chat_ref)
        if member is None:
            return
        with db.atomic():
            community_store.forget_private_chat(db, member.id)
        # A flow moved to the private chat is queued without a community: the member's current one.
        community_id = item.community_id or community_store.current_community_id(db, member.id)
        if item.purpose not in POINTER_PURPOSES or community_id is None:
            return
        now_s = time.monotonic()
        if self._pointed.get(member.id, 0.0) > now_s:
            return  # one pointer covers every message of the same moment
        self._pointed = {k: v for k, v in self._pointed.items() if v > now_s}
        self._pointed[member.id] = now_s + POINTER_TTL_S
        community = community_store.get_community(db, community_id)
        groups = [
            c.chat_ref
            for c in community_store.channels_of(db, community_id)
            if c.kind is ChannelKind.GROUP and c.messenger == self.messenger and c.chat_ref
        ]
        t = self.core.translator_for(member, community)
        if item.purpose == "conversation":
            text = t._("{name}, I can't write to you privately until you open a chat with me. Tap the button below to continue there.", name=member.display_name)
            payload = "resume"
        else:
            text = t._("{name}, I can't write to you privately until you open a chat with me. Tap the button below, then ask me again.", name=member.display_name)
            payload = ""  # just open the chat: Telegram shows its Start button
        pointer = PrivateLink(text=text, payload=payload, label=t._("Open a chat with me"))
        now = self.core.clock.now()
        with db.atomic():
            for group in groups:
                outbox.enqueue(db, chat_ref=group, reply=pointer, now=now, member_id=member.id, community_id=community_id)

    def _group_closed(self, chat_ref: str, error: TelegramError) -> None:
        """Telegram refused a message to a group because the bot is no longer in it: the
        ``my_chat_member`` update was missed (the bot was down, or ran a version that did not ask
        for it). The shared handlers do what that update would have done, once."""
        try:
            channels.refused(self.core, chat_ref, f"Telegram: {error}")
        except Exception:  # noqa: BLE001 - the delivery's own outcome must still be recorded
            log.exception("could not record that the bot was removed from %s", chat_ref)

    async def in_group(self, chat_ref: str) -> bool:
        """Whether the bot is a member of the group now (Telegram refuses to say, with 403, when it
        was kicked; a deleted group is not found)."""
        try:
            member = await self.bot.get_chat_member(id_of(chat_ref), self.bot.id)
        except Forbidden:
            return False
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                return False
            raise
        return is_member(member)

    # --- organisers and media -----------------------------------------------------------------

    def cached_admin(self, chat_ref: str, member_ref: str) -> bool | None:
        entry = self._admins.get((chat_ref, member_ref))
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    async def fetch_admin(self, chat_ref: str, member_ref: str) -> bool:
        """Group admins and the group's creator organise; the answer is kept for a few minutes."""
        try:
            chat_id, user_id = id_of(chat_ref), id_of(member_ref)
        except ValueError:
            return False
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except (Forbidden, BadRequest) as exc:  # not in that group (any more), or the bot is not
            log.info("admin check %s in %s: %s", member_ref, chat_ref, exc)
            answer = False
        else:
            answer = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        self._remember_admin(chat_ref, member_ref, answer)
        return answer

    def _note_admin(self, chat_id: int, member: ChatMember) -> None:
        """A ``chat_member`` update tells us of a promotion or demotion at once."""
        answer = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        self._remember_admin(ref_of(chat_id), ref_of(member.user.id), answer)

    def _remember_admin(self, chat_ref: str, member_ref: str, answer: bool) -> None:
        now = time.monotonic()
        if len(self._admins) > 10_000:
            self._admins = {k: v for k, v in self._admins.items() if v[1] > now}
        self._admins[(chat_ref, member_ref)] = (answer, now + ADMIN_TTL_S)

    async def download(self, media: MediaRef) -> bytes:
        """A photo a member shared (the Bot API serves files of up to 20 MB)."""
        file = await self.bot.get_file(media.ref)
        return bytes(await file.download_as_bytearray())


def _pressed_label(query: CallbackQuery) -> str:
    markup = getattr(query.message, "reply_markup", None)
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == query.data:
                return f"✓ {button.text}"
    return ""


def _removed_from_group(error: TelegramError) -> bool:
    """The bot is not in the group (any more): kicked, removed, or the group deleted. Not a
    group that only forbids the bot to post (that is a 400, and the bot is still in it)."""
    problem = str(error).lower()
    return isinstance(error, Forbidden) and any(words in problem for words in ("kicked", "not a member", "chat was deleted"))


def _unreachable(error: TelegramError) -> bool:
    """Blocked by the user, or a user who never opened a chat with the bot."""
    return isinstance(error, Forbidden) or "chat not found" in str(error).lower()
