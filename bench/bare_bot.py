"""The yardstick: a bare python-telegram-bot echo bot and a bare Twilio webhook, in one process.

This is python-telegram-bot's documented custom-webhook pattern (Starlette and uvicorn, updates put
on the application's queue and answered 200 at once) with one handler that answers every button
press with its data and echoes every text, and next to it a Twilio route that checks the signature
with Twilio's ``RequestValidator`` and answers empty TwiML. No database, no outbox, no translations:
what is left is the cost of the libraries and HTTP, measured in the same harness as localbot.

It processes up to 32 updates at once, as localbot does, so that the comparison is of the work
done per update and not of how many run at a time. With ``aiohttp`` it talks to the Bot API over
localbot's aiohttp layer instead of python-telegram-bot's httpx one, which isolates what localbot
itself adds. Usage (the bench starts it):

    python bench/bare_bot.py PORT TELEGRAM_API_URL [aiohttp]
"""

from __future__ import annotations

import asyncio
import hmac
import sys
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.harness import WEBHOOK_URL  # noqa: E402
from localbot.adapters.telegram_http import AiohttpRequest  # noqa: E402
from tests.fakes.telegram_api import TOKEN  # noqa: E402
from tests.fakes.whatsapp_rig import PUBLIC  # noqa: E402
from tests.fakes.whatsapp_rig import TOKEN as TWILIO_TOKEN  # noqa: E402
from tests.telegram_env import SECRET  # noqa: E402

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(text=query.data)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


async def main(port: int, api_url: str, http: str) -> None:
    builder = Application.builder().token(TOKEN).base_url(api_url).updater(None).concurrent_updates(32)
    if http == "aiohttp":
        builder = builder.request(AiohttpRequest())
    application = builder.build()
    application.add_handler(CallbackQueryHandler(answer))
    application.add_handler(MessageHandler(filters.TEXT, echo))
    validator = RequestValidator(TWILIO_TOKEN)

    async def telegram(request: Request) -> Response:
        if not hmac.compare_digest(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), SECRET):
            return PlainTextResponse("forbidden", status_code=403)
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return Response()

    async def whatsapp(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        if not validator.validate(PUBLIC + request.url.path, form, request.headers.get("X-Twilio-Signature", "")):
            return PlainTextResponse("invalid signature", status_code=403)
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route("/telegram", telegram, methods=["POST"]),
            Route("/twilio/whatsapp", whatsapp, methods=["POST"]),
            Route("/healthz", health),
        ]
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"))
    async with application:
        await application.bot.set_webhook(WEBHOOK_URL, secret_token=SECRET)
        await application.start()
        await server.serve()
        await application.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "httpx"))
