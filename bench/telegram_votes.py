"""How fast votes go through the Telegram adapter: a burst of button presses on one poll.

Runs the real python-telegram-bot Application, core and SQLite against the fake Bot API of the test
suite (tests/fakes/telegram_api.py), in the same process and event loop, so the fake server's own
work is counted against the bot: the figures are a floor, not a ceiling. Usage:

    .venv/bin/python bench/telegram_votes.py [VOTES]

For each mode it prints how long the burst took, votes per second, the time from a press reaching
the bot to its answer (median and 95th percentile), and how often the group message was edited.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.telegram_api import Person  # noqa: E402
from tests.telegram_env import ANNA, GROUP_ID, running  # noqa: E402


async def burst(mode: str, votes: int) -> str:
    with tempfile.TemporaryDirectory() as folder:
        async with running(Path(folder), mode) as env:
            env.api.set_status(GROUP_ID, ANNA.id, "administrator")
            await env.say(ANNA, "/poll Which flavour? | Mango | Lime | Ginger")
            [poll] = await env.next_messages(GROUP_ID)
            message = env.api.message(GROUP_ID, poll.result["message_id"])
            voters = [Person(100_000 + i, f"Voter {i}", language_code=("pl", "id", "en")[i % 3]) for i in range(votes)]
            presses = [env.updates.callback(p, message, f"v:1:{1 + i % 3}") for i, p in enumerate(voters)]
            sent_at: dict[str, float] = {}
            started = time.monotonic()
            if mode == "polling":
                env.api.push(*presses)
                sent_at = {p["callback_query"]["id"]: started for p in presses}
            else:
                gate = asyncio.Semaphore(40)  # Telegram's default max_connections for a webhook

                async def post(update: dict) -> None:  # type: ignore[type-arg]
                    async with gate:
                        sent_at[update["callback_query"]["id"]] = time.monotonic()
                        await env.send(update)

                await asyncio.gather(*(post(p) for p in presses))
            answers = await env.api.wait_for("answerCallbackQuery", count=votes, timeout=600)
            took = time.monotonic() - started
            await env.api.wait_for("editMessageText", where=lambda c: f"{votes} people voted." in c["text"], timeout=10)
            latency = sorted(a.at - sent_at[a["callback_query_id"]] for a in answers)
            edits = len(env.api.sent("editMessageText"))
            p95 = latency[int(0.95 * (len(latency) - 1))]
            return (
                f"{mode:8} {votes} votes in {took:5.2f} s = {votes / took:6.0f} votes/s; "
                f"press → answer median {statistics.median(latency) * 1000:5.0f} ms, p95 {p95 * 1000:5.0f} ms; "
                f"{edits} edits of the group message"
            )


async def main() -> None:
    votes = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for mode in ("polling", "webhook"):
        print(await burst(mode, votes))


if __name__ == "__main__":
    asyncio.run(main())
