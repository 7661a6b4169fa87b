"""An export of 1,000,000 votes in a process of its own: seconds and peak resident memory.

A database of ten polls in one community (half of them anonymous) is filled straight through SQL,
then ``localbot export polls`` runs as a separate process and the kernel reports that process's
peak resident memory (``wait4``), imports and all. Streaming keeps the peak flat whatever the
number of rows; the target is under 150 MB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from localbot.storage import open_database

POLLS = 10
STAMP = "2026-11-01T10:00:00.000Z"


def build(database: Path, votes: int) -> None:
    db = open_database(database)
    per_poll = max(1, votes // POLLS)
    with db.atomic():
        db.execute("INSERT INTO communities (id, name, language, timezone, created_at) VALUES (1, 'Bench Estate', 'en', 'UTC', ?)", [STAMP])
        db.conn.executemany(
            "INSERT INTO members (id, ref, messenger, name, created_at) VALUES (?, ?, 'telegram', ?, ?)",
            ((m, f"telegram:{m}", f"Voter {m}", STAMP) for m in range(1, per_poll + 1)),
        )
        for poll in range(1, POLLS + 1):
            anonymous = poll % 2 == 0
            db.execute(
                "INSERT INTO polls (id, community_id, number, question, anonymous, created_at) VALUES (?, 1, ?, ?, ?, ?)",
                [poll, poll, f"Which flavour, round {poll}?", int(anonymous), STAMP],
            )
            options = [poll * 10 + i for i in range(3)]
            db.conn.executemany(
                "INSERT INTO poll_options (id, poll_id, position, label) VALUES (?, ?, ?, ?)",
                ((option, poll, i + 1, ("Mango", "Lime", "=1+1")[i]) for i, option in enumerate(options)),
            )
            db.conn.executemany(
                "INSERT INTO poll_votes (poll_id, option_id, member_id, voter_key, channel, created_at) VALUES (?, ?, ?, ?, 'telegram', ?)",
                (
                    (poll, options[m % 3], None if anonymous else m, f"a:{poll}:{m}" if anonymous else f"m:{m}", STAMP)
                    for m in range(1, per_poll + 1)
                ),
            )
    db.close()


def export(database: Path, fmt: str, out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "localbot", "--db", str(database), "export", "polls", "--format", fmt, "--out", str(out)]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    errors = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"localbot export failed: {errors}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "file_mb": out.stat().st_size / 2**20}


def export_votes(folder: Path, votes: int) -> dict[str, Any]:
    database = folder / "export.db"
    started = time.monotonic()
    build(database, votes)
    built = time.monotonic() - started
    result = export(database, "csv", folder / "votes.csv")
    rows = sum(1 for _ in (folder / "votes.csv").open(encoding="utf-8")) - 1
    return {**result, "rows": rows, "build_s": built}
