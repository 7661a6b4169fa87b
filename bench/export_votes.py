"""How long an export of 1,000,000 votes takes, and how much memory it needs, in every format.

Builds a database with one community, 100,000 members and ten polls of 100,000 votes each (half of
them anonymous), then runs ``localbot export polls`` in a fresh process per format and reads that
process's own peak resident memory from the kernel (``wait4``). Streaming means the peak should not
depend on the number of rows; the target is under 150 MB. Usage:

    .venv/bin/python bench/export_votes.py [VOTES]

It prints, per format: rows written, seconds, peak memory in MB, and the file's size.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from localbot.clock import iso  # noqa: E402
from localbot.storage import open_database  # noqa: E402

POLLS = 10
OPTIONS = ("Mango", "Lime", "Ginger", "=HYPERLINK(\"x\")")


def build(path: Path, votes: int) -> None:
    from datetime import UTC, datetime, timedelta

    db = open_database(path)
    voters = max(1, votes // POLLS)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with db.atomic():
        db.execute(
            "INSERT INTO communities (id, name, language, timezone, created_at) VALUES (1, 'Bench Estate', 'en', 'UTC', ?)",
            [iso(start)],
        )
        db.conn.executemany(
            "INSERT INTO members (id, ref, messenger, name, created_at) VALUES (?, ?, 'telegram', ?, ?)",
            ((m, f"telegram:{m}", f"Voter {m}", iso(start)) for m in range(1, voters + 1)),
        )
        for poll in range(1, POLLS + 1):
            anonymous = poll % 2 == 0
            db.execute(
                "INSERT INTO polls (id, community_id, number, question, anonymous, created_at) VALUES (?, 1, ?, ?, ?, ?)",
                [poll, poll, f"Which flavour, round {poll}?", int(anonymous), iso(start)],
            )
            db.conn.executemany(
                "INSERT INTO poll_options (id, poll_id, position, label) VALUES (?, ?, ?, ?)",
                (((poll - 1) * len(OPTIONS) + i, poll, i, label) for i, label in enumerate(OPTIONS, start=1)),
            )
            db.conn.executemany(
                "INSERT INTO poll_votes (poll_id, option_id, member_id, voter_key, channel, created_at) VALUES (?, ?, ?, ?, 'telegram', ?)",
                (
                    (
                        poll,
                        (poll - 1) * len(OPTIONS) + 1 + m % len(OPTIONS),
                        None if anonymous else m,
                        f"a:{poll:04d}{m:028d}" if anonymous else f"m:{m}",
                        iso(start + timedelta(seconds=m)),
                    )
                    for m in range(1, voters + 1)
                ),
            )
    db.close()


def measure(database: Path, fmt: str, out: Path) -> tuple[float, float, str]:
    """Seconds, peak resident MB of the export process, and its report line."""
    command = [sys.executable, "-m", "localbot", "--db", str(database), "export", "polls", "--format", fmt, "--out", str(out)]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    report = process.stderr.read().decode().strip() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export failed: {report}")
    return seconds, usage.ru_maxrss / 1024, report


def main() -> None:
    votes = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        started = time.monotonic()
        build(database, votes)
        print(f"built {votes:,} votes in {time.monotonic() - started:.1f} s ({database.stat().st_size / 2**20:.0f} MB database)")
        print(f"{'format':<8} {'rows':>10} {'seconds':>8} {'peak MB':>8} {'file MB':>8}")
        for fmt in ("csv", "json", "xlsx"):
            out = Path(folder) / f"votes.{fmt}"
            seconds, peak, report = measure(database, fmt, out)
            rows = report.split()[1] if report.startswith("Wrote") else "?"
            print(f"{fmt:<8} {rows:>10} {seconds:>8.1f} {peak:>8.0f} {out.stat().st_size / 2**20:>8.0f}")
            out.unlink()


if __name__ == "__main__":
    main()
