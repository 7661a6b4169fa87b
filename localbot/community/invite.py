"""Joining a community by code: reading what a member typed, the link and the QR code to share.

A WhatsApp "group" is a community whose members talk to the bot one to one, so members join it by
sending ``JOIN <code>`` (or tapping a ``wa.me`` link that fills that message in). The rules here are
messenger-neutral: any member may join by code from a private chat, whatever their messenger.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import qrcode
import sqlite_utils

from localbot.community import store
from localbot.community.model import ChannelKind, Community, Member

#: What a code may look like once spaces and dashes are gone. Wider than the codes we make, so that
#: a mistyped code is answered "unknown code" rather than "that is not a code".
_CODE_SHAPE = re.compile(r"[A-Z0-9]{4,12}")


def normalise_code(text: str) -> str:
    """``" k7q-2mx "`` → ``"K7Q2MX"``: members copy codes with spaces, dashes and any case."""
    return re.sub(r"[\s\-_.]", "", text).upper()


def looks_like_code(code: str) -> bool:
    return bool(_CODE_SHAPE.fullmatch(code))


@dataclass(frozen=True, slots=True)
class Joined:
    community: Community
    #: False when the member already belonged to it (then it only became their current one).
    new: bool
    #: The community shows itself in a group chat of the member's messenger, not one to one.
    via_group: bool


def join(db: sqlite_utils.Database, member: Member, community: Community, *, now: datetime) -> Joined:
    """Add ``member`` to ``community`` and make it their current one.

    Where the community has no group chat in the member's messenger, the member is reached one to
    one through the community's roster channel for that messenger, created on the first join.
    (Creating a roster next to a group of the same messenger would send everything twice.)
    """
    via_group = any(
        channel.kind is ChannelKind.GROUP and channel.messenger == member.messenger
        for channel in store.channels_of(db, community.id)
    )
    if not via_group:
        store.roster_channel(db, community.id, member.messenger, now)
    new = store.ensure_membership(db, community.id, member.id, now=now, make_current=True)
    return Joined(community, new, via_group)


def renew_code(db: sqlite_utils.Database, community: Community) -> str:
    """A fresh join code; the old one stops working at once (a code shared too widely)."""
    code = store.new_join_code(db)
    store.update_community(db, community.id, join_code=code)
    return code


def whatsapp_link(sender: str, code: str) -> str:
    """``https://wa.me/<number>?text=JOIN%20<code>``: opens WhatsApp with the join message typed in.

    ``sender`` is the bot's WhatsApp address (``whatsapp:+14155238886``); wa.me wants bare digits.
    """
    digits = re.sub(r"\D", "", sender)
    return f"https://wa.me/{digits}?text={quote(f'JOIN {code}')}"


def qr_png(text: str) -> bytes:
    """A QR code for ``text`` as PNG bytes, for posters at the pickup point or the notice board."""
    image = qrcode.make(text, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
