"""The fake Telegram Bot API and the fake Twilio API in a process of their own, for the benches.

The fakes of the test suite (``tests/fakes``) run here with the messengers' limits switched on:
Telegram's flood limits (429 with ``retry_after``) and Twilio's pace per sender (429, error 20429).
Running them apart from the bot means their work is not charged to the bot. A small control API
lets the bench arrange things (who is an admin, which button presses Telegram expects answers to)
and read what the fakes saw. Started by :mod:`bench.harness`; prints one JSON line with the URLs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from tests.fakes.telegram_api import FakeBotAPI, FloodLimits, LocalServer  # noqa: E402
from tests.fakes.twilio_api import FakeTwilioApi  # noqa: E402
from tests.fakes.whatsapp_rig import ACCOUNT, TOKEN  # noqa: E402


def control_app(telegram: FakeBotAPI, twilio: FakeTwilioApi) -> Starlette:
    async def calls(request: Request) -> Response:
        since = int(request.query_params.get("since", "0"))
        rows = [
            [
                c.method,
                c.ok,
                c.error_code,
                c.at,
                c.params.get("chat_id"),
                c.params.get("callback_query_id"),
                c.params.get("text") if c.method in ("editMessageText", "sendMessage") else None,
                c.result.get("message_id") if isinstance(c.result, dict) else None,
            ]
            for c in telegram.calls[since:]
        ]
        return JSONResponse({"next": since + len(rows), "calls": rows})

    async def message(request: Request) -> Response:
        q = request.query_params
        return JSONResponse(telegram.message(int(q["chat_id"]), int(q["message_id"])))

    async def status(request: Request) -> Response:
        body = await request.json()
        telegram.set_status(int(body["chat_id"]), int(body["user_id"]), body["status"])
        return Response(status_code=204)

    async def chat(request: Request) -> Response:
        body = await request.json()
        telegram.chats[int(body["id"])] = body
        return Response(status_code=204)

    async def queries(request: Request) -> Response:
        for query_id in await request.json():
            telegram.expect_query({"callback_query": {"id": query_id}})
        return Response(status_code=204)

    async def messages(request: Request) -> Response:
        since = int(request.query_params.get("since", "0"))
        rows = [[m.to, m.text, m.at_monotonic, m.sid] for m in twilio.messages[since:]]
        return JSONResponse({"next": since + len(rows), "messages": rows, "throttled": twilio.throttled, "requests": len(twilio.requests)})

    async def reset(request: Request) -> Response:
        telegram.calls.clear()
        twilio.messages.clear()
        twilio.requests.clear()
        twilio.throttled = 0
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/telegram/calls", calls),
            Route("/telegram/message", message),
            Route("/telegram/status", status, methods=["POST"]),
            Route("/telegram/chat", chat, methods=["POST"]),
            Route("/telegram/queries", queries, methods=["POST"]),
            Route("/twilio/messages", messages),
            Route("/reset", reset, methods=["POST"]),
        ]
    )


async def main() -> None:
    # Telegram's 15-second limit on answering a press counts from when it sent the update, which
    # only the bench knows: it judges lateness itself (bench/burst.py).
    telegram = FakeBotAPI(flood=FloodLimits())
    await telegram.start()
    async with FakeTwilioApi(ACCOUNT, TOKEN, lambda: datetime.now(UTC), per_second=10.0) as twilio:
        control = LocalServer(control_app(telegram, twilio))
        urls: dict[str, Any] = {"telegram": telegram.url, "twilio": twilio.base_url, "control": await control.start()}
        print(json.dumps(urls), flush=True)
        try:
            await asyncio.Event().wait()  # until the bench terminates us
        finally:
            await control.stop()
            await telegram.stop()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
