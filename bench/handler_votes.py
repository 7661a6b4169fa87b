"""Votes through the handler layer and SQLite, no adapter; and the same rows by a bare upsert loop.

The handler path is what every vote costs in the core whatever the messenger: the event id
recorded, the member refreshed, the membership checked, the poll read, the vote written, the live
edit of the group message queued, all in one transaction on a file database in WAL mode, as the
bot runs. The yardstick writes the same rows (poll, option, member, voter key, channel, time)
with sqlite-utils' ``upsert``, one transaction per vote, with the bot's pragmas. Rounds alternate
between the two so that a busy neighbour on the machine slows both alike; the best round counts,
as the one least disturbed.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from localbot.core import Core
from localbot.events import Chat, ChatKind, ChoicePicked, Command, Sender
from localbot.settings import Settings
from localbot.storage import open_database

GROUP = Chat("telegram:-100777", ChatKind.GROUP, "Bench Estate")
ORGANISER = Sender("telegram:1", "Organiser")
STAMP = "2026-11-21T10:00:00.000Z"


@dataclass
class Round:
    votes_per_s: float
    cpu_votes_per_s: float
    p99_ms: float = 0.0


async def handler_round(folder: Path, votes: int) -> Round:
    settings = Settings(database=folder / "handler.db", timezone="Europe/Warsaw", organisers="telegram:1")
    db = open_database(settings.database)
    try:
        core = Core(settings, db)
        await core.handle(Command(chat=GROUP, sender=ORGANISER, name="poll", args="Which flavour? | Mango | Lime | Ginger"))
        events = [
            ChoicePicked(
                chat=GROUP,
                sender=Sender(f"telegram:{10_000 + i}", f"Voter {i}", language=("pl", "id", "en")[i % 3]),
                payload=f"v:1:{1 + i % 3}",
                event_id=f"telegram:{i}",
            )
            for i in range(votes)
        ]
        each: list[float] = []
        started, cpu = time.perf_counter(), time.process_time()
        for event in events:
            before = time.perf_counter()
            await core.handle(event)
            each.append(time.perf_counter() - before)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        stored = db.execute("SELECT COUNT(*) FROM poll_votes").fetchone()[0]
        if stored != votes:
            raise AssertionError(f"{votes} votes handled, {stored} stored")
    finally:
        db.close()
    each.sort()
    return Round(votes / wall, votes / cpu, each[int(0.99 * (len(each) - 1))] * 1000)


def bare_round(folder: Path, votes: int) -> Round:
    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    db = sqlite_utils.Database(conn)
    db.execute(
        """CREATE TABLE poll_votes (poll_id INTEGER, option_id INTEGER, member_id INTEGER, voter_key TEXT,
                                     channel TEXT, created_at TEXT, PRIMARY KEY (poll_id, voter_key))"""
    )
    table = db.table("poll_votes")
    rows = [
        {"poll_id": 1, "option_id": 1 + i % 3, "member_id": i, "voter_key": f"m:{i}", "channel": "telegram", "created_at": STAMP}
        for i in range(votes)
    ]
    started, cpu = time.perf_counter(), time.process_time()
    for row in rows:
        with db.atomic():
            table.upsert(row, pk=("poll_id", "voter_key"))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return Round(votes / wall, votes / cpu)


async def measure(votes: int, rounds: int) -> dict[str, object]:
    ours: list[Round] = []
    bare: list[Round] = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as folder:
            ours.append(await handler_round(Path(folder), votes))
        with tempfile.TemporaryDirectory() as folder:
            bare.append(bare_round(Path(folder), votes))
    best = max(ours, key=lambda r: r.votes_per_s)
    best_bare = max(bare, key=lambda r: r.votes_per_s)
    return {
        "votes_per_s": best.votes_per_s,
        "bare_per_s": best_bare.votes_per_s,
        "ratio": best_bare.votes_per_s / best.votes_per_s,
        "cpu_votes_per_s": max(r.cpu_votes_per_s for r in ours),
        "bare_cpu_per_s": max(r.cpu_votes_per_s for r in bare),
        "median_round": statistics.median(r.votes_per_s for r in ours),
        "p99_ms": best.p99_ms,
        "votes": votes,
        "rounds": rounds,
    }
