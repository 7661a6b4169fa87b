"""The one web process: webhooks of every messenger, signed media URLs and ``/healthz``.

Starlette and uvicorn run in the same asyncio loop as the core and python-telegram-bot, the
pattern python-telegram-bot documents for custom webhook servers. Each adapter contributes its own
routes; this module adds what is shared: the health check and a cap on request bodies (a webhook
is a few kilobytes; anything far larger is refused before it is read into memory).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localbot.adapters.base import Adapter
from localbot.core import Core
from localbot.storage.db import one

MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await PlainTextResponse("request body too large", status_code=413)(scope, receive, send)
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await PlainTextResponse("request body too large", status_code=413)(scope, receive, send)


class _TooLarge(Exception):
    pass


def build_app(core: Core, adapters: Sequence[Adapter], *, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        row = one(core.db, "SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")
        return JSONResponse(
            {"status": "ok", "adapters": sorted(core.adapters), "outbox_pending": row["n"] if row else 0}
        )

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    for adapter in adapters:
        routes.extend(adapter.routes())
    routes.extend(extra_routes)
    app = Starlette(routes=routes)
    app.add_middleware(BodyLimit)
    return app


def server(app: Any, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
    return uvicorn.Server(config)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
