"""Habit surveys and diaries in the chat: /survey, /had, answering, diary prompts, closing, reports.

An organiser starts a study from its file (``/survey start coffee-diary``); the announcement goes
to every chat of the community with a button. A one-off survey is answered in the member's private
chat, one question at a time, each answer saved as it comes; ``/cancel`` or simply stopping pauses
it, and ``/survey`` picks it up where it stands. A diary member states their waking window and
gets N prompts a day at random moments inside it (scheduled jobs, one per prompt, planned when
they join), each prompt a short questionnaire that expires; ``/had`` reports a moment at any
time. Closing, by ``/survey stop`` or the study's deadline, cancels what was still planned and
posts a short summary of what the group said to every chat.

The questionnaire is one generic interpreter of the study's questions. It is registered as four
flows that differ only in their first step, one per *input style* (pick from options, type, place,
photo), because what the core accepts as an answer (a bare number picking from the menu, a
location pin, a photo) depends on the current question: a bare "2" must pick option 2 of a choice
question but mean the number 2 for "how many cups?".
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from localbot import scheduler
from localbot.community import store as community_store
from localbot.community.model import Community, Member
from localbot.events import ChoicePicked, Command, MediaRef
from localbot.handlers import care, reports
from localbot.handlers import conversation as conv
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
from localbot.handlers.router import HandlerResult, Router
from localbot.i18n import N_, Translator
from localbot.replies import Ack, Choices, Option, Picture, Reply, Text
from localbot.scheduler import Job
from localbot.settings import config_path
from localbot.surveys import answers, schedule, store
from localbot.surveys import report as habit_report
from localbot.surveys.answers import DONE, SKIP, AnswerError, Given
from localbot.surveys.charts import breakdowns_png, compliance_png, heatmap_png
from localbot.surveys.definition import NAME, StudyError, load
from localbot.surveys.model import Kind, Question, Study, Window
from localbot.surveys.schedule import WindowError
from localbot.text import whole_number
from localbot.when import WhenError, parse_deadline
from localbot.zones import parse_zone

#: The questionnaire's flows are ``survey.q.<style>``; the prefix tells them from other flows.
FLOW_PREFIX = "survey.q."
#: Input styles: what the core routes to the questionnaire for the current question.
STYLES: dict[str, Expect] = {
    "pick": Expect.CHOICE | Expect.TEXT,
    "typed": Expect.TEXT,
    "place": Expect.CHOICE | Expect.TEXT | Expect.LOCATION,
    "photo": Expect.PHOTO | Expect.TEXT | Expect.CHOICE,
}
JOIN_FLOW = "survey.join"
PROBLEMS_SHOWN = 5


def study_dir() -> Path:
    """Study files live in ``surveys/`` next to the settings file: ``config/surveys`` by default."""
    return config_path().parent / "surveys"


def style_of(question: Question) -> str:
    if question.kind in (Kind.SINGLE, Kind.MULTIPLE, Kind.WEEKDAY):
        return "pick"
    if question.kind is Kind.PLACE:
        return "place"
    if question.kind is Kind.PHOTO:
        return "photo"
    return "typed"


def _tz(participant: store.Participant) -> ZoneInfo:
    return ZoneInfo(participant.timezone)


def _buttons(ctx: Effects, member: Member) -> bool:
    return ctx.core.capabilities(member.messenger).buttons


def _community_of(ctx: Effects, run: store.Run) -> Community:
    community = community_store.get_community(ctx.db, run.community_id)
    if community is None:
        raise HandlerError(ctx.core.translator_for(None, None)._("That community no longer exists."))
    return community


# --- texts ---------------------------------------------------------------------------------------


def answer_error(t: Translator, error: AnswerError) -> str:
    d = error.details
    match error.code:
        case "required":
            return t._("This question needs an answer.")
        case "pick_one":
            return t._("Please pick one of the options (1 to {count}).", count=d["count"])
        case "pick_several":
            return t._("Please pick one or more of the options, for example 1, 3.")
        case "unknown_pick":
            return t._("“{pick}” is not one of the options. Use their numbers, for example 1, 3.", pick=d["pick"])
        case "pick_count" if d["minimum"] == d["maximum"]:
            return t.n_("Please pick exactly {n} option.", "Please pick exactly {n} options.", d["minimum"])
        case "pick_count":
            return t._("Please pick from {minimum} to {maximum} options.", minimum=d["minimum"], maximum=d["maximum"])
        case "not_on_scale":
            return t._("Please answer with a whole number from {minimum} to {maximum}.", minimum=d["minimum"], maximum=d["maximum"])
        case "not_a_number":
            return t._("Please answer with a number, for example 2 or 2.5.")
        case "not_whole":
            return t._("Please answer with a whole number.")
        case "out_of_range" if d["minimum"] is not None and d["maximum"] is not None:
            return t._("Please give a number from {minimum} to {maximum}.", minimum=t.number(d["minimum"], 2), maximum=t.number(d["maximum"], 2))
        case "out_of_range" if d["minimum"] is not None:
            return t._("Please give a number of at least {minimum}.", minimum=t.number(d["minimum"], 2))
        case "out_of_range":
            return t._("Please give a number of at most {maximum}.", maximum=t.number(d["maximum"], 2))
        case "not_a_time":
            return t._("I couldn't read that as a time of day. Try 8:30, 18:30 or 6pm.")
        case "need_photo":
            return t._("Please send a photo.")
        case "need_location":
            return t._("Please share your location (📎 → Location).")
        case "need_place":
            return t._("Please pick one of the options, or share your location.")
        case "need_text":
            return t._("Please answer in a few words.")
        case "too_long":
            return t._("That's {length} characters; please keep it under {limit}.", length=d["length"], limit=d["limit"])
    return t._("I couldn't use that answer. Please try again.")


def window_error(t: Translator, error: WindowError) -> str:
    d = error.details
    if error.code == "too_short":
        return t._(
            "A window of {length} is too short for {prompts} check-ins at least {gap} apart: it needs at least {needed}. "
            "Please send a longer window, for example 07:00-22:00.",
            length=t.duration(d["length"]),  # type: ignore[arg-type]
            prompts=d["prompts"],
            gap=t.duration(d["gap"]),  # type: ignore[arg-type]
            needed=t.duration(d["needed"]),  # type: ignore[arg-type]
        )
    if error.code == "empty":
        return t._("The window starts and ends at the same time. Send it like 07:00-22:00.")
    return t._("I couldn't read “{text}” as a waking window. Send it like 07:00-22:00.", text=d.get("text", ""))


def _hints(t: Translator, question: Question, *, buttons: bool, selection: list[str]) -> list[str]:
    """How to answer, where the question's own hint does not already say it."""
    lines: list[str] = []
    language = t.language
    if question.picks_several:
        if buttons:
            lines.append(t._("Tap all that apply, then Done."))
        else:
            lines.append(t._("Send the numbers of all that apply, for example 1, 3."))
        if selection:
            labels = dict(answers.options(question, language))
            lines.append(t._("Picked so far: {items}", items=", ".join(labels.get(v, v) for v in selection)))
    elif question.kind is Kind.SCALE and not buttons:
        lines += [label for _value, label in answers.options(question, language)]
        lines.append(t._("Reply with a number from {minimum} to {maximum}.", minimum=int(question.minimum or 0), maximum=int(question.maximum or 0)))
    elif question.kind is Kind.NUMBER and question.hint is None:
        low, high = question.minimum, question.maximum
        if low is not None and high is not None:
            lines.append(t._("Reply with a number from {minimum} to {maximum}.", minimum=t.number(low, 2), maximum=t.number(high, 2)))
        else:
            lines.append(t._("Reply with a number."))
    elif question.kind is Kind.TIME and question.hint is None:
        lines.append(t._("Reply with a time, for example 18:30."))
    elif question.kind is Kind.PLACE and question.location and question.hint is None:
        lines.append(t._("You can also share your location."))
    if not question.required and question.hint is None and (style_of(question) == "typed" and not buttons):
        lines.append(t._("Optional: send - to skip."))
    return lines


def _lead(t: Translator, study: Study, run: store.Run, entry: store.Entry, kind: str, tz: ZoneInfo) -> list[str]:
    language = t.language
    title = study.title.pick(language)
    if kind == "intro":
        lines = [f"📋 {title}"]
        if study.intro is not None:
            lines.append(study.intro.pick(language))
        lines.append(t._("Your answers are saved as you go. Send /cancel to pause, and /survey to continue later."))
        return lines
    if kind == "resume":
        return [t._("Welcome back to “{title}”. Let's continue where you stopped.", title=title)]
    if kind == "prompt" and study.diary is not None and entry.expires_at is not None:
        return [
            t._(
                "☕ {title}: check-in {slot} of {count} today, open until {time}.",
                title=title,
                slot=entry.slot or 1,
                count=study.diary.prompts_per_day,
                time=t.time(entry.expires_at, tz),
            )
        ]
    if kind == "self":
        return [t._("🙋 Noted: you just had one. A few quick questions about it:")]
    return []


def question_reply(
    t: Translator, study: Study, run: store.Run, entry: store.Entry, participant: store.Participant, c: Conversation, *, buttons: bool
) -> Reply:
    """The current question of a questionnaire, in ``t``'s language, with its buttons or numbers."""
    question = study.question(c.data["q"])
    language = t.language
    selection: list[str] = c.data.get("sel", [])
    lines = _lead(t, study, run, entry, c.data.get("lead", ""), _tz(participant))
    if lines:
        lines.append("")
    lines.append(question.text.pick(language))
    if question.hint is not None:
        lines.append(question.hint.pick(language))
    lines += _hints(t, question, buttons=buttons, selection=selection)
    style = style_of(question)
    position = study.questions.index(question)

    def button(label: str, value: str) -> Option:
        # The question's position goes into the payload, so a tap on an earlier question's button
        # (same conversation, maybe the same option value) is not taken as an answer to this one.
        return c.option(label, f"{position}.{value}")

    buttons_shown: list[Option] = []
    if style in ("pick", "place") or (question.kind is Kind.SCALE and buttons):
        for value, label in answers.options(question, language):
            buttons_shown.append(button(f"✓ {label}" if value in selection else label, value))
        if question.picks_several and buttons:
            buttons_shown.append(button("✅ " + t._("Done"), DONE))
    if not question.required and (style in ("pick", "place", "photo") or buttons):
        buttons_shown.append(button(t._("Skip"), SKIP))
    text = "\n".join(lines)
    if buttons_shown:
        columns = 2 if question.kind in (Kind.WEEKDAY, Kind.SCALE) else 1
        return Choices(text=text, options=tuple(buttons_shown), columns=columns, several=question.picks_several and not buttons)
    return Text(text=text)


# --- the questionnaire ----------------------------------------------------------------------------


def _loaded(ctx: Effects, c: Conversation) -> tuple[store.Run, store.Entry, store.Participant] | None:
    run = store.get_run(ctx.db, int(c.data.get("run", 0)))
    entry = store.get_entry(ctx.db, int(c.data.get("entry", 0)))
    participant = store.participant_by_id(ctx.db, entry.participant_id) if entry else None
    if run is None or entry is None or participant is None or participant.run_id != run.id:
        return None
    return run, entry, participant


def _ask(ctx: Context, c: Conversation) -> HandlerResult:
    loaded = _loaded(ctx, c)
    if loaded is None:
        return Text(text=ctx.t._("This survey no longer exists."))
    run, entry, participant = loaded
    return question_reply(ctx.t, run.study, run, entry, participant, c, buttons=_buttons(ctx, ctx.member))


def _photo_file(ctx: Context, run: store.Run, entry: store.Entry, question: Question, media: MediaRef) -> str:
    """Keep a shared photo next to the database; return the link the export shows."""
    data = ctx.media(media)
    suffix = Path(media.filename or "").suffix.lower() or {"image/png": ".png", "image/webp": ".webp"}.get(media.mime_type or "", ".jpg")
    folder = ctx.settings.media_path / "surveys" / f"run-{run.id}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"entry-{entry.id}-{question.id}{suffix}"
    path.write_bytes(data)
    base = Path(ctx.settings.database).resolve().parent
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return str(path.resolve())


def _take(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    loaded = _loaded(ctx, c)
    if loaded is None:
        return Finish((Text(text=t._("This survey no longer exists.")),))
    run, entry, participant = loaded
    if not run.is_open:
        return Finish((Text(text=t._("This survey has closed. Thank you: what you answered before is kept.")),))
    if participant.status == "left":
        return Finish((Text(text=t._("You have left this survey, so I am not taking answers for it.")),))
    study = run.study
    if not study.has(c.data.get("q")):
        return Finish((Text(text=t._("This survey no longer exists.")),))
    question = study.question(c.data["q"])
    c.data.pop("lead", None)
    choice = a.choice
    if choice is not None:
        position, _, choice = choice.partition(".")
        if position != str(study.questions.index(question)):
            if ctx.buttons:
                return Retry(t._("That button belongs to an earlier question. Here is the current one:"))
            # Where choices are numbered, a bare number still picks from the last list shown.
            return Retry(t._("That number picks from an earlier question's list. Here is the current one:"))
    notes: list[Reply] = []
    if entry.kind == "prompt" and entry.started_at is None and entry.expires_at is not None and entry.expired(ctx.now):
        notes.append(
            Text(
                text=t._(
                    "This check-in closed at {time}, so this answer won't count as on time. I've kept it, marked as late. Thank you all the same!",
                    time=t.time(entry.expires_at, _tz(participant)),
                )
            )
        )
    selection: list[str] = c.data.setdefault("sel", [])
    # With buttons a tap toggles one option of a multiple choice until Done; a number typed where
    # there are no buttons is a whole answer, like "1, 3".
    toggles = isinstance(a.event, ChoicePicked) and _buttons(ctx, ctx.member)
    try:
        if question.picks_several and toggles and choice not in (None, DONE, SKIP):
            picked = answers.one_of(question, Given(choice=choice))
            if picked in selection:
                selection.remove(picked)
            else:
                selection.append(picked)
            return Goto(c.step)
        value: Any
        if question.picks_several and choice == DONE:
            value = answers.check_picks(question, selection)
        else:
            given = Given(text=a.text if a.photo is None else None, choice=choice, location=a.location, photo=a.photo is not None)
            value = answers.parse(question, given, now_local=ctx.now.astimezone(_tz(participant)))
    except AnswerError as error:
        return Retry(answer_error(t, error))
    if question.kind is Kind.PHOTO and value is not None and a.photo is not None:
        value = {"file": _photo_file(ctx, run, entry, question, a.photo)}
    store.save_answer(ctx.db, entry, question.id, value, ctx.now)
    return _next(ctx, c, run, entry, participant, notes)


def _next(
    ctx: Context, c: Conversation, run: store.Run, entry: store.Entry, participant: store.Participant, notes: list[Reply]
) -> conv.Outcome:
    t = ctx.t
    study = run.study
    following = _current_question(ctx, run, entry, participant)
    c.data.pop("sel", None)
    if following is None:
        store.complete_entry(ctx.db, entry.id, ctx.now)
        if not run.is_diary:
            store.set_participant_status(ctx.db, participant.id, "finished", ctx.now)
        thanks = study.thanks.pick(t.language) if study.thanks else t._("Thank you! Your answers are saved.")
        if run.is_diary and study.diary and study.diary.self_report:
            thanks += "\n" + t._("Whenever you have one, tell me with /had.")
        return Finish((*notes, Text(text=thanks)))
    c.data["q"] = following.id
    return Goto(style_of(following), tuple(notes))


def _on_cancel(ctx: Context, c: Conversation) -> HandlerResult:
    loaded = _loaded(ctx, c)
    if loaded is not None and loaded[0].is_diary:
        return Text(text=ctx.t._("Stopped this check-in. What you answered is kept."))
    return Text(text=ctx.t._("Paused. Your answers so far are saved; send /survey to continue."))


def _flows() -> list[Flow]:
    steps = {name: Step(expects, _ask, _take) for name, expects in STYLES.items()}
    return [Flow(name=f"{FLOW_PREFIX}{name}", steps=steps, first=name, on_cancel=_on_cancel) for name in STYLES]


def _data(run: store.Run, entry: store.Entry, question: Question, lead: str) -> dict[str, Any]:
    return {"run": run.id, "entry": entry.id, "q": question.id, "lead": lead}


def _current_question(ctx: Effects, run: store.Run, entry: store.Entry, participant: store.Participant) -> Question | None:
    """Where an entry's questionnaire stands: its first unanswered question that applies."""
    before = store.answered_before(ctx.db, participant.id, exclude_entry=entry.id) if run.is_diary else frozenset()
    return run.study.next_question(store.answers_of(ctx.db, entry.id), before)


def start_questionnaire(ctx: Context, run: store.Run, entry: store.Entry, participant: store.Participant, lead: str) -> list[Reply]:
    """Open an entry's questionnaire for the member who asked for it, in their private chat."""
    question = _current_question(ctx, run, entry, participant)
    if question is None:
        store.complete_entry(ctx.db, entry.id, ctx.now)
        return [Text(text=ctx.t._("There is nothing left to answer here. Thank you!"))]
    replies = conv.start_flow(ctx, f"{FLOW_PREFIX}{style_of(question)}", _data(run, entry, question, lead), private=True)
    return _as_acks(ctx, replies)


def _as_acks(ctx: Context, replies: list[Reply]) -> list[Reply]:
    """A button pressed in a group is answered with a notice only the presser sees, not a group post."""
    if isinstance(ctx.event, ChoicePicked) and ctx.in_group:
        return [Ack(text=r.text) if isinstance(r, Text) else r for r in replies]
    return replies


def open_for_member(
    ctx: Effects, member: Member, community: Community, run: store.Run, entry: store.Entry, participant: store.Participant, lead: str
) -> list[Reply]:
    """Open an entry's questionnaire for a member who is not the one speaking (a scheduled prompt)."""
    question = _current_question(ctx, run, entry, participant)
    if question is None:
        return []
    style = style_of(question)
    flow = ctx.core.router.flows[f"{FLOW_PREFIX}{style}"]
    c = conv.open_for(
        ctx.db, member_id=member.id, chat_ref=ctx.private_chat_ref(member), flow=flow, data=_data(run, entry, question, lead), now=ctx.now
    )
    t = ctx.translator_for(member, community)
    return [question_reply(t, run.study, run, entry, participant, c, buttons=_buttons(ctx, member))]


# --- finding runs --------------------------------------------------------------------------------


def _run_for(ctx: Context, run_id: int) -> tuple[store.Run, Community]:
    """A run a member acts on by button; it must belong to one of their communities."""
    t = ctx.t
    run = store.get_run(ctx.db, run_id)
    if run is None:
        raise HandlerError(t._("I can't find that survey any more."))
    community = _community_of(ctx, run)
    if community_store.role_of(ctx.db, community.id, ctx.member.id) is None:
        raise HandlerError(t._("This survey belongs to another community."))
    if not run.is_open:
        raise HandlerError(t._("Survey #{number} has closed.", number=run.number))
    return run, community


def _pick_run(ctx: Context, args: str, payload: str, *, diary: bool = False, mine: bool = False) -> store.Run | Choices:
    """The open run a command means: named by number or name, else the only candidate (only diaries
    with ``diary``, only runs the member takes part in with ``mine``); several → a choice of buttons
    whose payloads are ``payload`` + the run's id."""
    community = ctx.require_community()
    t = ctx.t
    if args.strip():
        found = store.find_runs(ctx.db, community.id, args)
        if not found:
            raise HandlerError(t._("There is no survey “{ref}”. Send /survey to see what is open.", ref=args.strip()))
        candidates = [r for r in found if r.is_open]
        if not candidates:
            raise HandlerError(t._("Survey #{number} has closed.", number=found[0].number))
    else:
        candidates = store.runs(ctx.db, community.id, open_only=True)
        if diary:
            candidates = [r for r in candidates if r.is_diary]
        if mine:
            taking_part = {run.id for status in ("active", "paused") for run, _p in store.runs_of_member(ctx.db, ctx.member.id, status=status)}
            candidates = [r for r in candidates if r.id in taking_part]
    if not candidates:
        if mine:
            raise HandlerError(t._("You are not taking part in an open survey. Send /survey to see what is open."))
        raise HandlerError(t._("There are no open surveys right now."))
    if len(candidates) == 1:
        return candidates[0]
    return Choices(text=t._("Which one?"), options=tuple(Option(_run_label(t, r), f"{payload}{r.id}") for r in candidates[:10]))


def _run_label(t: Translator, run: store.Run) -> str:
    icon = "📔" if run.is_diary else "📋"
    return f"{icon} #{run.number} {run.study.title.pick(t.language)}"


# --- starting ------------------------------------------------------------------------------------


def _announcement(t: Translator, run: store.Run, community: Community) -> Choices:
    study = run.study
    language = t.language
    lines = [_run_label(t, run)]
    if study.intro is not None:
        lines.append(study.intro.pick(language))
    if study.diary is not None:
        d = study.diary
        lines.append(
            t._(
                "A diary: for {days} days, {prompts} short check-ins a day at random moments while you're awake, each open for {expiry}.",
                days=d.days,
                prompts=d.prompts_per_day,
                expiry=t.duration(d.expires_after),
            )
        )
        option = Option("📔 " + t._("Join the diary"), f"sv:join:{run.id}")
    else:
        lines.append(t.n_("{n} question, answered privately with me.", "{n} questions, answered privately with me.", len(study.questions)))
        option = Option("▶ " + t._("Take part"), f"sv:take:{run.id}")
    if run.closes_at is not None:
        lines.append(t._("Open until {when}.", when=t.datetime(run.closes_at, community.tz)))
    return Choices(text="\n".join(lines), options=(option,))


def _load_study(t: Translator, name: str) -> tuple[Study, str]:
    if not NAME.match(name):
        raise HandlerError(t._("“{name}” is not a study name. Send /survey list to see the studies.", name=name))
    path = study_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in study_dir().glob("*.toml"))) or "–"
        raise HandlerError(t._("I can't find a study called “{name}”. Studies: {known}", name=name, known=known))
    try:
        study, _warnings = load(path)
    except StudyError as error:
        shown = [str(p) for p in error.problems if not p.warning][:PROBLEMS_SHOWN]
        raise HandlerError(
            "\n".join(
                [t._("The study file {file} has problems, so nothing was started:", file=path.name), *shown,
                 t._("Check it with: localbot survey validate {file}", file=str(path))]
            )
        ) from None
    return study, path.read_text(encoding="utf-8")


def _start(ctx: Context, args: str) -> list[Reply]:
    community = ctx.require_community()
    t = ctx.t
    ctx.require_organiser(t._("start surveys"))
    words = args.split()
    if not words:
        raise HandlerError(t._("Which study? For example: /survey start coffee-habits. Send /survey list to see the studies."))
    name, rest = words[0].lower(), words[1:]
    study, source = _load_study(t, name)
    closes_at = ctx.now + study.closes_after if study.closes_after else None
    if rest:
        if rest[0].lower() != "--until" or len(rest) < 2:
            raise HandlerError(t._("After the study's name I only understand --until WHEN, for example --until 7d."))
        text = " ".join(rest[1:])
        try:
            closes_at = parse_deadline(text, now=ctx.now, tz=community.tz)
        except WhenError:
            raise HandlerError(t._("I couldn't read the closing time “{text}”. Try 7d, friday 18:00 or 2026-12-24 18:00.", text=text)) from None
    if study.diary is not None and closes_at is not None and closes_at - ctx.now < timedelta(days=study.diary.days):
        raise HandlerError(
            t.n_(
                "A {n}-day diary needs to stay open at least {n} day, so that members can complete it.",
                "A {n}-day diary needs to stay open at least {n} days, so that members can complete it.",
                study.diary.days,
            )
        )

    in_groups = group_members_to_ask(ctx, community)
    run = store.create_run(ctx.db, community_id=community.id, study=study, source=source, created_by=ctx.member.id, now=ctx.now, closes_at=closes_at)
    if closes_at is not None:
        ctx.schedule("survey.close", closes_at, {"run": run.id}, dedupe_key=f"survey:{run.id}:close", community_id=community.id)
    held_back = announce(
        ctx, community, lambda t: _announcement(t, run, community), asked_in_groups=in_groups,
        kind="diary" if study.is_diary else "survey", ref=f"survey:{run.id}", dedupe_key=f"survey.new:{run.id}",
    )
    here = ctx.ct if ctx.in_group else ctx.t
    replies: list[Reply] = [_announcement(here, run, community)]
    if not ctx.in_group:
        replies.insert(0, Text(text=t._("Started and announced in {community}:", community=community.name)))
    if held_back:
        replies.append(
            Text(
                text=t.n_(
                    "{n} member who talks to me one to one has had this week's asks already, so I did not message them; they see the survey with /survey.",
                    "{n} members who talk to me one to one have had this week's asks already, so I did not message them; they see the survey with /survey.",
                    held_back,
                )
            )
        )
    return replies


# --- members taking part --------------------------------------------------------------------------


def take(ctx: Context, run: store.Run, community: Community) -> list[Reply]:
    """Start or continue a one-off survey."""
    t = ctx.t
    if run.is_diary:
        return join(ctx, run, community)
    participant = store.add_participant(ctx.db, run_id=run.id, member_id=ctx.member.id, timezone=community.timezone, now=ctx.now)
    if participant.status == "finished":
        return [Text(text=t._("You have already answered “{title}”. Thank you!", title=run.study.title.pick(t.language)))]
    if participant.status == "left":
        store.set_participant_status(ctx.db, participant.id, "active", ctx.now)
    existing = store.entries(ctx.db, participant.id, kind="once")
    entry = existing[0] if existing else store.open_entry(ctx.db, participant.id, "once", ctx.now)
    lead = "resume" if existing and store.answers_of(ctx.db, entry.id) else "intro"
    return start_questionnaire(ctx, run, entry, participant, lead)


def join(ctx: Context, run: store.Run, community: Community) -> list[Reply]:
    t = ctx.t
    if not run.is_diary:
        return take(ctx, run, community)
    participant = store.get_participant(ctx.db, run.id, ctx.member.id)
    if participant is not None:
        if participant.status == "paused":
            raise HandlerError(t._("You are in this diary, on pause. Send /survey resume to carry on."))
        if participant.status == "left":
            raise HandlerError(t._("You left this diary earlier, so I can't add you again."))
        if participant.status == "finished":
            raise HandlerError(t._("You have finished this diary. Thank you!"))
        raise HandlerError(t._("You are already keeping this diary. Tell me with /had whenever you have one."))
    replies = conv.start_flow(ctx, JOIN_FLOW, {"run": run.id}, private=True)
    return _as_acks(ctx, replies)


def _join_run(ctx: Context, c: Conversation) -> tuple[store.Run, Community, Study] | None:
    run = store.get_run(ctx.db, int(c.data["run"]))
    if run is None or not run.is_open or run.study.diary is None:
        return None
    return run, _community_of(ctx, run), run.study


def _ask_window(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    joining = _join_run(ctx, c)
    if joining is None:
        return Text(text=t._("This diary has closed."))
    run, community, study = joining
    diary = study.diary
    assert diary is not None
    lines = [_run_label(t, run)]
    if study.intro is not None:
        lines.append(study.intro.pick(t.language))
    lines += [
        "",
        t._(
            "When are you usually awake? I'll only write between those times ({timezone}). Send it like 07:00-22:00, or pick:",
            timezone=community.timezone,
        ),
        t._("Living in another time zone? Add your city or zone after the times, for example 07:00-22:00 London."),
    ]
    default = diary.default_window
    return Choices(text="\n".join(lines), options=(c.option(default.text(), "default"),))


def _take_window(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    joining = _join_run(ctx, c)
    if joining is None:
        return Finish((Text(text=t._("This diary has closed.")),))
    run, community, study = joining
    diary = study.diary
    assert diary is not None
    try:
        if a.choice == "default":
            window, zone = diary.default_window, community.timezone
        else:
            window, zone = _window_and_zone(t, a.text or "", community.timezone)
        tz = ZoneInfo(zone)
        first = schedule.first_day(ctx.now, window, tz)
        days = [first + timedelta(days=n) for n in range(diary.days)]
        schedule.check_window(window, tz, days, diary.prompts_per_day, diary.min_gap)
    except WindowError as error:
        return Retry(window_error(t, error))
    except HandlerError as error:
        return Retry(error.message)
    if store.get_participant(ctx.db, run.id, ctx.member.id) is not None:
        return Finish((Text(text=t._("You are already keeping this diary. Tell me with /had whenever you have one.")),))
    participant = store.add_participant(
        ctx.db, run_id=run.id, member_id=ctx.member.id, timezone=zone, now=ctx.now, window=window, first_day=first
    )
    rng = random.Random(f"localbot-diary:{run.id}:{participant.id}")
    planned = schedule.plan(
        first,
        days=diary.days,
        window=window,
        tz=tz,
        prompts=diary.prompts_per_day,
        min_gap=diary.min_gap,
        expires_after=diary.expires_after,
        rng=rng,
    )
    entries = store.plan_prompts(ctx.db, participant.id, planned)
    _schedule_prompts(ctx, run, participant, entries)
    confirmation = t._(
        "You're in! From {first_day}, for {days} days, I'll send you {prompts} check-ins a day between {start} and {end} ({timezone}). "
        "Each stays open for {expiry}.",
        first_day=t.date(planned[0].at, tz),
        days=diary.days,
        prompts=diary.prompts_per_day,
        start=f"{window.start:%H:%M}",
        end=f"{window.end:%H:%M}",
        timezone=zone,
        expiry=t.duration(diary.expires_after),
    )
    more = [confirmation, t._("In another time zone later? Send /survey timezone and your city, for example /survey timezone London.")]
    if diary.self_report:
        more.append(t._("Whenever you have one, tell me with /had."))
    more.append(t._("Pause or leave any time with /survey pause or /survey leave."))
    return Finish((Text(text="\n".join(more)),))


def zone_error(t: Translator, text: str) -> str:
    return t._(
        "I don't know the time zone “{text}”. Send a city, such as Warsaw, London or Jakarta, or a zone name such as Europe/Warsaw.",
        text=text,
    )


def _window_and_zone(t: Translator, text: str, default: str) -> tuple[Window, str]:
    """``"07:00-22:00"`` (in ``default``), or the window followed by a city or zone: ``"7-22 London"``."""
    try:
        return schedule.parse_window(text), default
    except WindowError as error:
        words = text.split()
        for cut in range(len(words) - 1, 0, -1):
            try:
                window = schedule.parse_window(" ".join(words[:cut]))
            except WindowError:
                continue
            zone = parse_zone(" ".join(words[cut:]))
            if zone is None:
                raise HandlerError(zone_error(t, " ".join(words[cut:]))) from None
            return window, zone
        raise error from None


def _replan(ctx: Effects, run: store.Run, participant: store.Participant, zone: str) -> int:
    """Move a diary to another time zone: the days not begun yet are planned again in it, from
    its next whole day; a day already under way ends early. Returns the days planned again."""
    diary = run.study.diary
    assert diary is not None and participant.window is not None
    prompts = store.entries(ctx.db, participant.id, kind="prompt")
    begun = {e.day for e in prompts if e.status not in ("planned", "paused")}
    waiting = [e for e in prompts if e.status in ("planned", "paused")]
    days_left = len({e.day for e in waiting} - begun)
    sent = [e.sent_at for e in prompts if e.sent_at is not None]
    tz = ZoneInfo(zone)
    first = schedule.first_day(ctx.now, participant.window, tz)
    schedule.check_window(participant.window, tz, [first + timedelta(days=n) for n in range(days_left)], diary.prompts_per_day, diary.min_gap)
    for entry in waiting:
        store.set_entry_status(ctx.db, entry.id, "cancelled")
    scheduler.cancel_prefix(ctx.db, f"survey:{run.id}:p{participant.id}:")
    store.set_participant_timezone(ctx.db, participant.id, zone, ctx.now)
    if not days_left:
        return 0
    planned = schedule.plan(
        first, days=days_left, window=participant.window, tz=tz, prompts=diary.prompts_per_day, min_gap=diary.min_gap,
        expires_after=diary.expires_after, rng=random.Random(f"localbot-diary:{run.id}:{participant.id}:{zone}:{ctx.now}"),
        after=max(sent) if sent else None,
    )
    done = diary.days - days_left
    entries = store.plan_prompts(ctx.db, participant.id, [dataclasses.replace(p, day=p.day + done) for p in planned])
    if participant.status == "paused":
        store.move_planned(ctx.db, participant.id, old="planned", new="paused")
    else:
        _schedule_prompts(ctx, run, participant, entries)
    return days_left


def set_timezone(ctx: Context, text: str) -> list[Reply]:
    """``/survey timezone CITY``: the member's diaries in this community follow another time zone."""
    t = ctx.t
    community = ctx.require_community()
    mine = [
        (run, participant)
        for status in ("active", "paused")
        for run, participant in store.runs_of_member(ctx.db, ctx.member.id, status=status)
        if run.is_diary and run.community_id == community.id
    ]
    if not text.strip():
        if not mine:
            raise HandlerError(t._("You are not keeping a diary right now. Send /survey to see what is open."))
        zones = ", ".join(sorted({p.timezone for _r, p in mine}))
        return [Text(text=t._("Your diary follows the time zone {zone}. To change it, send /survey timezone and your city, for example /survey timezone London.", zone=zones))]
    zone = parse_zone(text)
    if zone is None:
        raise HandlerError(zone_error(t, text.strip()))
    if not mine:
        raise HandlerError(t._("You are not keeping a diary right now. Send /survey to see what is open."))
    lines = []
    for run, participant in mine:
        try:
            days = _replan(ctx, run, participant, zone)
        except WindowError as error:
            raise HandlerError(window_error(t, error)) from None
        label = _run_label(t, run)
        if days:
            lines.append(t.n_("{label}: from now on in {zone}; {n} day of check-ins is planned again in it.",
                              "{label}: from now on in {zone}; {n} days of check-ins are planned again in it.", days, label=label, zone=zone))
        else:
            lines.append(t._("{label}: from now on in {zone}.", label=label, zone=zone))
    return [Text(text="\n".join(lines))]


def _schedule_prompts(ctx: Effects, run: store.Run, participant: store.Participant, entries: list[store.Entry]) -> None:
    diary = run.study.diary
    assert diary is not None
    last: datetime | None = None
    for entry in entries:
        assert entry.planned_at is not None and entry.send_by is not None
        ctx.schedule(
            "survey.prompt", entry.planned_at, {"entry": entry.id},
            dedupe_key=f"survey:{run.id}:p{participant.id}:e{entry.id}", community_id=run.community_id,
        )
        last = max(last, entry.send_by) if last else entry.send_by
    if last is not None:
        ctx.schedule(
            "survey.diary_end", last + diary.expires_after, {"participant": participant.id},
            dedupe_key=f"survey:{run.id}:p{participant.id}:end", community_id=run.community_id,
        )


def had(ctx: Context, run: store.Run, community: Community) -> list[Reply]:
    """"I just had one": a self-report that answers the moment question by itself."""
    t = ctx.t
    study = run.study
    participant = store.get_participant(ctx.db, run.id, ctx.member.id)
    if not run.is_diary or study.diary is None or not study.diary.self_report:
        raise HandlerError(t._("This survey does not take “I just had one” reports."))
    if participant is None or participant.status != "active":
        raise HandlerError(t._("You are not keeping this diary right now. Join it from /survey."))
    entry = store.open_entry(ctx.db, participant.id, "self", ctx.now)
    for question, value in study.self_report_answers().items():
        store.save_answer(ctx.db, entry, question, value, ctx.now)
    return start_questionnaire(ctx, run, entry, participant, "self")


def _taking_part(ctx: Context, run: store.Run) -> store.Participant:
    participant = store.get_participant(ctx.db, run.id, ctx.member.id)
    if participant is None or participant.status in ("left", "finished"):
        raise HandlerError(ctx.t._("You are not taking part in this survey."))
    return participant


def pause(ctx: Context, run: store.Run, community: Community) -> list[Reply]:
    t = ctx.t
    participant = _taking_part(ctx, run)
    if not run.is_diary:
        current = conv.load(ctx.db, ctx.member.id, ctx.private_chat_ref(ctx.member))
        if current is not None and current.flow.startswith(FLOW_PREFIX) and current.data.get("run") == run.id:
            conv.end(ctx, current)
        return [Text(text=t._("Paused. Your answers so far are saved; send /survey to continue."))]
    if participant.status == "paused":
        return [Text(text=t._("Your diary is already on pause. Send /survey resume to carry on."))]
    store.set_participant_status(ctx.db, participant.id, "paused", ctx.now)
    store.move_planned(ctx.db, participant.id, old="planned", new="paused")
    scheduler.cancel_prefix(ctx.db, f"survey:{run.id}:p{participant.id}:")
    return [Text(text=t._("Your diary is on pause: no check-ins until you send /survey resume. Your answers are kept."))]


def resume(ctx: Context, run: store.Run, community: Community) -> list[Reply]:
    t = ctx.t
    participant = _taking_part(ctx, run)
    if not run.is_diary:
        return take(ctx, run, community)
    if participant.status != "paused":
        return [Text(text=t._("Your diary is not on pause."))]
    store.set_participant_status(ctx.db, participant.id, "active", ctx.now)
    waiting = store.move_planned(ctx.db, participant.id, old="paused", new="planned")
    future = []
    for entry in waiting:
        if entry.send_by is not None and entry.send_by > ctx.now:
            future.append(entry)
        else:
            store.set_entry_status(ctx.db, entry.id, "skipped")
    _schedule_prompts(ctx, run, participant, future)
    if not future:
        store.set_participant_status(ctx.db, participant.id, "finished", ctx.now)
        return [Text(text=t._("Welcome back! Your diary's days are over, so there are no more check-ins. Thank you!"))]
    return [Text(text=t.n_("Welcome back! {n} check-in is still to come.", "Welcome back! {n} check-ins are still to come.", len(future)))]


def leave(ctx: Context, run: store.Run, community: Community) -> list[Reply]:
    t = ctx.t
    participant = _taking_part(ctx, run)
    _stop_participant(ctx, run, participant, "left")
    current = conv.load(ctx.db, ctx.member.id, ctx.private_chat_ref(ctx.member))
    if current is not None and current.flow.startswith(FLOW_PREFIX) and current.data.get("run") == run.id:
        conv.end(ctx, current)
    return [Text(text=t._("You have left “{title}”. No more questions from it; what you answered is kept.", title=run.study.title.pick(t.language)))]


def _stop_participant(ctx: Effects, run: store.Run, participant: store.Participant, status: str) -> None:
    store.set_participant_status(ctx.db, participant.id, status, ctx.now)
    for old in ("planned", "paused"):
        store.move_planned(ctx.db, participant.id, old=old, new="cancelled")
    scheduler.cancel_prefix(ctx.db, f"survey:{run.id}:p{participant.id}:")


ACTIONS = {"take": take, "join": join, "had": had, "pause": pause, "resume": resume, "leave": leave}


def on_button(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    t = ctx.t
    ident = whole_number(parts[1]) if len(parts) == 2 else None
    if ident is None or (parts[0] not in ACTIONS and parts[0] != "prompt"):
        return Ack(text=t._("This button no longer works."))
    try:
        if parts[0] == "prompt":
            return _answer_prompt(ctx, ident)
        run, community = _run_for(ctx, ident)
        return ACTIONS[parts[0]](ctx, run, community)
    except HandlerError as refused:
        return Ack(text=refused.message) if ctx.in_group else Text(text=refused.message)


def _answer_prompt(ctx: Context, entry_id: int) -> HandlerResult:
    """"Answer now" on a prompt that arrived while another conversation was open."""
    t = ctx.t
    entry = store.get_entry(ctx.db, entry_id)
    participant = store.participant_by_id(ctx.db, entry.participant_id) if entry else None
    if entry is None or participant is None or participant.member_id != ctx.member.id:
        return Ack(text=t._("This button no longer works."))
    run, _community = _run_for(ctx, participant.run_id)
    if entry.started_at is not None or entry.expired(ctx.now):
        return Text(text=t._("That check-in has closed. The next one will come on its own."))
    return start_questionnaire(ctx, run, entry, participant, "prompt")


# --- /survey and /had -----------------------------------------------------------------------------


def _status_line(t: Translator, ctx: Context, run: store.Run, participant: store.Participant | None) -> tuple[str, list[Option]]:
    label = _run_label(t, run)
    if participant is None or participant.status == "left":
        if participant is not None:
            return f"{label}: " + t._("you left it."), []
        if run.is_diary:
            return f"{label}: " + t._("a diary you can join."), [Option("📔 " + t._("Join the diary"), f"sv:join:{run.id}")]
        return f"{label}: " + t._("not answered yet."), [Option("▶ " + t._("Take part"), f"sv:take:{run.id}")]
    if not run.is_diary:
        if participant.status == "finished":
            return f"{label}: " + t._("answered, thank you!"), []
        entry = store.entries(ctx.db, participant.id, kind="once")
        count = len(store.answers_of(ctx.db, entry[0].id)) if entry else 0
        return f"{label}: " + t.n_("{n} answer so far.", "{n} answers so far.", count), [Option("▶ " + t._("Continue"), f"sv:take:{run.id}")]
    counts = store.prompt_counts(ctx.db, run.id).get(participant.id, {})
    answered = t.n_("{n} check-in answered", "{n} check-ins answered", counts.get("on_time", 0))
    if participant.status == "finished":
        return f"{label}: " + t._("finished, thank you!") + f" ({answered})", []
    if participant.status == "paused":
        return f"{label}: " + t._("on pause.") + f" ({answered})", [
            Option("⏯ " + t._("Resume"), f"sv:resume:{run.id}"),
            Option("🚪 " + t._("Leave"), f"sv:leave:{run.id}"),
        ]
    options = [Option("⏸ " + t._("Pause"), f"sv:pause:{run.id}"), Option("🚪 " + t._("Leave"), f"sv:leave:{run.id}")]
    if run.study.diary and run.study.diary.self_report:
        options.insert(0, Option("🙋 " + t._("I just had one"), f"sv:had:{run.id}"))
    return f"{label}: " + t._("you're keeping it.") + f" ({answered})", options


def _mine(ctx: Context) -> list[Reply]:
    community = ctx.require_community()
    t = ctx.t
    open_runs = store.runs(ctx.db, community.id, open_only=True)
    if not open_runs:
        text = t._("There are no open surveys right now.")
        if ctx.is_organiser():
            text += "\n" + t._("Start one with /survey start NAME; /survey list shows the studies.")
        return [Text(text=text)]
    lines = [t._("Open surveys in {community}:", community=community.name)]
    options: list[Option] = []
    for run in open_runs:
        line, buttons = _status_line(t, ctx, run, store.get_participant(ctx.db, run.id, ctx.member.id))
        lines.append(line)
        options += buttons
    if options:
        return [Choices(text="\n".join(lines), options=tuple(options))]
    return [Text(text="\n".join(lines))]


def _list(ctx: Context) -> list[Reply]:
    community = ctx.require_community()
    t = ctx.t
    ctx.require_organiser(t._("start surveys"))
    lines = [t._("Studies you can start (/survey start NAME):")]
    files = sorted(study_dir().glob("*.toml"))
    for path in files:
        try:
            study, _warnings = load(path)
        except StudyError as error:
            problems = sum(1 for p in error.problems if not p.warning)
            lines.append("• " + t.n_("{name}: has {n} problem (localbot survey validate)", "{name}: has {n} problems (localbot survey validate)", problems, name=path.stem))
            continue
        kind = t._("diary") if study.is_diary else t._("one-off survey")
        lines.append(f"• {study.name}: {study.title.pick(t.language)} ({kind})")
    if not files:
        lines.append("• " + t._("none yet: put study files in {folder}", folder=str(study_dir())))
    history = store.runs(ctx.db, community.id)
    if history:
        lines += ["", t._("Started here:")]
        for run in history[:10]:
            state = "🟢" if run.is_open else "🏁"
            lines.append(f"{state} {_run_label(t, run)}")
    return [Text(text="\n".join(lines))]


def cmd_survey(ctx: Context, cmd: Command) -> HandlerResult:
    verb, _, rest = cmd.args.strip().partition(" ")
    verb = verb.lower()
    if not verb:
        return _mine(ctx)
    if verb == "start":
        return _start(ctx, rest)
    if verb == "list":
        return _list(ctx)
    if verb == "stop":
        return _stop(ctx, rest)
    if verb in ("timezone", "tz", "strefa", "zona"):
        return set_timezone(ctx, rest)
    if verb in ACTIONS:
        picked = _pick_run(ctx, rest, f"sv:{verb}:", diary=verb == "had", mine=verb in ("had", "pause", "resume", "leave"))
        if isinstance(picked, Choices):
            return picked
        return ACTIONS[verb](ctx, picked, _community_of(ctx, picked))
    return Text(
        text=ctx.t._("I don't know “/survey {verb}”. Try /survey, /survey join, /survey pause, /survey resume or /survey leave.", verb=verb)
    )


def cmd_had(ctx: Context, cmd: Command) -> HandlerResult:
    t = ctx.t
    mine = [run for run, _p in store.runs_of_member(ctx.db, ctx.member.id) if run.is_diary]
    if cmd.args.strip():
        picked = _pick_run(ctx, cmd.args, "sv:had:", diary=True)
        if isinstance(picked, Choices):
            return picked
        mine = [picked]
    if not mine:
        raise HandlerError(t._("You are not keeping a diary right now. Send /survey to see what is open."))
    if len(mine) > 1:
        return Choices(text=t._("Which one?"), options=tuple(Option(_run_label(t, r), f"sv:had:{r.id}") for r in mine[:10]))
    return had(ctx, mine[0], _community_of(ctx, mine[0]))


# --- closing and reports ---------------------------------------------------------------------------


def close(ctx: Effects, run: store.Run, community: Community, *, closed_by: int | None, exclude_chat: str | None) -> store.Run | None:
    """Close, stop what was planned, and post a summary of what the group said everywhere."""
    if not store.close_run(ctx.db, run.id, closed_by=closed_by, now=ctx.now):
        return None
    scheduler.cancel_prefix(ctx.db, f"survey:{run.id}:")
    store.cancel_run_prompts(ctx.db, run.id)
    store.finish_participants(ctx.db, run.id, ctx.now)
    closed = store.get_run(ctx.db, run.id)
    assert closed is not None
    ctx.broadcast(
        community,
        lambda t: [Text(text=closing_text(ctx, t, closed))],
        exclude_chat=exclude_chat,
        purpose="results",
        dedupe_key=f"survey.closed:{run.id}",
    )
    return closed


def closing_text(ctx: Effects, t: Translator, run: store.Run) -> str:
    habit = habit_report.build(ctx.db, run, t.language)
    if run.is_diary:
        header = t._("🏁 Diary #{number} is closed: {title}. Thank you, everyone! Here is what the group said:", number=run.number, title=habit.title)
    else:
        header = t._("🏁 Survey #{number} is closed: {title}. Thank you, everyone! Here is what the group said:", number=run.number, title=habit.title)
    return "\n".join([header, *habit_report.summary_lines(t, habit)])


def _stop(ctx: Context, args: str) -> list[Reply]:
    t = ctx.t
    ctx.require_organiser(t._("close surveys"))
    picked = _pick_run(ctx, args, "svs:")
    if isinstance(picked, Choices):
        return [picked]
    community = _community_of(ctx, picked)
    closed = close(ctx, picked, community, closed_by=ctx.member.id, exclude_chat=ctx.chat_ref)
    if closed is None:
        return [Text(text=t._("Survey #{number} has closed.", number=picked.number))]
    return [Text(text=closing_text(ctx, ctx.ct if ctx.in_group else t, closed))]


def on_stop_button(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    ident = whole_number(parts[0]) if len(parts) == 1 else None
    if ident is None:
        return Ack(text=ctx.t._("This button no longer works."))
    run = store.get_run(ctx.db, ident)
    if run is None:
        return Ack(text=ctx.t._("I can't find that survey any more."))
    return _stop(ctx, str(run.number))


def job_prompt(ctx: JobContext, job: Job) -> None:
    entry = store.get_entry(ctx.db, int(job.payload["entry"]))
    if entry is None or entry.status != "planned":
        return
    participant = store.participant_by_id(ctx.db, entry.participant_id)
    run = store.get_run(ctx.db, participant.run_id) if participant else None
    if participant is None or run is None or not run.is_open or participant.status != "active" or run.study.diary is None:
        store.set_entry_status(ctx.db, entry.id, "cancelled")
        return
    member = community_store.get_member(ctx.db, participant.member_id)
    community = community_store.get_community(ctx.db, run.community_id)
    if member is None or community is None or community_store.role_of(ctx.db, community.id, member.id) is None:
        _stop_participant(ctx, run, participant, "left")  # they left the community: ask nothing more
        return
    # A prompt sent late (after a restart) closes when the next one comes, at the latest.
    following = store.next_prompt_at(ctx.db, entry)
    expires_at = min(ctx.now + run.study.diary.expires_after, following or ctx.now + run.study.diary.expires_after)
    if (entry.send_by is not None and ctx.now > entry.send_by) or expires_at <= ctx.now:
        store.set_entry_status(ctx.db, entry.id, "skipped")  # too late to be a moment "now"
        return
    store.mark_sent(ctx.db, entry.id, now=ctx.now, expires_at=expires_at)
    sent = store.get_entry(ctx.db, entry.id)
    assert sent is not None
    chat = ctx.private_chat_ref(member)
    t = ctx.translator_for(member, community)
    current = conv.load(ctx.db, member.id, chat)
    if current is not None and not current.flow.startswith(FLOW_PREFIX):
        # Another conversation is under way there (a poll being written): do not break it.
        lead = _lead(t, run.study, run, sent, "prompt", _tz(participant))
        replies: list[Reply] = [Choices(text="\n".join(lead), options=(Option(t._("Answer now"), f"sv:prompt:{sent.id}"),))]
    else:
        replies = open_for_member(ctx, member, community, run, sent, participant, "prompt")
    ctx.send(chat, *replies, member_id=member.id, community_id=community.id, purpose="prompt", dedupe_key=f"survey.prompt:{sent.id}")


def job_diary_end(ctx: JobContext, job: Job) -> None:
    participant = store.participant_by_id(ctx.db, int(job.payload["participant"]))
    if participant is None or participant.status != "active":
        return
    run = store.get_run(ctx.db, participant.run_id)
    member = community_store.get_member(ctx.db, participant.member_id)
    if run is None or member is None or not run.is_open:
        return
    store.set_participant_status(ctx.db, participant.id, "finished", ctx.now)
    community = _community_of(ctx, run)
    title = run.study.title

    def thanks(t: Translator) -> Reply:
        return Text(
            text=t._(
                "That was the last check-in of “{title}”. Thank you for keeping the diary! The group gets the results when the study closes.",
                title=title.pick(t.language),
            )
        )

    ctx.send_to_member(member, thanks, community=community, dedupe_key=f"survey.end:{participant.id}")


def job_close(ctx: JobContext, job: Job) -> None:
    run = store.get_run(ctx.db, int(job.payload["run"]))
    if run is None or not run.is_open:
        return
    close(ctx, run, _community_of(ctx, run), closed_by=None, exclude_chat=None)


def _report_items(ctx: Effects, community: Community) -> list[reports.ReportItem]:
    items = []
    for run in store.runs(ctx.db, community.id):
        state = "" if run.is_open else " 🏁"
        icon = "📔" if run.is_diary else "📋"
        items.append(
            reports.ReportItem("survey", str(run.id), f"{icon} #{run.number} {run.title}{state}", frozenset({str(run.number), run.name}), run.created_at)
        )
    return items


def _report(ctx: Effects, request: reports.ReportRequest, key: str) -> list[Reply]:
    run = store.get_run(ctx.db, int(key))
    if run is None or run.community_id != request.community.id:
        raise HandlerError(request.t._("I can't find that survey any more."))
    t = request.t
    habit = habit_report.build(ctx.db, run, t.language)
    replies: list[Reply] = [Text(text=habit_report.report_text(t, habit, names=request.private))]
    drawn = [("heatmap", heatmap_png(t, habit)), ("breakdowns", breakdowns_png(t, habit))]
    if request.private:
        drawn.append(("compliance", compliance_png(t, habit)))
    for name, data in drawn:
        if data is not None:
            replies.append(Picture(data=data, filename=f"survey-{run.number}-{name}.png"))
    return replies


REPORT_WORDS = frozenset({"survey", "surveys", "diary", "ankieta", "ankiety", "dzienniczek", "survei", "buku"})


def _digest_lines(ctx: Effects, t: Translator, community: Community, start: datetime, end: datetime) -> list[str]:
    """The organisers' weekly digest: each survey open during the week, with how many take part
    and, for diaries, how many prompts were answered in time."""
    lines: list[str] = []
    members = len(community_store.active_members(ctx.db, community.id))
    for run in reversed(store.runs(ctx.db, community.id)):
        if run.created_at >= end or (run.closed_at is not None and run.closed_at < start):
            continue
        counts = store.prompt_counts(ctx.db, run.id).values()
        taking_part = t._(
            "{people} of {members} take part ({share})",
            people=len(counts),
            members=members,
            share=t.percent(len(counts) / members if members else 0.0),
        )
        line = f"  #{run.number} {run.title} — {taking_part}"
        sent = sum(c["sent"] for c in counts)
        if run.is_diary and sent:
            on_time = sum(c["on_time"] for c in counts)
            line += " · " + t._("{answered} of {sent} prompts answered in time ({share})", answered=on_time, sent=sent, share=t.percent(on_time / sent))
        elif not run.is_diary:
            line += " · " + t.n_("{n} completed", "{n} completed", sum(c["completed"] for c in counts))
        lines.append(line + " · " + (t._("open") if run.is_open else t._("closed")))
    return ["📋 " + t._("Surveys this week:"), *lines] if lines else []


def register(router: Router) -> None:
    router.command(
        "survey",
        help=N_("Surveys and diaries open for you; organisers: /survey start NAME, /survey stop, /survey list"),
        usage="[start NAME | stop | list | join | pause | resume | leave | timezone CITY]",
        section="surveys",
    )(cmd_survey)
    router.command("had", help=N_("I just had one: a moment for the diary you keep"), section="surveys")(cmd_had)
    router.choice("sv")(on_button)
    router.choice("svs")(on_stop_button)
    for flow in _flows():
        router.flow(flow)
    router.flow(
        Flow(
            name=JOIN_FLOW,
            first="window",
            steps={"window": Step(Expect.CHOICE | Expect.TEXT, _ask_window, _take_window)},
            on_cancel=lambda ctx, c: Text(text=ctx.t._("All right, you have not joined.")),
        )
    )
    router.job("survey.prompt")(job_prompt)
    router.job("survey.diary_end")(job_diary_end)
    router.job("survey.close")(job_close)
    reports.add_provider(reports.ReportProvider("survey", REPORT_WORDS, _report_items, _report))
    care.add_digest_section("surveys", _digest_lines)
