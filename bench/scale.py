"""A very large deployment on one bot: many communities in one SQLite file. Where is the first limit?

Opt-in (``bench/run.py --scale``): it builds, straight through SQL, a database of 1,000
communities, each a Telegram group of 100 members with ten polls of 100 votes (1,000,000 votes
and 100,000 members), 1,000,000 processed event ids, 500,000 sent messages in the outbox and
200,000 scheduled jobs; then it measures, on that file, what grows with it:

* the handler path (votes from new members in one group), against the same on a fresh file;
* a deadline wave: the polls of all 1,000 communities closing in the same minute (jobs run, results
  queued for every group), and what delivering those results takes at the measured send rate;
* the outbox's and the scheduler's own queries with that much history;
* the file's size per vote.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from localbot import outbox, scheduler
from localbot.clock import ManualClock, iso
from localbot.core import Core
from localbot.events import Chat, ChatKind, ChoicePicked, Message, Sender
from localbot.settings import Settings
from localbot.storage import open_database

COMMUNITIES = 1000
MEMBERS_PER = 100
POLLS_PER = 10
EVENTS = 1_000_000
SENT = 500_000
JOBS = 200_000
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def build(database: Path, communities: int = COMMUNITIES) -> dict[str, float]:
    """The database described above, for ``communities`` communities (history scaled to match)."""
    started = time.monotonic()
    db = open_database(database)
    stamp, later = iso(NOW - timedelta(days=30)), iso(NOW + timedelta(days=400))
    members = communities * MEMBERS_PER
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO communities (id, name, language, timezone, created_at) VALUES (?, ?, 'pl', 'Europe/Warsaw', ?)",
            ((c, f"Estate {c}", stamp) for c in range(1, communities + 1)),
        )
        db.conn.executemany(
            "INSERT INTO channels (community_id, messenger, kind, chat_ref, title, created_at) VALUES (?, 'telegram', 'group', ?, ?, ?)",
            ((c, f"telegram:-100{c}", f"Estate {c}", stamp) for c in range(1, communities + 1)),
        )
        db.conn.executemany(
            "INSERT INTO members (id, ref, messenger, name, created_at, last_seen_at) VALUES (?, ?, 'telegram', ?, ?, ?)",
            ((m, f"telegram:{1_000_000 + m}", f"Member {m}", stamp, stamp) for m in range(1, members + 1)),
        )
        db.conn.executemany(
            "INSERT INTO memberships (community_id, member_id, joined_at, is_current) VALUES (?, ?, ?, 1)",
            ((1 + (m - 1) // MEMBERS_PER, m, stamp) for m in range(1, members + 1)),
        )
        poll = 0
        for c in range(1, communities + 1):
            for number in range(1, POLLS_PER + 1):
                poll += 1
                is_open = number == POLLS_PER  # the newest poll of each community is open, closing now
                db.execute(
                    "INSERT INTO polls (id, community_id, number, question, status, closes_at, created_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [poll, c, number, f"Question {number}?", "open" if is_open else "closed", iso(NOW) if is_open else None, stamp, None if is_open else stamp],
                )
                db.conn.executemany(
                    "INSERT INTO poll_options (id, poll_id, position, label) VALUES (?, ?, ?, ?)",
                    ((poll * 3 + i, poll, i + 1, ("Kiosk", "Library", "Park")[i]) for i in range(3)),
                )
                first = (c - 1) * MEMBERS_PER + 1
                db.conn.executemany(
                    "INSERT INTO poll_votes (poll_id, option_id, member_id, voter_key, channel, created_at) VALUES (?, ?, ?, ?, 'telegram', ?)",
                    ((poll, poll * 3 + m % 3, m, f"m:{m}", stamp) for m in range(first, first + MEMBERS_PER)),
                )
                if is_open:
                    scheduler.schedule(db, "poll.close", NOW, {"poll_id": poll}, now=NOW, dedupe_key=f"poll.close:{poll}", community_id=c)
        db.conn.executemany(
            "INSERT INTO inbound_events (event_id, received_at) VALUES (?, ?)",
            ((f"telegram:{n}", stamp) for n in range(EVENTS * communities // COMMUNITIES)),
        )
        payload = '{"type":"text","text":"A message that went out a while ago.","key":null}'
        db.conn.executemany(
            """INSERT INTO outbox (chat_ref, messenger, purpose, payload, state, attempts, next_attempt_at, created_at, sent_at)
               VALUES (?, 'telegram', 'message', ?, 'sent', 1, ?, ?, ?)""",
            ((f"telegram:{1_000_000 + n % members + 1}", payload, stamp, stamp, stamp) for n in range(SENT * communities // COMMUNITIES)),
        )
        db.conn.executemany(
            "INSERT INTO jobs (kind, payload, due_at, dedupe_key, created_at) VALUES ('survey.prompt', '{\"entry\": 0}', ?, ?, ?)",
            ((later, f"bench.prompt:{n}", stamp) for n in range(JOBS * communities // COMMUNITIES)),
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"build_s": time.monotonic() - started, "size_mb": database.stat().st_size / 2**20}


async def votes_per_s(database: Path, community: int, votes: int, first: int = 0) -> float:
    settings = Settings(database=database, timezone="Europe/Warsaw")
    db = open_database(database)
    try:
        core = Core(settings, db, clock=ManualClock(NOW - timedelta(minutes=5)))
        poll = community * POLLS_PER
        group = Chat(f"telegram:-100{community}", ChatKind.GROUP, f"Estate {community}")
        events = [
            ChoicePicked(chat=group, sender=Sender(f"telegram:{9_000_000 + i}", f"Voter {i}"), payload=f"v:{poll}:{1 + i % 3}", event_id=f"bench:{i}")
            for i in range(first, first + votes)
        ]
        started = time.perf_counter()
        for event in events:
            await core.handle(event)
        return votes / (time.perf_counter() - started)
    finally:
        db.close()


async def deadline_wave(database: Path) -> dict[str, Any]:
    """Every community's open poll closes in the same minute."""
    settings = Settings(database=database, timezone="Europe/Warsaw")
    db = open_database(database)
    try:
        core = Core(settings, db, clock=ManualClock(NOW + timedelta(seconds=1)))
        queued_before = db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
        waits: list[float] = []

        async def members_meanwhile() -> None:
            """A member of some community writes every 20 ms while the wave runs: how long they wait."""
            for n in range(10**6):
                written = time.perf_counter() + 0.02
                await asyncio.sleep(0.02)  # they write now; the event loop gets to them when a job lets it
                group = Chat(f"telegram:-100{1 + n % 50}", ChatKind.GROUP, "Estate")
                await core.handle(Message(chat=group, sender=Sender(f"telegram:{8_000_000 + n}", "Neighbour"), text="hello", event_id=f"wave:{n}"))
                waits.append(time.perf_counter() - written)

        chatter = asyncio.create_task(members_meanwhile())
        await asyncio.sleep(0)  # the first member is about to write
        started = time.perf_counter()
        ran = await core.run_until_idle()
        took = time.perf_counter() - started
        await asyncio.sleep(0.05)  # the member who wrote during the last job is answered now
        chatter.cancel()
        queued = db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0] - queued_before
        started = time.perf_counter()
        for _ in range(100):
            outbox.next_attempt(db, ["telegram"])
        next_ms = (time.perf_counter() - started) * 10
        started = time.perf_counter()
        claimed = outbox.claim(db, NOW + timedelta(seconds=1), ["telegram"], 200)
        claim_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        for _ in range(100):
            scheduler.next_due(db)
        next_due_ms = (time.perf_counter() - started) * 10
        waits.sort()
        return {"jobs": ran, "jobs_s": took, "jobs_per_s": ran / took if took else 0.0, "messages_queued": queued,
                "event_wait_p50_ms": waits[len(waits) // 2] * 1000 if waits else 0.0,
                "event_wait_max_ms": waits[-1] * 1000 if waits else 0.0, "events_meanwhile": len(waits),
                "claim_200_ms": claim_ms, "claimed": len(claimed), "next_attempt_ms": next_ms, "next_due_ms": next_due_ms}
    finally:
        db.close()


async def measure(folder: Path, votes: int = 2000, communities: int = COMMUNITIES) -> dict[str, Any]:
    big, small = folder / "scale.db", folder / "small.db"
    built = build(big, communities)
    build(small, communities=1)
    community = random.Random(1).randint(1, communities)
    large = fresh = 0.0
    for round_ in range(3):  # alternating, best of three: the machine is shared
        large = max(large, await votes_per_s(big, community, votes, first=round_ * votes))
        fresh = max(fresh, await votes_per_s(small, 1, votes, first=round_ * votes))
    wave = await deadline_wave(big)
    total_votes = communities * POLLS_PER * MEMBERS_PER
    return {**built, "communities": communities, "votes": total_votes, "bytes_per_vote": built["size_mb"] * 2**20 / total_votes,
            "handler_votes_per_s_large": large, "handler_votes_per_s_fresh": fresh, **wave}
