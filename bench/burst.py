"""A burst of votes on one poll through the Telegram adapter: 10,000 presses offered in 10 seconds.

The presses are posted to ``localbot run``'s webhook at an even 1,000 a second over Telegram's 40
connections. The fake Bot API in its own process enforces Telegram's flood limits (429 with
``retry_after``). Counted: votes stored against presses acknowledged (answered within the 15
seconds Telegram allows), edits of the group's poll message and the shortest gap between two of
them, 429s of any kind, and how long presses waited for their answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.harness import Bot, Fakes, percentile, scalar, wait_until
from bench.webhooks import create_group_poll, press_burst, voters
from tests.fakes.telegram_api import Updates
from tests.telegram_env import GROUP_ID

#: The outbox edits a poll's group message at most this often (handlers/polls.py).
EDIT_INTERVAL_S = 3.0
#: Telegram refuses an answer to a press after about this long.
ANSWER_WITHIN_S = 15.0


async def vote_burst(folder: Path, fakes: Fakes, votes: int, seconds: float) -> dict[str, Any]:
    bot = Bot(folder / "burst", fakes)
    with bot.running():
        updates = Updates()
        message = await create_group_poll(bot, fakes, updates)
        since = len(await fakes.telegram_calls())
        presses = [updates.callback(p, message, f"v:1:{1 + i % 3}") for i, p in enumerate(voters(votes))]
        samples, answered, cpu = await press_burst(bot, fakes, presses, rate=votes / seconds, timeout=seconds + 60)
        final = f"{votes} people voted."

        async def final_edit() -> bool:
            calls = (await fakes.get("/telegram/calls", since=since))["calls"]
            return any(c[0] == "editMessageText" and c[1] and final in (c[6] or "") for c in calls)

        await wait_until(final_edit, 3 * EDIT_INTERVAL_S + 5)
        calls = (await fakes.get("/telegram/calls", since=since))["calls"]
        stored = scalar(bot.database, "SELECT COUNT(*) FROM poll_votes")
    edits = sorted(c[3] for c in calls if c[0] == "editMessageText" and c[1] and c[4] == GROUP_ID)
    gaps = [later - earlier for earlier, later in zip(edits, edits[1:], strict=False)]
    waits = [(answered[s.index] - s.scheduled) * 1000 for s in samples if s.index in answered]
    in_time = sum(1 for wait in waits if wait <= ANSWER_WITHIN_S * 1000)
    first = min(s.scheduled for s in samples)
    last = max(answered.values(), default=first)
    return {
        "votes": votes,
        "offered_per_s": votes / seconds,
        "stored": stored,
        "acknowledged": in_time,
        "answered_late": len(answered) - in_time,
        "edits": len(edits),
        "shortest_edit_gap_s": round(min(gaps), 2) if gaps else None,
        "rate_429": sum(1 for c in calls if c[2] == 429),
        "took_s": round(last - first, 2),
        "p50_ms": round(percentile(waits, 50), 1),
        "p99_ms": round(percentile(waits, 99), 1),
        "failed_posts": sum(1 for s in samples if s.status != 200),
        "cpu_s": round(cpu, 2) if cpu else None,
    }
