"""Diaries through the real core with a moved clock: a simulated week across a clock change, with
a restart in the middle; prompts inside each member's window, never too close, the right number a
day; expiry, late answers, self-reports, pause, resume and leave."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from localbot import scheduler
from localbot.clock import ManualClock
from localbot.community import asks
from localbot.core import Core
from localbot.replies import Choices, text_of
from localbot.settings import Settings
from localbot.storage import open_database
from localbot.surveys import store
from localbot.surveys.schedule import in_window, parse_window
from tests.helpers import Harness, RecordingAdapter, texts
from tests.survey_helpers import run_next_job, studies  # noqa: F401  (a fixture)

WARSAW = ZoneInfo("Europe/Warsaw")
WINDOWS = {"bartek": "07:00-22:00", "celina": "09:30-23:30", "dorota": "22:00-06:00"}


async def _join(bot: Harness, name: str, window: str) -> str:
    await bot.send("1", name)  # the announcement's "Join the diary", by number in the group
    return texts(await bot.send(window, name, chat=bot.private(name)))


def _harness(settings: Settings, clock: ManualClock) -> tuple[Harness, object]:
    db = open_database(settings.database)
    core = Core(settings, db, clock=clock)
    adapter = RecordingAdapter()
    core.attach(adapter)
    return Harness(core, clock, adapter), db


async def test_a_week_of_prompts_across_a_clock_change_and_a_restart(settings: Settings, studies: Path) -> None:  # noqa: F811
    clock = ManualClock(datetime(2026, 3, 25, 16, 0, tzinfo=UTC))  # Wednesday; clocks go forward on Sunday the 29th
    bot, db = _harness(settings, clock)
    await bot.make_organiser("anna")
    for name in ("bartek", "celina"):
        await bot.send("hello", name)  # in the group before the diary starts; dorota comes later
    assert "Coffee diary" in texts(await bot.send("/survey start coffee-diary"))
    for name, window in WINDOWS.items():
        joined = await _join(bot, name, window)
        first = "Wed, Mar 25" if name == "dorota" else "Thu, Mar 26"  # her night window has not begun yet today
        assert f"You're in! From {first}, 2026, for 7 days" in joined, joined
    await bot.outbox()

    prompts: dict[str, list[datetime]] = defaultdict(list)
    answered = Counter[str]()
    end = datetime(2026, 4, 3, 12, 0, tzinfo=UTC)
    restarted = False
    while True:
        if not restarted and clock.now() >= datetime(2026, 3, 28, 12, 0, tzinfo=UTC):
            db.close()  # the process stops in the middle of the week …
            bot, db = _harness(settings, clock)  # … and a new one carries on with the same file
            bot.core.recover()
            restarted = True
        delivered = await run_next_job(bot, end)
        if delivered is None:
            break
        for item in delivered:
            if item.purpose != "prompt":
                continue
            name = item.chat_ref.partition(":")[2]
            prompts[name].append(clock.now())
            assert "check-in" in text_of(item.reply)
            if name == "bartek" or (name == "celina" and len(prompts[name]) % 2):
                reply = await bot.send("2", name, chat=bot.private(name))  # no coffee this time …
                assert "What kept you from having one?" in texts(reply)
                assert "Thank you, noted!" in texts(await bot.send("3", name, chat=bot.private(name)))  # … too expensive
                answered[name] += 1
    assert restarted

    for name, window_text in WINDOWS.items():
        window = parse_window(window_text)
        sent = prompts[name]
        assert len(sent) == 35, (name, len(sent))  # 5 a day for 7 days, none lost, none twice
        assert all(in_window(moment, window, WARSAW) for moment in sent), name
        assert min(b - a for a, b in zip(sent, sent[1:], strict=False)) >= timedelta(minutes=60), name
        days = Counter((moment.astimezone(WARSAW) - (timedelta(hours=12) if window.crosses_midnight else timedelta())).date() for moment in sent)
        assert sorted(days.values()) == [5] * 7, (name, days)
    # The clocks changed on the 29th: bartek's prompts that day are still 07:00–22:00 on the wall clock.
    sunday = [m.astimezone(WARSAW) for m in prompts["bartek"] if m.astimezone(WARSAW).date().day == 29]
    assert len(sunday) == 5 and all(7 <= m.hour < 22 for m in sunday)

    run = store.runs(db)[0]
    counts = {store.participant_by_id(db, pid).member_id: c for pid, c in store.prompt_counts(db, run.id).items()}  # type: ignore[union-attr]
    member_ids = {name: bot.member(name).id for name in WINDOWS}
    assert counts[member_ids["bartek"]]["sent"] == 35 and counts[member_ids["bartek"]]["on_time"] == 35
    assert counts[member_ids["celina"]]["on_time"] == answered["celina"] == 18
    assert counts[member_ids["dorota"]]["on_time"] == 0
    # Prompts go out once each: one outbox row per sent prompt.
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE purpose = 'prompt'").fetchone()[0] == 105
    # The diary cost the members who were asked one ask, its invitation, however many prompts
    # followed; dorota came later and joined of her own accord.
    community = bot.community()
    assert [asks.asked(db, community.id, member_ids[n], datetime(2026, 3, 27, tzinfo=UTC)) for n in WINDOWS] == [1, 1, 0]
    # Each diary ends with a thank-you.
    assert {p.status for p in store.participants(db, run.id)} == {"finished"}
    db.close()


async def _diary(bot: Harness, name: str = "bartek", window: str = "07:00-22:00") -> None:
    await bot.send("/survey start coffee-diary")
    await _join(bot, name, window)
    await bot.outbox()


async def _next_prompt(bot: Harness, name: str = "bartek") -> str:
    horizon = bot.clock.now() + timedelta(days=2)
    while (delivered := await run_next_job(bot, horizon)) is not None:
        for item in delivered:
            if item.purpose == "prompt" and item.chat_ref == f"console:{name}":
                return text_of(item.reply)
    raise AssertionError("no prompt came")


async def test_a_late_answer_is_said_politely_and_not_counted_as_on_time(bot: Harness, studies: Path) -> None:  # noqa: F811
    await _diary(bot)
    me = bot.private("bartek")
    assert "open until" in await _next_prompt(bot)
    bot.clock.advance(timedelta(minutes=75))  # the prompt expired 15 minutes ago
    late = texts(await bot.send("1", "bartek", chat=me))
    assert "This check-in closed at" in late and "won't count as on time" in late and "marked as late" in late
    assert "At about what time?" in late  # the member may still finish it
    entry = store.latest_entry(bot.core.db, store.runs_of_member(bot.core.db, bot.member("bartek").id)[0][1].id, "prompt")
    assert entry is not None and entry.late and not entry.on_time
    assert "won't count" not in texts(await bot.send("now", "bartek", chat=me))  # said once, not at every answer
    counts = next(iter(store.prompt_counts(bot.core.db, 1).values()))
    assert counts["on_time"] == 0 and counts["late"] == 1 and counts["sent"] == 1


async def test_a_missed_prompt_expires_rather_than_piling_up(bot: Harness, studies: Path) -> None:  # noqa: F811
    await _diary(bot)
    participant = store.runs_of_member(bot.core.db, bot.member("bartek").id)[0][1]
    planned = store.entries(bot.core.db, participant.id, kind="prompt", status="planned")
    # The bot is down from before the first prompt until just after the fourth was planned.
    bot.clock.set(planned[3].planned_at + timedelta(minutes=1))  # type: ignore[operator]
    await bot.core.run_until_idle()
    sent = await bot.outbox()
    assert len([o for o in sent if o.purpose == "prompt"]) == 1  # only the one still fresh
    statuses = [e.status for e in store.entries(bot.core.db, participant.id, kind="prompt")[:5]]
    assert statuses == ["skipped", "skipped", "skipped", "sent", "planned"]


async def test_a_prompt_sent_late_closes_when_the_next_one_comes(bot: Harness, studies: Path) -> None:  # noqa: F811
    """After a restart a prompt still within its send-by goes out late; its hour-long expiry would
    run past the next prompt, so it closes when the next one is due."""
    await _diary(bot)
    participant = store.runs_of_member(bot.core.db, bot.member("bartek").id)[0][1]
    planned = store.entries(bot.core.db, participant.id, kind="prompt", status="planned")
    first, following = next((a, b) for a, b in zip(planned, planned[1:], strict=False) if b.planned_at - a.planned_at < timedelta(minutes=110))  # type: ignore[operator]
    assert first.send_by is not None and first.send_by <= following.planned_at  # type: ignore[operator]
    with bot.core.db.atomic():
        for entry in planned[: planned.index(first)]:  # what came before is out of the way
            store.set_entry_status(bot.core.db, entry.id, "cancelled")
    bot.clock.set(first.send_by - timedelta(minutes=1))  # the bot comes back a minute before it is too late
    await bot.core.run_until_idle()
    assert [o.purpose for o in await bot.outbox()] == ["prompt"]
    sent = store.get_entry(bot.core.db, first.id)
    assert sent is not None and sent.status == "sent" and sent.expires_at == following.planned_at
    assert sent.expires_at < bot.clock.now() + timedelta(hours=1)  # type: ignore[operator]


async def test_i_just_had_one(bot: Harness, studies: Path) -> None:  # noqa: F811
    await _diary(bot)
    me = bot.private("bartek")
    reply = texts(await bot.send("/had", "bartek", chat=me))
    assert "Noted: you just had one" in reply and "At about what time?" in reply
    assert "Where were you?" in texts(await bot.send("10:15", "bartek", chat=me))
    assert "What did you have it with?" in texts(await bot.locate(52.23, 21.01, "bartek", chat=me))  # a location pin answers "where"
    assert "What would convince them?" in texts(await bot.send("2", "bartek", chat=me))  # breakfast
    assert "Thank you, noted!" in texts(await bot.send("-", "bartek", chat=me))  # skips the optional question
    [entry] = [e for e in store.entries(bot.core.db, 1, kind="self")]
    answers = store.answers_of(bot.core.db, entry.id)
    assert answers == {"had": "yes", "when": "10:15", "where": {"lat": 52.23, "lon": 21.01}, "with": ["breakfast"], "convince": None}
    assert entry.on_time  # self-reports are always "in the moment"
    # In the group, /had is answered privately.
    assert "I've sent you a private message" in texts(await bot.send("/had", "bartek"))


async def test_pause_resume_and_leave(bot: Harness, studies: Path) -> None:  # noqa: F811
    await _diary(bot)
    me = bot.private("bartek")
    db = bot.core.db
    assert "on pause" in texts(await bot.send("/survey pause", "bartek", chat=me))
    assert "already on pause" in texts(await bot.send("/survey pause", "bartek", chat=me))
    assert scheduler.pending_jobs(db, "survey.prompt") == []
    bot.clock.set(datetime(2026, 1, 8, 1, 0, tzinfo=UTC))  # 02:00 on Thursday: Tuesday and Wednesday went by
    await bot.core.run_until_idle()
    assert [o for o in await bot.outbox() if o.purpose == "prompt"] == []  # nothing while paused
    resumed = texts(await bot.send("/survey resume", "bartek", chat=me))
    assert "Welcome back! 25 check-ins are still to come." in resumed  # two days of five were skipped
    assert len(scheduler.pending_jobs(db, "survey.prompt")) == 25
    assert "check-in" in await _next_prompt(bot)
    left = texts(await bot.send("/survey leave", "bartek", chat=me))
    assert "You have left “Coffee diary”" in left
    assert scheduler.pending_jobs(db, "survey.prompt") == []
    assert "You are not taking part in an open survey" in texts(await bot.send("/survey pause", "bartek", chat=me))
    assert "You are not keeping a diary right now" in texts(await bot.send("/had", "bartek", chat=me))
    assert "You left this diary earlier" in texts(await bot.pick("sv:join:1", "bartek", chat=me))
    assert db.execute("SELECT COUNT(*) FROM survey_entries WHERE status = 'cancelled'").fetchone()[0] > 0


async def test_a_prompt_does_not_break_another_conversation(bot: Harness, studies: Path) -> None:  # noqa: F811
    await _diary(bot, "anna")
    me = bot.private("anna")
    await bot.send("/poll", "anna", chat=me)  # writing a poll step by step
    await bot.send("Lunch?", "anna", chat=me)
    prompt = await _next_prompt(bot, "anna")
    assert "check-in 1 of 5" in prompt
    assert "Send the next option" not in prompt
    conversation = next(bot.core.db.query("SELECT flow FROM conversations WHERE member_id = ?", [bot.member("anna").id]))
    assert conversation["flow"] == "poll.new"  # the poll wizard is intact
    reply = await bot.pick("sv:prompt:1", "anna", chat=me)  # "Answer now"
    assert "Have you had a coffee since my last check-in?" in texts(reply)


@pytest.mark.parametrize(
    ("language", "too_short", "late", "joined"),
    [
        ("en", "A window of 3 hours is too short for 5 check-ins at least 60 minutes apart: it needs at least 5 hours.",
         "This check-in closed at", "You're in!"),
        ("pl", "To okno jest za krótkie: trwa 3 godziny, a przy 5 pytaniach dziennie (odstęp: co najmniej 60 minut) potrzeba co najmniej 5 godzin.",
         "To pytanie było otwarte do", "Gotowe!"),
        ("id", "Rentang 3 jam terlalu singkat untuk 5 sapaan dengan jarak minimal 60 menit: diperlukan setidaknya 5 jam.",
         "Sapaan ini ditutup pukul", "Anda sudah terdaftar!"),
    ],
)
async def test_window_and_late_answers_in_three_languages(tmp_path: Path, studies: Path, language: str, too_short: str, late: str, joined: str) -> None:  # noqa: F811
    settings = Settings(database=tmp_path / "l.db", language=language, timezone="Europe/Warsaw")
    clock = ManualClock()
    bot, db = _harness(settings, clock)
    bot.languages.update({"anna": language, "bartek": language})
    await bot.make_organiser("anna")
    await bot.send("/survey start coffee-diary")
    await bot.send("1", "bartek")
    me = bot.private("bartek")
    assert too_short in texts(await bot.send("09:00-12:00", "bartek", chat=me))
    assert db["survey_participants"].count == 0  # refused: nothing stored
    assert joined in texts(await bot.send("07:00-22:00", "bartek", chat=me))
    await _next_prompt(bot)
    bot.clock.advance(timedelta(hours=2))
    assert late in texts(await bot.send("2", "bartek", chat=me))
    assert db["survey_answers"].count == 1
    db.close()


async def test_choices_of_a_prompt_are_numbered_where_there_are_no_buttons(bot: Harness, studies: Path) -> None:  # noqa: F811
    await _diary(bot)
    horizon = bot.clock.now() + timedelta(days=2)
    while (delivered := await run_next_job(bot, horizon)) is not None:
        prompts = [o.reply for o in delivered if o.purpose == "prompt"]
        if prompts:
            assert isinstance(prompts[0], Choices) and [o.label for o in prompts[0].options] == ["Yes", "No"]
            break
    # a number answers, a word in any of our languages too
    assert "At about what time?" in texts(await bot.send("tak", "bartek", chat=bot.private("bartek")))


NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


async def test_a_member_in_another_time_zone_is_asked_in_their_own_waking_hours(bot: Harness, studies: Path) -> None:  # noqa: F811
    """The community lives in Warsaw; Bartek lives in New York, where the clocks go forward on
    8 March, three weeks before Warsaw's. His prompts follow his own wall clock through the change."""
    bot.clock.set(datetime(2026, 3, 4, 14, 0, tzinfo=UTC))  # 09:00 in New York: his first day is tomorrow
    await bot.send("/survey start coffee-diary")
    await bot.send("1", "bartek")
    me = bot.private("bartek")
    await bot.send("/lang pl", "bartek", chat=me)
    wrong = texts(await bot.send("07:00-22:00 Atlantyda", "bartek", chat=me))
    assert "Nie znam strefy czasowej „Atlantyda”" in wrong and "np. 07:00-22:00 Londyn" in wrong  # asked again
    assert bot.core.db.execute("SELECT COUNT(*) FROM survey_participants").fetchone()[0] == 0
    await bot.send("/lang en", "bartek", chat=me)
    joined = texts(await bot.send("7-22 Nowy Jork", "bartek", chat=me))
    assert "You're in! From Thu, Mar 5, 2026, for 7 days" in joined and "(America/New_York)" in joined, joined
    await bot.outbox()

    sent: list[datetime] = []
    while (delivered := await run_next_job(bot, datetime(2026, 3, 13, tzinfo=UTC))) is not None:
        sent += [bot.clock.now() for item in delivered if item.purpose == "prompt"]
    window = parse_window("07:00-22:00")
    assert len(sent) == 35
    assert all(in_window(moment, window, NEW_YORK) for moment in sent)
    assert not all(in_window(moment, window, WARSAW) for moment in sent)  # Warsaw's hours would be another day's
    assert sorted(Counter(m.astimezone(NEW_YORK).date() for m in sent).values()) == [5] * 7
    assert min(b - a for a, b in zip(sent, sent[1:], strict=False)) >= timedelta(minutes=60)
    sunday = [m.astimezone(NEW_YORK) for m in sent if m.astimezone(NEW_YORK).date().day == 8]  # the change
    assert len(sunday) == 5 and all(7 <= m.hour < 22 for m in sunday)


async def test_a_member_moves_their_diary_to_another_time_zone(bot: Harness, studies: Path) -> None:  # noqa: F811
    await _diary(bot)  # in Warsaw, from Tuesday 6 January
    me = bot.private("bartek")
    assert "check-in" in await _next_prompt(bot)  # the first day is under way
    assert "Europe/Warsaw" in texts(await bot.send("/survey timezone", "bartek", chat=me))
    await bot.send("/lang id", "bartek", chat=me)
    assert "Saya tidak tahu zona waktu “Mars”" in texts(await bot.send("/survey timezone Mars", "bartek", chat=me))
    await bot.send("/lang en", "bartek", chat=me)
    moved = texts(await bot.send("/survey timezone Londyn", "bartek", chat=me))
    assert "from now on in Europe/London; 6 days of check-ins are planned again in it." in moved, moved
    db = bot.core.db
    participant = store.runs_of_member(db, bot.member("bartek").id)[0][1]
    assert participant.timezone == "Europe/London"
    planned = store.entries(db, participant.id, kind="prompt", status="planned")
    assert len(planned) == 30 and len(scheduler.pending_jobs(db, "survey.prompt")) == 30
    window = parse_window("07:00-22:00")
    assert all(in_window(e.planned_at, window, LONDON) for e in planned)  # type: ignore[arg-type]
    assert sorted(Counter(e.planned_at.astimezone(LONDON).date() for e in planned).values()) == [5] * 6  # type: ignore[union-attr]
    assert sorted(e.day for e in planned)[0] == 2
