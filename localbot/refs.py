"""References to members and chats that stay the same whatever messenger they come from.

A member is ``<messenger>:<id>`` (``telegram:123``, ``whatsapp:+48600100200``, ``console:anna``) and so
is a chat (``telegram:-1001234``, ``console:group``). Keeping them as plain strings makes them easy to
store, to compare and to write in settings (``LOCALBOT_ORGANISERS``).
"""

from __future__ import annotations

import re

MESSENGERS = ("telegram", "whatsapp", "console")

_ID_PATTERNS: dict[str, re.Pattern[str]] = {
    "telegram": re.compile(r"-?\d{1,20}"),
    "whatsapp": re.compile(r"\+\d{6,16}"),
    "console": re.compile(r"[A-Za-z0-9_.-]{1,32}"),
}


class RefError(ValueError):
    """A reference that does not name a messenger and an identity in that messenger's form."""


def make_ref(messenger: str, ident: str | int) -> str:
    ref = f"{messenger}:{ident}"
    parse_ref(ref)
    return ref


def parse_ref(ref: str) -> tuple[str, str]:
    """Split and check a reference; raises :class:`RefError` with a message a person can act on."""
    messenger, sep, ident = ref.strip().partition(":")
    if not sep:
        raise RefError(f"{ref!r} is not of the form messenger:id (e.g. telegram:123)")
    messenger = messenger.lower()
    if messenger not in _ID_PATTERNS:
        raise RefError(f"{ref!r}: unknown messenger {messenger!r} (use one of {', '.join(MESSENGERS)})")
    if not _ID_PATTERNS[messenger].fullmatch(ident):
        examples = {"telegram": "telegram:123456", "whatsapp": "whatsapp:+48600100200", "console": "console:anna"}
        raise RefError(f"{ref!r} is not a valid {messenger} identity (e.g. {examples[messenger]})")
    return messenger, ident


def messenger_of(ref: str) -> str:
    return ref.partition(":")[0]
