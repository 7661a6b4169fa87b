"""A fake Twilio REST API on 127.0.0.1, reached by the real adapter through LOCALBOT_TWILIO__API_URL.

It speaks the parts of Twilio's protocol the adapter uses, as Twilio does: form-encoded
``POST /2010-04-01/Accounts/<sid>/Messages.json`` with HTTP basic auth, JSON answers, Twilio's error
bodies (``{"code": 63016, "message": …, "status": 400}``), ``GET`` of the same URL to list messages
filtered by ``To``, ``From`` and ``DateSent>``, and media files behind basic auth. Tests script
failures (a 500, an error code, a garbled answer) and read what was sent. With ``per_second`` it
refuses sends faster than that from one sender with Twilio's 429 (error 20429).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl
from uuid import uuid4

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.limits import Bucket

#: A free-form message to someone whose 24-hour window is closed, in Twilio's words.
OUTSIDE_WINDOW_MESSAGE = "Failed to send freeform message because you are outside the allowed window."


@dataclass
class Sent:
    sid: str
    to: str
    from_: str
    body: str | None
    content_sid: str | None
    content_variables: dict[str, str]
    media_urls: list[str]
    persistent_action: list[str]
    status_callback: str | None
    created_at: datetime
    at_monotonic: float

    @property
    def text(self) -> str:
        """What the member reads: the body, or a template's variables."""
        if self.content_sid:
            return " ".join(self.content_variables.values())
        return self.body or ""


@dataclass(frozen=True)
class Fail:
    """Answer the next send with this error instead of sending."""

    status: int
    code: int
    message: str = "scripted failure"


@dataclass(frozen=True)
class Garble:
    """Send the next message, but answer with something that is not JSON (the answer is lost)."""


@dataclass
class FakeTwilioApi:
    account_sid: str
    auth_token: str
    clock: Callable[[], datetime]
    messages: list[Sent] = field(default_factory=list)
    #: Every send request, refused or not, as the form Twilio received.
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    script: deque[Fail | Garble] = field(default_factory=deque)
    #: Recipients whose window Twilio considers closed: free-form sends get 63016 at once.
    closed_windows: set[str] = field(default_factory=set)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    #: Sends a second one sender may make; over it Twilio answers 429 (error 20429).
    per_second: float | None = None
    #: Sends refused for going too fast.
    throttled: int = 0
    base_url: str = ""
    _buckets: dict[str, Bucket] = field(default_factory=dict)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    # --- what tests use ---

    def to(self, address: str) -> list[Sent]:
        return [m for m in self.messages if m.to == address]

    def add_media(self, data: bytes, content_type: str) -> str:
        name = uuid4().hex
        self.media[name] = (data, content_type)
        return f"{self.base_url}/media/{name}"

    async def __aenter__(self) -> FakeTwilioApi:
        app = Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{account}/Messages.json", self._create, methods=["POST"]),
                Route("/2010-04-01/Accounts/{account}/Messages.json", self._list, methods=["GET"]),
                Route("/media/{name}", self._media, methods=["GET"]),
            ]
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            await asyncio.sleep(0.005)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        # The test is over: close at once rather than at uvicorn's next tick (a tenth of a second).
        self._server.should_exit = self._server.force_exit = True
        await self._server.shutdown()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    # --- the protocol ---

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    @staticmethod
    def _error(status: int, code: int, message: str) -> JSONResponse:
        return JSONResponse(
            {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
            status_code=status,
        )

    async def _create(self, request: Request) -> Response:
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return self._error(401, 20003, "Authenticate")
        form: dict[str, list[str]] = {}
        for key, value in parse_qsl((await request.body()).decode(), keep_blank_values=True):
            form.setdefault(key, []).append(value)
        self.requests.append(form)
        first = {key: values[0] for key, values in form.items()}
        if "To" not in first or "From" not in first or not ({"Body", "ContentSid", "MediaUrl"} & first.keys()):
            return self._error(400, 21602, "Message body is required.")
        if "Body" in first and "ContentSid" in first:
            return self._error(400, 21619, "A text message body or media urls must be specified, not both with a template.")
        if self.per_second is not None:
            bucket = self._buckets.setdefault(first["From"], Bucket(self.per_second, burst=2))
            now = asyncio.get_running_loop().time()
            if bucket.wait(now) > 0:
                self.throttled += 1
                return self._error(429, 20429, "Too Many Requests")
            bucket.take(now)
        step = self.script.popleft() if self.script else None
        if isinstance(step, Fail):
            return self._error(step.status, step.code, step.message)
        if "ContentSid" not in first and first["To"] in self.closed_windows:
            return self._error(400, 63016, OUTSIDE_WINDOW_MESSAGE)
        message = Sent(
            sid="SM" + uuid4().hex,
            to=first["To"],
            from_=first["From"],
            body=first.get("Body"),
            content_sid=first.get("ContentSid"),
            content_variables=json.loads(first.get("ContentVariables", "{}")),
            media_urls=form.get("MediaUrl", []),
            persistent_action=form.get("PersistentAction", []),
            status_callback=first.get("StatusCallback"),
            created_at=self.clock(),
            at_monotonic=asyncio.get_running_loop().time(),
        )
        self.messages.append(message)
        if isinstance(step, Garble):
            return PlainTextResponse("<html>502 Bad Gateway</html>", status_code=201)
        return JSONResponse(self._resource(message), status_code=201)

    def _resource(self, message: Sent) -> dict[str, Any]:
        stamp = format_datetime(message.created_at, usegmt=True)
        body = message.body if not message.content_sid else f"[{message.content_sid}] {message.text}"
        return {
            "sid": message.sid,
            "account_sid": self.account_sid,
            "to": message.to,
            "from": message.from_,
            "body": body,
            "status": "queued",
            "num_media": str(len(message.media_urls)),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": stamp,
            "date_updated": stamp,
            "date_sent": stamp,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "messaging_service_sid": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json",
            "subresource_uris": {},
        }

    async def _list(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        query = request.query_params
        after = query.get("DateSent>")
        since = datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
        found = [
            self._resource(m)
            for m in reversed(self.messages)
            if (not query.get("To") or m.to == query["To"])
            and (not query.get("From") or m.from_ == query["From"])
            and (since is None or m.created_at.replace(microsecond=0) >= since)
        ]
        size = int(query.get("PageSize", "50"))
        return JSONResponse(
            {
                "messages": found[:size],
                "end": min(size, len(found)) - 1,
                "first_page_uri": str(request.url.path),
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": size,
                "start": 0,
                "uri": str(request.url.path),
            }
        )

    async def _media(self, request: Request) -> Response:
        if not self._authorised(request):
            return PlainTextResponse("unauthorised", status_code=401)
        found = self.media.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(found[0], media_type=found[1])
