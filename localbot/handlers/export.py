"""/export in the chat: an organiser gets their own community's data as a file, privately.

The file is built from the same registry as ``localbot export`` (:mod:`localbot.export.kinds`),
always for the community the command speaks for, so an organiser can never export another
community's data. It goes to the organiser's private chat: in a group the group only reads a short
confirmation, and a Telegram organiser who has never opened a chat with the bot gets a deep link
that builds the file there. Chat files are capped well below what messengers accept (WhatsApp takes
16 MB of media); anything larger is for ``localbot export`` on the computer that runs the bot.
Survey photos stay on that computer: the file links them there, and its caption says how to get
them next to the file (``localbot export surveys --photos DIR``).
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

from localbot.community import store as community_store
from localbot.community.model import Community
from localbot.events import ChoicePicked, Command
from localbot.export.files import Files
from localbot.export.kinds import KINDS, ExportKind, write_export
from localbot.export.writers import MIME_TYPES, TooManyRows
from localbot.handlers.context import Context, HandlerError
from localbot.handlers.router import HandlerResult, Router
from localbot.i18n import N_, Translator
from localbot.replies import Ack, Choices, Document, Option, PrivateLink, Reply, Text
from localbot.text import whole_number

MAX_CHAT_BYTES = 15 * 1024 * 1024
DEFAULT_FORMAT = "csv"


class TooLarge(Exception):
    """The file would not fit in a chat message."""


class CappedBuffer(io.BytesIO):
    """Bytes in memory, refusing to grow past ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.limit:
            raise TooLarge
        return super().write(data)


def slug(name: str) -> str:
    """A community's name as a file name part: ASCII letters and digits, dashes between words."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:40] or "community"


def build(ctx: Context, community: Community, kind: ExportKind, fmt: str) -> tuple[bytes, int, int]:
    """The file's bytes, its rows, and how many photos it links (on the computer that runs the bot)."""
    buffer = CappedBuffer(MAX_CHAT_BYTES)
    files = Files(Path(ctx.settings.database).resolve().parent)
    try:
        count = write_export(ctx.db, kind, fmt, buffer, community_id=community.id, files=files)
    except TooLarge:
        raise HandlerError(
            ctx.t._(
                "That file is too large to send in a chat. On the computer that runs the bot, use: localbot export {kind} --format {format} --community “{community}” --out FILE",
                kind=kind.name,
                format=fmt,
                community=community.name,
            )
        ) from None
    except TooManyRows as full:
        raise HandlerError(
            ctx.t._(
                "That is more rows than an Excel sheet holds ({limit}). Ask for CSV instead: /export {kind} csv",
                limit=ctx.t.number(full.fits, 0),
                kind=kind.name,
            )
        ) from None
    return buffer.getvalue(), count, files.linked


def document(
    t: Translator, community: Community, kind: ExportKind, fmt: str, data: bytes, count: int, stamp: str, photos: int = 0
) -> Document:
    caption = t.n_(
        "{what} of {community}: {n} row.",
        "{what} of {community}: {n} rows.",
        count,
        what=t._(kind.label),
        community=community.name,
    )
    if photos:
        caption += "\n" + t.n_(
            "{n} photo stays on the computer that runs the bot; the file links to it there. To have the photos next to the file, "
            "run there: localbot export {kind} --format {format} --community “{community}” --out FILE --photos FOLDER",
            "{n} photos stay on the computer that runs the bot; the file links to them there. To have the photos next to the file, "
            "run there: localbot export {kind} --format {format} --community “{community}” --out FILE --photos FOLDER",
            photos,
            kind=kind.name,
            format=fmt,
            community=community.name,
        )
    return Document(
        data=data,
        filename=f"{slug(community.name)}-{kind.name}-{stamp}.{fmt}",
        caption=caption,
        mime_type=MIME_TYPES[fmt],
    )


def deliver(ctx: Context, community: Community, kind: ExportKind, fmt: str) -> list[Reply]:
    """The file for the organiser: here in a private chat, else privately with a note in the group."""
    t = ctx.t
    if ctx.in_group and ctx.needs_private_link:
        return [
            PrivateLink(
                text=t._("{name}, I send exports privately. Tap the button below to get the file in our private chat.", name=ctx.member.display_name),
                payload=f"export-{community.id}-{kind.name}-{fmt}",
                label=t._("Get the file privately"),
            )
        ]
    data, count, photos = build(ctx, community, kind, fmt)
    stamp = ctx.now.astimezone(community.tz).strftime("%Y-%m-%d")
    if not ctx.in_group:
        return [document(t, community, kind, fmt, data, count, stamp, photos)]
    ctx.send_to_member(ctx.member, lambda mt: document(mt, community, kind, fmt, data, count, stamp, photos), community=community)
    return [Text(text=t._("{name}, I've sent you the file privately.", name=ctx.member.display_name))]


def _choose(ctx: Context, community: Community) -> Choices:
    t = ctx.t
    listed = ", ".join(f"{name} ({'/'.join(kind.formats)})" for name, kind in KINDS.items())
    return Choices(
        text=t._("What should I export from {community}? You can also name a format, for example /export polls xlsx.", community=community.name)
        + "\n"
        + listed,
        options=tuple(Option(t._(kind.label), f"ex:{community.id}:{name}") for name, kind in KINDS.items()),
    )


def _kind_and_format(t: Translator, words: list[str]) -> tuple[ExportKind, str]:
    kind = KINDS.get(words[0])
    if kind is None:
        raise HandlerError(t._("I can export {kinds}. For example: /export polls xlsx", kinds=", ".join(KINDS)))
    fmt = words[1] if len(words) > 1 else DEFAULT_FORMAT
    if len(words) > 2 or fmt not in kind.formats:
        raise HandlerError(
            t._("{kind} can be exported as {formats}. For example: /export {kind} {example}", kind=kind.name, formats=", ".join(kind.formats), example=kind.formats[-1])
        )
    return kind, fmt


def cmd_export(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    words = cmd.args.lower().split()
    if not words:
        return _choose(ctx, community)
    kind, fmt = _kind_and_format(ctx.t, words)
    return deliver(ctx, community, kind, fmt)


def _community_for_organiser(ctx: Context, community_id: str) -> Community:
    """The community a button or link names, if the member organises it; refuses otherwise."""
    ident = whole_number(community_id)
    community = community_store.get_community(ctx.db, ident) if ident is not None else None
    if community is None or not ctx.is_organiser(community):
        raise HandlerError(ctx.t._("Only organisers can use /{name}.", name="export"))
    return community


def on_export_choice(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    if len(parts) != 2 or parts[1] not in KINDS:
        return Ack(text=ctx.t._("This button no longer works."))
    try:
        community = _community_for_organiser(ctx, parts[0])
    except HandlerError as refused:
        return Ack(text=refused.message)
    return deliver(ctx, community, KINDS[parts[1]], DEFAULT_FORMAT)


def start_export(ctx: Context, cmd: Command, parts: list[str]) -> HandlerResult:
    """``/start export-<community>-<kind>-<format>``: the deep link from a group, opened privately."""
    if len(parts) != 3:
        raise HandlerError(ctx.t._("That link is no longer valid. Send /help to see what I can do."))
    community = _community_for_organiser(ctx, parts[0])
    kind, fmt = _kind_and_format(ctx.t, parts[1:])
    return deliver(ctx, community, kind, fmt)


def register(router: Router) -> None:
    router.command(
        "export",
        help=N_("Get your community's data as a file (csv, xlsx, json), sent privately"),
        usage="[KIND] [FORMAT]",
        organiser_only=True,
        section="organisers",
    )(cmd_export)
    router.choice("ex")(on_export_choice)
    router.start("export")(start_export)
