"""Tastings in the chat: sign-up, waiting list, reminders, check-in, the questionnaire, reports, thanks.

An organiser starts a tasting from its file (``/tasting start oat-drinks``) or builds a simple one
step by step (``/tasting new``); the announcement goes to every chat of the community (within the
ask budget) with a button per session. A member signs up with one tap and gets, privately, a
confirmation with a calendar file, the pickup point's pin and a button to cancel; a full session
offers its waiting list, and a cancelled place goes to the first person waiting, who is told.
Reminders go out 24 hours and 2 hours before (scheduler jobs, cancelled with the place).

At the session an organiser checks people in (``/checkin``: names with buttons), or a member
shares a location near the point. Only checked-in members are asked: the questionnaire runs in
the member's private chat, sample by sample in their serving order (the blind code, overall
liking, just-about-right attributes, check-all-that-apply terms, a comment), then a preference or
a ranking. Every answer is saved as it comes, so ``/cancel`` pauses and ``/tasting`` continues.
A home-use tasting checks the kit pickup in the same way and asks at the tasting time.

``/report`` (organisers) shows the analysis with its charts, and offers to send the people who
took part a short "what we learned" message, after a preview the organiser approves.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localbot import outbox, scheduler
from localbot.community import store as community_store
from localbot.community.model import Community, Member
from localbot.events import ChoicePicked, Command
from localbot.handlers import care, privacy, reports
from localbot.handlers import conversation as conv
from localbot.handlers.asking import announce, group_members_to_ask
from localbot.handlers.context import Context, Effects, HandlerError, JobContext
from localbot.handlers.conversation import Answer, Conversation, Expect, Finish, Flow, Goto, Retry, Step
from localbot.handlers.maps import point_pin
from localbot.handlers.router import HandlerResult, Router
from localbot.i18n import N_, Translator
from localbot.maps import store as point_store
from localbot.maps.model import Point
from localbot.replies import Ack, Choices, Document, Edit, Option, Picture, Reply, Text
from localbot.scheduler import Job
from localbot.settings import config_path
from localbot.tastings import ics, store
from localbot.tastings.definition import NAME, TastingFileError, load, parse
from localbot.tastings.model import (
    HEDONIC_LABELS,
    JAR_LABELS,
    LIKING_POINTS,
    MAX_PRODUCTS,
    MIN_PRODUCTS,
    Definition,
    Mode,
    TastingError,
    parse_value,
)
from localbot.tastings.questionnaire import Ask, next_ask
from localbot.tastings.texts import tasting_error
from localbot.text import whole_number
from localbot.when import WhenError, parse_deadline, parse_duration, parse_time_of_day

if TYPE_CHECKING:
    from localbot.tastings.report import TastingReport

FLOW = "tasting.q"
CHECKIN_FLOW = "tasting.checkin"
NEW_FLOW = "tasting.new"
THANKS_FLOW = "tasting.thanks"
#: A member checking in by location must be this close to the point (phones are often 50–100 m off).
CHECKIN_RADIUS_M = 250
#: Members may check themselves in from this long before the start until the end.
SELF_CHECKIN_EARLY = timedelta(minutes=30)
#: Organisers may check people in from this long before the start.
ORGANISER_CHECKIN_EARLY = timedelta(hours=1)
REMINDERS = (("24h", timedelta(hours=24)), ("2h", timedelta(hours=2)))
PROBLEMS_SHOWN = 5
DONE, SKIP = "done", "skip"


def tasting_dir() -> Path:
    """Tasting files live in ``tastings/`` next to the settings file: ``config/tastings`` by default."""
    return config_path().parent / "tastings"


def _buttons(ctx: Effects, member: Member) -> bool:
    return ctx.core.capabilities(member.messenger).buttons


def _jobs_prefix(participant: store.Participant) -> str:
    return f"tasting:{participant.tasting_id}:p{participant.id}:"


# --- finding things --------------------------------------------------------------------------------


def _community_by_id(ctx: Effects, community_id: int) -> Community:
    community = community_store.get_community(ctx.db, community_id)
    if community is None:
        raise HandlerError(ctx.core.translator_for(None, None)._("That community no longer exists."))
    return community


def _community_of(ctx: Effects, tasting: store.Tasting) -> Community:
    return _community_by_id(ctx, tasting.community_id)


def _tasting(ctx: Context, tasting_id: int) -> tuple[store.Tasting, Community]:
    """A tasting a member acts on by button: it must belong to one of their communities."""
    t = ctx.t
    tasting = store.get_tasting(ctx.db, tasting_id)
    if tasting is None:
        raise HandlerError(t._("I can't find that tasting any more."))
    community = _community_of(ctx, tasting)
    if community_store.role_of(ctx.db, community.id, ctx.member.id) is None:
        raise HandlerError(t._("This tasting belongs to another community."))
    return tasting, community


def _session(ctx: Context, session_id: int) -> tuple[store.Tasting, store.Session, Community]:
    session = store.get_session(ctx.db, session_id)
    if session is None:
        raise HandlerError(ctx.t._("I can't find that session any more."))
    tasting, community = _tasting(ctx, session.tasting_id)
    return tasting, session, community


def _own(ctx: Context, participant_id: int) -> tuple[store.Tasting, store.Participant, Community]:
    participant = store.get_participant(ctx.db, participant_id)
    if participant is None or participant.member_id != ctx.member.id:
        raise HandlerError(ctx.t._("This button no longer works."))
    tasting, community = _tasting(ctx, participant.tasting_id)
    return tasting, participant, community


def _point(ctx: Effects, session: store.Session) -> Point:
    point = point_store.get_point(ctx.db, session.point_id)
    assert point is not None  # sessions keep their point (ON DELETE RESTRICT)
    return point


def _pick_tasting(ctx: Context, args: str, *, open_only: bool = True) -> store.Tasting:
    """The tasting a command names (number or name), else the only open one."""
    community = ctx.require_community()
    t = ctx.t
    if args.strip():
        found = store.find_tastings(ctx.db, community.id, args)
        if not found:
            raise HandlerError(t._("There is no tasting “{ref}”. Send /tasting to see what is on.", ref=args.strip()))
        return found[0]
    candidates = store.tastings(ctx.db, community.id, open_only=open_only)
    if not candidates:
        raise HandlerError(t._("There is no open tasting right now."))
    if len(candidates) > 1:
        names = ", ".join(f"#{c.number} {c.title}" for c in candidates)
        raise HandlerError(t._("Which tasting? Add its number, for example /tasting close {number}. Open: {names}", number=candidates[0].number, names=names))
    return candidates[0]


# --- texts ---------------------------------------------------------------------------------------


def session_when(t: Translator, session: store.Session, community: Community) -> str:
    tz = community.tz
    same_day = session.starts_at.astimezone(tz).date() == session.ends_at.astimezone(tz).date()
    end = t.time(session.ends_at, tz) if same_day else t.datetime(session.ends_at, tz)
    return f"{t.datetime(session.starts_at, tz)}–{end}"


def _session_line(ctx: Effects, t: Translator, session: store.Session, community: Community) -> str:
    point = _point(ctx, session)
    where = f"{session_when(t, session, community)} · {point.name}"
    if session.cancelled:
        return f"{where} — " + t._("cancelled")
    if session.starts_at <= ctx.now:
        return f"{where} — " + t._("signing up has closed")
    left = store.places_left(ctx.db, session)
    if left:
        return f"{where} — " + t.n_("{n} place left", "{n} places left", left)
    waiting = len(store.participants(ctx.db, session.tasting_id, session_id=session.id, statuses=("waiting",)))
    return f"{where} — " + t._("full") + (" (" + t.n_("{n} waiting", "{n} waiting", waiting) + ")" if waiting else "")


def _session_button(ctx: Effects, t: Translator, session: store.Session, community: Community) -> Option | None:
    if session.cancelled or session.starts_at <= ctx.now:
        return None
    point = _point(ctx, session)
    when = f"{t.datetime(session.starts_at, community.tz)} · {point.name}"
    if store.places_left(ctx.db, session):
        return Option("✋ " + t._("Sign up: {when}", when=when), f"ts:up:{session.id}")
    return Option("⏳ " + t._("Waiting list: {when}", when=when), f"ts:wl:{session.id}")


def _title(t: Translator, tasting: store.Tasting) -> str:
    return "🍽 " + t._("Tasting #{number}: {title}", number=tasting.number, title=tasting.definition.title.pick(t.language))


def _announcement_text(ctx: Effects, t: Translator, tasting: store.Tasting, community: Community) -> tuple[str, list[Option]]:
    definition = tasting.definition
    k = len(definition.products)
    lines = [_title(t, tasting)]
    if definition.intro is not None:
        lines.append(definition.intro.pick(t.language))
    if definition.mode is Mode.HOME_USE:
        lines.append(t.n_(
            "Pick up a kit of {n} blind-coded sample at the pickup point, taste it at home on the day I tell you, and answer a few questions privately with me.",
            "Pick up a kit of {n} blind-coded samples at the pickup point, taste them at home on the day I tell you, and answer a few questions privately with me.",
            k,
        ))
    else:
        lines.append(t.n_(
            "Taste {n} blind-coded sample at the pickup point and answer a few questions privately with me.",
            "Taste {n} blind-coded samples at the pickup point and answer a few questions privately with me.",
            k,
        ))
    if not tasting.is_open:
        lines.append(t._("This tasting is closed. Thank you, everyone!"))
        return "\n".join(lines), []
    lines += ["", t._("Sessions:")]
    options: list[Option] = []
    for session in store.sessions(ctx.db, tasting.id):
        lines.append("• " + _session_line(ctx, t, session, community))
        button = _session_button(ctx, t, session, community)
        if button is not None:
            options.append(button)
    return "\n".join(lines), options


def announcement(ctx: Effects, t: Translator, tasting: store.Tasting, community: Community) -> Reply:
    text, options = _announcement_text(ctx, t, tasting, community)
    if options:
        return Choices(text=text, options=tuple(options), key=f"tasting:{tasting.id}")
    return Text(text=text, key=f"tasting:{tasting.id}")


def _refresh(ctx: Effects, tasting: store.Tasting, community: Community) -> None:
    """Places left changed: update the announcement where the messenger can edit it (a burst of
    sign-ups coalesces into one edit per chat every few seconds)."""
    for recipient in ctx.recipients(community, edits_only=True):
        text, options = _announcement_text(ctx, recipient.t, tasting, community)
        ctx.send(
            recipient.chat_ref,
            Edit(key=f"tasting:{tasting.id}", text=text, options=tuple(options)),
            member_id=recipient.member.id if recipient.member else None,
            community_id=community.id,
            purpose="live",
            coalesce_key=f"tasting:{tasting.id}",
            min_interval=timedelta(seconds=3),
        )


# --- confirmations -------------------------------------------------------------------------------


def _calendar(ctx: Effects, t: Translator, tasting: store.Tasting, session: store.Session, participant: store.Participant) -> Document:
    point = _point(ctx, session)
    title = tasting.definition.title.pick(t.language)
    event = ics.Event(
        uid=f"tasting-{tasting.id}-place-{participant.id}@localbot",
        start=session.starts_at,
        end=session.ends_at,
        summary=t._("Tasting: {title}", title=title),
        stamp=ctx.now,
        location=", ".join(part for part in (point.name, point.address) if part),
        description=t._("Your participant number: {label}. Can't come? Cancel your place in the chat with /tasting.", label=participant.label),
        latitude=point.latitude,
        longitude=point.longitude,
    )
    return Document(data=ics.calendar(event), filename=f"tasting-{tasting.number}.ics", caption=t._("Add it to your calendar"), mime_type="text/calendar")


def _cancel_button(t: Translator, participant: store.Participant) -> Option:
    label = t._("Leave the waiting list") if participant.waiting else t._("Cancel my place")
    return Option("✖ " + label, f"ts:x:{participant.id}")


def booked_replies(ctx: Effects, t: Translator, tasting: store.Tasting, participant: store.Participant, community: Community, *, lead: str) -> list[Reply]:
    """The confirmation of a place: what, when and where, a calendar file, the pin, and a way out."""
    session = store.get_session(ctx.db, participant.session_id)
    assert session is not None
    point = _point(ctx, session)
    definition = tasting.definition
    lines = [lead, _title(t, tasting), session_when(t, session, community) + f" · {point.name}" + (f", {point.address}" if point.address else "")]
    lines.append(t._("Your participant number: {label}.", label=participant.label))
    if definition.mode is Mode.HOME_USE and session.taste_at is not None:
        lines.append(t._("Pick up your kit during the session; I'll ask you about it on {when}.", when=t.datetime(session.taste_at, community.tz)))
    lines.append(t._("I'll remind you a day before and two hours before."))
    return [
        Text(text="\n".join(lines)),
        _calendar(ctx, t, tasting, session, participant),
        point_pin(t, point),
        Choices(text=t._("Can't make it? Please give your place to someone else:"), options=(_cancel_button(t, participant),)),
    ]


def _waiting_replies(ctx: Effects, t: Translator, tasting: store.Tasting, participant: store.Participant, community: Community) -> list[Reply]:
    session = store.get_session(ctx.db, participant.session_id)
    assert session is not None
    ahead = [p.id for p in store.participants(ctx.db, tasting.id, session_id=session.id, statuses=("waiting",))]
    place = ahead.index(participant.id) + 1 if participant.id in ahead else len(ahead)
    text = "\n".join([
        t._("⏳ You're on the waiting list (number {place}) for:", place=place),
        _title(t, tasting),
        session_when(t, session, community) + f" · {_point(ctx, session).name}",
        t._("If a place opens up, it's yours and I'll tell you at once."),
    ])
    return [Choices(text=text, options=(_cancel_button(t, participant),))]


def _to_member(ctx: Context, replies: list[Reply]) -> list[Reply]:
    """Personal replies go to the member's private chat; in a group they get a notice only they see."""
    if not ctx.in_group:
        return replies
    ctx.send(ctx.private_chat_ref(ctx.member), *replies, member_id=ctx.member.id, purpose="message")
    first = next((r for r in replies if isinstance(r, (Text, Choices))), None)
    summary = first.text.splitlines()[0] if first else ""
    return [Ack(text=summary + " " + ctx.t._("(details in our private chat)"))]


def _schedule_reminders(ctx: Effects, tasting: store.Tasting, session: store.Session, participant: store.Participant) -> None:
    for which, before in REMINDERS:
        due = session.starts_at - before
        if due > ctx.now:
            ctx.schedule("tasting.remind", due, {"participant": participant.id, "which": which},
                         dedupe_key=f"{_jobs_prefix(participant)}remind{which}", community_id=tasting.community_id)


# --- signing up and cancelling ---------------------------------------------------------------------


def sign_up(ctx: Context, session_id: int, *, waiting: bool) -> list[Reply]:
    t = ctx.t
    tasting, session, community = _session(ctx, session_id)
    try:
        participant = store.sign_up(ctx.db, tasting, session, ctx.member.id, now=ctx.now, waiting=waiting)
    except TastingError as error:
        message = tasting_error(t, error)
        if error.code == "full":
            offer = Option("⏳ " + t._("Join the waiting list"), f"ts:wl:{session.id}")
            return _to_member(ctx, [Choices(text=message + " " + t._("Would you like to join its waiting list?"), options=(offer,))])
        mine = store.participant_of(ctx.db, tasting.id, ctx.member.id)
        if error.code in ("already_booked", "already_waiting") and mine is not None:
            return _to_member(ctx, [Choices(text=message, options=(_cancel_button(t, mine),))])
        raise HandlerError(message) from None
    _refresh(ctx, tasting, community)
    if participant.waiting:
        return _to_member(ctx, _waiting_replies(ctx, t, tasting, participant, community))
    _schedule_reminders(ctx, tasting, session, participant)
    return _to_member(ctx, booked_replies(ctx, t, tasting, participant, community, lead="✅ " + t._("You have a place!")))


def _promote(ctx: Effects, tasting: store.Tasting, promoted: store.Participant, community: Community) -> None:
    session = store.get_session(ctx.db, promoted.session_id)
    member = community_store.get_member(ctx.db, promoted.member_id) if promoted.member_id else None
    if session is None or member is None:
        return
    _schedule_reminders(ctx, tasting, session, promoted)
    ctx.send_to_member(
        member,
        lambda t: booked_replies(ctx, t, tasting, promoted, community, lead="🎉 " + t._("Good news: a place opened up, and it's yours!")),
        community=community,
        purpose="reminder",
        dedupe_key=f"tasting.promoted:{promoted.id}:{ctx.now.isoformat()}",
    )


def _give_up(ctx: Effects, tasting: store.Tasting, participant: store.Participant, community: Community) -> None:
    """Free a place (or a spot on the waiting list): its reminders go, the next in line moves up."""
    promoted = store.cancel(ctx.db, participant, now=ctx.now)
    scheduler.cancel_prefix(ctx.db, _jobs_prefix(participant))
    if promoted is not None:
        _promote(ctx, tasting, promoted, community)
    _refresh(ctx, tasting, community)


def _before_forget(ctx: Effects, member: Member) -> None:
    """A member who asks to be forgotten gives up their places in open tastings first, so that the
    waiting list moves up; a place already checked in stays (its answers count, unlinked)."""
    for tasting, participant in store.memberships(ctx.db, member.id):
        if not participant.checked_in:
            _give_up(ctx, tasting, participant, _community_of(ctx, tasting))


def cancel_place(ctx: Context, participant_id: int) -> list[Reply]:
    t = ctx.t
    tasting, participant, community = _own(ctx, participant_id)
    if participant.status == "cancelled":
        return [Text(text=t._("You have no place in this tasting now."))]
    try:
        _give_up(ctx, tasting, participant, community)
    except TastingError as error:
        raise HandlerError(tasting_error(t, error)) from None
    if participant.waiting:
        return [Text(text=t._("You have left the waiting list of “{title}”.", title=tasting.definition.title.pick(t.language)))]
    return [Text(text=t._("Your place in “{title}” is cancelled. Thank you for letting us know!", title=tasting.definition.title.pick(t.language)))]


def _confirm_cancel(ctx: Context, participant_id: int) -> list[Reply]:
    t = ctx.t
    tasting, participant, community = _own(ctx, participant_id)
    if participant.status == "cancelled":
        return [Text(text=t._("You have no place in this tasting now."))]
    question = t._("Leave the waiting list of “{title}”?") if participant.waiting else t._("Cancel your place in “{title}”?")
    return [Choices(
        text=question.format(title=tasting.definition.title.pick(t.language)),
        options=(Option(t._("Yes, cancel"), f"ts:xy:{participant.id}"), Option(t._("No, keep it"), f"ts:keep:{participant.id}")),
    )]


# --- sessions: cancelling one ----------------------------------------------------------------------


def cancel_session(ctx: Context, session_id: int) -> list[Reply]:
    t = ctx.t
    tasting, session, community = _session(ctx, session_id)
    ctx.require_organiser(t._("cancel sessions"))
    if session.cancelled:
        return [Text(text=t._("Session {number} was cancelled already.", number=session.number))]
    affected = store.cancel_session(ctx.db, session, now=ctx.now)
    point = _point(ctx, session)
    for participant in affected:
        scheduler.cancel_prefix(ctx.db, _jobs_prefix(participant))
        member = community_store.get_member(ctx.db, participant.member_id) if participant.member_id else None
        if member is None:
            continue

        def notice(mt: Translator) -> Reply:
            return Text(text="\n".join([
                "❌ " + mt._("Sorry: this session of “{title}” is cancelled.", title=tasting.definition.title.pick(mt.language)),
                session_when(mt, session, community) + f" · {point.name}",
                mt._("Your place is released. Send /tasting to see the other sessions."),
            ]))

        ctx.send_to_member(member, notice, community=community, purpose="reminder", dedupe_key=f"tasting.session_cancelled:{session.id}:{participant.id}")
    _refresh(ctx, tasting, community)
    return [Text(text=t.n_(
        "Session {number} is cancelled. I told the {n} person who had signed up for it.",
        "Session {number} is cancelled. I told the {n} people who had signed up for it.",
        len(affected), number=session.number,
    ))]


def _sessions(ctx: Context, args: str) -> list[Reply]:
    t = ctx.t
    ctx.require_organiser(t._("manage tastings"))
    tasting = _pick_tasting(ctx, args)
    community = _community_of(ctx, tasting)
    lines = [_title(t, tasting)]
    options = []
    for session in store.sessions(ctx.db, tasting.id):
        booked = store.participants(ctx.db, tasting.id, session_id=session.id, statuses=("booked",))
        checked = sum(1 for p in booked if p.checked_in)
        lines.append(f"{session.number}. " + _session_line(ctx, t, session, community)
                     + " · " + t._("{booked} booked, {checked} checked in", booked=len([p for p in booked if p.source == "chat"]), checked=checked))
        if not session.cancelled and session.ends_at > ctx.now:
            options.append(Option(t._("Cancel session {number}", number=session.number), f"ts:cs:{session.id}"))
    if options:
        return [Choices(text="\n".join(lines), options=tuple(options))]
    return [Text(text="\n".join(lines))]


# --- reminders -------------------------------------------------------------------------------------


def _here_button(t: Translator, participant: store.Participant) -> Option:
    return Option("📍 " + t._("I'm here"), f"ts:here:{participant.id}")


def job_remind(ctx: JobContext, job: Job) -> None:
    participant = store.get_participant(ctx.db, int(job.payload["participant"]))
    if participant is None or not participant.booked or participant.checked_in or participant.member_id is None:
        return
    tasting = store.get_tasting(ctx.db, participant.tasting_id)
    session = store.get_session(ctx.db, participant.session_id)
    member = community_store.get_member(ctx.db, participant.member_id)
    if tasting is None or session is None or member is None or not tasting.is_open or session.cancelled:
        return
    community = _community_of(ctx, tasting)
    if community_store.role_of(ctx.db, community.id, member.id) is None:
        return  # they left the community
    point = _point(ctx, session)
    soon = job.payload.get("which") == "2h"
    buttons = _buttons(ctx, member)

    def reminder(t: Translator) -> list[Reply]:
        title = tasting.definition.title.pick(t.language)
        head = (t._("⏰ In two hours: tasting “{title}”.", title=title) if soon else t._("⏰ Tomorrow: tasting “{title}”.", title=title))
        if tasting.mode is Mode.HOME_USE:
            what = t._("Pick up your kit there.")
        elif buttons:
            what = t._("When you get there, tap “I'm here” (or an organiser checks you in).")
        else:
            what = t._("When you get there, reply 1 for “I'm here” (or an organiser checks you in).")
        return [
            Text(text="\n".join([head, session_when(t, session, community) + f" · {point.name}", what])),
            point_pin(t, point),
            Choices(text=t._("Can't come after all? Please give your place to someone else."), options=(_here_button(t, participant), _cancel_button(t, participant))),
        ]

    ctx.send_to_member(member, reminder, community=community, purpose="reminder", dedupe_key=f"tasting.remind:{participant.id}:{session.id}:{job.payload.get('which')}")


# --- check-in --------------------------------------------------------------------------------------


def _checkin_sessions(ctx: Context, community: Community) -> list[tuple[store.Tasting, store.Session]]:
    found = []
    for tasting in store.tastings(ctx.db, community.id, open_only=True):
        for session in store.sessions(ctx.db, tasting.id):
            if not session.cancelled and session.starts_at - ORGANISER_CHECKIN_EARLY <= ctx.now <= session.ends_at + timedelta(hours=1):
                found.append((tasting, session))
    return found


def _checkin_view(ctx: Effects, t: Translator, tasting: store.Tasting, session: store.Session, community: Community, *,
                  codes: bool, buttons: bool) -> tuple[str, list[Option]]:
    booked = [p for p in store.participants(ctx.db, tasting.id, session_id=session.id, statuses=("booked",)) if p.source == "chat"]
    here = sum(1 for p in booked if p.checked_in)
    if buttons:
        how = t._("{here} of {booked} here. Tap a name to check them in (tap again to undo).", here=here, booked=len(booked))
    else:
        how = t._("{here} of {booked} here. Reply with a name's number to check them in (the same number again to undo).", here=here, booked=len(booked))
    lines = [
        t._("Check-in, session {number} of “{title}”", number=session.number, title=tasting.definition.title.pick(t.language)),
        session_when(t, session, community) + f" · {_point(ctx, session).name}",
        how,
    ]
    products = store.products(ctx.db, tasting.id)
    options = []
    for participant in booked:
        member = community_store.get_member(ctx.db, participant.member_id) if participant.member_id else None
        name = member.display_name if member else participant.label
        mark = "✅" if participant.checked_in else "⬜"
        options.append(Option(f"{mark} {name} ({participant.label})", f"ts:ci:{participant.id}"))
        if codes:
            order = " → ".join(str(p.code) for p in store.serving_order(products, participant))
            lines.append(f"{participant.label} {name}: {order}")
    if not booked:
        lines.append(t._("Nobody has a place in this session."))
    return "\n".join(lines), options


def _checkin_list(ctx: Context, tasting: store.Tasting, session: store.Session, community: Community, *, edit: bool = False) -> Reply:
    t = ctx.ct if ctx.in_group else ctx.t
    text, options = _checkin_view(ctx, t, tasting, session, community, codes=not ctx.in_group, buttons=ctx.buttons)
    key = f"checkin:{session.id}"
    if edit:
        return Edit(key=key, text=text, options=tuple(options), fallback=True)
    if options:
        return Choices(text=text, options=tuple(options), key=key)
    return Text(text=text, key=key)


def cmd_checkin(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    t = ctx.t
    if not ctx.is_organiser(community):
        return _self_checkin(ctx, community)
    found = _checkin_sessions(ctx, community)
    wanted = whole_number(cmd.args.strip())
    if wanted is not None:
        found = [(tasting, s) for tasting, s in found if s.number == wanted]
    if not found:
        return Text(text=t._("No session is on right now: check-in opens an hour before a session starts."))
    if len(found) > 1:
        return Choices(
            text=t._("Which session?"),
            options=tuple(Option(f"#{tasting.number} · {session_when(t, s, community)}", f"ts:cl:{s.id}") for tasting, s in found),
        )
    tasting, session = found[0]
    return _checkin_list(ctx, tasting, session, community)


def _toggle_checkin(ctx: Context, participant_id: int) -> list[Reply]:
    t = ctx.t
    participant = store.get_participant(ctx.db, participant_id)
    if participant is None:
        return [Ack(text=t._("This button no longer works."))]
    tasting, community = _tasting(ctx, participant.tasting_id)
    session = store.get_session(ctx.db, participant.session_id)
    assert session is not None
    if not ctx.is_organiser(community):
        return [Ack(text=t._("Only organisers can {what}.", what=t._("check people in")))]
    if not participant.booked:
        return [Ack(text=t._("{label} has no place in this session any more.", label=participant.label)), _checkin_list(ctx, tasting, session, community, edit=True)]
    if participant.checked_in:
        if not store.undo_check_in(ctx.db, participant):
            return [Ack(text=t._("{label} has started answering, so the check-in stays.", label=participant.label))]
        return [Ack(text=t._("Check-in of {label} undone.", label=participant.label)), _checkin_list(ctx, tasting, session, community, edit=True)]
    if session.starts_at - ORGANISER_CHECKIN_EARLY > ctx.now:
        return [Ack(text=t._("Check-in opens an hour before the session starts."))]
    if not tasting.is_open:
        return [Ack(text=tasting_error(t, TastingError("closed", number=tasting.number)))]
    store.check_in(ctx.db, participant, by=ctx.member.id, method="organiser", now=ctx.now)
    _after_checkin(ctx, tasting, participant, community)
    return [Ack(text=t._("{label} is checked in.", label=participant.label)), _checkin_list(ctx, tasting, session, community, edit=True)]


def _after_checkin(ctx: Effects, tasting: store.Tasting, participant: store.Participant, community: Community) -> None:
    """Checked in by an organiser: the questionnaire goes to the member's private chat (on-site),
    or the tasting time is booked (home use)."""
    member = community_store.get_member(ctx.db, participant.member_id) if participant.member_id else None
    if member is None:
        return
    checked = store.get_participant(ctx.db, participant.id)
    assert checked is not None and checked.checked_in_at is not None
    # A check-in undone and made again is a new check-in: the member hears of it again.
    again = checked.checked_in_at.isoformat()
    if tasting.mode is Mode.HOME_USE:
        _book_tasting_time(ctx, tasting, checked)
        # Purpose ``reminder``: like the reminders, it is about the place the member booked, so a
        # closed WhatsApp window sends it as that template (or the organisers hear who missed it).
        ctx.send_to_member(member, lambda t: Text(text=_kit_text(ctx, t, tasting, checked, community)), community=community,
                           purpose="reminder", dedupe_key=f"tasting.kit:{participant.id}:{again}")
        return
    _send_questionnaire(ctx, tasting, checked, member, community, lead="checked_in", again=again)


def _kit_text(ctx: Effects, t: Translator, tasting: store.Tasting, participant: store.Participant, community: Community) -> str:
    session = store.get_session(ctx.db, participant.session_id)
    when = t.datetime(session.taste_at, community.tz) if session and session.taste_at else ""
    return "✅ " + t._("You have your kit. I'll send you the questions on {when}. Please don't taste the samples before then.", when=when)


def _book_tasting_time(ctx: Effects, tasting: store.Tasting, participant: store.Participant) -> None:
    session = store.get_session(ctx.db, participant.session_id)
    if session is None or session.taste_at is None:
        return
    ctx.schedule("tasting.taste", max(session.taste_at, ctx.now), {"participant": participant.id},
                 dedupe_key=f"{_jobs_prefix(participant)}taste", community_id=tasting.community_id)


def job_taste(ctx: JobContext, job: Job) -> None:
    """Home use: the tasting time has come for a member who picked up their kit."""
    participant = store.get_participant(ctx.db, int(job.payload["participant"]))
    if participant is None or not participant.checked_in or participant.member_id is None:
        return
    tasting = store.get_tasting(ctx.db, participant.tasting_id)
    member = community_store.get_member(ctx.db, participant.member_id)
    if tasting is None or member is None or not tasting.is_open:
        return
    _send_questionnaire(ctx, tasting, participant, member, _community_of(ctx, tasting), lead="taste")


def _self_checkin(ctx: Context, community: Community) -> list[Reply]:
    t = ctx.t
    mine = [(tasting, p) for tasting, p in store.memberships(ctx.db, ctx.member.id) if p.booked and tasting.community_id == community.id]
    if not mine:
        raise HandlerError(t._("You have no place in a tasting. Send /tasting to see what is on."))
    for tasting, participant in mine:
        session = store.get_session(ctx.db, participant.session_id)
        if session is not None and session.starts_at - SELF_CHECKIN_EARLY <= ctx.now <= session.ends_at:
            return _start_self_checkin(ctx, tasting, participant)
    tasting, participant = mine[0]
    session = store.get_session(ctx.db, participant.session_id)
    assert session is not None
    if session.ends_at < ctx.now:
        raise HandlerError(t._("Your session is over. If you were there, ask an organiser to check you in."))
    raise HandlerError(t._("Check-in opens half an hour before your session: {when}.", when=t.datetime(session.starts_at - SELF_CHECKIN_EARLY, community.tz)))


def _start_self_checkin(ctx: Context, tasting: store.Tasting, participant: store.Participant) -> list[Reply]:
    t = ctx.t
    if participant.checked_in:
        return _continue(ctx, tasting, participant)
    session = store.get_session(ctx.db, participant.session_id)
    assert session is not None
    if not session.starts_at - SELF_CHECKIN_EARLY <= ctx.now <= session.ends_at:
        raise HandlerError(t._("Check-in opens half an hour before your session: {when}.", when=t.datetime(session.starts_at - SELF_CHECKIN_EARLY, _community_of(ctx, tasting).tz)))
    return _as_acks(ctx, conv.start_flow(ctx, CHECKIN_FLOW, {"p": participant.id}, private=True))


def _ask_location(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    participant = store.get_participant(ctx.db, int(c.data["p"]))
    session = store.get_session(ctx.db, participant.session_id) if participant else None
    point = _point(ctx, session).name if session else "?"
    return Choices(
        text=t._("To check in, share your location (📎 → Location) so I can see you're at {point}.", point=point),
        options=(c.option(t._("Cancel"), "cancel"),),
    )


def _take_location(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    if a.choice == "cancel":
        return Finish((Text(text=t._("All right: not checked in. An organiser can check you in at the table too.")),))
    if a.location is None:
        if ctx.buttons:
            return Retry(t._("Please share your location (📎 → Location), or tap Cancel."))
        return Retry(t._("Please share your location (📎 → Location), or reply 1 to cancel."))
    participant = store.get_participant(ctx.db, int(c.data["p"]))
    tasting = store.get_tasting(ctx.db, participant.tasting_id) if participant else None
    session = store.get_session(ctx.db, participant.session_id) if participant else None
    if participant is None or tasting is None or session is None or not participant.booked or session.cancelled or not tasting.is_open:
        return Finish((Text(text=t._("You have no place in this tasting now.")),))
    if participant.checked_in:
        return Finish((Text(text=t._("You are checked in already.")),))
    if not session.starts_at - SELF_CHECKIN_EARLY <= ctx.now <= session.ends_at:
        return Finish((Text(text=t._("Check-in is open from half an hour before the session until its end.")),))
    point = _point(ctx, session)
    metres = point_store.distance_m(point, *a.location)
    if metres > CHECKIN_RADIUS_M:
        distance = t.number(metres / 1000, 1) + " km" if metres >= 1000 else f"{int(metres)} m"
        return Retry(t._("You seem to be {distance} from {point}. Share your location again when you are there.", distance=distance, point=point.name))
    store.check_in(ctx.db, participant, by=None, method="location", now=ctx.now)
    checked = store.get_participant(ctx.db, participant.id)
    assert checked is not None
    community = _community_of(ctx, tasting)
    if tasting.mode is Mode.HOME_USE:
        _book_tasting_time(ctx, tasting, checked)
        return Finish((Text(text=_kit_text(ctx, t, tasting, checked, community)),))
    replies = _open_questionnaire(ctx, tasting, checked, ctx.member, community, lead="checked_in")
    return Finish(tuple(replies))


# --- the questionnaire ---------------------------------------------------------------------------


def _load(ctx: Effects, participant_id: int) -> tuple[store.Tasting, store.Participant, list[store.Product]] | None:
    participant = store.get_participant(ctx.db, participant_id)
    tasting = store.get_tasting(ctx.db, participant.tasting_id) if participant else None
    if participant is None or tasting is None:
        return None
    return tasting, participant, store.products(ctx.db, tasting.id)


def _current(ctx: Effects, tasting: store.Tasting, participant: store.Participant, products: list[store.Product], c: Conversation) -> Ask | None:
    order = store.serving_order(products, participant)
    return next_ask(tasting.definition, order, store.answers(ctx.db, participant.id), c.data.get("cur"))


def _code(products: list[store.Product], product_id: int | None) -> int:
    return next(p.code for p in products if p.id == product_id)


def _scale_options(c: Conversation, ask: Ask, labels: list[str], *, buttons: bool) -> tuple[Option, ...]:
    return tuple(c.option(f"{value} · {label}" if buttons else label, f"{ask.token}.{value}") for value, label in enumerate(labels, start=1))


def question_reply(ctx: Effects, t: Translator, member: Member, tasting: store.Tasting, participant: store.Participant,
                   products: list[store.Product], c: Conversation, lead: str | None = None) -> Reply:
    """The current question in ``t``'s language, with buttons (or numbers where there are none)."""
    definition = tasting.definition
    buttons = _buttons(ctx, member)
    ask = _current(ctx, tasting, participant, products, c)
    k = len(products)
    lines: list[str] = []
    if lead == "checked_in" or lead == "taste":
        lines.append(("✅ " + t._("You're checked in. Welcome!")) if lead == "checked_in" else ("🍽 " + t._("It's tasting time!")))
        lines.append(t.n_(
            "You'll taste {n} sample, one at a time, and answer a few questions about each. Your answers are saved as you go; /cancel pauses, /tasting continues.",
            "You'll taste {n} samples, one at a time, and answer a few questions about each. Your answers are saved as you go; /cancel pauses, /tasting continues.",
            k,
        ))
        lines.append("")
    elif lead == "resume":
        lines += [t._("Welcome back! Let's continue where you stopped."), ""]
    if ask is None:
        return Text(text=t._("Thank you! You have answered everything."))
    if ask.kind == "code":
        code = _code(products, ask.product_id)
        if tasting.mode is Mode.HOME_USE:
            lines.append(t._("Sample {position} of {count}: take the pack marked {code}.", position=ask.position, count=k, code=code))
        else:
            lines.append(t._("Sample {position} of {count}: please take the cup marked {code}.", position=ask.position, count=k, code=code))
        if buttons:
            lines.append(t._("Check the code and tap it to start (if your cup shows another code, type that code)."))
        else:
            lines.append(t._("Check the code and reply 1 to start (if your cup shows another code, type that code)."))
        return Choices(text="\n".join(lines), options=(c.option(f"✓ {code}", f"{ask.token}.ok"),))
    sample = _code(products, ask.product_id) if ask.product_id is not None else None
    if ask.kind == "liking":
        lines.append(t._("Sample {code}: how much do you like it overall?", code=sample))
        if not buttons:
            lines.append(t._("Reply with a number from 1 to {high}.", high=LIKING_POINTS))
        return Choices(text="\n".join(lines), options=_scale_options(c, ask, [t._(label) for label in HEDONIC_LABELS], buttons=buttons))
    if ask.kind == "jar":
        attribute = definition.jar_attribute(ask.key or "")
        assert attribute is not None
        labels = [label.pick(t.language) for label in attribute.labels] or [t._(label) for label in JAR_LABELS]
        lines.append(t._("Sample {code}: how is the {attribute}?", code=sample, attribute=attribute.name.pick(t.language)))
        if not buttons:
            lines.append(t._("Reply with a number from 1 to {high}.", high=len(labels)))
        return Choices(text="\n".join(lines), options=_scale_options(c, ask, labels, buttons=buttons))
    if ask.kind == "cata":
        selected: list[str] = c.data.get("sel", [])
        lines.append(t._("Sample {code}: which of these words describe it?", code=sample))
        if buttons:
            lines.append(t._("Tap all that apply, then Done."))
        else:
            lines.append(t._("Send the numbers of all that apply, for example 1, 3 (or 0 for none of them)."))
        options = [c.option(("✓ " if term.key in selected else "") + term.label.pick(t.language), f"{ask.token}.{term.key}") for term in definition.cata]
        if buttons:
            options.append(c.option("✅ " + t._("Done") if selected else t._("None of these"), f"{ask.token}.{DONE}"))
        return Choices(text="\n".join(lines), options=tuple(options))
    if ask.kind == "comment":
        if buttons:
            lines.append(t._("Sample {code}: anything else you'd like to say about it? Write a comment, or tap Skip.", code=sample))
        else:
            lines.append(t._("Sample {code}: anything else you'd like to say about it? Write a comment, or send - to skip.", code=sample))
        return Choices(text="\n".join(lines), options=(c.option(t._("Skip"), f"{ask.token}.{SKIP}"),))
    order = store.serving_order(products, participant)
    tasted = sorted(order, key=lambda p: _positions(ctx, participant).get(p.id, 99))
    if ask.kind == "preference":
        lines.append(t._("Last question: which sample did you like best?"))
        return Choices(text="\n".join(lines), options=tuple(c.option(str(p.code), f"{ask.token}.{p.code}") for p in tasted))
    picked: list[int] = c.data.get("rk", [])
    left = [p for p in tasted if p.code not in picked]
    if not picked:
        lines.append(t._("Last question: put the samples in order. Which did you like most?"))
        lines.append(t._("(You can also type them all at once, best first, for example {example}.)", example=" ".join(str(p.code) for p in tasted)))
    else:
        lines.append(t._("Your order so far: {codes}. Which comes next?", codes=" > ".join(str(code) for code in picked)))
    return Choices(text="\n".join(lines), options=tuple(c.option(str(p.code), f"{ask.token}.{p.code}") for p in left))


def _positions(ctx: Effects, participant: store.Participant) -> dict[int, int]:
    return {product_id: answer.position or 0 for (product_id, _q), answer in store.answers(ctx.db, participant.id).items()}


def _ask(ctx: Context, c: Conversation) -> HandlerResult:
    loaded = _load(ctx, int(c.data.get("p", 0)))
    if loaded is None:
        return Text(text=ctx.t._("This tasting no longer exists."))
    tasting, participant, products = loaded
    lead = c.data.pop("lead", None)
    if lead:
        conv.save(ctx, c)
    return question_reply(ctx, ctx.t, ctx.member, tasting, participant, products, c, lead)


def _numbers(text: str) -> list[int] | None:
    numbers = [whole_number(p) for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not numbers or None in numbers:
        return None
    return [n for n in numbers if n is not None]


def _take(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    loaded = _load(ctx, int(c.data.get("p", 0)))
    if loaded is None:
        return Finish((Text(text=t._("This tasting no longer exists.")),))
    tasting, participant, products = loaded
    if not tasting.is_open:
        return Finish((Text(text=t._("This tasting has closed. Thank you: what you answered before is kept.")),))
    if not participant.booked or not participant.checked_in:
        return Finish((Text(text=t._("Only people who are checked in at the session answer the questions.")),))
    if _invited_only(ctx, c, participant):
        return Goto("ask")
    ask = _current(ctx, tasting, participant, products, c)
    if ask is None:
        return Finish((Text(text=t._("Thank you! You have answered everything.")),))
    value = a.text
    if a.choice is not None:
        token, _, value = a.choice.partition(".")
        if token != ask.token:
            return Retry(t._("That button belongs to an earlier question. Here is the current one:"))
    if not value:
        if ctx.buttons:
            return Retry(t._("Please tap one of the buttons or type your answer."))
        return Retry(t._("Please reply with one of the numbers or type your answer."))
    definition = tasting.definition
    by_code = {str(p.code): p for p in products}

    def save(product_id: int, question: str, stored: str | None) -> None:
        store.save_answer(ctx.db, participant.id, product_id, question, stored, position=ask.position or None, source="chat", now=ctx.now)

    try:
        if ask.kind == "code":
            if a.choice is not None or value == str(_code(products, ask.product_id)):
                c.data["cur"] = ask.product_id
            elif value.strip() in by_code:
                chosen = by_code[value.strip()]
                if chosen.id in _positions(ctx, participant):
                    return Retry(t._("You have rated sample {code} already. Please check the code on your cup.", code=chosen.code))
                c.data["cur"] = chosen.id
            else:
                raise TastingError("unknown_code", code=value.strip())
        elif ask.kind in ("liking", "jar", "comment"):
            assert ask.product_id is not None
            skipped = ask.kind == "comment" and (value.strip() == "-" or (a.choice is not None and value == SKIP))
            save(ask.product_id, ask.question, parse_value(definition, ask.question, "" if skipped else value, products=len(products)))
        elif ask.kind == "cata":
            assert ask.product_id is not None
            selected: list[str] = c.data.setdefault("sel", [])
            keys = [term.key for term in definition.cata]
            if isinstance(a.event, ChoicePicked) and _buttons(ctx, ctx.member) and value != DONE:
                if value not in keys:
                    return Retry(t._("Please tap one of the buttons or type your answer."))
                selected.remove(value) if value in selected else selected.append(value)
                return Goto("ask")
            if value != DONE:
                if a.choice is not None and value in keys:
                    selected = [value]  # without buttons a picked number is the whole answer
                else:
                    picks = _numbers(value)
                    if picks is None or any(not 0 <= n <= len(keys) for n in picks) or (0 in picks and len(picks) > 1):
                        return Retry(t._("Please send the numbers of the words that apply, from 1 to {high}, for example 1, 3; or 0 for none.", high=len(keys)))
                    selected = [keys[n - 1] for n in picks if n]
            for key in keys:
                save(ask.product_id, f"cata.{key}", "1" if key in selected else "0")
            c.data.pop("sel", None)
        elif ask.kind == "preference":
            preferred = by_code.get(value.strip())
            if preferred is None:
                raise TastingError("unknown_code", code=value.strip())
            for product in products:
                save(product.id, "preference", "1" if product.id == preferred.id else "0")
        elif ask.kind == "rank":
            picked: list[int] = c.data.setdefault("rk", [])
            codes = _numbers(value) or []
            unknown = [str(code) for code in codes if str(code) not in by_code]
            if not codes or unknown:
                raise TastingError("unknown_code", code=(unknown or [value.strip()])[0])
            if len(codes) > 1:
                if sorted(codes) != sorted(p.code for p in products):
                    return Retry(t._("Please list every sample once, best first, for example {example}.", example=" ".join(str(p.code) for p in products)))
                picked[:] = codes
            elif codes[0] in picked:
                return Retry(t._("You have placed sample {code} already. Which comes next?", code=codes[0]))
            else:
                picked.append(codes[0])
            if len(picked) == len(products) - 1:
                picked.append(next(p.code for p in products if p.code not in picked))
            if len(picked) < len(products):
                return Goto("ask")
            for rank, code in enumerate(picked, start=1):
                save(by_code[str(code)].id, "rank", str(rank))
            c.data.pop("rk", None)
    except TastingError as error:
        return Retry(tasting_error(t, error))
    if _current(ctx, tasting, participant, products, c) is None:
        store.complete(ctx.db, participant.id, ctx.now)
        thanks = definition.thanks.pick(t.language) if definition.thanks else t._("Thank you! That was the last question: your answers are saved.")
        return Finish((Text(text="🙏 " + thanks),))
    return Goto("ask")


def _on_cancel(ctx: Context, c: Conversation) -> HandlerResult:
    return Text(text=ctx.t._("Paused. Your answers so far are saved; send /tasting to continue."))


def _opened_questionnaire(ctx: Effects, tasting: store.Tasting, participant: store.Participant, member: Member, community: Community,
                          *, lead: str) -> tuple[Conversation, Reply]:
    """Store the questionnaire as the member's conversation in their private chat and render its
    current question in their language."""
    flow = ctx.core.router.flows[FLOW]
    c = conv.open_for(ctx.db, member_id=member.id, chat_ref=ctx.private_chat_ref(member), flow=flow, data={"p": participant.id}, now=ctx.now)
    t = ctx.translator_for(member, community)
    return c, question_reply(ctx, t, member, tasting, participant, store.products(ctx.db, tasting.id), c, lead)


def _open_questionnaire(ctx: Effects, tasting: store.Tasting, participant: store.Participant, member: Member, community: Community, *, lead: str) -> list[Reply]:
    return [_opened_questionnaire(ctx, tasting, participant, member, community, lead=lead)[1]]


def _invitation(t: Translator, tasting: store.Tasting, lead: str) -> str:
    """What a member gets instead of the first question where the messenger allows only an approved
    template (WhatsApp, 24 hours after their last message): any answer brings the question."""
    title = tasting.definition.title.pick(t.language)
    if lead == "taste":
        return "🍽 " + t._("It's tasting time for “{title}”! Reply to this message and I'll send you the questions.", title=title)
    return "✅ " + t._("You're checked in at “{title}”. Reply to this message and I'll send you the questions.", title=title)


def _send_questionnaire(ctx: Effects, tasting: store.Tasting, participant: store.Participant, member: Member, community: Community, *,
                        lead: str, again: str = "") -> None:
    """For a member who is not the one speaking (an organiser checked them in, the tasting time came).

    The question carries an invitation for messengers that allow only an approved template just
    now (purpose ``tasting_questions``); the conversation remembers the outbox row, so that the
    member's answer to an invitation (whatever they write) brings the question instead of
    answering it, and the question's reply button (``ts:go``) resumes the questionnaire. ``again``
    tells this sending from an earlier one of the same ``lead`` (a check-in undone and made again).
    """
    chat = ctx.private_chat_ref(member)
    t = ctx.translator_for(member, community)
    invitation = _invitation(t, tasting, lead)
    go = f"ts:go:{participant.id}"
    current = conv.load(ctx.db, member.id, chat)
    opened: Conversation | None = None
    if current is not None and current.flow != FLOW:
        # Another conversation is under way there (a poll being written): do not break it.
        text = ("✅ " + t._("You're checked in. Welcome!")) if lead == "checked_in" else ("🍽 " + t._("It's tasting time!"))
        reply: Reply = Choices(text=text, options=(Option(t._("Start the questions"), go),), invitation=invitation, invitation_payload=go)
    else:
        opened, reply = _opened_questionnaire(ctx, tasting, participant, member, community, lead=lead)
        if isinstance(reply, Choices):
            reply = dataclasses.replace(reply, invitation=invitation, invitation_payload=go)
    [row] = ctx.send(chat, reply, member_id=member.id, community_id=community.id, purpose="tasting_questions",
                     dedupe_key=f"tasting.q:{participant.id}:{lead}" + (f":{again}" if again else ""))
    if opened is not None and row is not None:
        opened.data["via"] = {"row": row, "lead": lead}
        conv.save(ctx, opened)


def _invited_only(ctx: Context, c: Conversation, participant: store.Participant) -> bool:
    """The member answers a message that reached them as an invitation (or not at all), not the
    question itself: the question comes now, and what they wrote is not taken as its answer."""
    via = c.data.pop("via", None)
    if not isinstance(via, dict) or outbox.seen(ctx.db, int(via.get("row", 0))) is not False:
        return False
    c.data["lead"] = "resume" if store.answers(ctx.db, participant.id) else str(via.get("lead") or "checked_in")
    return True


def _continue(ctx: Context, tasting: store.Tasting, participant: store.Participant) -> list[Reply]:
    t = ctx.t
    if not participant.checked_in:
        if ctx.buttons:
            raise HandlerError(t._("Please check in at the session first: tap “I'm here” there, or ask an organiser."))
        raise HandlerError(t._("Please check in at the session first: send /checkin there, or ask an organiser."))
    if not tasting.is_open:
        raise HandlerError(t._("This tasting has closed. Thank you: what you answered before is kept."))
    products = store.products(ctx.db, tasting.id)
    if next_ask(tasting.definition, store.serving_order(products, participant), store.answers(ctx.db, participant.id)) is None:
        return [Text(text=t._("You have answered everything. Thank you!"))]
    lead = "resume" if store.answers(ctx.db, participant.id) else ("taste" if tasting.mode is Mode.HOME_USE else "checked_in")
    return _as_acks(ctx, conv.start_flow(ctx, FLOW, {"p": participant.id, "lead": lead}, private=True))


def _as_acks(ctx: Context, replies: list[Reply]) -> list[Reply]:
    """A button pressed in a group is answered with a notice only the presser sees, not a group post."""
    if isinstance(ctx.event, ChoicePicked) and ctx.in_group:
        return [Ack(text=r.text) if isinstance(r, Text) else r for r in replies]
    return replies


# --- /tasting ------------------------------------------------------------------------------------------


def _overview(ctx: Context) -> list[Reply]:
    community = ctx.require_community()
    t = ctx.t
    open_tastings = store.tastings(ctx.db, community.id, open_only=True)
    if not open_tastings:
        text = t._("There is no open tasting right now.")
        if ctx.is_organiser():
            text += "\n" + t._("Start one with /tasting start NAME (a file in config/tastings) or /tasting new.")
        return [Text(text=text)]
    replies: list[Reply] = []
    for tasting in reversed(open_tastings):
        participant = store.participant_of(ctx.db, tasting.id, ctx.member.id)
        if participant is None or participant.status == "cancelled":
            replies.append(announcement(ctx, t, tasting, community))
            continue
        session = store.get_session(ctx.db, participant.session_id)
        assert session is not None
        where = session_when(t, session, community) + f" · {_point(ctx, session).name}"
        if participant.waiting:
            replies.append(Choices(text="\n".join([_title(t, tasting), t._("You're on the waiting list for {where}.", where=where)]),
                                   options=(_cancel_button(t, participant),)))
            continue
        lines = [_title(t, tasting), t._("You have a place: {where} (participant {label}).", where=where, label=participant.label)]
        options = []
        if participant.checked_in:
            if participant.completed_at is not None:
                lines.append(t._("You have answered everything. Thank you!"))
            else:
                options.append(Option("▶ " + t._("Continue the questions"), f"ts:go:{participant.id}"))
        else:
            options.append(_cancel_button(t, participant))
        replies.append(Choices(text="\n".join(lines), options=tuple(options)) if options else Text(text="\n".join(lines)))
    return replies


def _load_file(t: Translator, name: str, community: Community, now: datetime) -> tuple[Definition, str]:
    if not NAME.match(name):
        raise HandlerError(t._("“{name}” is not a tasting name. Send /tasting list to see the tasting files.", name=name))
    path = tasting_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in tasting_dir().glob("*.toml"))) or "–"
        raise HandlerError(t._("I can't find a tasting file called “{name}”. Files: {known}", name=name, known=known))
    try:
        definition, source, _warnings = load(path, tz=community.tz, now=now)
    except TastingFileError as error:
        shown = [str(p) for p in error.problems if not p.warning][:PROBLEMS_SHOWN]
        raise HandlerError("\n".join([
            t._("The tasting file {file} has problems, so nothing was started:", file=path.name), *shown,
            t._("Check it with: localbot tasting validate {file}", file=str(path)),
        ])) from None
    return definition, source


def _launch(ctx: Context, community: Community, definition: Definition, source: str) -> list[Reply]:
    """Place the sessions at the community's pickup points, store the tasting and announce it."""
    t = ctx.t
    planned = []
    for index, session in enumerate(definition.sessions, start=1):
        point = point_store.find_point(ctx.db, community.id, session.point)
        if point is None:
            raise HandlerError(t._(
                "Session {number} is at “{point}”, but {community} has no pickup point of that name. Add it with /addpoint, or fix the file. Nothing was started.",
                number=index, point=session.point, community=community.name,
            ))
        start, end, taste_at = session.resolved(community.tz)
        if start <= ctx.now:
            raise HandlerError(t._("Session {number} starts in the past ({when}). Nothing was started.", number=index, when=t.datetime(start, community.tz)))
        planned.append(store.PlannedSession(point.id, start, end, taste_at, session.places))
    in_groups = group_members_to_ask(ctx, community)
    tasting = store.create_tasting(ctx.db, community_id=community.id, definition=definition, source=source, sessions=planned,
                                   created_by=ctx.member.id, now=ctx.now)
    held_back = announce(ctx, community, lambda rt: announcement(ctx, rt, tasting, community), asked_in_groups=in_groups,
                         kind="tasting", ref=f"tasting:{tasting.id}", dedupe_key=f"tasting.new:{tasting.id}")
    here = ctx.ct if ctx.in_group else t
    replies: list[Reply] = [announcement(ctx, here, tasting, community)]
    if not ctx.in_group:
        replies.insert(0, Text(text=t._("Started and announced in {community}:", community=community.name)))
    codes = ", ".join(f"{p.name} = {p.code}" for p in store.products(ctx.db, tasting.id))
    ctx.send_to_member(ctx.member, lambda mt: Text(text=mt._("Blind codes of tasting #{number} (for the helpers, not for members): {codes}", number=tasting.number, codes=codes)),
                       community=community, dedupe_key=f"tasting.codes:{tasting.id}")
    if held_back:
        replies.append(Text(text=t.n_(
            "{n} member who talks to me one to one has had this week's asks already, so I did not message them; they see the tasting with /tasting.",
            "{n} members who talk to me one to one have had this week's asks already, so I did not message them; they see the tasting with /tasting.",
            held_back,
        )))
    return replies


def _start(ctx: Context, args: str) -> list[Reply]:
    community = ctx.require_community()
    t = ctx.t
    ctx.require_organiser(t._("start tastings"))
    name = args.strip().lower()
    if not name:
        raise HandlerError(t._("Which tasting? For example: /tasting start oat-drinks. Send /tasting list to see the files."))
    definition, source = _load_file(t, name, community, ctx.now)
    return _launch(ctx, community, definition, source)


def _list(ctx: Context) -> list[Reply]:
    community = ctx.require_community()
    t = ctx.t
    ctx.require_organiser(t._("start tastings"))
    lines = [t._("Tasting files you can start (/tasting start NAME):")]
    files = sorted(tasting_dir().glob("*.toml"))
    for path in files:
        try:
            definition, _source, _warnings = load(path, tz=community.tz)
        except TastingFileError as error:
            problems = sum(1 for p in error.problems if not p.warning)
            lines.append("• " + t.n_("{name}: has {n} problem (localbot tasting validate)", "{name}: has {n} problems (localbot tasting validate)", problems, name=path.stem))
            continue
        lines.append(f"• {definition.name}: {definition.title.pick(t.language)} (" + t.n_("{n} product", "{n} products", len(definition.products)) + ")")
    if not files:
        lines.append("• " + t._("none yet: put tasting files in {folder}", folder=str(tasting_dir())))
    history = store.tastings(ctx.db, community.id)
    if history:
        lines += ["", t._("Started here:")]
        lines += [("🟢 " if tasting.is_open else "🏁 ") + f"#{tasting.number} {tasting.title}" for tasting in history[:10]]
    return [Text(text="\n".join(lines))]


def _close(ctx: Context, args: str) -> list[Reply]:
    t = ctx.t
    ctx.require_organiser(t._("close tastings"))
    tasting = _pick_tasting(ctx, args)
    if not store.close_tasting(ctx.db, tasting.id, ctx.now):
        return [Text(text=t._("Tasting #{number} is closed already.", number=tasting.number))]
    scheduler.cancel_prefix(ctx.db, f"tasting:{tasting.id}:")
    closed = store.get_tasting(ctx.db, tasting.id)
    assert closed is not None
    _refresh(ctx, closed, _community_of(ctx, closed))
    return [Text(text=t._("Tasting #{number} is closed: no more sign-ups or answers. See the results with /report {number}.", number=tasting.number))]


def _mine(ctx: Context, args: str) -> tuple[store.Tasting, store.Participant]:
    community = ctx.require_community()
    mine = [(tasting, p) for tasting, p in store.memberships(ctx.db, ctx.member.id) if tasting.community_id == community.id]
    if args.strip():
        mine = [(tasting, p) for tasting, p in mine if args.strip().lstrip("#") in (str(tasting.number), tasting.name)]
    if not mine:
        raise HandlerError(ctx.t._("You have no place in a tasting. Send /tasting to see what is on."))
    return mine[0]


def cmd_tasting(ctx: Context, cmd: Command) -> HandlerResult:
    verb, _, rest = cmd.args.strip().partition(" ")
    verb = verb.lower()
    if not verb:
        return _overview(ctx)
    if verb == "start":
        return _start(ctx, rest)
    if verb == "new":
        community = ctx.require_community()
        ctx.require_organiser(ctx.t._("start tastings"))
        return conv.start_flow(ctx, NEW_FLOW, {"community": community.id, "products": [], "sessions": []}, private=True)
    if verb == "list":
        return _list(ctx)
    if verb == "sessions":
        return _sessions(ctx, rest)
    if verb == "close":
        return _close(ctx, rest)
    if verb == "thanks":
        ctx.require_organiser(ctx.t._("manage tastings"))
        return _start_thanks(ctx, _pick_tasting(ctx, rest, open_only=False))
    if verb == "cancel":
        _tasting_, participant = _mine(ctx, rest)
        return _confirm_cancel(ctx, participant.id)
    if verb in ("continue", "go"):
        tasting, participant = _mine(ctx, rest)
        return _continue(ctx, tasting, participant)
    return Text(text=ctx.t._("I don't know “/tasting {verb}”. Try /tasting, /tasting cancel or /tasting continue; organisers also have start, new, list, sessions, close and thanks.", verb=verb))


def on_button(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    t = ctx.t
    ident = whole_number(parts[1]) if len(parts) == 2 else None
    if ident is None:
        return Ack(text=t._("This button no longer works."))
    action, number = parts[0], ident
    try:
        match action:
            case "up" | "wl":
                return sign_up(ctx, number, waiting=action == "wl")
            case "x":
                return _to_member(ctx, _confirm_cancel(ctx, number))
            case "xy":
                return _to_member(ctx, cancel_place(ctx, number))
            case "keep":
                return Ack(text=t._("Good: your place is kept."))
            case "go":
                tasting, participant, _community = _own(ctx, number)
                return _continue(ctx, tasting, participant)
            case "here":
                tasting, participant, _community = _own(ctx, number)
                return _start_self_checkin(ctx, tasting, participant)
            case "ci":
                return _toggle_checkin(ctx, number)
            case "cl":
                tasting, session, community = _session(ctx, number)
                ctx.require_organiser(t._("check people in"))
                return _checkin_list(ctx, tasting, session, community)
            case "cs":
                tasting, session, community = _session(ctx, number)
                ctx.require_organiser(t._("cancel sessions"))
                return Choices(
                    text=t._("Cancel session {number} ({when})? Everyone signed up for it will be told.", number=session.number, when=session_when(t, session, community)),
                    options=(Option(t._("Yes, cancel the session"), f"ts:csy:{session.id}"), Option(t._("No"), f"ts:keep:{session.id}")),
                )
            case "csy":
                return cancel_session(ctx, number)
            case "thx":
                tasting, _community = _tasting(ctx, number)
                ctx.require_organiser(t._("manage tastings"))
                return _start_thanks(ctx, tasting)
    except HandlerError as refused:
        return Ack(text=refused.message) if ctx.in_group else Text(text=refused.message)
    return Ack(text=t._("This button no longer works."))


# --- /tasting new: a simple tasting, step by step -------------------------------------------------


def _wizard_community(ctx: Context, c: Conversation) -> Community:
    return _community_by_id(ctx, int(c.data["community"]))


def _ask_title(ctx: Context, c: Conversation) -> HandlerResult:
    return Text(text=ctx.t._("Let's set up a tasting. What is its title, as members will see it? For example: Oat drinks. (Send /cancel to stop.)"))


def _take_title(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    title = " ".join((a.text or "").split())
    if not title or len(title) > 80:
        return Retry(ctx.t._("Please write a title of up to 80 characters."))
    c.data["title"] = title
    return Goto("products")


def _ask_products(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    products: list[str] = c.data["products"]
    if not products:
        return Text(text=t._("Now the products, one per message (or several separated by |). Members never see these names, only blind codes."))
    listed = "\n".join(f"• {p}" for p in products)
    if len(products) < MIN_PRODUCTS:
        return Text(text=t._("Products so far:") + f"\n{listed}\n" + t._("A tasting compares at least two products: send the next one."))
    more = t._("Send another product, or tap Done.") if ctx.buttons else t._("Send another product, or reply 1 if that's all.")
    return Choices(text=t._("Products so far:") + f"\n{listed}\n" + more, options=(c.option("✅ " + t._("Done"), DONE),))


def _take_products(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    products: list[str] = c.data["products"]
    if a.choice == DONE:
        if len(products) < MIN_PRODUCTS:
            return Retry(t._("A tasting compares at least two products: send the next one."))
        return Goto("start")
    if not a.text:
        return Retry(t._("Please send the product's name as text."))
    for part in a.text.split("|"):
        name = " ".join(part.split())
        if not name or len(name) > 80:
            return Retry(t._("Please keep each product's name between 1 and 80 characters."))
        if name.casefold() in (p.casefold() for p in products):
            return Retry(t._("“{name}” is on the list already.", name=name))
        if len(products) >= MAX_PRODUCTS:
            return Goto("start", (Text(text=t._("That makes {count} products, the most a tasting compares.", count=MAX_PRODUCTS)),))
        products.append(name)
    return Goto("products")


def _ask_start(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    count = len(c.data["sessions"])
    if count:
        if ctx.buttons:
            text = t._("When does the next session start? For example: saturday 10:00 or 2026-12-05 10:00. Or tap Done.")
        else:
            text = t._("When does the next session start? For example: saturday 10:00 or 2026-12-05 10:00. Or reply 1 if that's all.")
        return Choices(text=text, options=(c.option("✅ " + t._("Done"), DONE),))
    return Text(text=t._("When does the session start? For example: saturday 10:00 or 2026-12-05 10:00."))


def _take_start(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    if a.choice == DONE and c.data["sessions"]:
        return Goto("jar")
    community = _wizard_community(ctx, c)
    text = a.text or ""
    try:
        start = parse_deadline(text, now=ctx.now, tz=community.tz)
    except WhenError as error:
        if error.code == "past":
            return Retry(t._("“{text}” is in the past: a session must start later than now.", text=text))
        return Retry(t._("I couldn't read “{text}” as a day and time. Try saturday 10:00 or 2026-12-05 10:00.", text=text))
    c.data["pending"] = {"start": start.isoformat()}
    return Goto("end")


def _ask_end(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    return Choices(
        text=t._("Until when? Type the end time (for example 12:00) or pick a length:"),
        options=(c.option(t._("1 hour"), "1h"), c.option(t._("2 hours"), "2h"), c.option(t._("3 hours"), "3h")),
        columns=3,
    )


def _take_end(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    community = _wizard_community(ctx, c)
    start = datetime.fromisoformat(c.data["pending"]["start"])
    text = (a.choice or a.text or "").strip()
    length = parse_duration(text)
    at = parse_time_of_day(text) if length is None else None
    if length is not None and timedelta() < length <= timedelta(hours=24):
        end = start + length
    elif at is not None:
        local = start.astimezone(community.tz)
        end = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
        if end <= local:
            return Retry(t._("The session must end after it starts ({start}).", start=t.time(start, community.tz)))
    elif ctx.buttons:
        return Retry(t._("Please type the end time, for example 12:00, or tap one of the buttons."))
    else:
        return Retry(t._("Please type the end time, for example 12:00, or reply with one of the numbers."))
    c.data["pending"]["end"] = end.isoformat()
    return Goto("point")


def _ask_point(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    community = _wizard_community(ctx, c)
    points = point_store.list_points(ctx.db, community.id, limit=20)
    if not points:
        return Text(text=t._("{community} has no pickup points yet. Add one with /addpoint, then start again with /tasting new.", community=community.name))
    return Choices(text=t._("At which pickup point?"), options=tuple(c.option(f"{p.number}. {p.name}", str(p.id)) for p in points))


def _take_point(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    community = _wizard_community(ctx, c)
    if point_store.count_points(ctx.db, community.id) == 0:
        return Finish((Text(text=t._("Nothing was started. Add a pickup point with /addpoint first.")),))
    chosen = whole_number(a.choice) if a.choice else None
    point = point_store.get_point(ctx.db, chosen) if chosen is not None else point_store.find_point(ctx.db, community.id, a.text or "")
    if point is None or point.community_id != community.id:
        return Retry(t._("Please pick one of the pickup points."))
    c.data["pending"]["point"] = point.name
    return Goto("places")


def _ask_places(ctx: Context, c: Conversation) -> HandlerResult:
    return Text(text=ctx.t._("How many places does this session have? For example: 12."))


def _take_places(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    places = whole_number((a.text or "").strip())
    if places is None or not 1 <= places <= 1000:
        return Retry(ctx.t._("Please send a whole number from 1 to 1000."))
    c.data["sessions"].append({**c.data.pop("pending"), "places": places})
    return Goto("start")


def _terms_step(question: tuple[str, str], field: str, then: str) -> Step:
    """``question`` as chats with buttons and chats with numbered choices show it."""

    def ask(ctx: Context, c: Conversation) -> HandlerResult:
        return Choices(text=ctx.t._(question[0] if ctx.buttons else question[1]), options=(c.option(ctx.t._("None"), "none"),))

    def take(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
        if a.choice == "none":
            c.data[field] = []
            return Goto(then)
        words = [" ".join(w.split()) for w in re.split(r"[,;|\n]", a.text or "") if w.strip()]
        if not words or any(len(w) > 40 for w in words) or len(words) > 20:
            if ctx.buttons:
                return Retry(ctx.t._("Please send up to 20 words or short phrases separated by commas, or tap None."))
            return Retry(ctx.t._("Please send up to 20 words or short phrases separated by commas, or reply 1 for none."))
        c.data[field] = list(dict.fromkeys(words))
        return Goto(then)

    return Step(Expect.TEXT | Expect.CHOICE, ask, take)


def _ask_final(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    return Choices(
        text=t._("At the end, should people say which sample they liked best, rank them all, or neither?"),
        options=(c.option(t._("Best one"), "preference"), c.option(t._("Rank them"), "ranking"), c.option(t._("Neither"), "none")),
    )


def _take_final(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    if a.choice not in ("preference", "ranking", "none"):
        return conv.pick_one(ctx)
    c.data["final"] = a.choice
    return Goto("confirm")


def _key(text: str, taken: set[str]) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold().replace("ł", "l"))
    base = re.sub(r"[^a-z0-9]+", "_", "".join(ch for ch in folded if not unicodedata.combining(ch))).strip("_")[:24]
    base = base if base and base[0].isalpha() else f"x_{base}".rstrip("_")
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def wizard_source(data: dict[str, Any], language: str, tz: tzinfo) -> str:
    """The tasting file the conversation's answers make; it goes through the same checks as any file."""
    name = _key(data["title"], set()).replace("_", "-")[:40] or "tasting"
    lines = [
        "# Made with /tasting new.",
        "[tasting]",
        f"name = {_toml(name)}",
        f"languages = [{_toml(language)}]",
        f"title = {_toml(data['title'])}",
        "",
    ]
    taken: set[str] = set()
    for product in data["products"]:
        lines += ["[[products]]", f"id = {_toml(_key(product, taken))}", f"name = {_toml(product)}", ""]
    for session in data["sessions"]:
        start = datetime.fromisoformat(session["start"]).astimezone(tz)
        end = datetime.fromisoformat(session["end"]).astimezone(tz)
        lines += ["[[sessions]]", f"start = {start.isoformat(timespec='seconds')}", f"end = {end.isoformat(timespec='seconds')}",
                  f"point = {_toml(session['point'])}", f"places = {session['places']}", ""]
    lines += ["[questions]", f"final = {_toml(data.get('final', 'preference'))}", ""]
    taken = set()
    for word in data.get("jar", []):
        lines += ["[[questions.jar]]", f"id = {_toml(_key(word, taken))}", f"name = {_toml(word)}", ""]
    taken = set()
    for word in data.get("cata", []):
        lines += ["[[questions.cata]]", f"id = {_toml(_key(word, taken))}", f"label = {_toml(word)}", ""]
    return "\n".join(lines)


def _ask_confirm(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    community = _wizard_community(ctx, c)
    data = c.data
    lines = [t._("Here is your tasting for {community}:", community=community.name), "", f"🍽 {data['title']}"]
    lines.append(t._("Products: {names}", names=", ".join(data["products"])))
    for session in data["sessions"]:
        start, end = datetime.fromisoformat(session["start"]), datetime.fromisoformat(session["end"])
        lines.append("• " + f"{t.datetime(start, community.tz)}–{t.time(end, community.tz)} · {session['point']} · "
                     + t.n_("{n} place", "{n} places", session["places"]))
    if data.get("jar"):
        lines.append(t._("Just about right: {words}", words=", ".join(data["jar"])))
    if data.get("cata"):
        lines.append(t._("Words to tick: {words}", words=", ".join(data["cata"])))
    return Choices(text="\n".join(lines), options=(c.option(t._("Start and announce"), "go"), c.option(t._("Cancel"), "cancel")))


def _take_confirm(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    if a.choice == "cancel":
        return Finish((Text(text=t._("Cancelled. Nothing was started.")),))
    if a.choice != "go":
        return conv.pick_one(ctx)
    community = _wizard_community(ctx, c)
    if not ctx.is_organiser(community):
        return Finish((Text(text=t._("Only organisers can {what}.", what=t._("start tastings"))),))
    source = wizard_source(c.data, t.language, community.tz)
    try:
        definition, _warnings = parse(source, filename="tasting-new.toml", tz=community.tz, now=ctx.now)
    except TastingFileError as error:
        if any(p.field.endswith("start") for p in error.problems):
            c.data["sessions"] = []
            return Goto("start", (Text(text=t._("A session's start has passed in the meantime. Please give the sessions again.")),))
        raise HandlerError("\n".join(str(p) for p in error.problems[:PROBLEMS_SHOWN])) from None
    replies = _launch(ctx, community, definition, source)
    return Finish((*replies,))


NEW_TASTING = Flow(
    name=NEW_FLOW,
    first="title",
    steps={
        "title": Step(Expect.TEXT, _ask_title, _take_title),
        "products": Step(Expect.TEXT | Expect.CHOICE, _ask_products, _take_products),
        "start": Step(Expect.TEXT | Expect.CHOICE, _ask_start, _take_start),
        "end": Step(Expect.TEXT | Expect.CHOICE, _ask_end, _take_end),
        "point": Step(Expect.TEXT | Expect.CHOICE, _ask_point, _take_point),
        "places": Step(Expect.TEXT, _ask_places, _take_places),
        "jar": _terms_step((N_("Which attributes should be “just about right”? For example: sweetness, creaminess. Send them separated by commas, or tap None."),
                            N_("Which attributes should be “just about right”? For example: sweetness, creaminess. Send them separated by commas, or reply 1 for none.")),
                           "jar", "cata"),
        "cata": _terms_step((N_("Which words can people tick to describe a sample? For example: creamy, watery, nutty. Send them separated by commas, or tap None."),
                             N_("Which words can people tick to describe a sample? For example: creamy, watery, nutty. Send them separated by commas, or reply 1 for none.")),
                            "cata", "final"),
        "final": Step(Expect.CHOICE, _ask_final, _take_final),
        "confirm": Step(Expect.CHOICE, _ask_confirm, _take_confirm),
    },
    on_cancel=lambda ctx, c: Text(text=ctx.t._("Cancelled. Nothing was started.")),
)


# --- reports and thanks ----------------------------------------------------------------------------


def _report_items(ctx: Effects, community: Community) -> list[reports.ReportItem]:
    return [
        reports.ReportItem("tasting", str(tasting.id), f"🍽 #{tasting.number} {tasting.title}" + ("" if tasting.is_open else " 🏁"),
                           frozenset({str(tasting.number), tasting.name}), tasting.created_at)
        for tasting in store.tastings(ctx.db, community.id)
    ]


def _took_part(ctx: Effects, tasting: store.Tasting) -> list[Member]:
    members = []
    for participant in store.participants(ctx.db, tasting.id, statuses=("booked",)):
        if participant.member_id is None or not participant.checked_in or not store.answers(ctx.db, participant.id):
            continue
        member = community_store.get_member(ctx.db, participant.member_id)
        if member is not None:
            members.append(member)
    return members


def _report(ctx: Effects, request: reports.ReportRequest, key: str) -> list[Reply]:
    # The statistics (scipy) load when a report is asked for, not with every start of the bot.
    from localbot.tastings.charts import all_charts
    from localbot.tastings.report import build as build_report
    from localbot.tastings.report import summary_lines

    tasting = store.get_tasting(ctx.db, int(key))
    t = request.t
    if tasting is None or tasting.community_id != request.community.id:
        raise HandlerError(t._("I can't find that tasting any more."))
    report = build_report(ctx.db, tasting, t.language)
    head = "📋 " + t._("Report of tasting #{number}: {title}", number=tasting.number, title=report.title)
    replies: list[Reply] = [Text(text="\n".join([head, *summary_lines(t, report, names=request.private)]))]
    for name, data in all_charts(t, report, names=request.private).items():
        replies.append(Picture(data=data, filename=f"tasting-{tasting.number}-{name}.png"))
    took_part = _took_part(ctx, tasting)
    if request.private and took_part and tasting.thanks_sent_at is None:
        replies.append(Choices(
            text=t.n_("Send the {n} person who took part a short “what we learned, thank you” message?",
                      "Send the {n} people who took part a short “what we learned, thank you” message?", len(took_part)),
            options=(Option("✉️ " + t._("Write the thank-you"), f"ts:thx:{tasting.id}"),),
        ))
    return replies


def suggested_thanks(t: Translator, report: TastingReport) -> str:
    best = max(range(len(report.products)), key=lambda i: report.liking[i].summary.mean or 0)
    liked = report.liking[best].summary.mean
    text = t.n_(
        "Thank you for tasting “{title}” with us! {n} neighbour took part.",
        "Thank you for tasting “{title}” with us! {n} neighbours took part.",
        report.participants,
        title=report.title,
    )
    if liked is not None:
        text += " " + t._("The favourite was sample {code}.", code=report.products[best].code)
    return text + " " + t._("Your answers help decide what comes to the shelves.")


def _start_thanks(ctx: Context, tasting: store.Tasting) -> list[Reply]:
    t = ctx.t
    if tasting.thanks_sent_at is not None:
        raise HandlerError(t._("The thank-you for tasting #{number} was sent already.", number=tasting.number))
    if not _took_part(ctx, tasting):
        raise HandlerError(t._("Nobody has answered yet, so there is nobody to thank."))
    from localbot.tastings.report import build as build_report

    report = build_report(ctx.db, tasting, t.language)
    return _as_acks(ctx, conv.start_flow(ctx, THANKS_FLOW, {"tasting": tasting.id, "text": suggested_thanks(t, report)}, private=True))


def _ask_thanks(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    tasting = store.get_tasting(ctx.db, int(c.data["tasting"]))
    count = len(_took_part(ctx, tasting)) if tasting else 0
    lines = [t.n_("This goes to the {n} person who took part:", "This goes to the {n} people who took part:", count), "", c.data["text"], "",
             t._("Send it as it is, or write your own text to replace it.")]
    return Choices(text="\n".join(lines), options=(c.option("✅ " + t._("Send it"), "send"), c.option(t._("Cancel"), "cancel")))


def _take_thanks(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    if a.choice == "cancel":
        return Finish((Text(text=t._("Cancelled. Nothing was sent.")),))
    if a.text and a.choice is None:
        text = a.text.strip()
        if len(text) > 1000:
            return Retry(t._("Please keep the message under 1000 characters."))
        c.data["text"] = text
        return Goto("preview")
    if a.choice != "send":
        if ctx.buttons:
            return Retry(t._("Please pick one of the buttons, or write your own text."))
        return Retry(t._("Please reply with one of the numbers, or write your own text."))
    tasting = store.get_tasting(ctx.db, int(c.data["tasting"]))
    if tasting is None:
        return Finish((Text(text=t._("I can't find that tasting any more.")),))
    community = _community_of(ctx, tasting)
    if not ctx.is_organiser(community):
        return Finish((Text(text=t._("Only organisers can {what}.", what=t._("manage tastings"))),))
    text = c.data["text"]
    if not store.record_thanks(ctx.db, tasting.id, text, by=ctx.member.id, now=ctx.now):
        return Finish((Text(text=t._("The thank-you for tasting #{number} was sent already.", number=tasting.number)),))
    members = _took_part(ctx, tasting)
    for member in members:
        ctx.send_to_member(member, lambda mt: Text(text=f"🍽 {tasting.definition.title.pick(mt.language)}\n{text}"),
                           community=community, purpose="results", dedupe_key=f"tasting.thanks:{tasting.id}:{member.id}")
    return Finish((Text(text=t.n_("Sent to {n} person. Thank you for running the tasting!", "Sent to {n} people. Thank you for running the tasting!", len(members))),))


THANKS = Flow(
    name=THANKS_FLOW,
    first="preview",
    steps={"preview": Step(Expect.TEXT | Expect.CHOICE, _ask_thanks, _take_thanks)},
    on_cancel=lambda ctx, c: Text(text=ctx.t._("Cancelled. Nothing was sent.")),
)

REPORT_WORDS = frozenset({"tasting", "tastings", "degustacja", "degustacje", "degustacji", "uji", "rasa"})


def _digest_lines(ctx: Effects, t: Translator, community: Community, start: datetime, end: datetime) -> list[str]:
    """The organisers' weekly digest: each tasting open during the week, with its places."""
    lines: list[str] = []
    for tasting in reversed(store.tastings(ctx.db, community.id)):
        if tasting.created_at >= end or (tasting.closed_at is not None and tasting.closed_at < start):
            continue
        places = sum(session.places for session in store.sessions(ctx.db, tasting.id) if not session.cancelled)
        chat = [p for p in store.participants(ctx.db, tasting.id) if p.source == "chat"]
        booked = [p for p in chat if p.booked]
        figures = [
            t._("{booked} of {places} places booked", booked=len(booked), places=places),
            t.n_("{n} waiting", "{n} waiting", sum(1 for p in chat if p.waiting)),
            t.n_("{n} checked in", "{n} checked in", sum(1 for p in booked if p.checked_in)),
            t.n_("{n} answered", "{n} answered", sum(1 for p in booked if p.completed_at is not None)),
        ]
        state = t._("open") if tasting.is_open else t._("closed")
        lines.append(f"  #{tasting.number} {tasting.definition.title.pick(t.language)} — {', '.join(figures)} · {state}")
    return ["🍽 " + t._("Tastings this week:"), *lines] if lines else []


def register(router: Router) -> None:
    section = "tastings"
    router.command(
        "tasting",
        help=N_("Tastings: sign up, cancel, continue the questions; organisers: /tasting start NAME, new, list, sessions, close, thanks"),
        usage="[start NAME | new | list | sessions | close | thanks | cancel | continue]",
        section=section,
    )(cmd_tasting)
    router.command("checkin", help=N_("Check in at a tasting: organisers get the list of names, members share their location"), usage="[SESSION]", section=section)(cmd_checkin)
    router.choice("ts")(on_button)
    router.flow(Flow(name=FLOW, first="ask", steps={"ask": Step(Expect.CHOICE | Expect.TEXT, _ask, _take)}, on_cancel=_on_cancel))
    router.flow(Flow(name=CHECKIN_FLOW, first="where", steps={"where": Step(Expect.LOCATION | Expect.TEXT | Expect.CHOICE, _ask_location, _take_location)},
                     on_cancel=lambda ctx, c: Text(text=ctx.t._("All right: not checked in. An organiser can check you in at the table too."))))
    router.flow(NEW_TASTING)
    router.flow(THANKS)
    care.add_digest_section("tastings", _digest_lines)
    privacy.add_before_forget("tastings", _before_forget)
    router.job("tasting.remind")(job_remind)
    router.job("tasting.taste")(job_taste)
    reports.add_provider(reports.ReportProvider("tasting", REPORT_WORDS, _report_items, _report))
