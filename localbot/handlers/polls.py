"""Quick polls in the chat: /poll, voting by button or number, /results, /close, /polls, deadlines.

The group message of a poll carries the reply key ``poll:<id>`` in every chat, so a vote can edit
it in place where the messenger allows (coalesced in the outbox to one edit every few seconds),
while the voter gets an immediate personal confirmation. Closing, by /close or by the deadline job,
posts the final result back to every chat of the community, each in its own language.
"""

from __future__ import annotations

from datetime import timedelta

import sqlite_utils

from localbot.community import store as community_store
from localbot.community.model import Community
from localbot.events import ChoicePicked, Command
from localbot.handlers import conversation as conv
from localbot.handlers import reports
from localbot.handlers.asking import announce, group_members_to_ask
from localbot.handlers.context import Context, Effects, HandlerError, JobContext
from localbot.handlers.conversation import (
    Answer,
    Conversation,
    Expect,
    Finish,
    Flow,
    Goto,
    Retry,
    Step,
)
from localbot.handlers.router import HandlerResult, Router, render_usage
from localbot.i18n import N_, Translator
from localbot.polls import store
from localbot.polls.charts import poll_chart
from localbot.polls.model import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    Poll,
    PollError,
    PollSpec,
    Tally,
    check_option,
    check_question,
)
from localbot.polls.parse import parse_poll_args
from localbot.replies import Ack, Choices, Edit, Option, Picture, Reply, Text
from localbot.scheduler import Job
from localbot.text import whole_number
from localbot.when import WhenError, parse_deadline

LIVE_EDIT_INTERVAL = timedelta(seconds=3)
BAR_WIDTH = 10
USAGE = "QUESTION? | OPTION | OPTION"


# --- texts -------------------------------------------------------------------------------------


def poll_error(t: Translator, error: PollError) -> str:
    d = error.details
    match error.code:
        case "no_question":
            return t._("Please write a question, then the options, separated by |. For example: /poll Where do we meet? | Kiosk | Library")
        case "question_too_long":
            return t._("The question is too long ({length} characters). Please keep it under {limit}.", **d)
        case "empty_option" if "position" in d:
            return t._("Option {position} is empty. Write something between each pair of | signs.", **d)
        case "empty_option":
            return t._("That option is empty. Please write some text.")
        case "option_too_long":
            return t._("The option “{option}” is too long. Please keep each option under {limit} characters.", **d)
        case "duplicate_option":
            return t._("“{option}” is listed twice. Each option must be different.", **d)
        case "too_few_options":
            return t._("A poll needs at least two options, separated by |. For example: /poll Where do we meet? | Kiosk | Library")
        case "too_many_options":
            return t._("A poll can have at most {maximum} options; this one has {count}.", **d)
        case "unknown_flag":
            return t._("I don't know the option {flag}. You can use --multi, --anon and --until.", **d)
        case "until_missing":
            return t._("--until needs a time, for example --until 2h, --until 3d or --until friday 18:00.")
        case "bad_until":
            return deadline_error(t, d["reason"], d["text"])
    return t._("That poll is not quite right. Send /help to see how to write one.")


def deadline_error(t: Translator, reason: str, text: str) -> str:
    if reason == "past":
        return t._("The deadline “{text}” is already in the past.", text=text)
    if reason == "too_far":
        return t._("The deadline “{text}” is more than a year away.", text=text)
    return t._("I couldn't read the deadline “{text}”. Try 2h, 3d, friday 18:00 or 2026-12-24 18:00.", text=text)


def describe(t: Translator, poll: Poll | PollSpec, community: Community) -> str:
    kind = t._("Multiple choice: pick all that apply") if poll.multi else t._("Single choice")
    parts = [kind, t._("anonymous") if poll.anonymous else t._("names shown")]
    if getattr(poll, "status", "open") == "closed":
        parts.append(t._("closed"))
    elif poll.closes_at is not None:
        parts.append(t._("closes {when}", when=t.datetime(poll.closes_at, community.tz)))
    return " · ".join(parts)


def _bar(share: float) -> str:
    filled = round(share * BAR_WIDTH)
    return "▰" * filled + "▱" * (BAR_WIDTH - filled)


def tally_lines(t: Translator, tally: Tally, *, names: bool) -> list[str]:
    lines = []
    for option in tally.poll.options:
        count = tally.counts.get(option.position, 0)
        lines.append(f"{option.label}\n{_bar(tally.share(option.position))} {count} · {t.percent(tally.share(option.position))}")
        voters = tally.names.get(option.position, []) if names else []
        if voters:
            shown = ", ".join(voters[: store.NAMES_SHOWN])
            more = len(voters) - store.NAMES_SHOWN
            lines.append("   " + (shown + " " + t.n_("and {n} more", "and {n} more", more) if more > 0 else shown))
    lines.append(t.n_("{n} person voted.", "{n} people voted.", tally.voters) if tally.voters else t._("Nobody has voted yet."))
    return lines


def poll_message(t: Translator, poll: Poll, community: Community, tally: Tally | None = None) -> str:
    """The poll's own message in a chat; with a tally it shows live counts (edited in place)."""
    title = t._("Poll #{number}", number=poll.number)
    lines = [f"📊 {title}: {poll.question}", describe(t, poll, community)]
    if tally is not None:
        lines += ["", *tally_lines(t, tally, names=False)]
    return "\n".join(lines)


def results_text(t: Translator, tally: Tally, community: Community) -> str:
    poll = tally.poll
    state = t._("open") if poll.is_open else t._("closed")
    title = t._("Results of poll #{number}", number=poll.number)
    header = f"📊 {title} ({state}): {poll.question}"
    return "\n".join([header, *tally_lines(t, tally, names=not poll.anonymous)])


def closing_text(t: Translator, tally: Tally, community: Community) -> str:
    poll = tally.poll
    title = t._("Poll #{number} is closed", number=poll.number)
    header = f"🏁 {title}: {poll.question}"
    leaders = tally.leaders()
    if not leaders:
        verdict = t._("Nobody voted.")
    elif len(leaders) == 1:
        verdict = t._("Most chosen: {option} ({share}).", option=leaders[0].label, share=t.percent(tally.share(leaders[0].position)))
    else:
        verdict = t._("A tie between {options}.", options=", ".join(o.label for o in leaders))
    return "\n".join([header, verdict, "", *tally_lines(t, tally, names=not poll.anonymous)])


def poll_view(db: sqlite_utils.Database, ref: str, t: Translator) -> Edit | None:
    """The poll's message as it stands now: live counts, and buttons while it is open."""
    poll = store.get_poll(db, int(ref))
    community = community_store.get_community(db, poll.community_id) if poll else None
    if poll is None or community is None:
        return None
    tally = store.tally(db, poll, with_names=False)
    return Edit(key=poll.key, text=poll_message(t, poll, community, tally), options=vote_options(poll) if poll.is_open else ())


def vote_options(poll: Poll) -> tuple[Option, ...]:
    return tuple(Option(o.label, f"v:{poll.id}:{o.position}") for o in poll.options)


def poll_choices(t: Translator, poll: Poll, community: Community) -> Choices:
    return Choices(text=poll_message(t, poll, community), options=vote_options(poll), key=poll.key)


# --- creating ----------------------------------------------------------------------------------


def publish(ctx: Context, community: Community, spec: PollSpec) -> list[Reply]:
    """Create the poll, show it here, announce it in every other chat and arm its deadline.

    A poll is an ask: it is refused if it would ask a group member more often than the community's
    weekly budget, and members reached one to one who had their asks are not messaged."""
    in_groups = group_members_to_ask(ctx, community)
    poll = store.create_poll(
        ctx.db, community_id=community.id, spec=spec, created_by=ctx.member.id, origin_chat_ref=ctx.chat_ref, now=ctx.now
    )
    if poll.closes_at is not None:
        ctx.schedule("poll.close", poll.closes_at, {"poll_id": poll.id}, dedupe_key=f"poll.close:{poll.id}", community_id=community.id)
    here_t = ctx.ct if ctx.in_group else ctx.t
    held_back = announce(
        ctx, community, lambda t: poll_choices(t, poll, community), asked_in_groups=in_groups,
        kind="poll", ref=f"poll:{poll.id}", dedupe_key=f"poll.new:{poll.id}", purpose="poll",
    )
    replies: list[Reply] = [poll_choices(here_t, poll, community)]
    if held_back:
        replies.append(
            Text(
                text=ctx.t.n_(
                    "{n} member who talks to me one to one has had this week's asks already, so I did not message them; they see the poll with /polls.",
                    "{n} members who talk to me one to one have had this week's asks already, so I did not message them; they see the poll with /polls.",
                    held_back,
                )
            )
        )
    return replies


def cmd_poll(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    if not cmd.args.strip():
        return start_wizard(ctx, community)
    try:
        spec = parse_poll_args(cmd.args, now=ctx.now, tz=community.tz)
    except PollError as error:
        return Text(text=poll_error(ctx.t, error) + "\n" + ctx.t._("Usage: /poll {usage}", usage=render_usage(ctx.t, USAGE)))
    return publish(ctx, community, spec)


# --- voting ------------------------------------------------------------------------------------


def _find_poll(ctx: Context, parts: list[str]) -> tuple[Poll, int] | None:
    numbers = [whole_number(p) for p in parts]
    if len(numbers) != 2 or numbers[0] is None or numbers[1] is None:
        return None
    poll = store.get_poll(ctx.db, numbers[0])
    if poll is None:
        return None
    return poll, numbers[1]


def on_vote(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    t = ctx.t
    found = _find_poll(ctx, parts)
    if found is None:
        return Ack(text=t._("I can't find that poll any more."))
    poll, position = found
    option = poll.option_at(position)
    if option is None:
        return Ack(text=t._("That option is not part of poll #{number}.", number=poll.number))
    community = ctx.community if ctx.community and ctx.community.id == poll.community_id else community_store.get_community(ctx.db, poll.community_id)
    assert community is not None
    if ctx.community is None or ctx.community.id != community.id:
        # A roster member who left, or a button forwarded out of its community.
        if community_store.role_of(ctx.db, community.id, ctx.member.id) is None:
            return Ack(text=t._("This poll belongs to another community."))
    if not poll.is_open:
        return Ack(text=t._("Poll #{number} is closed; votes are no longer counted.", number=poll.number))
    result = store.cast_vote(ctx.db, poll, position, member_id=ctx.member.id, channel=event.messenger, secret=ctx.core.secret, now=ctx.now)
    if result.outcome != "unchanged":
        ctx.live_update(community, key=poll.key, view="poll", ref=str(poll.id), min_interval=LIVE_EDIT_INTERVAL)
    return Ack(text=vote_ack(t, poll, option.label, result.outcome, result.selection))


def vote_ack(t: Translator, poll: Poll, label: str, outcome: str, selection: tuple[int, ...]) -> str:
    chosen = ", ".join(o.label for o in poll.options if o.position in selection)
    if poll.multi:
        if outcome == "removed":
            if not chosen:
                return t._("Removed {option}. You have no choices in this poll now.", option=label)
            return t._("Removed {option}. Your choices: {choices}", option=label, choices=chosen)
        return t._("Added {option}. Your choices: {choices}", option=label, choices=chosen)
    if outcome == "unchanged":
        return t._("You already voted for {option}.", option=label)
    if outcome == "changed":
        return t._("Changed your vote to {option}.", option=label)
    return t._("Your vote: {option}", option=label)


# --- results and closing -----------------------------------------------------------------------


def _poll_from_args(ctx: Context, community: Community, args: str, *, open_only: bool) -> Poll:
    t = ctx.t
    text = args.strip().lstrip("#")
    if text:
        wanted = whole_number(text)
        if wanted is None:
            raise HandlerError(t._("Please give a poll number, for example 3."))
        poll = store.poll_by_number(ctx.db, community.id, wanted)
        if poll is None:
            raise HandlerError(t._("There is no poll #{number}.", number=wanted))
        return poll
    poll = store.latest_poll(ctx.db, community.id, open_only=open_only)
    if poll is None:
        if open_only:
            raise HandlerError(t._("There is no open poll to close."))
        raise HandlerError(t._("There are no polls yet. Organisers start one with /poll."))
    return poll


def chart(t: Translator, tally: Tally) -> list[Reply]:
    """The result as a bar chart, when anyone has voted."""
    png = poll_chart(t, tally)
    return [Picture(data=png, filename=f"poll-{tally.poll.number}.png")] if png else []


def cmd_results(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    poll = _poll_from_args(ctx, community, cmd.args, open_only=False)
    t = ctx.ct if ctx.in_group else ctx.t
    tally = store.tally(ctx.db, poll)
    return [Text(text=results_text(t, tally, community)), *chart(t, tally)]


def close(ctx: Effects, poll: Poll, community: Community, *, closed_by: int | None, exclude_chat: str | None) -> Tally | None:
    """Close and report back everywhere; None if someone closed it first."""
    if not store.close_poll(ctx.db, poll, closed_by=closed_by, now=ctx.now):
        return None
    ctx.cancel_job(f"poll.close:{poll.id}")
    closed = store.get_poll(ctx.db, poll.id)
    assert closed is not None
    tally = store.tally(ctx.db, closed)
    ctx.live_update(community, key=poll.key, view="poll", ref=str(poll.id))
    ctx.broadcast(
        community,
        lambda t: [Text(text=closing_text(t, tally, community))],
        exclude_chat=exclude_chat,
        purpose="results",
        dedupe_key=f"poll.closed:{poll.id}",
    )
    # The chart goes to group chats, where one picture serves everyone; members one to one have the
    # text's bars and can ask /results for the picture.
    for recipient in ctx.recipients(community, exclude_chat=exclude_chat):
        if recipient.member is None:
            replies = chart(recipient.t, tally)
            ctx.send(recipient.chat_ref, *replies, community_id=community.id, purpose="results", dedupe_key=f"poll.chart:{poll.id}")
    return tally


def cmd_close(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    poll = _poll_from_args(ctx, community, cmd.args, open_only=True)
    if not poll.is_open:
        return Text(text=ctx.t._("Poll #{number} is already closed.", number=poll.number))
    tally = close(ctx, poll, community, closed_by=ctx.member.id, exclude_chat=ctx.chat_ref)
    if tally is None:
        return Text(text=ctx.t._("Poll #{number} is already closed.", number=poll.number))
    t = ctx.ct if ctx.in_group else ctx.t
    return [Text(text=closing_text(t, tally, community)), *chart(t, tally)]


def job_close(ctx: JobContext, job: Job) -> None:
    poll = store.get_poll(ctx.db, int(job.payload["poll_id"]))
    if poll is None or not poll.is_open:
        return
    community = community_store.get_community(ctx.db, poll.community_id)
    if community is not None:
        close(ctx, poll, community, closed_by=None, exclude_chat=None)


def cmd_polls(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    t = ctx.ct if ctx.in_group else ctx.t
    polls = store.open_polls(ctx.db, community.id)
    if not polls:
        return Text(text=t._("There are no open polls."))
    lines = [t._("Open polls:")]
    for poll in polls:
        tally = store.tally(ctx.db, poll, with_names=False)
        line = f"#{poll.number} {poll.question} — " + t.n_("{n} person voted", "{n} people voted", tally.voters)
        if poll.closes_at:
            line += " · " + t._("closes {when}", when=t.datetime(poll.closes_at, community.tz))
        lines.append(line)
    lines.append(t._("See one with /results NUMBER."))
    return Text(text="\n".join(lines))


# --- the guided poll (/poll with no arguments) ---------------------------------------------------


def start_wizard(ctx: Context, community: Community) -> list[Reply]:
    return conv.start_flow(ctx, "poll.new", {"community_id": community.id, "options": []}, private=True)


def _wizard_community(ctx: Context, c: Conversation) -> Community:
    community = community_store.get_community(ctx.db, int(c.data["community_id"]))
    if community is None:
        raise HandlerError(ctx.t._("That community no longer exists."))
    return community


def _ask_question(ctx: Context, c: Conversation) -> HandlerResult:
    return Text(text=ctx.t._("Let's make a poll. What is the question? (Send /cancel to stop.)"))


def _take_question(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    if not a.text:
        return Retry(ctx.t._("Please write the question as text."))
    try:
        c.data["question"] = check_question(a.text)
    except PollError as error:
        return Retry(poll_error(ctx.t, error))
    return Goto("options")


def _ask_options(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    options: list[str] = c.data["options"]
    if not options:
        return Text(text=t._("Now send the first option. One message per option, or several at once separated by |."))
    listed = "\n".join(f"• {o}" for o in options)
    if len(options) < MIN_OPTIONS:
        return Text(text=t._("Options so far:") + f"\n{listed}\n" + t._("Send the next option."))
    done = c.option("✅ " + t._("Done"), "done")
    if ctx.buttons:
        hint = t._("Send another option, or tap Done.")
    else:  # numbered choices: "1" means Done here
        hint = t._("Send another option, or reply {number} for Done.", number=1)
    return Choices(text=t._("Options so far:") + f"\n{listed}\n" + hint, options=(done,))


def _take_options(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    options: list[str] = c.data["options"]
    if a.choice == "done":
        return Goto("kind") if len(options) >= MIN_OPTIONS else Retry(t._("A poll needs at least two options."))
    if not a.text:
        return Retry(t._("Please send the option as text."))
    for part in a.text.split("|"):
        if len(options) >= MAX_OPTIONS:
            return Goto("kind", (Text(text=t._("That makes {maximum} options, the most a poll can have.", maximum=MAX_OPTIONS)),))
        try:
            options.append(check_option(part, options))
        except PollError as error:
            return Retry(poll_error(t, error))
    if len(options) >= MAX_OPTIONS:
        return Goto("kind", (Text(text=t._("That makes {maximum} options, the most a poll can have.", maximum=MAX_OPTIONS)),))
    return Goto("options")


def _two_way(question: str, first: tuple[str, str], second: tuple[str, str], field: str, true_value: str, then: str) -> Step:
    """A step that asks a question with two buttons and stores whether the first-named value won."""

    def ask(ctx: Context, c: Conversation) -> HandlerResult:
        t = ctx.t
        return Choices(text=t._(question), options=(c.option(t._(first[0]), first[1]), c.option(t._(second[0]), second[1])))

    def take(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
        if a.choice not in (first[1], second[1]):
            return conv.pick_one(ctx)
        c.data[field] = a.choice == true_value
        return Goto(then)

    return Step(Expect.CHOICE, ask, take)


KIND_STEP = _two_way(
    N_("Can people pick one option or several?"), (N_("One option"), "single"), (N_("Several options"), "multi"), "multi", "multi", "anonymous"
)
ANONYMOUS_STEP = _two_way(
    N_("Should the results show who voted for what?"), (N_("Show names"), "named"), (N_("Anonymous"), "anon"), "anonymous", "anon", "deadline"
)


def _ask_deadline(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    return Choices(
        text=t._("When should the poll close? Pick one, or type a time such as friday 18:00."),
        options=(
            c.option(t._("No deadline"), "none"),
            c.option(t._("In 2 hours"), "2h"),
            c.option(t._("In 1 day"), "1d"),
            c.option(t._("In 3 days"), "3d"),
        ),
        columns=2,
    )


def _take_deadline(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    community = _wizard_community(ctx, c)
    if a.choice == "none":
        c.data["closes_at"] = None
        return Goto("confirm")
    text = a.choice or a.text
    if not text:
        if ctx.buttons:
            return Retry(ctx.t._("Please pick one of the buttons or type a time."))
        return Retry(ctx.t._("Please reply with one of the numbers or type a time."))
    try:
        c.data["closes_at"] = parse_deadline(text, now=ctx.now, tz=community.tz).isoformat()
    except WhenError as error:
        return Retry(deadline_error(ctx.t, error.code, text))
    return Goto("confirm")


def _wizard_spec(ctx: Context, c: Conversation) -> PollSpec:
    from datetime import datetime

    closes = c.data.get("closes_at")
    return PollSpec.build(
        c.data["question"],
        c.data["options"],
        multi=bool(c.data.get("multi")),
        anonymous=bool(c.data.get("anonymous")),
        closes_at=datetime.fromisoformat(closes) if closes else None,
    )


def _ask_confirm(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    community = _wizard_community(ctx, c)
    spec = _wizard_spec(ctx, c)
    preview = "\n".join([f"📊 {spec.question}", describe(t, spec, community), *(f"• {o}" for o in spec.options)])
    return Choices(
        text=t._("Here is your poll for {community}:", community=community.name) + "\n\n" + preview,
        options=(c.option(t._("Post it"), "post"), c.option(t._("Cancel"), "cancel")),
    )


def _take_confirm(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    if a.choice == "cancel":
        return Finish((Text(text=t._("Cancelled. Nothing was posted.")),))
    if a.choice != "post":
        return conv.pick_one(ctx)
    community = _wizard_community(ctx, c)
    if not ctx.is_organiser(community):
        return Finish((Text(text=t._("Only organisers can {what}.", what=t._("create polls"))),))
    spec = _wizard_spec(ctx, c)
    if spec.closes_at is not None and spec.closes_at <= ctx.now:
        c.data["closes_at"] = None
        return Goto("deadline", (Text(text=t._("That deadline has passed in the meantime. Please choose another.")),))
    replies = publish(ctx, community, spec)
    return Finish((Text(text=t._("Posted to {community}. You can vote here too:", community=community.name)), *replies))


POLL_WIZARD = Flow(
    name="poll.new",
    first="question",
    steps={
        "question": Step(Expect.TEXT, _ask_question, _take_question),
        "options": Step(Expect.TEXT | Expect.CHOICE, _ask_options, _take_options),
        "kind": KIND_STEP,
        "anonymous": ANONYMOUS_STEP,
        "deadline": Step(Expect.TEXT | Expect.CHOICE, _ask_deadline, _take_deadline),
        "confirm": Step(Expect.CHOICE, _ask_confirm, _take_confirm),
    },
)


# --- in /report ----------------------------------------------------------------------------------


REPORT_WORDS = frozenset({"poll", "polls", "głosowanie", "głosowania", "polling"})


def _report_items(ctx: Effects, community: Community) -> list[reports.ReportItem]:
    return [
        reports.ReportItem(
            "poll", str(poll.id), f"📊 #{poll.number} {poll.question}{'' if poll.is_open else ' 🏁'}", frozenset({str(poll.number)}), poll.created_at
        )
        for poll in store.polls_of(ctx.db, community.id)
    ]


def _report(ctx: Effects, request: reports.ReportRequest, key: str) -> list[Reply]:
    """A poll's report is its results with the chart, as /results shows them."""
    poll = store.get_poll(ctx.db, int(key))
    if poll is None or poll.community_id != request.community.id:
        raise HandlerError(request.t._("I can't find that poll any more."))
    tally = store.tally(ctx.db, poll)
    return [Text(text=results_text(request.t, tally, request.community)), *chart(request.t, tally)]


def register(router: Router) -> None:
    router.command(
        "poll",
        help=N_("Start a poll (no text: step by step). Flags: --multi, --anon, --until 2h"),
        usage=USAGE,
        organiser_only=True,
        section="polls",
    )(cmd_poll)
    router.command("results", help=N_("Show the results of the latest poll, or of poll NUMBER"), usage="[NUMBER]", section="polls")(
        cmd_results
    )
    router.command("close", help=N_("Close the latest open poll, or poll NUMBER"), usage="[NUMBER]", organiser_only=True, section="polls")(
        cmd_close
    )
    router.command("polls", help=N_("List the open polls"), section="polls")(cmd_polls)
    router.choice("v")(on_vote)
    router.flow(POLL_WIZARD)
    router.job("poll.close")(job_close)
    router.view("poll")(poll_view)
    reports.add_provider(reports.ReportProvider("poll", REPORT_WORDS, _report_items, _report))
