"""Shared by the survey tests: the shipped study files in place, and a clock that follows the jobs.

Each test runs in its own temporary working directory (``tests/conftest.py``), where the bot looks
for study files in ``config/surveys``; :func:`studies` copies the two shipped examples there.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from localbot import scheduler
from localbot.clock import from_iso
from localbot.outbox import Outgoing
from tests.helpers import Harness

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "config" / "surveys"


@pytest.fixture
def studies(tmp_path: Path) -> Path:
    folder = tmp_path / "config" / "surveys"
    shutil.copytree(EXAMPLES, folder)
    return folder


async def run_next_job(bot: Harness, until: datetime) -> list[Outgoing] | None:
    """Move the clock to the next due job (as the real job loop sleeps until it) and run what is due;
    None when nothing is due before ``until``. Recurring jobs (the outbox's tidying every ten
    minutes) run along but do not set the pace."""
    row = bot.core.db.execute(
        "SELECT MIN(due_at) FROM jobs WHERE state = 'pending' AND COALESCE(dedupe_key, '') NOT LIKE ?", [scheduler.RECURRING + "%"]
    ).fetchone()
    due = from_iso(row[0]) if row and row[0] else None
    if due is None or due > until:
        return None
    if due > bot.clock.now():
        bot.clock.set(due)
    await bot.core.run_until_idle()
    return await bot.outbox()
