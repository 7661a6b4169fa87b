"""Community care: the welcome and the rules for newcomers, and the organisers' weekly digest.

Organisers write the community's rules (``/setrules``) and its welcome (``/setwelcome``, with
``{name}`` and ``{community}``); everyone reads the rules with ``/rules``, and a newcomer gets them
right after the welcome, whether they joined the group chat or sent ``JOIN`` on WhatsApp.

Organisers also set the weekly ask budget (``/askbudget``), which polls, surveys and tastings
keep to (:mod:`localbot.handlers.asking`).

The digest: a recurring planning job runs every Sunday at 12:00 UTC and books, for each community,
one digest job at the end of its week (Monday 09:00 in its time zone), so each community's digest
is sent exactly once per week even across restarts. It goes privately to the organisers the bot
knows (role holders and ``LOCALBOT_ORGANISERS``) and to those who asked with ``/digest on``, unless
they said ``/digest off``; ``/digest`` alone shows the last seven days at once. Features add their
own lines (open studies, their answer rates) with :func:`add_digest_section`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from localbot.care import digest as digests
from localbot.care import texts
from localbot.care.digest import WEEK, Digest
from localbot.clock import from_iso, iso
from localbot.community import asks
from localbot.community import store as community_store
from localbot.community.model import Community, Member
from localbot.events import ChoicePicked, Command, Event
from localbot.handlers.community import default_welcome
from localbot.handlers.context import Context, Effects, HandlerError, JobContext
from localbot.handlers.router import HandlerResult, Router
from localbot.i18n import N_, Translator
from localbot.replies import Ack, Choices, Option, Text
from localbot.scheduler import Job
from localbot.storage.db import one
from localbot.text import whole_number

MIN_BUDGET, MAX_BUDGET = 1, 50
PLAN_JOB = "care.digest.plan"
DIGEST_JOB = "care.digest"
CLEAR = "-"

#: Lines that features add to the digest: ``(ctx, t, community, start, end) -> lines``.
DigestSection = Callable[[Effects, Translator, Community, datetime, datetime], list[str]]
_SECTIONS: dict[str, DigestSection] = {}


def add_digest_section(name: str, section: DigestSection) -> None:
    """Add a feature's lines to every digest (registering a name again replaces it)."""
    _SECTIONS[name] = section


# --- rules and welcome -------------------------------------------------------------------------


def rules_text(t: Translator, community: Community) -> str | None:
    """The community's rules with a heading, or None when it has none."""
    found = texts.rules(community)
    if found is None:
        return None
    return "📜 " + t._("The rules of {community}:", community=community.name) + "\n" + found


def cmd_rules(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    t = ctx.ct if ctx.in_group else ctx.t
    found = rules_text(t, community)
    if found is not None:
        return Text(text=found)
    lines = [ctx.t._("{community} has no rules written down yet.", community=community.name)]
    if ctx.is_organiser():
        lines.append(ctx.t._("Write them with /setrules followed by the text."))
    return Text(text="\n".join(lines))


def _problem(t: Translator, problem: texts.TextProblem) -> str:
    if problem.code == "too_long":
        return t._("That is {length} characters long; please keep it under {limit}.", **problem.details)
    return t._(
        "I don't know the placeholder {placeholder}. A welcome may use {name} (the newcomer) and {community}.",
        name="{name}",
        community="{community}",
        **problem.details,
    )


def cmd_setrules(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    t = ctx.t
    text = cmd.args.strip()
    if not text:
        current = rules_text(t, community)
        usage = t._("Send /setrules followed by the rules (several lines are fine), or /setrules - to remove them.")
        return Text(text="\n\n".join(part for part in (current, usage) if part))
    if text == CLEAR:
        community_store.update_community_settings(ctx.db, community.id, rules=None)
        return Text(text=t._("The rules of {community} are removed.", community=community.name))
    try:
        rules = texts.check(text, limit=texts.MAX_RULES)
    except texts.TextProblem as problem:
        raise HandlerError(_problem(t, problem)) from None
    community_store.update_community_settings(ctx.db, community.id, rules=rules)
    return Text(text=t._("Saved. Newcomers get the rules after the welcome, and anyone can read them with /rules."))


def cmd_setwelcome(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    t = ctx.t
    text = cmd.args.strip()
    sample = ctx.member.display_name
    if not text:
        current = texts.welcome(community, sample) or default_welcome(ctx.ct, community, sample)
        usage = t._(
            "Send /setwelcome followed by the text; {name} becomes the newcomer's name and {community} the community's. /setwelcome - goes back to my own welcome.",
            name="{name}",
            community="{community}",
        )
        return Text(text=t._("Newcomers now read:") + "\n" + current + "\n\n" + usage)
    if text == CLEAR:
        community_store.update_community_settings(ctx.db, community.id, welcome=None)
        return Text(text=t._("Newcomers get my own welcome again:") + "\n" + default_welcome(ctx.ct, community, sample))
    try:
        welcome = texts.check(text, limit=texts.MAX_WELCOME, placeholders=texts.PLACEHOLDERS)
    except texts.TextProblem as problem:
        raise HandlerError(_problem(t, problem)) from None
    community_store.update_community_settings(ctx.db, community.id, welcome=welcome)
    preview = texts.fill(welcome, name=sample, community=community.name)
    return Text(text=t._("Saved. Newcomers will read, for example:") + "\n" + preview)


def on_join(ctx: Context, event: Event) -> HandlerResult:
    """A newcomer in the group reads the rules right after the welcome."""
    if ctx.community is None or not ctx.in_group:
        return None
    found = rules_text(ctx.ct, ctx.community)
    return Text(text=found) if found else None


# --- the ask budget ------------------------------------------------------------------------------


def cmd_askbudget(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    t = ctx.t
    wanted = cmd.args.strip()
    if not wanted:
        return Text(
            text=t.n_(
                "In {community} nobody is asked to take part (a poll, a survey, a tasting) more than {n} time in seven days. /askbudget COUNT changes it.",
                "In {community} nobody is asked to take part (a poll, a survey, a tasting) more than {n} times in seven days. /askbudget COUNT changes it.",
                asks.weekly_budget(community),
                community=community.name,
            )
        )
    budget = whole_number(wanted)
    if budget is None or not MIN_BUDGET <= budget <= MAX_BUDGET:
        raise HandlerError(t._("Please give a number of asks a week from {low} to {high}, for example /askbudget 5.", low=MIN_BUDGET, high=MAX_BUDGET))
    community_store.update_community_settings(ctx.db, community.id, ask_budget=budget)
    return Text(
        text=t.n_(
            "From now on nobody in {community} is asked more than {n} time in seven days.",
            "From now on nobody in {community} is asked more than {n} times in seven days.",
            int(wanted),
            community=community.name,
        )
    )


# --- the weekly digest -------------------------------------------------------------------------


def digest_text(ctx: Effects, t: Translator, digest: Digest) -> str:
    community, tz = digest.community, digest.community.tz
    lines = [
        "📬 "
        + t._(
            "Weekly digest of {community}, {start} – {end}",
            community=community.name,
            start=t.date(digest.start, tz),
            end=t.date(digest.end, tz),
        ),
        "👥 "
        + t.n_("{n} member", "{n} members", digest.members)
        + " · "
        + t.n_("{n} new", "{n} new", len(digest.new_members))
        + " · "
        + t.n_("{n} left", "{n} left", digest.left),
        "🙋 "
        + t.n_("{n} active this week", "{n} active this week", digest.active)
        + " ("
        + t.n_("{n} returning", "{n} returning", digest.returning)
        + ")",
    ]
    if digest.new_members:
        shown = ", ".join(digest.new_members[: digests.NAMES_SHOWN])
        more = len(digest.new_members) - digests.NAMES_SHOWN
        if more > 0:
            shown += " " + t.n_("and {n} more", "and {n} more", more)
        lines.append("🆕 " + t._("New: {names}", names=shown))
    if digest.polls:
        lines.append("📊 " + t._("Polls this week (answer rate: voters out of members):"))
        for poll in digest.polls:
            state = t._("open, closes {when}", when=t.datetime(poll.closes_at, tz)) if poll.is_open and poll.closes_at else (t._("open") if poll.is_open else t._("closed"))
            rate = t._("{voters} of {members} answered ({share})", voters=poll.voters, members=digest.members, share=t.percent(digest.answer_rate(poll)))
            lines.append(f"  #{poll.number} {poll.question} — {rate} · {state}")
    if digest.median_answer is not None:
        lines.append(
            "⏱ "
            + t._("Median time to answer: {duration}", duration=t.duration(digest.median_answer))
            + " ("
            + t.n_("{n} vote this week", "{n} votes this week", digest.votes)
            + ")"
        )
    extra = section_lines(ctx, t, community, digest.start, digest.end)
    if digest.quiet and not extra:
        lines.append(t._("A quiet week: no polls and no new members."))
    return "\n".join(lines + extra)


def section_lines(ctx: Effects, t: Translator, community: Community, start: datetime, end: datetime) -> list[str]:
    return [line for section in _SECTIONS.values() for line in section(ctx, t, community, start, end)]


def digest_message(ctx: Effects, t: Translator, digest: Digest) -> Choices:
    """The digest as sent every week, with a button that stops it."""
    return Choices(
        text=digest_text(ctx, t, digest),
        options=(Option(t._("Stop the weekly digest"), f"dg:{digest.community.id}:off"),),
    )


def digest_recipients(ctx: Effects, community: Community) -> list[Member]:
    """The organisers the bot knows and those who asked for it, minus those who said no; only
    current members of the community."""
    chosen = digests.choices(ctx.db, community.id)
    ids = {member.id for member in ctx.known_organisers(community)} | {member_id for member_id, wanted in chosen.items() if wanted}
    ids -= {member_id for member_id, wanted in chosen.items() if not wanted}
    found = (community_store.get_member(ctx.db, member_id) for member_id in sorted(ids))
    return [m for m in found if m is not None and community_store.role_of(ctx.db, community.id, m.id) is not None]


def job_plan(ctx: JobContext, job: Job) -> None:
    """Book each community's digest at the end of its week (once: the key names the week)."""
    for community in community_store.list_communities(ctx.db):
        due = digests.digest_due_after(community.tz, job.due_at)
        key = f"{DIGEST_JOB}:{community.id}:{iso(due)}"
        if one(ctx.db, "SELECT 1 FROM jobs WHERE dedupe_key = ?", [key]) is None:
            ctx.schedule(DIGEST_JOB, due, {"community_id": community.id, "end": iso(due)}, dedupe_key=key, community_id=community.id)


def job_digest(ctx: JobContext, job: Job) -> None:
    community = community_store.get_community(ctx.db, int(job.payload["community_id"]))
    if community is None:
        return
    end = from_iso(str(job.payload["end"]))
    digest = digests.weekly(ctx.db, community, end - WEEK, end)
    if digest.quiet and not section_lines(ctx, ctx.community_t(community), community, digest.start, end):
        return
    for member in digest_recipients(ctx, community):
        ctx.send_to_member(
            member,
            lambda t: digest_message(ctx, t, digest),
            community=community,
            purpose="digest",
            dedupe_key=f"{DIGEST_JOB}:{community.id}:{job.payload['end']}:{member.id}",
        )


def _stop_text(t: Translator, community: Community) -> str:
    return t._("You will no longer get the weekly digest of {community}. /digest on brings it back.", community=community.name)


def on_digest_choice(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    """The digest's own button: whoever got it may stop it, even someone who no longer organises."""
    ident = whole_number(parts[0]) if len(parts) == 2 and parts[1] == "off" else None
    community = community_store.get_community(ctx.db, ident) if ident is not None else None
    if community is None:
        return Ack(text=ctx.t._("This button no longer works."))
    digests.set_choice(ctx.db, community.id, ctx.member.id, False, now=ctx.now)
    return Ack(text=_stop_text(ctx.t, community))


def cmd_digest(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    t = ctx.t
    wanted = cmd.args.strip().lower()
    if wanted == "off":
        digests.set_choice(ctx.db, community.id, ctx.member.id, False, now=ctx.now)
        return Text(text=_stop_text(t, community))
    if wanted == "on":
        digests.set_choice(ctx.db, community.id, ctx.member.id, True, now=ctx.now)
        return Text(text=t._("You will get the digest of {community} privately every Monday morning.", community=community.name))
    if wanted:
        raise HandlerError(t._("Send /digest for the last seven days, /digest on to get it every week, or /digest off to stop it."))
    here = ctx.ct if ctx.in_group else t
    until = ctx.now + timedelta(seconds=1)  # up to now, this very message included
    return Text(text=digest_text(ctx, here, digests.weekly(ctx.db, community, until - WEEK, until)))


def register(router: Router) -> None:
    router.command("rules", help=N_("The community's rules"))(cmd_rules)
    router.command(
        "setrules", help=N_("Write the community's rules (- removes them)"), usage="TEXT", organiser_only=True, section="organisers"
    )(cmd_setrules)
    router.command(
        "setwelcome",
        help=N_("Write the welcome for newcomers; {name} is the newcomer (- for mine)"),
        usage="TEXT",
        organiser_only=True,
        section="organisers",
    )(cmd_setwelcome)
    router.command(
        "digest",
        help=N_("The last seven days in numbers; on/off: get them privately every Monday"),
        usage="[on|off]",
        organiser_only=True,
        section="organisers",
    )(cmd_digest)
    router.choice("dg")(on_digest_choice)
    router.command(
        "askbudget",
        help=N_("How often a member may be asked to take part in a week; COUNT changes it"),
        usage="[COUNT]",
        organiser_only=True,
        section="organisers",
    )(cmd_askbudget)
    router.on_join(on_join)
    router.job(PLAN_JOB, repeat=digests.plan_due_after)(job_plan)
    router.job(DIGEST_JOB)(job_digest)
