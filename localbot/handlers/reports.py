"""/report: one command for every feature's reports (surveys now, tastings and others later).

A feature that can report on something registers a :class:`ReportProvider` with
:func:`add_provider` from its ``register(router)``: ``items`` lists what it can report on in a
community (newest first), ``build`` renders one item's report as replies. ``/report`` lists every
item of every provider as buttons, or goes straight to the one that matches what the organiser
typed (``/report 2``, ``/report coffee-diary``, ``/report survey 2``). In a group chat a report
is built for the group (``private=False``: no names of individual members); in the organiser's
private chat it may name people.

Providers are kept by kind in one registry for the process, like the router's own registrations;
registering a kind again replaces it, so building several routers (tests, restarts) is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from localbot.community.model import Community
from localbot.events import ChoicePicked, Command
from localbot.handlers.context import Context, Effects
from localbot.handlers.router import HandlerResult, Router
from localbot.i18n import N_, Translator
from localbot.replies import Ack, Choices, Option, Reply, Text

MAX_LISTED = 10


@dataclass(frozen=True)
class ReportItem:
    """Something a provider can report on."""

    #: The provider's kind (``survey``); with ``key`` it goes into the button ``rp:<kind>:<key>``.
    kind: str
    #: What the provider needs to find it again (a row id), short enough for a button payload.
    key: str
    #: How it is listed ("📔 #2 Coffee diary").
    label: str
    #: What an organiser may type to pick it: its number, its name (lower case).
    names: frozenset[str]
    #: For ordering, newest first.
    at: datetime


@dataclass(frozen=True)
class ReportRequest:
    t: Translator
    community: Community
    #: True in the organiser's private chat: the report may name members.
    private: bool


@dataclass(frozen=True)
class ReportProvider:
    kind: str
    #: Words (lower case, any of our languages) that narrow ``/report`` to this provider.
    words: frozenset[str]
    items: Callable[[Effects, Community], list[ReportItem]]
    build: Callable[[Effects, ReportRequest, str], list[Reply]]


_PROVIDERS: dict[str, ReportProvider] = {}


def add_provider(provider: ReportProvider) -> None:
    if ":" in provider.kind:
        raise ValueError(f"bad report kind {provider.kind!r}")
    _PROVIDERS[provider.kind] = provider


def providers() -> list[ReportProvider]:
    return list(_PROVIDERS.values())


def _request(ctx: Context, community: Community) -> ReportRequest:
    return ReportRequest(ctx.ct if ctx.in_group else ctx.t, community, private=not ctx.in_group)


def cmd_report(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    tokens = [token.lstrip("#") for token in cmd.args.lower().split()]
    chosen_kinds = {p.kind for p in providers() if p.words & set(tokens)}
    rest = [token for token in tokens if not any(token in p.words for p in providers())]
    found: list[ReportItem] = []
    for provider in providers():
        if chosen_kinds and provider.kind not in chosen_kinds:
            continue
        found += [item for item in provider.items(ctx, community) if all(token in item.names for token in rest)]
    found.sort(key=lambda item: item.at, reverse=True)
    t = ctx.t
    if not found:
        if tokens:
            return Text(text=t._("I found no report matching “{text}”. Send /report to see them all.", text=cmd.args.strip()))
        return Text(text=t._("There is nothing to report on yet."))
    if len(found) == 1:
        return _PROVIDERS[found[0].kind].build(ctx, _request(ctx, community), found[0].key)
    return Choices(
        text=t._("Which report would you like?"),
        options=tuple(Option(item.label, f"rp:{item.kind}:{item.key}") for item in found[:MAX_LISTED]),
    )


def on_report_choice(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    t = ctx.t
    provider = _PROVIDERS.get(parts[0]) if len(parts) == 2 else None
    if provider is None:
        return Ack(text=t._("This button no longer works."))
    community = ctx.require_community()
    if not ctx.is_organiser(community):
        return Ack(text=t._("Only organisers can use /{name}.", name="report"))
    if parts[1] not in {item.key for item in provider.items(ctx, community)}:
        return Ack(text=t._("I can't find that report any more."))
    return provider.build(ctx, _request(ctx, community), parts[1])


def register(router: Router) -> None:
    router.command(
        "report",
        help=N_("Reports and habit maps of surveys and other studies"),
        usage="[NUMBER|NAME]",
        organiser_only=True,
        section="organisers",
    )(cmd_report)
    router.choice("rp")(on_report_choice)
