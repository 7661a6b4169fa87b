"""Charts as PNG bytes, drawn with matplotlib's Agg backend (no screen needed).

Feature packages draw their own charts (``localbot/<feature>/charts.py``) with these helpers, so
every picture the bot sends shares one size, one palette and one way of turning into bytes.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.figure import Figure  # noqa: E402

#: Colour-blind-safe (Okabe–Ito) palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
DPI = 120


def new_figure(width: float = 6.4, height: float = 4.0) -> tuple[Figure, Any]:
    """A figure and its axes, styled alike for every chart."""
    figure, axes = plt.subplots(figsize=(width, height), dpi=DPI)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def to_png(figure: Figure) -> bytes:
    """The figure as PNG bytes; the figure is closed so long-running bots do not leak memory."""
    buffer = io.BytesIO()
    try:
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def wrap(label: str, width: int = 18) -> str:
    """Break a long axis label into lines so it does not run into its neighbours."""
    words, lines, current = label.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return "\n".join(lines) or label
