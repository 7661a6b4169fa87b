"""The shared conversation layer: every feature's commands, buttons, flows and jobs.

Nothing in this package (or in the domain packages) imports a messenger library; adapters turn
messenger traffic into :mod:`localbot.events` and render :mod:`localbot.replies`.
"""

from __future__ import annotations

from localbot.handlers.router import Router

# Each feature module exposes ``register(router)``; the order sets the order of /help sections.
FEATURES = (
    "localbot.handlers.community",
    "localbot.handlers.polls",
    "localbot.handlers.membership",
    "localbot.handlers.channels",
    "localbot.handlers.reports",
    "localbot.handlers.surveys",
    "localbot.handlers.maps",
    "localbot.handlers.tastings",
    "localbot.handlers.care",
    "localbot.handlers.export",
    "localbot.handlers.privacy",
)


def build_router() -> Router:
    import importlib

    router = Router()
    for name in FEATURES:
        importlib.import_module(name).register(router)
    return router
