"""Blind codes: a random three-digit number per product, unique within the tasting.

Members see only the code on the cup, so a brand name or a letter like "A" cannot sway them.
Codes people read meaning into are left out (the sensory handbooks' advice, e.g. Meilgaard,
Civille & Carr): round hundreds (100, 500), three equal digits (777) and runs (123, 321).
"""

from __future__ import annotations

import random

LOWEST, HIGHEST = 100, 999


def telling(code: int) -> bool:
    """A code people might read something into."""
    a, b, c = (int(d) for d in f"{code:03d}")
    return code % 100 == 0 or a == b == c or (b - a == c - b and abs(b - a) == 1)


ALLOWED: tuple[int, ...] = tuple(code for code in range(LOWEST, HIGHEST + 1) if not telling(code))


def blind_codes(count: int, rng: random.Random | None = None) -> list[int]:
    """``count`` different codes from 100–999, in random order."""
    if not 0 <= count <= len(ALLOWED):
        raise ValueError(f"cannot draw {count} different codes")
    return (rng or random.SystemRandom()).sample(ALLOWED, count)
