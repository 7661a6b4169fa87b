"""Hostile input, property-based: random and malicious input at every command and every step of
every conversation, by members on Telegram (buttons) and WhatsApp (numbers) in three languages.

Each example is a sequence of steps on a community that already has members on both messengers:
a command (every registered command, with hostile or with sensible arguments, so that real flows
start), hostile text, a press of a button the bot just offered (which walks conversations), a
forged or stale button, a location (also impossible ones), a photo (garbage bytes) and time
passing (deadlines, diary prompts). After every step: nothing escaped to the adapter, nothing was
logged as an error (a handler bug is logged and apologised for, which is a failure here), every
reply in a member's private chat and every answer to a press is in that member's language, and
the database passes SQLite's checks and the domain's invariants.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localbot.adapters.base import DEFAULT_CAPABILITIES
from localbot.clock import ManualClock
from localbot.community import store as community_store
from localbot.core import Core
from localbot.events import (
    Chat,
    ChatKind,
    ChoicePicked,
    Command,
    Event,
    LocationShared,
    MediaRef,
    Message,
    PhotoShared,
    Sender,
    split_command,
)
from localbot.handlers import build_router
from localbot.handlers import conversation as conv
from localbot.i18n import normalize_language
from localbot.maps import store as map_store
from localbot.maps.model import PointSpec
from localbot.replies import Ack, Choices, Edit, Reply, text_of
from localbot.settings import Settings
from localbot.storage import open_database
from localbot.text import whole_number
from tests.helpers import RecordingAdapter
from tests.hostile import hostile_payload, hostile_text, problems, reply_text, untranslated

REPO = Path(__file__).resolve().parent.parent
START = datetime(2026, 3, 25, 9, 0, tzinfo=UTC)
GROUP = Chat("telegram:-1007007", ChatKind.GROUP, "Sunny Estate")


@dataclass(frozen=True)
class Actor:
    sender: Sender
    group: bool

    @property
    def chat(self) -> Chat:
        return GROUP if self.group else Chat(self.sender.ref, ChatKind.PRIVATE)


ANNA = Sender("telegram:11", "Anna", language="pl")  # an organiser
BUDI = Sender("telegram:12", "Budi", language="id")
DAN = Sender("telegram:13", "Dan", language="en")
OLA = Sender("whatsapp:+48600000001", "Ola", language="pl")
SARI = Sender("whatsapp:+6281200000002", "Sari", language="id")
ACTORS = [Actor(s, g) for s in (ANNA, BUDI, DAN) for g in (True, False)] + [Actor(OLA, False), Actor(SARI, False)]

SENSIBLE = [
    "/poll", "/poll Where do we meet? | Kiosk | Library", "/poll --multi --anon --until 2h Which days? | Mon | Tue | Wed",
    "/close", "/results", "/polls", "/survey start coffee-habits", "/survey start coffee-diary", "/survey list", "/survey join",
    "/survey pause", "/survey resume", "/survey leave", "/survey stop", "/addpoint Kiosk", "/addpoint", "/points", "/point 1",
    "/editpoint 1", "/removepoint 1", "/near", "/near remember", "/near forget", "/report", "/lang pl", "/lang id", "/lang en",
    "/invite", "/communities", "/leave", "/newcommunity Green Park", "/had", "/help", "/start", "/start resume", "/cancel",
    "/tasting start oat-drinks", "/tasting new", "/tasting list", "/tasting sessions", "/tasting close", "/tasting thanks",
    "/tasting cancel", "/tasting continue", "/checkin", "/checkin 1", "/export", "/export polls csv", "/mydata", "/forgetme",
    "/rules", "/setrules Be kind to each other.", "/setwelcome Hello {name}, welcome to {community}!", "/digest off", "/digest on",
    "/askbudget 5",
]  # fmt: skip


#: What starts a conversation: who says what, where.
STARTERS = [
    (Actor(ANNA, False), "/poll"), (Actor(ANNA, True), "/poll"), (Actor(ANNA, False), "/addpoint"), (Actor(ANNA, False), "/addpoint Kiosk"),
    (Actor(ANNA, False), "/editpoint 1"), (Actor(BUDI, False), "/near"), (Actor(OLA, False), "/near"), (Actor(DAN, False), "/near remember"),
    (Actor(ANNA, True), "/survey start coffee-habits"), (Actor(ANNA, True), "/survey start coffee-diary"), (Actor(BUDI, False), "/survey join"),
    (Actor(SARI, False), "/survey join"), (Actor(DAN, False), "/had"), (Actor(OLA, False), "/had"), (Actor(OLA, False), "1"), (Actor(SARI, False), "2"),
    (Actor(DAN, False), "/start resume"), (Actor(BUDI, False), "/point 2"), (Actor(ANNA, False), "/editpoint Kiosk"),
    (Actor(ANNA, True), "/tasting start oat-drinks"), (Actor(ANNA, False), "/tasting new"), (Actor(BUDI, False), "/checkin"),
    (Actor(ANNA, True), "/tasting thanks"), (Actor(DAN, False), "/forgetme"), (Actor(SARI, False), "/forgetme"),
]  # fmt: skip
#: What a member might sensibly answer at some step of some conversation.
ANSWERS = [
    "Where do we meet?", "Kiosk", "Library | Park", "Park", "done", "yes", "no", "7-22", "07:30", "8:00-21:00", "now", "3", "2", "1",
    "Main Street 1, Warsaw", "Kiosk at the corner", "Mo-Fr 08:00-18:00", "daily 9-17", "closed", "skip", "Because it is tasty",
    "10", "tomorrow 18:00", "2h", "friday 18:00", "-", "/cancel",
]  # fmt: skip
#: A 1×1 PNG, for photo questions.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f6a1a60000000049454e44ae426082"
)


class PhotoAdapter(RecordingAdapter):
    """A messenger whose photos are whatever bytes the test says."""

    photo = b""

    async def download(self, media: MediaRef) -> bytes:
        return self.photo


def study_and_tasting_files() -> None:
    """The bot reads study and tasting files from config/ in its working directory (a fresh one per test)."""
    for kind in ("surveys", "tastings"):
        if not (Path("config") / kind).exists():
            shutil.copytree(REPO / "config" / kind, Path("config") / kind)


@cache
def template() -> Path:
    """A community with members on both messengers, built once and copied for every example."""
    folder = Path(tempfile.mkdtemp(prefix="localbot-hostile-"))

    async def build() -> None:
        db = open_database(folder / "hostile.db")
        core = Core(_settings(folder), db, clock=ManualClock(START))
        for member in (ANNA, BUDI, DAN):
            await core.handle(Message(chat=GROUP, sender=member, text="hello"))
            await core.handle(Command(chat=Chat(member.ref, ChatKind.PRIVATE), sender=member, name="start"))
        community = community_store.community_for_chat(db, GROUP.ref)
        assert community is not None and community.join_code
        for member in (OLA, SARI):
            await core.handle(Message(chat=Chat(member.ref, ChatKind.PRIVATE), sender=member, text=f"JOIN {community.join_code}"))
        # things to act on: pickup points, an open poll, a survey to take part in
        with db.atomic():
            points = [PointSpec("Kiosk", 52.2297, 21.0122), PointSpec("Library", 52.2310, 21.0150), PointSpec("Market hall", 52.2250, 21.0050)]
            map_store.add_points(db, community.id, points, created_by=None, now=START)
        await core.handle(Command(chat=GROUP, sender=ANNA, name="poll", args="Which flavour? | Mango | Lime | Ginger"))
        await core.handle(Command(chat=GROUP, sender=ANNA, name="survey", args="start coffee-habits"))
        db.close()

    asyncio.run(build())
    return folder


def _settings(folder: Path) -> Settings:
    # Map pictures on a plain background: no tile server (the test must not reach the internet).
    # The community speaks Indonesian: what an organiser is shown of the group's texts (a preview of the
    # welcome) is then not English, and any English in a reply to a Polish member is untranslated.
    return Settings(
        database=folder / "hostile.db", timezone="Europe/Warsaw", language="id", organisers="telegram:11", map={"tile_url": ""}
    )


step = st.one_of(
    st.tuples(st.just("command"), st.sampled_from(ACTORS), st.sampled_from(sorted(build_router().commands)), hostile_text()),
    st.tuples(st.just("sensible"), st.sampled_from(ACTORS), st.sampled_from(SENSIBLE), st.none()),
    st.tuples(st.just("text"), st.sampled_from(ACTORS), hostile_text(), st.none()),
    st.tuples(st.just("offered"), st.sampled_from(ACTORS), st.integers(0, 15), st.none()),
    st.tuples(st.just("number"), st.sampled_from(ACTORS), st.integers(-1, 15).map(str), st.none()),
    st.tuples(st.just("button"), st.sampled_from(ACTORS), hostile_payload(), st.none()),
    st.tuples(
        st.just("location"),
        st.sampled_from(ACTORS),
        st.tuples(
            st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-90, 90)),
            st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-180, 180)),
        ),
        st.none(),
    ),
    st.tuples(st.just("photo"), st.sampled_from(ACTORS), st.binary(max_size=64), hostile_text(20)),
    *[st.sampled_from(STARTERS).map(lambda start: ("sensible", start[0], start[1], None))] * 2,
    # sensible answers to whatever a member's conversation asks, so that walks get deep into flows
    *[st.tuples(st.just("answer"), st.sampled_from(ACTORS), st.integers(0, 10**6), st.none())] * 6,
    st.tuples(st.just("wait"), st.sampled_from(ACTORS), st.sampled_from([1, 3, 7, 26, 170]), st.none()),
)


class Run:
    def __init__(self, folder: Path) -> None:
        self.db = open_database(folder / "hostile.db")
        self.clock = ManualClock(START + timedelta(minutes=1))
        self.core = Core(_settings(folder), self.db, clock=self.clock)
        self.telegram = PhotoAdapter("telegram", DEFAULT_CAPABILITIES["telegram"])
        self.whatsapp = PhotoAdapter("whatsapp", DEFAULT_CAPABILITIES["whatsapp"])
        self.core.attach(self.telegram)
        self.core.attach(self.whatsapp)
        self.offered: dict[str, list[str]] = {}  # buttons last shown to each member
        self.errors: list[logging.LogRecord] = []

    def event(self, kind: str, actor: Actor, value: Any, extra: Any) -> Event | None:
        base: dict[str, Any] = {"chat": actor.chat, "sender": actor.sender, "event_id": None}
        if kind in ("command", "sensible", "text", "number"):
            text = f"/{value} {extra}" if kind == "command" else value
            parsed = split_command(text) if text.startswith("/") else None
            return Command(name=parsed[0], args=parsed[1], **base) if parsed else Message(text=text, **base)
        if kind == "offered":
            buttons = self.offered.get(actor.sender.ref, [])
            return ChoicePicked(payload=buttons[value % len(buttons)], **base) if buttons else None
        if kind == "button":
            return ChoicePicked(payload=value, **base)
        if kind == "location":
            return LocationShared(latitude=value[0], longitude=value[1], **base)
        if kind == "answer":
            return self.answer(value)
        if kind == "photo":
            adapter = self.telegram if actor.sender.ref.startswith("telegram:") else self.whatsapp
            adapter.photo = value
            return PhotoShared(media=MediaRef(adapter.messenger, "file-1", mime_type="image/jpeg"), caption=extra, **base)
        return None

    def answer(self, pick: int) -> Event | None:
        """A fitting answer to the step one of the open conversations is at (``pick`` chooses)."""
        open_ = [(r[0], r[1]) for r in self.db.conn.execute("SELECT member_id, chat_ref FROM conversations ORDER BY id")]
        if not open_:
            return None
        member_id, chat_ref = open_[pick % len(open_)]
        current = conv.load(self.db, member_id, chat_ref)
        member = community_store.get_member(self.db, member_id)
        flow = self.core.router.flows.get(current.flow) if current else None
        actor = next((a for a in ACTORS if member and a.sender.ref == member.ref and a.chat.ref == chat_ref), None)
        if current is None or flow is None or actor is None:
            return None
        base: dict[str, Any] = {"chat": actor.chat, "sender": actor.sender, "event_id": None}
        wanted = conv.expects(flow, current)
        buttons = self.offered.get(actor.sender.ref, [])
        if conv.Expect.CHOICE in wanted and buttons and pick % 3:
            return ChoicePicked(payload=buttons[pick % len(buttons)], **base)
        if conv.Expect.LOCATION in wanted and pick % 2:
            return LocationShared(latitude=52.2 + pick % 100 / 1000, longitude=21.0 + pick % 77 / 1000, **base)
        if conv.Expect.PHOTO in wanted:
            adapter = self.telegram if actor.sender.ref.startswith("telegram:") else self.whatsapp
            adapter.photo = PNG
            return PhotoShared(media=MediaRef(adapter.messenger, "shelf", mime_type="image/png"), **base)
        return Message(text=ANSWERS[pick % len(ANSWERS)], **base)

    async def step(self, kind: str, actor: Actor, value: Any, extra: Any) -> None:
        if kind == "wait":
            self.clock.advance(timedelta(hours=value))
            await self.core.run_until_idle()
        else:
            event = self.event(kind, actor, value, extra)
            if event is None:
                return
            actor = Actor(event.sender, event.chat.is_group)  # an answer speaks for whoever was asked
            replies = await self.core.handle(event)  # nothing may escape
            for reply in replies:
                if not actor.group or isinstance(reply, Ack):  # the group reads the community's language
                    self.check_language(actor.sender.ref, reply, event)
            if actor.group:  # buttons in the group are there for everyone in it
                for other in (ANNA, BUDI, DAN):
                    self.note_buttons(other.ref, replies)
            elif actor.sender.ref.startswith("telegram:"):
                self.note_buttons(actor.sender.ref, replies)
        while await self.core.deliver_pending():
            pass
        for item in self.telegram.take() + self.whatsapp.take():
            if item.member_id is not None and not item.chat_ref.startswith("telegram:-"):
                self.check_language(item.chat_ref, item.reply, item)
                if item.chat_ref.startswith("telegram:"):
                    self.note_buttons(item.chat_ref, [item.reply])
            elif item.chat_ref == GROUP.ref:
                for other in (ANNA, BUDI, DAN):
                    self.note_buttons(other.ref, [item.reply])

    def note_buttons(self, member_ref: str, replies: list[Reply]) -> None:
        buttons = [o.payload for r in replies if isinstance(r, (Choices, Edit)) for o in r.options]
        if buttons:
            self.offered[member_ref] = buttons

    def check_language(self, member_ref: str, reply: Reply, cause: Any) -> None:
        """A reply meant for one member speaks the language they read."""
        member = community_store.member_by_ref(self.db, member_ref)
        if member is None:  # just forgotten (/forgetme): the goodbye is in the language they had
            language = normalize_language(next(a.sender.language for a in ACTORS if a.sender.ref == member_ref)) or "en"
        else:
            current = community_store.current_community_id(self.db, member.id)
            language = self.core.language_for(member, community_store.get_community(self.db, current) if current else None)
        english = untranslated(reply_text(reply), language)
        assert english is None, f"{cause!r} gave {reply!r}: “{english}” is not in {language}"

    def check(self) -> None:
        assert not self.errors, [r.getMessage() for r in self.errors]
        assert problems(self.db, self.core.router) == []


class Errors(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


async def play(steps: list[tuple[str, Actor, Any, Any]], prepared: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="localbot-hostile-run-"))
    try:
        shutil.copy(prepared / "hostile.db", folder / "hostile.db")
        run = Run(folder)
        handler = Errors(run.errors)
        logging.getLogger("localbot").addHandler(handler)
        try:
            for kind, actor, value, extra in steps:
                await run.step(kind, actor, value, extra)
                run.check()
        finally:
            logging.getLogger("localbot").removeHandler(handler)
            run.db.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(st.lists(step, min_size=10, max_size=40))
def test_hostile_steps_never_break_the_bot_its_languages_or_its_database(steps: list[Any]) -> None:
    study_and_tasting_files()
    asyncio.run(play(steps, template()))


ODD_NUMBERS = ["²", "①", "٣", "７", "0", "-1", "1.5", "1e3", "9" * 25, "9" * 5000, "", " 1 ", "abc", "\u202e1"]


def test_every_command_with_every_hostile_fragment_and_every_button_with_odd_numbers() -> None:
    """Exhaustive where the property test samples: each registered command gets each fragment as
    its arguments, from an organiser in the group and members in private chats on both
    messengers; each kind of button gets payloads with numbers that are not quite numbers."""
    study_and_tasting_files()
    asyncio.run(every_command(template()))


async def every_command(prepared: Path) -> None:
    from tests.hostile import FRAGMENTS

    folder = Path(tempfile.mkdtemp(prefix="localbot-hostile-all-"))
    shutil.copy(prepared / "hostile.db", folder / "hostile.db")
    run = Run(folder)
    handler = Errors(run.errors)
    logging.getLogger("localbot").addHandler(handler)
    actors = [Actor(ANNA, True), Actor(BUDI, False), Actor(OLA, False)]
    try:
        for name in sorted(run.core.router.commands):
            for fragment in [*FRAGMENTS, *ODD_NUMBERS]:
                for actor in actors:
                    await run.step("command", actor, name, fragment)
                    assert not run.errors, (name, fragment, [r.getMessage() for r in run.errors])
        for prefix in [*sorted(run.core.router.choices), "c"]:
            for parts in [[a] for a in ODD_NUMBERS] + [[a, b] for a in ("1", *ODD_NUMBERS[:6]) for b in ODD_NUMBERS]:
                payload = ":".join([prefix, *parts])
                if 1 <= len(payload.encode()) <= 64:
                    for actor in actors:
                        await run.step("button", actor, payload, None)
                        assert not run.errors, (payload, [r.getMessage() for r in run.errors])
        run.check()
    finally:
        logging.getLogger("localbot").removeHandler(handler)
        run.db.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_whole_numbers_are_what_int_reads_and_no_longer_than_twelve_digits() -> None:
    assert (whole_number("12"), whole_number("٣"), whole_number("７"), whole_number("0")) == (12, 3, 7, 0)
    for odd in ("²", "①", "", " 1", "-1", "1.5", "1e3", "9" * 13, "9" * 5000):
        assert whole_number(odd) is None, odd


async def test_an_event_with_the_wrong_types_is_refused_at_the_door(core: Core) -> None:
    """What python-telegram-bot passes on from malformed JSON: a longitude that is text, button
    data that is a number, a language that is a number."""
    chat, sender = Chat("telegram:5", ChatKind.PRIVATE), Sender("telegram:5", "X")
    assert await core.handle(LocationShared(chat=chat, sender=sender, latitude=1.0, longitude="east")) == []  # type: ignore[arg-type]
    assert await core.handle(ChoicePicked(chat=chat, sender=sender, payload=12.5)) == []  # type: ignore[arg-type]
    assert await core.handle(Message(chat=chat, sender=Sender("telegram:5", "X", language=2**70), text="hi")) == []  # type: ignore[arg-type]
    assert community_store.member_by_ref(core.db, "telegram:5") is None


async def test_nothing_the_database_raises_reaches_the_adapter(core: Core) -> None:
    """Not only 'locked' and 'full': a database closed under a late event, say, gets an apology."""
    core.db.close()
    replies = await core.handle(Message(chat=Chat("console:zoe", ChatKind.PRIVATE), sender=Sender("console:zoe", "Zoe"), text="hi"))
    assert [text_of(r) for r in replies] == ["Sorry, something went wrong on my side. Please try again."]


def test_every_conversation_step_reached_by_a_walk_takes_every_fragment() -> None:
    """Directed where the property test is random: from each way into a conversation, walk it with
    sensible answers, and at every step reached throw every hostile fragment first."""
    study_and_tasting_files()
    reached = asyncio.run(walk_all(template()))
    # the steps a walk reaches today; a step that stops being reached is a change to look at
    assert len(reached) >= 25, sorted(reached)


async def walk_all(prepared: Path) -> set[tuple[str, str]]:
    from tests.hostile import FRAGMENTS

    reached: set[tuple[str, str]] = set()
    for actor, starter in STARTERS:
        folder = Path(tempfile.mkdtemp(prefix="localbot-hostile-walk-"))
        shutil.copy(prepared / "hostile.db", folder / "hostile.db")
        run = Run(folder)
        handler = Errors(run.errors)
        logging.getLogger("localbot").addHandler(handler)
        try:
            await run.step("sensible", actor, starter, None)
            for attempt in range(40):
                here = run.db.conn.execute("SELECT member_id, chat_ref, flow, step FROM conversations ORDER BY id").fetchall()
                if not here:
                    break
                member_id, chat_ref, flow, step = here[0]
                member = community_store.get_member(run.db, member_id)
                walker = next(a for a in ACTORS if member and a.sender.ref == member.ref and a.chat.ref == chat_ref)
                if (flow, step) not in reached:
                    reached.add((flow, step))
                    for fragment in FRAGMENTS:
                        await run.step("text", walker, fragment, None)
                        run.check()
                        if run.db.conn.execute("SELECT flow, step FROM conversations ORDER BY id").fetchone() != (flow, step):
                            break  # the fragment was an answer: walk on from where it led
                    continue
                await run.step("answer", walker, attempt * 7919, None)
                run.check()
        finally:
            logging.getLogger("localbot").removeHandler(handler)
            run.db.close()
            shutil.rmtree(folder, ignore_errors=True)
    return reached
