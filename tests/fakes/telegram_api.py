"""A Telegram Bot API server on 127.0.0.1, for running the real python-telegram-bot against it.

It speaks the Bot API's wire format (form or multipart requests, ``{"ok": …, "result": …}``
answers, the same error codes and descriptions), keeps what a real server would keep (messages per
chat, so edits can succeed, be "not modified" or find nothing; pending updates with getUpdates'
offset and ``allowed_updates``; the webhook; command menus; chat members; files), records every
call, and can be told to fail: a 429 with ``retry_after``, a blocked user, a migrated group, a group
the bot was removed from (403 to everything addressed to it, as Telegram answers). With
:class:`FloodLimits` it also enforces Telegram's flood limits and answers what exceeds them with 429.

:class:`Updates` writes updates the way Telegram does, for both getUpdates and webhook delivery.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.limits import Bucket, Window

TOKEN = "123456:TEST-token_for-the-fake"
BOT_ID = 123456
BOT_USERNAME = "localbot_test_bot"
#: The bot as a User object (in ``my_chat_member`` updates and getChatMember answers about itself).
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Localbot", "username": BOT_USERNAME}
#: Update kinds Telegram sends when ``allowed_updates`` is not given (chat_member must be asked for).
DEFAULT_ALLOWED = {"message", "edited_message", "channel_post", "edited_channel_post", "callback_query", "my_chat_member"}
_STRUCTURED = {"reply_markup", "allowed_updates", "commands", "scope", "link_preview_options", "reply_parameters"}
_NUMERIC = {"chat_id", "message_id", "user_id", "offset", "limit", "timeout", "latitude", "longitude", "max_connections"}
_BOOLEAN = {"drop_pending_updates", "show_alert", "disable_notification"}


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


#: Methods that put a message in a chat (or change one): what Telegram's flood limits count.
MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendVenue", "editMessageText", "editMessageCaption"}
)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ok: bool
    result: Any = None
    at: float = field(default_factory=time.monotonic)
    #: The Bot API's error code when the call failed (429 for flood control).
    error_code: int | None = None

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class Person:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for name in ("last_name", "username", "language_code"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        return data

    @property
    def ref(self) -> str:
        return f"telegram:{self.id}"


def group_json(chat_id: int, title: str, kind: str = "supergroup") -> dict[str, Any]:
    return {"id": chat_id, "type": kind, "title": title}


def private_json(person: Person) -> dict[str, Any]:
    data = {"id": person.id, "type": "private", "first_name": person.first_name}
    if person.username:
        data["username"] = person.username
    return data


def member_json(person: Person | dict[str, Any], status: str) -> dict[str, Any]:
    """A ChatMember object as the Bot API sends it, with every field its status requires."""
    user = person.json() if isinstance(person, Person) else person
    data: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            can_be_edited=False, is_anonymous=False, can_manage_chat=True, can_delete_messages=True,
            can_manage_video_chats=True, can_restrict_members=True, can_promote_members=False,
            can_change_info=True, can_invite_users=True, can_post_stories=False, can_edit_stories=False,
            can_delete_stories=False, can_pin_messages=True,
        )
    elif status == "kicked":
        data["until_date"] = 0
    return data


@dataclass
class FloodLimits:
    """Telegram's flood limits, as its FAQ states them: no more than 30 messages a second overall
    and 20 a minute to one group, taken at their word (in *any* second, in *any* minute), and about
    one a second to one chat with short bursts allowed (a bucket of three). Telegram does not
    publish its algorithm; this is the strict reading of what it does publish. Edits count too."""

    per_second: int = 30
    per_group_per_minute: int = 20
    per_chat_per_second: float = 1.0
    chat_burst: int = 3
    clock: Any = time.monotonic
    _overall: Window | None = None
    _chats: dict[int, Bucket] = field(default_factory=dict)
    _groups: dict[int, Window] = field(default_factory=dict)

    def retry_after(self, chat_id: int) -> int | None:
        """None if a message to ``chat_id`` may go now (and count it), else the seconds to wait."""
        now = self.clock()
        if self._overall is None:
            self._overall = Window(self.per_second, 1.0)
        buckets: list[Bucket | Window] = [self._overall, self._chats.setdefault(chat_id, Bucket(self.per_chat_per_second, self.chat_burst))]
        if chat_id < 0:
            buckets.append(self._groups.setdefault(chat_id, Window(self.per_group_per_minute, 60.0)))
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take(now)
        return None


class Updates:
    """Updates in Telegram's own JSON, numbered like Telegram numbers them."""

    def __init__(self, first_id: int = 700_000) -> None:
        self._next = first_id
        self._callbacks = 0

    def _wrap(self, **body: Any) -> dict[str, Any]:
        self._next += 1
        return {"update_id": self._next, **body}

    def message(self, chat: dict[str, Any], person: Person, text: str | None = None, *, message_id: int | None = None, **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id or self._next % 100_000 + 1,
            "from": person.json(),
            "chat": chat,
            "date": int(time.time()),
        }
        if text is not None:
            message["text"] = text
            command = text.split(maxsplit=1)[0] if text.startswith("/") else ""
            if command:
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]
        message.update(content)
        return self._wrap(message=message)

    def location(self, chat: dict[str, Any], person: Person, latitude: float, longitude: float) -> dict[str, Any]:
        return self.message(chat, person, location={"latitude": latitude, "longitude": longitude})

    def venue(self, chat: dict[str, Any], person: Person, latitude: float, longitude: float, title: str, address: str) -> dict[str, Any]:
        where = {"latitude": latitude, "longitude": longitude}
        return self.message(chat, person, location=where, venue={"location": where, "title": title, "address": address})

    def photo(self, chat: dict[str, Any], person: Person, file_id: str, caption: str | None = None) -> dict[str, Any]:
        sizes = [
            {"file_id": f"{file_id}-small", "file_unique_id": f"{file_id}s", "width": 90, "height": 67, "file_size": 1200},
            {"file_id": file_id, "file_unique_id": f"{file_id}l", "width": 1280, "height": 960, "file_size": 98000},
            {"file_id": f"{file_id}-medium", "file_unique_id": f"{file_id}m", "width": 320, "height": 240, "file_size": 15000},
        ]
        extra: dict[str, Any] = {"photo": sizes}
        if caption:
            extra["caption"] = caption
        return self.message(chat, person, **extra)

    def callback(self, person: Person, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A press of an inline button on ``message`` (as the fake server stored it)."""
        self._callbacks += 1
        query = {
            "id": f"{person.id}{self._callbacks:06d}",
            "from": person.json(),
            "message": message,
            "chat_instance": f"ci{message['chat']['id']}",
            "data": data,
        }
        return self._wrap(callback_query=query)

    def chat_member(self, chat: dict[str, Any], person: Person, old: str, new: str, *, by: Person | None = None) -> dict[str, Any]:
        change = {
            "chat": chat,
            "from": (by or person).json(),
            "date": int(time.time()),
            "old_chat_member": member_json(person, old),
            "new_chat_member": member_json(person, new),
        }
        return self._wrap(chat_member=change)

    def my_chat_member(
        self, chat: dict[str, Any], old: str, new: str, *, by: Person, bot: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The bot's own status in ``chat`` changed (Telegram sends this without being asked):
        ``member``/``administrator`` → ``kicked``/``left`` when it is removed, back when it is added."""
        subject = bot or BOT_USER
        change = {
            "chat": chat,
            "from": by.json(),
            "date": int(time.time()),
            "old_chat_member": member_json(subject, old),
            "new_chat_member": member_json(subject, new),
        }
        return self._wrap(my_chat_member=change)


class LocalServer:
    """An ASGI app served by uvicorn on a free port of 127.0.0.1, in the test's own event loop."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> str:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that name it, and without
        # it every response waits 40 ms for a delayed ACK (Nagle's algorithm).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task  # raises what stopped it
            await asyncio.sleep(0.005)
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task


class FakeBotAPI:
    """The Bot API for one bot, served by uvicorn on a free port of 127.0.0.1."""

    def __init__(self, token: str = TOKEN, *, flood: FloodLimits | None = None) -> None:
        self.token = token
        #: When set, messages over Telegram's flood limits are refused with 429 and ``retry_after``.
        self.flood = flood
        self.me = {"id": BOT_ID, "is_bot": True, "first_name": "Localbot", "username": BOT_USERNAME,
                   "can_join_groups": True, "can_read_all_group_messages": True, "supports_inline_queries": False}
        self.calls: list[Call] = []
        self.pending: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.allowed_updates: set[str] = set(DEFAULT_ALLOWED)
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.statuses: dict[tuple[int, int], str] = {}
        self.files: dict[str, bytes] = {}
        self.blocked: set[int] = set()
        #: Groups the bot is no longer in, with Telegram's 403 description for anything sent there.
        self.removed: dict[int, str] = {}
        self.migrated: dict[int, int] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.open_queries: set[str] = set()
        self._next_message: defaultdict[int, int] = defaultdict(lambda: 1000)
        self._failures: list[tuple[str, ApiError]] = []
        self._changed = asyncio.Condition()
        self.url = ""
        self._server: LocalServer | None = None
        self._stopping = False

    # --- running ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )
        self._server = LocalServer(app)
        self.url = await self._server.start()

    async def stop(self) -> None:
        if self._server is not None:
            self._stopping = True
            await self._notify()  # long polls return at once
            await self._server.stop()

    @property
    def api_url(self) -> str:
        return f"{self.url}/bot"

    # --- what tests arrange -------------------------------------------------------------------

    def push(self, *updates: dict[str, Any]) -> None:
        """Queue updates for getUpdates (long polling)."""
        for update in updates:
            query = update.get("callback_query")
            if query:
                self.open_queries.add(query["id"])
            self.pending.append(update)
        asyncio.get_running_loop().create_task(self._notify())

    def expect_query(self, update: dict[str, Any]) -> None:
        """A callback query delivered by webhook can be answered (once)."""
        query = update.get("callback_query")
        if query:
            self.open_queries.add(query["id"])

    def fail(self, method: str, code: int, description: str, *, times: int = 1, **parameters: Any) -> None:
        """The next ``times`` calls of ``method`` fail as Telegram would fail them."""
        for _ in range(times):
            self._failures.append((method, ApiError(code, description, parameters or None)))

    def set_status(self, chat_id: int, user_id: int, status: str) -> None:
        self.statuses[(chat_id, user_id)] = status

    def remove_bot(self, chat_id: int, how: str = "kicked") -> None:
        """The bot is kicked from the group (``kicked``), or the group is deleted (``deleted``):
        from now on Telegram answers everything addressed to it with 403 Forbidden."""
        kind = (self.chats.get(chat_id) or {}).get("type", "supergroup")
        where = "supergroup chat" if kind == "supergroup" else "group chat"
        self.removed[chat_id] = "Forbidden: the group chat was deleted" if how == "deleted" else f"Forbidden: bot was kicked from the {where}"
        self.statuses[(chat_id, BOT_ID)] = "kicked"

    def add_bot(self, chat_id: int, status: str = "member") -> None:
        self.removed.pop(chat_id, None)
        self.statuses[(chat_id, BOT_ID)] = status

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        return self.messages[(chat_id, message_id)]

    def refused(self, code: int = 429) -> list[Call]:
        """Calls answered with the error ``code`` (by default, flood control)."""
        return [c for c in self.calls if c.error_code == code]

    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        """Successful calls, optionally of one method and to one chat."""
        return [
            c for c in self.calls
            if c.ok and (method is None or c.method == method) and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    async def wait_for(self, method: str, *, chat_id: int | None = None, count: int = 1, timeout: float = 5.0, where: Any = None) -> list[Call]:
        """Wait until ``count`` successful calls of ``method`` (matching ``where``) were made."""

        def matching() -> list[Call]:
            return [c for c in self.sent(method, chat_id) if where is None or where(c)]

        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: len(matching()) >= count)
        return matching()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- the HTTP side ------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        params = await _parameters(request)
        handler = getattr(self, f"api_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            for index, (name, error) in enumerate(self._failures):
                if name == method:
                    del self._failures[index]
                    raise error
            if self.flood is not None and method in MESSAGE_METHODS and isinstance(params.get("chat_id"), int):
                wait = self.flood.retry_after(params["chat_id"])
                if wait is not None:
                    raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
            result = await handler(params)
        except ApiError as error:
            self.calls.append(Call(method, params, ok=False, error_code=error.code))
            await self._notify()
            body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            return JSONResponse(body, status_code=error.code)
        self.calls.append(Call(method, params, ok=True, result=result))
        await self._notify()
        return JSONResponse({"ok": True, "result": result})

    async def _file(self, request: Request) -> Response:
        path = request.path_params["path"]
        file_id = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if request.path_params["token"] != self.token or file_id not in self.files:
            return Response(status_code=404)
        return Response(self.files[file_id], media_type="application/octet-stream")

    # --- methods ------------------------------------------------------------------------------

    async def api_getMe(self, p: dict[str, Any]) -> Any:
        return self.me

    async def api_getUpdates(self, p: dict[str, Any]) -> Any:
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        if "allowed_updates" in p:
            self.allowed_updates = set(p["allowed_updates"]) or set(DEFAULT_ALLOWED)
        offset = int(p.get("offset") or 0)
        if offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        async with self._changed:
            while not self._deliverable() and time.monotonic() < deadline and not self._stopping:
                try:
                    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                        await self._changed.wait()
                except TimeoutError:
                    break
        return self._deliverable()[: int(p.get("limit") or 100)]

    def _deliverable(self) -> list[dict[str, Any]]:
        kept = [u for u in self.pending if (set(u) - {"update_id"}) & self.allowed_updates]
        self.pending = kept
        return kept

    async def api_setWebhook(self, p: dict[str, Any]) -> Any:
        if not p.get("url", "").startswith(("https://", "http://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = p
        if "allowed_updates" in p:
            self.allowed_updates = set(p["allowed_updates"]) or set(DEFAULT_ALLOWED)
        return True

    async def api_deleteWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = None
        if p.get("drop_pending_updates"):
            self.pending.clear()
        return True

    async def api_setMyCommands(self, p: dict[str, Any]) -> Any:
        scope = (p.get("scope") or {"type": "default"})["type"]
        for command in p["commands"]:
            if not 1 <= len(command["description"]) <= 256:
                raise ApiError(400, "Bad Request: command description is invalid")
        self.commands[(scope, p.get("language_code", ""))] = p["commands"]
        return True

    async def api_getChatMember(self, p: dict[str, Any]) -> Any:
        chat_id, user_id = p["chat_id"], p["user_id"]
        if chat_id in self.removed:
            raise ApiError(403, self.removed[chat_id])
        status = self.statuses.get((chat_id, user_id), "member")
        user = BOT_USER if user_id == BOT_ID else {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        return member_json(user, status)

    async def api_getFile(self, p: dict[str, Any]) -> Any:
        file_id = p["file_id"]
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(self.files[file_id]), "file_path": f"photos/{file_id}.jpg"}

    async def api_answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        query_id = p.get("callback_query_id")
        if query_id not in self.open_queries:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if utf16_length(p.get("text", "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.open_queries.discard(query_id)
        return True

    def _target(self, p: dict[str, Any]) -> int:
        chat_id = p.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": self.migrated[chat_id]})
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.removed:
            raise ApiError(403, self.removed[chat_id])
        return chat_id

    def _store(self, chat_id: int, p: dict[str, Any], **content: Any) -> dict[str, Any]:
        markup = p.get("reply_markup")
        _check_markup(markup)
        self._next_message[chat_id] += 1
        chat = self.chats.get(chat_id) or ({"id": chat_id, "type": "private", "first_name": "Member"} if chat_id > 0 else group_json(chat_id, "Group"))
        message = {"message_id": self._next_message[chat_id], "from": self.me, "chat": chat, "date": int(time.time()), **content}
        if markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def api_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id = self._target(p)
        text = p.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._store(chat_id, p, text=text)

    async def api_sendLocation(self, p: dict[str, Any]) -> Any:
        chat_id = self._target(p)
        return self._store(chat_id, p, location={"latitude": p["latitude"], "longitude": p["longitude"]})

    async def api_sendVenue(self, p: dict[str, Any]) -> Any:
        chat_id = self._target(p)
        if not p.get("title") or not p.get("address"):
            raise ApiError(400, "Bad Request: venue title and address must be non-empty")
        where = {"latitude": p["latitude"], "longitude": p["longitude"]}
        return self._store(chat_id, p, location=where, venue={"location": where, "title": p["title"], "address": p["address"]})

    def _caption(self, p: dict[str, Any]) -> dict[str, Any]:
        caption = p.get("caption")
        if caption and utf16_length(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        return {"caption": caption} if caption else {}

    async def api_sendPhoto(self, p: dict[str, Any]) -> Any:
        chat_id = self._target(p)
        upload = p.get("photo")
        if not isinstance(upload, dict) or not upload["data"]:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        file_id = f"photo{len(self.files) + 1}"
        self.files[file_id] = upload["data"]
        sizes = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 640, "height": 480}]
        return self._store(chat_id, p, photo=sizes, **self._caption(p))

    async def api_sendDocument(self, p: dict[str, Any]) -> Any:
        chat_id = self._target(p)
        upload = p.get("document")
        if not isinstance(upload, dict):
            raise ApiError(400, "Bad Request: there is no document in the request")
        file_id = f"doc{len(self.files) + 1}"
        self.files[file_id] = upload["data"]
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": upload["filename"]}
        return self._store(chat_id, p, document=document, **self._caption(p))

    def _editable(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target(p)
        message = self.messages.get((chat_id, p.get("message_id")))  # type: ignore[arg-type]
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        _check_markup(p.get("reply_markup"))
        return message

    async def api_editMessageText(self, p: dict[str, Any]) -> Any:
        message = self._editable(p)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = p.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(text) > 4096:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return self._replace(message, "text", text, p.get("reply_markup"))

    async def api_editMessageCaption(self, p: dict[str, Any]) -> Any:
        message = self._editable(p)
        self._caption(p)
        return self._replace(message, "caption", p.get("caption", ""), p.get("reply_markup"))

    def _replace(self, message: dict[str, Any], field_name: str, value: str, markup: Any) -> dict[str, Any]:
        if message.get(field_name) == value and message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message",
            )
        message[field_name] = value
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message


def _check_markup(markup: Any) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if data is None and "url" not in button:
                raise ApiError(400, "Bad Request: can't parse inline keyboard button")


async def _parameters(request: Request) -> dict[str, Any]:
    """Bot API parameters from a query string, a form, a multipart body or JSON."""
    raw: dict[str, Any] = {k: v for k, v in request.query_params.items()}
    body = await request.body()
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json") and body:
        raw.update(json.loads(body))
        return raw
    if kind.startswith("application/x-www-form-urlencoded"):
        raw.update({k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()})
    elif kind.startswith("multipart/form-data"):
        parsed = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            decoded = part.get_payload(decode=True)
            payload = decoded if isinstance(decoded, bytes) else b""
            raw[str(name)] = {"filename": filename, "data": payload} if filename else payload.decode()
    for name, value in list(raw.items()):
        if not isinstance(value, str):
            continue
        if name in _STRUCTURED or name in _NUMERIC:
            raw[name] = json.loads(value)
        elif name in _BOOLEAN:
            raw[name] = value.lower() == "true"
    if isinstance(raw.get("chat_id"), str) and raw["chat_id"].lstrip("-").isdigit():
        raw["chat_id"] = int(raw["chat_id"])
    return raw
