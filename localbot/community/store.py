"""Reading and writing communities, channels, members and memberships.

Functions take the sqlite-utils ``Database`` and plain values; callers decide the transaction.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

import sqlite_utils

from localbot.clock import iso
from localbot.community.model import Channel, ChannelKind, Community, Member, Role
from localbot.events import Sender
from localbot.refs import messenger_of
from localbot.storage.db import one, rows

# Codes members type on WhatsApp ("JOIN K7Q2MX"): no 0/O or 1/I/L to confuse.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_join_code(db: sqlite_utils.Database, length: int = 6) -> str:
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))
        if not one(db, "SELECT 1 FROM communities WHERE join_code = ?", [code]):
            return code


# --- communities -------------------------------------------------------------------------------


def create_community(
    db: sqlite_utils.Database, *, name: str, language: str, timezone: str, now: datetime
) -> Community:
    cursor = db.conn.execute(
        "INSERT INTO communities (name, language, timezone, join_code, created_at) VALUES (?, ?, ?, ?, ?)",
        [name, language, timezone, new_join_code(db), iso(now)],
    )
    community = get_community(db, int(cursor.lastrowid or 0))
    assert community is not None
    return community


def get_community(db: sqlite_utils.Database, community_id: int) -> Community | None:
    row = one(db, "SELECT * FROM communities WHERE id = ?", [community_id])
    return Community.from_row(row) if row else None


def community_by_code(db: sqlite_utils.Database, code: str) -> Community | None:
    row = one(db, "SELECT * FROM communities WHERE join_code = ?", [code.strip().upper()])
    return Community.from_row(row) if row else None


def community_by_name(db: sqlite_utils.Database, name: str) -> Community | None:
    row = one(db, "SELECT * FROM communities WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT 1", [name])
    return Community.from_row(row) if row else None


def list_communities(db: sqlite_utils.Database) -> list[Community]:
    return [Community.from_row(r) for r in rows(db, "SELECT * FROM communities ORDER BY id", [])]


def update_community(db: sqlite_utils.Database, community_id: int, **fields: Any) -> None:
    allowed = {"name", "language", "timezone", "join_code"}
    bad = set(fields) - allowed
    if bad:
        raise ValueError(f"cannot update {sorted(bad)}")
    if fields:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        db.execute(f"UPDATE communities SET {assignments} WHERE id = ?", [*fields.values(), community_id])


def update_community_settings(db: sqlite_utils.Database, community_id: int, **values: Any) -> None:
    """Merge ``values`` into the community's JSON settings (welcome text, rules, ask budget…)."""
    row = one(db, "SELECT settings FROM communities WHERE id = ?", [community_id])
    if row is None:
        raise LookupError(community_id)
    current = json.loads(row["settings"] or "{}")
    current.update(values)
    db.execute("UPDATE communities SET settings = ? WHERE id = ?", [json.dumps(current, ensure_ascii=False), community_id])


# --- channels ----------------------------------------------------------------------------------


def community_for_chat(db: sqlite_utils.Database, chat_ref: str, *, active: bool = True) -> Community | None:
    """The community behind a group chat, in one read (this runs on every group event).

    ``active=False`` finds it behind a group chat the bot was removed from instead.
    """
    row = one(
        db,
        """SELECT c.* FROM channels ch JOIN communities c ON c.id = ch.community_id
           WHERE ch.chat_ref = ? AND ch.active = ?""",
        [chat_ref, int(active)],
    )
    return Community.from_row(row) if row else None


def channel_for_chat(db: sqlite_utils.Database, chat_ref: str, *, active: bool | None = True) -> Channel | None:
    """The channel of a chat: an active one, an inactive one (``active=False``), or either (``None``)."""
    if active is None:
        row = one(db, "SELECT * FROM channels WHERE chat_ref = ?", [chat_ref])
    else:
        row = one(db, "SELECT * FROM channels WHERE chat_ref = ? AND active = ?", [chat_ref, int(active)])
    return Channel.from_row(row) if row else None


def deactivate_channel(db: sqlite_utils.Database, chat_ref: str) -> Channel | None:
    """The bot is no longer in this group chat: its channel stops receiving the community's messages.

    Returns the channel if this changed it, None if the chat is no channel or was inactive already
    (so whoever calls it twice for one removal acts once). The community, its members and
    everything they stored stay as they are.
    """
    row = one(
        db, "UPDATE channels SET active = 0 WHERE chat_ref = ? AND kind = 'group' AND active = 1 RETURNING *", [chat_ref]
    )
    return Channel.from_row(row) if row else None


def reactivate_channel(db: sqlite_utils.Database, chat_ref: str, *, title: str | None = None) -> Channel | None:
    """The bot is back in a group chat it was removed from: the same community's channel again.

    Returns the channel if this changed it, None if the chat is no channel or was active already.
    """
    row = one(
        db,
        "UPDATE channels SET active = 1, title = COALESCE(?, title) WHERE chat_ref = ? AND kind = 'group' AND active = 0 RETURNING *",
        [title, chat_ref],
    )
    return Channel.from_row(row) if row else None


def channels_of(db: sqlite_utils.Database, community_id: int) -> list[Channel]:
    found = rows(db, "SELECT * FROM channels WHERE community_id = ? AND active = 1 ORDER BY id", [community_id])
    return [Channel.from_row(r) for r in found]


def add_channel(
    db: sqlite_utils.Database,
    *,
    community_id: int,
    messenger: str,
    kind: ChannelKind,
    chat_ref: str | None,
    title: str | None,
    now: datetime,
) -> Channel:
    cursor = db.execute(
        "INSERT INTO channels (community_id, messenger, kind, chat_ref, title, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [community_id, messenger, kind.value, chat_ref, title, iso(now)],
    )
    row = one(db, "SELECT * FROM channels WHERE id = ?", [cursor.lastrowid])
    assert row is not None
    return Channel.from_row(row)


def roster_channel(db: sqlite_utils.Database, community_id: int, messenger: str, now: datetime) -> Channel:
    """The community's one-to-one roster in ``messenger`` (created on first use)."""
    row = one(
        db,
        "SELECT * FROM channels WHERE community_id = ? AND messenger = ? AND kind = 'roster' AND active = 1",
        [community_id, messenger],
    )
    if row:
        return Channel.from_row(row)
    return add_channel(
        db, community_id=community_id, messenger=messenger, kind=ChannelKind.ROSTER, chat_ref=None, title=None, now=now
    )


def link_group_chat(
    db: sqlite_utils.Database, *, chat_ref: str, title: str | None, language: str, timezone: str, now: datetime
) -> tuple[Community, Channel]:
    """The community behind a group chat, creating both on the bot's first use in that group.

    A group the bot was removed from keeps its community (and its channel stays inactive: only
    the bot's return makes it active again, see :func:`reactivate_channel`).
    """
    channel = channel_for_chat(db, chat_ref, active=None)
    if channel is None:
        created = create_community(db, name=title or chat_ref, language=language, timezone=timezone, now=now)
        channel = add_channel(
            db,
            community_id=created.id,
            messenger=messenger_of(chat_ref),
            kind=ChannelKind.GROUP,
            chat_ref=chat_ref,
            title=title,
            now=now,
        )
        return created, channel
    if title and title != channel.title:
        db.execute("UPDATE channels SET title = ? WHERE id = ?", [title, channel.id])
    community = get_community(db, channel.community_id)
    assert community is not None
    return community, channel


def move_chat(db: sqlite_utils.Database, old_ref: str, new_ref: str) -> bool:
    """A group chat got a new id (Telegram supergroup upgrade): keep its community."""
    if channel_for_chat(db, new_ref) is not None:
        return False
    cursor = db.execute("UPDATE channels SET chat_ref = ? WHERE chat_ref = ?", [new_ref, old_ref])
    db.execute("UPDATE message_refs SET chat_ref = ? WHERE chat_ref = ?", [new_ref, old_ref])
    return cursor.rowcount > 0


# --- members -----------------------------------------------------------------------------------


def get_member(db: sqlite_utils.Database, member_id: int) -> Member | None:
    row = one(db, "SELECT * FROM members WHERE id = ?", [member_id])
    return Member.from_row(row) if row else None


def member_by_ref(db: sqlite_utils.Database, ref: str) -> Member | None:
    row = one(db, "SELECT * FROM members WHERE ref = ?", [ref])
    return Member.from_row(row) if row else None


def touch_member(
    db: sqlite_utils.Database, sender: Sender, *, now: datetime, private_chat_ref: str | None = None, inbound: bool = True
) -> Member:
    """Create or refresh the member behind ``sender`` in one statement (this runs on every event)."""
    stamp = iso(now)
    row = one(
        db,
        """
        INSERT INTO members (ref, messenger, name, username, messenger_language, private_chat_ref,
                             created_at, last_seen_at, last_inbound_at)
        VALUES (:ref, :messenger, :name, :username, :lang, :private, :now, :now, :inbound)
        ON CONFLICT (ref) DO UPDATE SET
            name = CASE WHEN excluded.name != '' THEN excluded.name ELSE members.name END,
            username = COALESCE(excluded.username, members.username),
            messenger_language = COALESCE(excluded.messenger_language, members.messenger_language),
            private_chat_ref = COALESCE(excluded.private_chat_ref, members.private_chat_ref),
            last_seen_at = excluded.last_seen_at,
            last_inbound_at = COALESCE(excluded.last_inbound_at, members.last_inbound_at)
        RETURNING *
        """,
        {
            "ref": sender.ref,
            "messenger": messenger_of(sender.ref),
            "name": sender.name or "",
            "username": sender.username,
            "lang": sender.language,
            "private": private_chat_ref,
            "now": stamp,
            "inbound": stamp if inbound else None,
        },  # type: ignore[arg-type]
    )
    assert row is not None
    return Member.from_row(row)


def forget_private_chat(db: sqlite_utils.Database, member_id: int) -> None:
    """The member's private chat refused a message (they blocked the bot): until they write to the
    bot again, flows moved to the private chat offer a link instead of writing first."""
    db.execute("UPDATE members SET private_chat_ref = NULL WHERE id = ?", [member_id])


def set_member_language(db: sqlite_utils.Database, member_id: int, language: str | None) -> None:
    db.execute("UPDATE members SET language = ? WHERE id = ?", [language, member_id])


# --- memberships -------------------------------------------------------------------------------


def ensure_membership(
    db: sqlite_utils.Database, community_id: int, member_id: int, *, now: datetime, make_current: bool = False
) -> bool:
    """Make sure the member belongs to the community; returns True when they just (re)joined.

    This runs on every group event, so the common case (already a member) is one statement that
    changes nothing. A new membership becomes the member's current community if they have none.
    """
    cursor = db.conn.execute(
        """INSERT INTO memberships (community_id, member_id, joined_at, is_current)
           VALUES (:community, :member, :now,
                   NOT EXISTS (SELECT 1 FROM memberships WHERE member_id = :member AND is_current = 1 AND left_at IS NULL))
           ON CONFLICT (community_id, member_id) DO UPDATE SET left_at = NULL, joined_at = excluded.joined_at
           WHERE memberships.left_at IS NOT NULL""",
        {"community": community_id, "member": member_id, "now": iso(now)},
    )
    joined = cursor.rowcount > 0
    if make_current or (joined and not current_community_id(db, member_id)):
        set_current_community(db, member_id, community_id)
    return joined


def leave_community(db: sqlite_utils.Database, community_id: int, member_id: int, *, now: datetime) -> bool:
    cursor = db.execute(
        "UPDATE memberships SET left_at = ?, is_current = 0 WHERE community_id = ? AND member_id = ? AND left_at IS NULL",
        [iso(now), community_id, member_id],
    )
    if cursor.rowcount and not current_community_id(db, member_id):
        other = one(
            db,
            "SELECT community_id FROM memberships WHERE member_id = ? AND left_at IS NULL ORDER BY joined_at DESC LIMIT 1",
            [member_id],
        )
        if other:
            set_current_community(db, member_id, other["community_id"])
    return cursor.rowcount > 0


def set_current_community(db: sqlite_utils.Database, member_id: int, community_id: int) -> None:
    db.execute(
        "UPDATE memberships SET is_current = (community_id = ?) WHERE member_id = ?", [community_id, member_id]
    )


def current_community_id(db: sqlite_utils.Database, member_id: int) -> int | None:
    row = one(
        db,
        "SELECT community_id FROM memberships WHERE member_id = ? AND is_current = 1 AND left_at IS NULL",
        [member_id],
    )
    return row["community_id"] if row else None


def communities_of(db: sqlite_utils.Database, member_id: int) -> list[Community]:
    found = rows(
        db,
        """SELECT c.* FROM communities c JOIN memberships m ON m.community_id = c.id
           WHERE m.member_id = ? AND m.left_at IS NULL ORDER BY m.joined_at""",
        [member_id],
    )
    return [Community.from_row(r) for r in found]


def role_of(db: sqlite_utils.Database, community_id: int, member_id: int) -> Role | None:
    row = one(
        db,
        "SELECT role FROM memberships WHERE community_id = ? AND member_id = ? AND left_at IS NULL",
        [community_id, member_id],
    )
    return Role(row["role"]) if row else None


def set_role(db: sqlite_utils.Database, community_id: int, member_id: int, role: Role, *, now: datetime) -> None:
    ensure_membership(db, community_id, member_id, now=now)
    db.execute(
        "UPDATE memberships SET role = ? WHERE community_id = ? AND member_id = ?", [role.value, community_id, member_id]
    )


def active_members(db: sqlite_utils.Database, community_id: int, *, messenger: str | None = None) -> list[Member]:
    sql = """SELECT mb.* FROM members mb JOIN memberships m ON m.member_id = mb.id
             WHERE m.community_id = ? AND m.left_at IS NULL"""
    params: list[Any] = [community_id]
    if messenger:
        sql += " AND mb.messenger = ?"
        params.append(messenger)
    return [Member.from_row(r) for r in rows(db, sql + " ORDER BY mb.id", params)]


def organiser_ids(db: sqlite_utils.Database, community_id: int) -> list[int]:
    found = rows(
        db,
        "SELECT member_id FROM memberships WHERE community_id = ? AND role = 'organiser' AND left_at IS NULL",
        [community_id],
    )
    return [r["member_id"] for r in found]
