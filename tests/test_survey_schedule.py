"""Diary scheduling as pure functions: equal blocks, one random moment each, a guaranteed gap, DST."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localbot.surveys.model import Window
from localbot.surveys.schedule import (
    WindowError,
    check_window,
    first_day,
    in_window,
    parse_window,
    plan,
    plan_day,
    window_bounds,
)

WARSAW = ZoneInfo("Europe/Warsaw")
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("07:00-22:00", time(7), time(22)),
        ("7-22", time(7), time(22)),
        ("7am to 10pm", time(7), time(22)),
        ("07.00–22.00", time(7), time(22)),
        ("7 do 22", time(7), time(22)),
        ("07:30 sampai 21:45", time(7, 30), time(21, 45)),
        ("22:00-06:00", time(22), time(6)),
    ],
)
def test_windows_in_every_usual_form(text: str, start: time, end: time) -> None:
    assert parse_window(text) == Window(start, end)


@pytest.mark.parametrize(("text", "code"), [("7", "unreadable"), ("morning-evening", "unreadable"), ("25:00-07:00", "unreadable"), ("8-8", "empty"), ("", "unreadable")])
def test_windows_that_cannot_be_read(text: str, code: str) -> None:
    with pytest.raises(WindowError) as caught:
        parse_window(text)
    assert caught.value.code == code


def _check_day(moments: list[datetime], window: Window, tz: ZoneInfo, day: date, prompts: int, gap: timedelta) -> None:
    start, end = window_bounds(day, window, tz)
    assert len(moments) == prompts
    block = (end - start) / prompts
    for index, moment in enumerate(moments):
        assert start + block * index - timedelta(seconds=1) <= moment < start + block * (index + 1), "one moment per equal block"
        assert in_window(moment, window, tz)
        assert moment.microsecond == 0
    for earlier, later in zip(moments, moments[1:], strict=False):
        assert later - earlier >= gap


@settings(max_examples=300, deadline=None)
@given(
    start_minute=st.integers(0, 24 * 60 - 1),
    length_minutes=st.integers(30, 24 * 60 - 1),
    prompts=st.integers(1, 12),
    gap=st.integers(5, 180),
    seed=st.integers(0, 2**32),
    day_offset=st.integers(0, 365),
)
def test_every_moment_is_in_its_block_inside_the_window_and_far_enough_apart(
    start_minute: int, length_minutes: int, prompts: int, gap: int, seed: int, day_offset: int
) -> None:
    window = Window(time(start_minute // 60, start_minute % 60), time((start_minute + length_minutes) // 60 % 24, (start_minute + length_minutes) % 60))
    day = date(2026, 1, 1) + timedelta(days=day_offset)
    start, end = window_bounds(day, window, WARSAW)
    min_gap = timedelta(minutes=gap)
    if end - start < prompts * min_gap:
        with pytest.raises(WindowError) as caught:
            plan_day(day, window, WARSAW, prompts, min_gap, random.Random(seed))
        assert caught.value.code == "too_short"
        return
    _check_day(plan_day(day, window, WARSAW, prompts, min_gap, random.Random(seed)), window, WARSAW, day, prompts, min_gap)


def test_the_tightest_window_still_keeps_the_gap() -> None:
    window = parse_window("09:00-14:00")
    for seed in range(200):
        moments = plan_day(date(2026, 5, 4), window, WARSAW, 5, HOUR, random.Random(seed))
        _check_day(moments, window, WARSAW, date(2026, 5, 4), 5, HOUR)


def test_moments_are_spread_over_the_whole_window() -> None:
    """Stratified sampling: across many days every hour of the window gets prompts."""
    window = parse_window("07:00-22:00")
    rng = random.Random(7)
    hours = set()
    for offset in range(200):
        day = date(2026, 6, 1) + timedelta(days=offset)
        hours |= {m.astimezone(WARSAW).hour for m in plan_day(day, window, WARSAW, 5, HOUR, rng)}
    assert hours == set(range(7, 22))


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_a_clock_change_keeps_the_wall_clock_window(day: date) -> None:
    window = parse_window("07:00-22:00")
    start, end = window_bounds(day, window, WARSAW)
    assert start.astimezone(WARSAW).time() == time(7) and end.astimezone(WARSAW).time() == time(22)
    for seed in range(50):
        _check_day(plan_day(day, window, WARSAW, 5, HOUR, random.Random(seed)), window, WARSAW, day, 5, HOUR)


def test_a_night_window_across_a_clock_change_follows_the_real_length() -> None:
    night = parse_window("22:00-06:00")
    spring = window_bounds(date(2026, 3, 28), night, WARSAW)
    autumn = window_bounds(date(2026, 10, 24), night, WARSAW)
    assert spring[1] - spring[0] == timedelta(hours=7)
    assert autumn[1] - autumn[0] == timedelta(hours=9)
    for seed in range(50):
        _check_day(plan_day(date(2026, 3, 28), night, WARSAW, 7, HOUR, random.Random(seed)), night, WARSAW, date(2026, 3, 28), 7, HOUR)
    with pytest.raises(WindowError):  # eight hourly prompts fit every night but that one
        check_window(night, WARSAW, [date(2026, 3, 27), date(2026, 3, 28)], 8, HOUR)
    check_window(night, WARSAW, [date(2026, 3, 26), date(2026, 3, 27)], 8, HOUR)


def test_too_short_windows_are_refused_with_the_numbers() -> None:
    with pytest.raises(WindowError) as caught:
        check_window(parse_window("09:00-12:00"), WARSAW, [date(2026, 5, 4)], 5, HOUR)
    assert caught.value.code == "too_short"
    assert caught.value.details["length"] == timedelta(hours=3) and caught.value.details["needed"] == timedelta(hours=5)


def test_a_diary_starts_with_a_whole_day() -> None:
    window = parse_window("07:00-22:00")
    before = datetime(2026, 5, 4, 4, 0, tzinfo=UTC)  # 06:00 in Warsaw
    during = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # 08:00 in Warsaw
    assert first_day(before, window, WARSAW) == date(2026, 5, 4)
    assert first_day(during, window, WARSAW) == date(2026, 5, 5)


def test_a_whole_diary_plan() -> None:
    window = parse_window("08:00-22:00")
    planned = plan(
        date(2026, 3, 25), days=7, window=window, tz=WARSAW, prompts=5, min_gap=HOUR, expires_after=HOUR, rng=random.Random(1)
    )
    assert len(planned) == 35
    assert [(p.day, p.slot) for p in planned[:6]] == [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2, 1)]
    by_day: dict[date, int] = {}
    for item in planned:
        by_day[item.at.astimezone(WARSAW).date()] = by_day.get(item.at.astimezone(WARSAW).date(), 0) + 1
        _start, end = window_bounds(item.at.astimezone(WARSAW).date(), window, WARSAW)
        assert item.send_by == min(item.at + HOUR, end)
    assert list(by_day.values()) == [5] * 7 and min(by_day) == date(2026, 3, 25)
    again = plan(date(2026, 3, 25), days=7, window=window, tz=WARSAW, prompts=5, min_gap=HOUR, expires_after=HOUR, rng=random.Random(1))
    assert again == planned  # the same seed plans the same moments


@settings(max_examples=60, deadline=None)
@given(
    start_minute=st.integers(0, 24 * 60 - 1),
    shorter_by=st.integers(1, 120),
    prompts=st.integers(1, 14),
    seed=st.integers(0, 10**6),
    first=st.dates(date(2026, 3, 20), date(2026, 11, 1)),
)
def test_the_gap_holds_across_days_even_for_a_window_of_nearly_a_day(
    start_minute: int, shorter_by: int, prompts: int, seed: int, first: date
) -> None:
    """Day after day, including clock changes, no two prompts come closer than the gap, and a
    prompt sent late never overlaps the next one."""
    start = time(start_minute // 60, start_minute % 60)
    end_minute = (start_minute - shorter_by) % (24 * 60)
    window = Window(start, time(end_minute // 60, end_minute % 60))
    gap = timedelta(minutes=60)
    days = [first + timedelta(days=n) for n in range(8)]
    try:
        check_window(window, WARSAW, days, prompts, gap)
    except WindowError:
        return
    planned = plan(first, days=8, window=window, tz=WARSAW, prompts=prompts, min_gap=gap, expires_after=gap, rng=random.Random(seed))
    moments = [p.at for p in planned]
    assert min(b - a for a, b in zip(moments, moments[1:], strict=False)) >= gap
    assert all(p.send_by <= q.at for p, q in zip(planned, planned[1:], strict=False))


def test_the_case_from_the_audit() -> None:
    """08:00–07:30, 12 prompts at least 60 minutes apart: back to back across days they came 34 minutes apart."""
    window = parse_window("08:00-07:30")
    for seed in range(50):
        planned = plan(date(2026, 1, 5), days=7, window=window, tz=WARSAW, prompts=12, min_gap=HOUR, expires_after=HOUR * 2,
                       rng=random.Random(seed))
        assert min(b.at - a.at for a, b in zip(planned, planned[1:], strict=False)) >= HOUR, seed
        assert all(p.send_by <= q.at for p, q in zip(planned, planned[1:], strict=False))
