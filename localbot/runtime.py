"""Starting the bot for real: the messenger adapters that are configured, the web process, the
core's job and delivery loops; or the local console when no messenger is configured."""

from __future__ import annotations

import logging
import sys

from localbot.adapters.base import Adapter
from localbot.clock import Clock
from localbot.core import Core
from localbot.settings import Settings, SettingsError
from localbot.storage import open_database

log = logging.getLogger(__name__)


def messenger_adapters(settings: Settings, core: Core) -> list[Adapter]:
    """The adapters whose credentials are configured."""
    adapters: list[Adapter] = []
    if settings.telegram_enabled:
        try:
            from localbot.adapters.telegram import TelegramAdapter  # type: ignore[import-not-found]
        except ImportError as exc:
            raise SettingsError(f"LOCALBOT_TELEGRAM__TOKEN is set, but Telegram support is not available: {exc}") from None
        adapters.append(TelegramAdapter(settings, core))
    if settings.twilio_enabled:
        try:
            from localbot.adapters.whatsapp import WhatsAppAdapter  # type: ignore[import-not-found]
        except ImportError as exc:
            raise SettingsError(f"Twilio settings are present, but WhatsApp support is not available: {exc}") from None
        adapters.append(WhatsAppAdapter(settings, core))
    return adapters


def has_messenger(settings: Settings) -> bool:
    return settings.telegram_enabled or settings.twilio_enabled


async def serve(settings: Settings, *, clock: Clock | None = None) -> None:
    """Run the configured messengers until interrupted (SIGINT/SIGTERM)."""
    from localbot.adapters.web import build_app, server

    db = open_database(settings.database)
    core = Core(settings, db, clock=clock)
    adapters = messenger_adapters(settings, core)
    for adapter in adapters:
        core.attach(adapter)
    app = build_app(core, adapters)
    web = server(app, settings.http.host, settings.http.port)
    await core.start()
    started: list[Adapter] = []
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
        log.info("localbot running: %s on http://%s:%d", ", ".join(a.messenger for a in adapters), settings.http.host, settings.http.port)
        print(f"localbot is running ({', '.join(a.messenger for a in adapters)}); press Ctrl+C to stop.", file=sys.stderr)
        await web.serve()
    finally:
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:  # noqa: BLE001 - stopping must go on
                log.exception("stopping %s", adapter.messenger)
        await core.stop()
        db.close()
