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
