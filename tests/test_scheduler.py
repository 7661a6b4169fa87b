"""Scheduled jobs: run once when due, survive restarts, never half-done."""

from __future__ import annotations

from datetime import timedelta

from localbot import scheduler
from localbot.clock import ManualClock
from localbot.core import Core
from localbot.handlers import build_router
from localbot.handlers.context import JobContext
from localbot.settings import Settings
from localbot.storage import open_database


def counting_router(log: list[str], *, fail_first: int = 0):  # type: ignore[no-untyped-def]
    router = build_router()
    failures = {"left": fail_first}

    @router.job("test.note")
    def note(ctx: JobContext, job: scheduler.Job) -> None:
        ctx.db.execute("INSERT INTO inbound_events (event_id, received_at) VALUES (?, 'x')", [f"job-{job.id}-{len(log)}"])
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("flaky")
        log.append(job.payload["text"])

    return router


async def test_due_jobs_run_once_in_order(settings: Settings, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    log: list[str] = []
    core = Core(settings, db, clock=clock, router=counting_router(log))
    with db.atomic():
        scheduler.schedule(db, "test.note", clock.now() + timedelta(minutes=10), {"text": "second"}, now=clock.now())
        scheduler.schedule(db, "test.note", clock.now() + timedelta(minutes=5), {"text": "first"}, now=clock.now())
        scheduler.schedule(db, "test.note", clock.now() + timedelta(hours=5), {"text": "later"}, now=clock.now())
    assert await core.run_due_jobs() == 0
    clock.advance(timedelta(minutes=30))
    assert await core.run_due_jobs() == 3  # and the outbox's recurring tidying (localbot.delivered)
    assert await core.run_due_jobs() == 0
    assert log == ["first", "second"]


async def test_jobs_that_fell_due_while_down_run_after_restart(settings: Settings, clock: ManualClock) -> None:
    db = open_database(settings.database)
    with db.atomic():
        for index in range(3):
            scheduler.schedule(db, "test.note", clock.now() + timedelta(minutes=index), {"text": f"r{index}"}, now=clock.now())
    # one job was claimed when the process died
    scheduler.claim_due(db, clock.now(), limit=1)
    db.close()

    clock.advance(timedelta(hours=1))
    db = open_database(settings.database)
    log: list[str] = []
    core = Core(settings, db, clock=clock, router=counting_router(log))
    core.recover()
    assert await core.run_until_idle() == 3
    assert sorted(log) == ["r0", "r1", "r2"]
    assert await core.run_until_idle() == 0
    db.close()


async def test_a_failing_job_leaves_no_effects_and_retries(settings: Settings, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    log: list[str] = []
    core = Core(settings, db, clock=clock, router=counting_router(log, fail_first=1))
    with db.atomic():
        scheduler.schedule(db, "test.note", clock.now(), {"text": "hello"}, now=clock.now())
    assert await core.run_due_jobs() == 1
    assert log == [] and db["inbound_events"].count == 0  # the failed attempt wrote nothing
    row = next(db.query("SELECT state, last_error FROM jobs"))
    assert row["state"] == "pending" and "flaky" in row["last_error"]
    clock.advance(timedelta(minutes=1))
    assert await core.run_due_jobs() == 1
    assert log == ["hello"]


async def test_a_job_gives_up_after_repeated_failures(settings: Settings, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    core = Core(settings, db, clock=clock, router=counting_router([], fail_first=100))
    with db.atomic():
        scheduler.schedule(db, "test.note", clock.now(), {"text": "x"}, now=clock.now())
    for _ in range(scheduler.MAX_ATTEMPTS + 2):
        clock.advance(timedelta(hours=1))
        await core.run_due_jobs()
    assert next(db.query("SELECT state FROM jobs"))["state"] == "failed"


async def test_dedupe_key_moves_a_job_instead_of_adding_one(db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    with db.atomic():
        first = scheduler.schedule(db, "test.note", clock.now() + timedelta(hours=1), {"text": "a"}, now=clock.now(), dedupe_key="k")
        second = scheduler.schedule(db, "test.note", clock.now() + timedelta(hours=2), {"text": "b"}, now=clock.now(), dedupe_key="k")
    assert first == second
    [job] = scheduler.pending_jobs(db)
    assert job.payload == {"text": "b"} and job.due_at == clock.now() + timedelta(hours=2)
    assert scheduler.cancel(db, "k") and scheduler.pending_jobs(db) == []


async def test_cancel_prefix(db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    with db.atomic():
        for key in ("tasting:1:a", "tasting:1:b", "tasting:10:a", "tasting_1"):
            scheduler.schedule(db, "test.note", clock.now(), {}, now=clock.now(), dedupe_key=key)
    assert scheduler.cancel_prefix(db, "tasting:1:") == 2
    assert sorted(j.payload == {} for j in scheduler.pending_jobs(db)) == [True, True]


async def test_background_loop_runs_jobs_on_the_real_clock(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from localbot.clock import SystemClock

    log: list[str] = []
    core = Core(settings, db, clock=SystemClock(), router=counting_router(log))
    with db.atomic():
        scheduler.schedule(db, "test.note", SystemClock().now() + timedelta(milliseconds=200), {"text": "tick"}, now=SystemClock().now())
    await core.start()
    try:
        for _ in range(50):
            if log:
                break
            await asyncio.sleep(0.05)
    finally:
        await core.stop()
    assert log == ["tick"]


async def test_a_recurring_job_is_always_waiting_even_after_failing_for_good(settings: Settings, db, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    router = build_router()
    runs: list[str] = []
    failures = {"left": 0}

    @router.job("test.tick", repeat=lambda now: now + timedelta(hours=1))
    def tick(ctx: JobContext, job: scheduler.Job) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("flaky")
        runs.append(job.due_at.isoformat())

    core = Core(settings, db, clock=clock, router=router)
    assert await core.run_due_jobs() == 0  # armed, due an hour from now
    [armed] = scheduler.pending_jobs(db, "test.tick")
    assert armed.due_at == clock.now() + timedelta(hours=1)
    clock.advance(timedelta(hours=1))
    assert await core.run_due_jobs() == 2 and len(runs) == 1  # with the outbox's tidying
    [again] = scheduler.pending_jobs(db, "test.tick")
    assert again.id == armed.id and again.due_at == clock.now() + timedelta(hours=1)

    failures["left"] = scheduler.MAX_ATTEMPTS
    for _ in range(scheduler.MAX_ATTEMPTS):
        clock.advance(timedelta(hours=1))
        await core.run_due_jobs()
    assert len(runs) == 1
    [revived] = scheduler.pending_jobs(db, "test.tick")  # gave up this run, not the next one
    assert revived.due_at > clock.now()
    clock.advance(timedelta(hours=2))
    assert await core.run_due_jobs() == 2 and len(runs) == 2

    restarted = Core(settings, db, clock=clock, router=router)
    await restarted.run_due_jobs()
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'test.tick'").fetchone()[0] == 1
