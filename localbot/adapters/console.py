"""The local console: one simulated community, its group chat and each member's private chat.

Anyone can try the bot with no accounts at all. Lines come from standard input, interactively or
piped (then every line is processed, the replies printed, and the program exits 0 at the end of
input, which is how the tests and ``localbot demo`` drive it). Choices print as ``1) …``; typing a
number picks from the latest choices in that chat, exactly as on WhatsApp. Lines starting with
``:`` are console commands (``:as NAME``, ``:group``, ``:private``, ``:loc LAT LON``,
``:photo PATH``, ``:wait 2h``, ``:help``).
"""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from localbot.adapters.base import DEFAULT_CAPABILITIES, Adapter, DeliveryResult, Sent
from localbot.clock import OffsetClock
from localbot.community import store as community_store
from localbot.community.model import Role
from localbot.core import Core
from localbot.events import (
    Chat,
    ChatKind,
    Command,
    Event,
    LocationShared,
    MediaRef,
    MemberJoined,
    Message,
    PhotoShared,
    Sender,
    split_command,
)
from localbot.outbox import Outgoing
from localbot.replies import (
    Ack,
    Choices,
    Document,
    Edit,
    Location,
    Picture,
    PrivateLink,
    Reply,
    Text,
)
from localbot.when import parse_duration

GROUP_REF = "console:group"
COMMUNITY_NAME = "Console neighbourhood"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")

CONSOLE_HELP = """Console commands:
  :as NAME        become another member (created on first use; the first member is the organiser)
  :group          talk in the group chat
  :private        talk in your private chat with the bot
  :loc LAT LON    share a location, e.g. :loc 52.2297 21.0122
  :photo PATH     share a photo from a file
  :wait 2h        move the clock forward (2h, 30m, 3d…) and run what falls due
  :time           show the simulated time
  :help           this help
  :quit           leave (end of input works too)
Anything else is a message to the bot; commands start with /, e.g. /help."""


class ConsoleAdapter(Adapter):
    messenger = "console"
    capabilities = DEFAULT_CAPABILITIES["console"]

    def __init__(self, out: TextIO, media_dir: Path) -> None:
        self.out = out
        self.media_dir = media_dir
        self._saved = 0

    def chat_label(self, chat_ref: str) -> str:
        return "group" if chat_ref == GROUP_REF else f"{chat_ref.partition(':')[2]} (private)"

    def show(self, chat_ref: str, reply: Reply, *, to: str | None = None) -> None:
        where = self.chat_label(chat_ref)
        lines = self.render(reply)
        if isinstance(reply, Ack) and to:
            where = f"{where}, only {to} sees"
        self.out.write(f"bot → {where}: {lines[0]}\n")
        for line in lines[1:]:
            self.out.write(f"    {line}\n")
        self.out.flush()

    def render(self, reply: Reply) -> list[str]:
        if isinstance(reply, Choices):
            return [*reply.text.splitlines(), *(f"{i}) {o.label}" for i, o in enumerate(reply.options, start=1))]
        if isinstance(reply, Edit):
            numbered = [f"{i}) {o.label}" for i, o in enumerate(reply.options, start=1)]
            return ["(updated message)", *reply.text.splitlines(), *numbered]
        if isinstance(reply, Ack):
            return [f"✓ {reply.text}"]
        if isinstance(reply, Location):
            title = " — ".join(p for p in (reply.title, reply.address) if p)
            return [f"📍 {title} ({reply.latitude:.5f}, {reply.longitude:.5f})".replace("📍  (", "📍 (")]
        if isinstance(reply, (Picture, Document)):
            path = self._save(reply.data, reply.filename)
            kind = "picture" if isinstance(reply, Picture) else "file"
            return [f"[{kind} saved to {path}]", *reply.caption.splitlines()]
        if isinstance(reply, PrivateLink):
            return [*reply.text.splitlines(), "→ type :private to continue"]
        assert isinstance(reply, Text)
        return reply.text.splitlines() or [""]

    def _save(self, data: bytes, filename: str) -> Path:
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self._saved += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(filename).name) or "file"
        path = self.media_dir / f"{self._saved:03d}-{safe}"
        path.write_bytes(data)
        return path

    async def deliver(self, item: Outgoing) -> DeliveryResult:
        self.show(item.chat_ref, item.reply)
        return Sent(platform_id=None)

    async def download(self, media: MediaRef) -> bytes:
        return await asyncio.to_thread(Path(media.ref).read_bytes)


class ConsoleSession:
    """One console user driving several simulated members."""

    def __init__(self, core: Core, adapter: ConsoleAdapter, clock: OffsetClock, *, member: str = "anna") -> None:
        self.core = core
        self.adapter = adapter
        self.clock = clock
        self.out = adapter.out
        self.member = member
        self.in_group = True

    # --- set-up --------------------------------------------------------------------------------

    def setup(self) -> None:
        """The console community, and its first member as organiser."""
        db, now = self.core.db, self.clock.now()
        with db.atomic():
            community, _ = community_store.link_group_chat(
                db,
                chat_ref=GROUP_REF,
                title=COMMUNITY_NAME,
                language=self.core.settings.language,
                timezone=self.core.settings.timezone,
                now=now,
            )
            if not community_store.organiser_ids(db, community.id):
                first = community_store.touch_member(db, self.sender(), now=now, inbound=False)
                community_store.set_role(db, community.id, first.id, Role.ORGANISER, now=now)

    @property
    def chat(self) -> Chat:
        if self.in_group:
            return Chat(GROUP_REF, ChatKind.GROUP, COMMUNITY_NAME)
        return Chat(f"console:{self.member}", ChatKind.PRIVATE)

    def sender(self) -> Sender:
        return Sender(f"console:{self.member}", self.member.capitalize())

    @property
    def prompt(self) -> str:
        return f"{self.member}@{'group' if self.in_group else 'private'}> "

    def say(self, text: str) -> None:
        self.out.write(f"{text}\n")
        self.out.flush()

    # --- input ---------------------------------------------------------------------------------

    async def line(self, raw: str) -> bool:
        """Process one input line; False means the user wants to leave."""
        text = raw.rstrip("\r\n")
        if not text.strip():
            return True
        if text.startswith(":"):
            return await self.meta(text[1:].strip())
        name_args = split_command(text) if text.startswith("/") else None
        if name_args is not None:
            event: Event = Command(chat=self.chat, sender=self.sender(), name=name_args[0], args=name_args[1])
        else:
            event = Message(chat=self.chat, sender=self.sender(), text=text)
        await self.send(event)
        return True

    async def send(self, event: Event) -> None:
        for reply in await self.core.handle(event):
            self.adapter.show(event.chat.ref, reply, to=self.member)
        await self.settle()

    async def settle(self) -> None:
        """Run what is due and deliver what is queued, so output follows input in order."""
        await self.core.run_until_idle()
        for _ in range(100):
            if not await self.core.deliver_pending():
                break

    async def meta(self, command: str) -> bool:
        verb, _, rest = command.partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if verb in ("quit", "exit", "q"):
            return False
        if verb in ("help", "h", "?"):
            self.say(CONSOLE_HELP)
        elif verb == "as":
            await self.become(rest)
        elif verb == "group":
            self.in_group = True
            self.say("(you are in the group chat)")
        elif verb == "private":
            self.in_group = False
            self.say(f"(you are in {self.member}'s private chat with the bot)")
        elif verb == "loc":
            await self.location(rest)
        elif verb == "photo":
            await self.photo(rest)
        elif verb == "wait":
            await self.wait(rest)
        elif verb == "time":
            self.say(f"(simulated time: {self.clock.now():%Y-%m-%d %H:%M} UTC)")
        else:
            self.say(f"(unknown console command :{verb}; :help lists them)")
        return True

    async def become(self, name: str) -> None:
        if not _NAME.match(name):
            self.say("(usage: :as NAME — letters, digits, . _ - and at most 32 characters)")
            return
        self.member = name.lower()
        is_new = community_store.member_by_ref(self.core.db, f"console:{self.member}") is None
        self.say(f"(you are now {self.member})")
        if is_new:
            await self.send(MemberJoined(chat=Chat(GROUP_REF, ChatKind.GROUP, COMMUNITY_NAME), sender=self.sender()))

    async def location(self, rest: str) -> None:
        parts = rest.replace(",", " ").split()
        try:
            latitude, longitude = (float(p) for p in parts)
        except ValueError:
            self.say("(usage: :loc LATITUDE LONGITUDE, e.g. :loc 52.2297 21.0122)")
            return
        await self.send(LocationShared(chat=self.chat, sender=self.sender(), latitude=latitude, longitude=longitude))

    async def photo(self, rest: str) -> None:
        path = Path(rest).expanduser()
        if not rest or not path.is_file():
            self.say(f"(no such file: {rest or '?'}; usage: :photo PATH)")
            return
        media = MediaRef("console", str(path.resolve()), filename=path.name)
        await self.send(PhotoShared(chat=self.chat, sender=self.sender(), media=media))

    async def wait(self, rest: str) -> None:
        delta = parse_duration(rest) if rest else None
        if delta is None or delta <= timedelta():
            self.say("(usage: :wait DURATION, e.g. :wait 2h, :wait 30m, :wait 3d)")
            return
        self.clock.advance(delta)
        self.say(f"(time moves on by {rest}; it is now {self.clock.now():%Y-%m-%d %H:%M} UTC)")
        await self.settle()

    # --- the loop ------------------------------------------------------------------------------

    async def run(self, stream: TextIO, *, interactive: bool) -> None:
        self.setup()
        if interactive:
            self.say(f"localbot console — {COMMUNITY_NAME}. You are {self.member}, the organiser. Type :help for console commands, /help for the bot.")
            await self.core.start()
        try:
            while True:
                if interactive:
                    self.out.write(self.prompt)
                    self.out.flush()
                    raw = await asyncio.to_thread(stream.readline)
                else:
                    raw = stream.readline()
                if raw == "":
                    break
                if not interactive and raw.strip():
                    self.say(self.prompt + raw.rstrip("\r\n"))
                if not await self.line(raw):
                    break
        finally:
            if interactive:
                await self.core.stop()
            await self.settle()


async def run_console(core: Core, clock: OffsetClock, *, member: str = "anna", stream: TextIO | None = None, out: TextIO | None = None) -> None:
    stream = stream or sys.stdin
    out = out or sys.stdout
    adapter = ConsoleAdapter(out, core.settings.media_path / "console")
    core.attach(adapter)
    session = ConsoleSession(core, adapter, clock, member=member)
    await session.run(stream, interactive=stream.isatty())
