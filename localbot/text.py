"""Normalising what people type, shared by every feature that reads members' words."""

from __future__ import annotations

import unicodedata


def clean(text: str) -> str:
    """Collapse white space and drop control and invisible formatting characters.

    Members paste from everywhere; a question or a name should not carry stray line breaks,
    zero-width spaces or bidi controls into the group message and the export.
    """
    kept = "".join(
        " " if ch.isspace() else ch for ch in text if not unicodedata.category(ch).startswith("C") or ch.isspace()
    )
    return " ".join(kept.split())


def fold(text: str) -> str:
    """Lower case, no accents, no apostrophes, no trailing dots: "Piątek" → "piatek", "pt." → "pt".

    For matching words typed in any of our languages, on phones that may not offer the accents.
    """
    text = unicodedata.normalize("NFKD", text.casefold().replace("ł", "l"))
    return "".join(c for c in text if not unicodedata.combining(c)).strip().rstrip(".").replace("'", "")


#: More digits than any number a member means (SQLite's integers end at 19 digits).
MAX_DIGITS = 12


def whole_number(text: str) -> int | None:
    """``text`` as a whole number, or None. Digits of any script that ``int`` reads (``٣``, ``７``)
    count; digit-like characters it does not read (``²``, ``①``, which ``str.isdigit`` accepts) do
    not, and neither do more than :data:`MAX_DIGITS` digits (SQLite stores at most 19, and Python
    refuses to read more than 4,300)."""
    return int(text) if text.isdecimal() and len(text) <= MAX_DIGITS else None
