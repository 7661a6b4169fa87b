"""Where the command line writes its files (``--out``): organisers name a path, and it should work.

A folder in that path that does not exist yet is made (``--out study/habits.xlsx`` in a fresh
folder), and a path that cannot be written is one line naming the folder and the reason, never a
traceback.
"""

from __future__ import annotations

from pathlib import Path

import click


def output_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """A click callback for ``--out``: make the file's folder, or refuse with the reason."""
    if value is None:
        return None
    try:
        value.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot make the folder {value.parent}: {exc.strerror or exc}") from None
    return value


def write_failed(out: Path, exc: OSError) -> str:
    """The one line for a write that failed part-way (a full disk, a folder made read-only)."""
    return f"localbot: could not write {out}: {exc.strerror or exc}; nothing was written there"
