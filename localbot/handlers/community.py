"""The basics every member meets: /start, /help, /lang, /cancel, and a welcome for newcomers."""

from __future__ import annotations

from localbot.care import texts
from localbot.community import store as community_store
from localbot.community.model import Community
from localbot.events import ChoicePicked, Command, Event
from localbot.handlers import conversation as conv
from localbot.handlers.context import Context
from localbot.handlers.router import CommandSpec, HandlerResult, Router, render_usage
from localbot.i18n import (
    N_,
    SUPPORTED,
    Translator,
    language_name,
    normalize_language,
    translator,
)
from localbot.replies import Ack, Choices, Option, Reply, Text

SECTIONS = {
    "general": N_("General"),
    "polls": N_("Polls"),
    "maps": N_("Pickup points"),
    "tastings": N_("Tastings"),
    "surveys": N_("Surveys"),
    "organisers": N_("For organisers"),
    "privacy": N_("Your data"),
}


def help_text(ctx: Context, t: Translator) -> str:
    organiser = ctx.community is not None and ctx.is_organiser()
    by_section: dict[str, list[CommandSpec]] = {}
    for spec in ctx.core.router.commands.values():
        if spec.hidden or (spec.organiser_only and not organiser):
            continue
        by_section.setdefault(spec.section, []).append(spec)
    lines = [t._("Here is what I can do:")]
    order = list(SECTIONS) + sorted(set(by_section) - set(SECTIONS))
    for section in order:
        specs = by_section.get(section)
        if not specs:
            continue
        lines.append("")
        lines.append(t._(SECTIONS.get(section, section)))
        for spec in sorted(specs, key=lambda s: s.name):
            usage = f" {render_usage(t, spec.usage)}" if spec.usage else ""
            marker = " 🔑" if spec.organiser_only else ""
            lines.append(f"/{spec.name}{usage} — {t._(spec.help)}{marker}")
    if organiser:
        lines += ["", t._("🔑 = for organisers")]
    return "\n".join(lines)


def cmd_help(ctx: Context, cmd: Command) -> HandlerResult:
    return Text(text=help_text(ctx, ctx.t))


def cmd_start(ctx: Context, cmd: Command) -> HandlerResult:
    payload = cmd.args.strip()
    if payload:
        prefix, _, rest = payload.partition("-")
        handler = ctx.core.router.start_payloads.get(prefix)
        if handler is not None:
            return handler(ctx, cmd, rest.split("-") if rest else [])
        return Text(text=ctx.t._("That link is no longer valid. Send /help to see what I can do."))
    t = ctx.t
    hello = t._("Hello {name}! I help your neighbourhood with polls, tastings, pickup points and short surveys.", name=ctx.member.display_name)
    return Text(text=hello + "\n\n" + help_text(ctx, t))


def start_resume(ctx: Context, cmd: Command, parts: list[str]) -> HandlerResult:
    current = conv.load(ctx.db, ctx.member.id, ctx.chat_ref)
    flow = ctx.core.router.flows.get(current.flow) if current else None
    if current is None or flow is None:
        return Text(text=ctx.t._("There is nothing to continue right now. Send /help to see what I can do."))
    ctx.conversation = current
    return conv.prompt(ctx, flow, current)


def language_choices(t: Translator) -> Choices:
    return Choices(
        text=t._("Which language should I use with you?"),
        options=tuple(Option(language_name(code), f"lang:{code}") for code in SUPPORTED),
        columns=3,
    )


def _set_language(ctx: Context, code: str) -> list[Reply]:
    community_store.set_member_language(ctx.db, ctx.member.id, code)
    t = translator(code)
    return [Text(text=t._("From now on I will write to you in {language}.", language=language_name(code)))]


def cmd_lang(ctx: Context, cmd: Command) -> HandlerResult:
    wanted = cmd.args.strip()
    if not wanted:
        return language_choices(ctx.t)
    code = normalize_language(wanted)
    if code is None or wanted.lower() not in (*SUPPORTED, code):
        return Text(
            text=ctx.t._("I speak {languages}. Choose one, for example /lang pl.", languages=", ".join(SUPPORTED))
        )
    return _set_language(ctx, code)


def on_lang_choice(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    if len(parts) != 1 or parts[0] not in SUPPORTED:
        return Ack(text=ctx.t._("This button no longer works."))
    replies = _set_language(ctx, parts[0])
    return [Ack(text=replies[0].text if isinstance(replies[0], Text) else ""), *replies[1:]]


def cmd_cancel(ctx: Context, cmd: Command) -> HandlerResult:
    current = conv.load(ctx.db, ctx.member.id, ctx.chat_ref)
    if current is None:
        return Text(text=ctx.t._("There is nothing to cancel."))
    flow = ctx.core.router.flows.get(current.flow)
    conv.end(ctx, current)
    if flow is not None and flow.on_cancel is not None:
        return flow.on_cancel(ctx, current)
    return Text(text=ctx.t._("Cancelled. Nothing was saved from that conversation."))


def default_welcome(t: Translator, community: Community, name: str) -> str:
    """The welcome a newcomer reads unless the organisers wrote their own (``/setwelcome``)."""
    return t._(
        "Welcome to {community}, {name}! I'm the group's helper bot: polls, tastings, pickup points. Send /help to see more.",
        community=community.name,
        name=name,
    )


def on_join(ctx: Context, event: Event) -> HandlerResult:
    if ctx.community is None or not ctx.in_group:
        return None
    name = ctx.member.display_name
    return Text(text=texts.welcome(ctx.community, name) or default_welcome(ctx.ct, ctx.community, name))


def register(router: Router) -> None:
    router.command("start", help=N_("Start talking to me"), hidden=True, needs_community=False)(cmd_start)
    router.command("help", help=N_("What I can do"), needs_community=False)(cmd_help)
    router.command("lang", help=N_("Choose my language: pl, en or id"), usage="[pl|en|id]", needs_community=False)(cmd_lang)
    router.command("cancel", help=N_("Stop the current conversation"), needs_community=False)(cmd_cancel)
    router.choice("lang")(on_lang_choice)
    router.start("resume")(start_resume)
    router.on_join(on_join)
