"""Serving orders from Williams designs: every product equally often in every position, and every
product equally often right after every other one.

Tasting one sample changes how the next one tastes (carry-over), and the first sample of a
session is judged differently from the last (position). A Williams design balances both
(Williams, 1949; MacFie et al., 1989, for sensory tests): its first row is ``0, 1, n-1, 2, n-2, …``,
row *i* adds *i* to every entry (mod *n*), and for an odd number of products the mirror image of
that square is added, so that the design has *n* rows (even *n*) or *2n* rows (odd *n*). With
four products the rows are ABDC, BCAD, CDBA, DACB.

A tasting hands out rows as people sign up. To keep the panel balanced when people cancel, a new
participant gets the row used least by the current participants (the lowest such row on a tie),
so a full panel is always a whole number of designs plus the rows handed out last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Row = tuple[int, ...]


def first_row(n: int) -> list[int]:
    """``0, 1, n-1, 2, n-2, …``"""
    if n < 1:
        raise ValueError("a design needs at least one product")
    row, low, high = [0], 1, n - 1
    while len(row) < n:
        row.append(low)
        low += 1
        if len(row) < n:
            row.append(high)
            high -= 1
    return row


def williams(n: int) -> tuple[Row, ...]:
    """The Williams design for ``n`` products: rows of product indices (0 = A), in serving order."""
    first = first_row(n)
    square = [tuple((entry + i) % n for entry in first) for i in range(n)]
    if n % 2:
        square += [tuple(reversed(row)) for row in square]
    return tuple(square)


def letter(index: int) -> str:
    """Product 0 → ``A`` … 25 → ``Z``."""
    return chr(ord("A") + index)


def next_row(in_use: Iterable[int], rows: int) -> int:
    """The row for a new participant: used least by the current participants, lowest on a tie."""
    counts = Counter(row for row in in_use if 0 <= row < rows)
    return min(range(rows), key=lambda row: (counts[row], row))


def position_counts(rows: Sequence[Row], n: int) -> list[list[int]]:
    """``counts[product][position]``: how often each product is served at each position."""
    counts = [[0] * n for _ in range(n)]
    for row in rows:
        for position, product in enumerate(row):
            counts[product][position] += 1
    return counts


def carryover_counts(rows: Sequence[Row], n: int) -> list[list[int]]:
    """``counts[before][after]``: how often ``after`` is served right after ``before``."""
    counts = [[0] * n for _ in range(n)]
    for row in rows:
        for before, after in zip(row, row[1:], strict=False):
            counts[before][after] += 1
    return counts


@dataclass(frozen=True, slots=True)
class PlannedServing:
    """One line of a serving sheet: who, which row of the design, and what to serve in order."""

    participant: int
    row: int
    order: Row


def plan(products: int, participants: int) -> list[PlannedServing]:
    """The serving sheet for a panel of ``participants``: participant *k* (from 1) gets row
    (*k* − 1) mod the number of rows, which is what :func:`next_row` hands out to people who sign
    up one after another and never cancel."""
    if participants < 1:
        raise ValueError("a plan needs at least one participant")
    rows = williams(products)
    return [PlannedServing(k + 1, k % len(rows), rows[k % len(rows)]) for k in range(participants)]
