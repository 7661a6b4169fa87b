"""Where feature modules register what they handle, and where help text comes from.

A feature module has a ``register(router)`` function that declares its commands (with their help
text and who may use them), its button prefixes, its conversations, its deep-link payloads and its
scheduled job kinds. The core dispatches events by these registrations; ``/help`` is built from them,
so a command cannot exist without being documented.

Handlers are plain synchronous functions ``(ctx, event) -> replies``. They run inside one database
transaction per event, so they must not wait on the network; anything slow is fetched *before* the
transaction through :meth:`Context.lookup` (see :mod:`localbot.handlers.context`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

import sqlite_utils

from localbot.events import (
    BotAdded,
    BotRemoved,
    ChoicePicked,
    Command,
    Event,
    LocationShared,
    Message,
    PhotoShared,
)
from localbot.i18n import N_, Translator
from localbot.replies import Reply

if TYPE_CHECKING:
    from localbot.handlers.context import Context, Effects, JobContext
    from localbot.handlers.conversation import Flow
    from localbot.scheduler import Job

Replies: TypeAlias = Sequence[Reply]
HandlerResult: TypeAlias = Reply | Sequence[Reply] | None


#: The words of a command's usage that stand for what the member writes: written in capitals in
#: ``usage``, translated when shown. Everything else (sub-commands such as ``start``, ``|``, ``[ ]``)
#: is typed as it is and stays as it is.
PLACEHOLDERS: dict[str, str] = {
    "ADDRESS": N_("ADDRESS"),
    "CITY": N_("CITY"),
    "CODE": N_("CODE"),
    "COUNT": N_("COUNT"),
    "FORMAT": N_("FORMAT"),
    "KIND": N_("KIND"),
    "NAME": N_("NAME"),
    "NUMBER": N_("NUMBER"),
    "OPTION": N_("OPTION"),
    "QUESTION": N_("QUESTION"),
    "SESSION": N_("SESSION"),
    "TEXT": N_("TEXT"),
}
_PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]+\b")


def render_usage(t: Translator, usage: str) -> str:
    """A command's usage in ``t``'s language: ``[start NAME | stop]`` → ``[start NAZWA | stop]``."""
    return _PLACEHOLDER.sub(lambda m: t._(PLACEHOLDERS[m.group()]), usage)


class Where(StrEnum):
    ANY = "any"
    GROUP = "group"
    PRIVATE = "private"


@dataclass(frozen=True)
class CommandSpec:
    name: str
    handler: Callable[[Context, Command], HandlerResult]
    #: One line for /help, marked with ``N_`` and translated when shown.
    help: str
    #: What follows the command, for /help (``QUESTION? | OPTION | OPTION``): words in capitals are
    #: placeholders (see :data:`PLACEHOLDERS`), translated when shown.
    usage: str = ""
    organiser_only: bool = False
    where: Where = Where.ANY
    #: Left out of /help (``/start``) but still handled.
    hidden: bool = False
    #: Needs a community (group chat, or a member's current community in private).
    needs_community: bool = True
    #: Groups commands in /help.
    section: str = "general"


@dataclass(frozen=True)
class TextRule:
    """A plain-text trigger outside conversations (``JOIN K7Q2MX`` on WhatsApp)."""

    name: str
    matches: Callable[[str], bool]
    handler: Callable[[Context, Message], HandlerResult]
    where: Where = Where.PRIVATE


@dataclass
class Router:
    commands: dict[str, CommandSpec] = field(default_factory=dict)
    choices: dict[str, Callable[[Context, ChoicePicked, list[str]], HandlerResult]] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    jobs: dict[str, Callable[[JobContext, Job], None]] = field(default_factory=dict)
    #: Job kinds that run again and again: when each run is next due, given the time it ran.
    recurring: dict[str, Callable[[datetime], datetime]] = field(default_factory=dict)
    start_payloads: dict[str, Callable[[Context, Command, list[str]], HandlerResult]] = field(default_factory=dict)
    text_rules: list[TextRule] = field(default_factory=list)
    location_handlers: list[Callable[[Context, LocationShared], HandlerResult]] = field(default_factory=list)
    photo_handlers: list[Callable[[Context, PhotoShared], HandlerResult]] = field(default_factory=list)
    join_handlers: list[Callable[[Context, Event], HandlerResult]] = field(default_factory=list)
    #: The bot's own comings and goings in group chats. They are nothing a member did, so these
    #: handlers get :class:`Effects` (no member, no community of the event) rather than a Context.
    bot_added_handlers: list[Callable[[Effects, BotAdded], HandlerResult]] = field(default_factory=list)
    bot_removed_handlers: list[Callable[[Effects, BotRemoved], HandlerResult]] = field(default_factory=list)
    #: Renderers of live messages (see :class:`localbot.replies.LiveEdit`), by view name.
    views: dict[str, Callable[[sqlite_utils.Database, str, Translator], Reply | None]] = field(default_factory=dict)

    def command(
        self,
        name: str,
        *,
        help: str,
        usage: str = "",
        organiser_only: bool = False,
        where: Where = Where.ANY,
        hidden: bool = False,
        needs_community: bool = True,
        section: str = "general",
    ) -> Callable[[Callable[[Context, Command], HandlerResult]], Callable[[Context, Command], HandlerResult]]:
        def register(fn: Callable[[Context, Command], HandlerResult]) -> Callable[[Context, Command], HandlerResult]:
            key = name.lower()
            if key in self.commands:
                raise ValueError(f"command /{key} registered twice")
            unknown = set(_PLACEHOLDER.findall(usage)) - set(PLACEHOLDERS)
            if unknown:
                raise ValueError(f"/{key}: add {sorted(unknown)} to PLACEHOLDERS, so that they are translated")
            self.commands[key] = CommandSpec(
                key, fn, help, usage, organiser_only, where, hidden, needs_community, section
            )
            return fn

        return register

    def choice(self, prefix: str) -> Callable[[Any], Any]:
        """Handle button payloads ``<prefix>:<part>:<part>…``; the parts are passed as a list."""

        def register(fn: Any) -> Any:
            if ":" in prefix or prefix in self.choices or prefix == "c":
                raise ValueError(f"bad or duplicate choice prefix {prefix!r}")
            self.choices[prefix] = fn
            return fn

        return register

    def flow(self, flow: Flow) -> Flow:
        if flow.name in self.flows:
            raise ValueError(f"flow {flow.name!r} registered twice")
        self.flows[flow.name] = flow
        return flow

    def job(self, kind: str, *, repeat: Callable[[datetime], datetime] | None = None) -> Callable[[Any], Any]:
        """Handle scheduled jobs of ``kind``. With ``repeat`` the core keeps one such job pending at
        all times (a weekly digest, say): ``repeat(now)`` is when the next run is due, both for the
        first run and after each one, even after a run that failed for good."""

        def register(fn: Any) -> Any:
            if kind in self.jobs:
                raise ValueError(f"job kind {kind!r} registered twice")
            self.jobs[kind] = fn
            if repeat is not None:
                self.recurring[kind] = repeat
            return fn

        return register

    def start(self, prefix: str) -> Callable[[Any], Any]:
        """Handle ``/start <prefix>-<part>-…`` deep links (Telegram payloads allow ``[A-Za-z0-9_-]``)."""

        def register(fn: Any) -> Any:
            if "-" in prefix or prefix in self.start_payloads:
                raise ValueError(f"bad or duplicate start prefix {prefix!r}")
            self.start_payloads[prefix] = fn
            return fn

        return register

    def text(self, name: str, matches: Callable[[str], bool], *, where: Where = Where.PRIVATE) -> Callable[[Any], Any]:
        def register(fn: Any) -> Any:
            self.text_rules.append(TextRule(name, matches, fn, where))
            return fn

        return register

    def view(self, name: str) -> Callable[[Any], Any]:
        """Register the renderer of a live message: ``(db, ref, t) -> Edit | None`` (None: nothing to show)."""

        def register(fn: Any) -> Any:
            if name in self.views:
                raise ValueError(f"view {name!r} registered twice")
            self.views[name] = fn
            return fn

        return register

    def on_location(self, fn: Any) -> Any:
        self.location_handlers.append(fn)
        return fn

    def on_photo(self, fn: Any) -> Any:
        self.photo_handlers.append(fn)
        return fn

    def on_join(self, fn: Any) -> Any:
        self.join_handlers.append(fn)
        return fn

    def on_bot_added(self, fn: Any) -> Any:
        self.bot_added_handlers.append(fn)
        return fn

    def on_bot_removed(self, fn: Any) -> Any:
        self.bot_removed_handlers.append(fn)
        return fn


def as_replies(result: HandlerResult) -> list[Reply]:
    if result is None:
        return []
    if isinstance(result, Sequence) and not isinstance(result, (str, bytes)):
        return list(result)
    return [result]  # type: ignore[list-item]
