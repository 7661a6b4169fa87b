"""A community's own welcome and rules, as its organisers wrote them.

Both live in the community's settings (``welcome``, ``rules``). A welcome may say ``{name}`` (the
newcomer) and ``{community}``; nothing else in braces is a placeholder, so a typo such as ``{nmae}``
is caught when the organiser saves the text rather than shown to every newcomer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from localbot.community.model import Community

MAX_WELCOME = 1000
MAX_RULES = 3000
PLACEHOLDERS = ("name", "community")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class TextProblem(Exception):
    """Why a welcome or rules text cannot be saved: ``too_long`` or ``unknown_placeholder``."""

    code: str
    details: dict[str, Any] = field(default_factory=dict)


def check(text: str, *, limit: int, placeholders: tuple[str, ...] = ()) -> str:
    """The text as it will be stored (trimmed), or :class:`TextProblem`."""
    cleaned = text.strip()
    if len(cleaned) > limit:
        raise TextProblem("too_long", {"length": len(cleaned), "limit": limit})
    for match in _PLACEHOLDER.finditer(cleaned):
        if match.group(1) not in placeholders:
            raise TextProblem("unknown_placeholder", {"placeholder": match.group(0)})
    return cleaned


def fill(template: str, *, name: str, community: str) -> str:
    """The template with its placeholders filled in one pass (a name that itself says
    ``{community}`` stays as it is)."""
    values = {"name": name, "community": community}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def welcome(community: Community, name: str) -> str | None:
    """The community's own welcome for ``name``, or None when the organisers kept the default."""
    template = community.settings.get("welcome")
    return fill(str(template), name=name, community=community.name) if template else None


def rules(community: Community) -> str | None:
    found = community.settings.get("rules")
    return str(found) if found else None
