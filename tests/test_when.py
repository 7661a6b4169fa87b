"""Reading deadlines and durations as members type them, in three languages and across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from localbot.when import WhenError, parse_deadline, parse_duration, parse_time_of_day

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday, 11:00 in Warsaw


def local(text: str, now: datetime = NOW) -> str:
    return parse_deadline(text, now=now, tz=WARSAW).astimezone(WARSAW).strftime("%a %Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("text", "delta"),
    [("2h", timedelta(hours=2)), ("90m", timedelta(minutes=90)), ("1h30m", timedelta(minutes=90)), ("3d", timedelta(days=3)),
     ("1w", timedelta(weeks=1)), ("3 dni", timedelta(days=3)), ("2 godziny", timedelta(hours=2)), ("2 jam", timedelta(hours=2)),
     ("2 minggu", timedelta(weeks=2)), ("45 menit", timedelta(minutes=45))],
)
def test_durations(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta
    assert parse_deadline(text, now=NOW, tz=WARSAW) == NOW + delta


@pytest.mark.parametrize("text", ["", "h", "2", "2x", "two hours", "2h banana"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("friday 18:00", "Fri 2026-11-27 18:00"),
        ("piątek 18:00", "Fri 2026-11-27 18:00"),
        ("Jumat 18.00", "Fri 2026-11-27 18:00"),
        ("pt.", "Fri 2026-11-27 23:59"),
        ("wed", "Wed 2026-11-25 23:59"),
        ("wednesday 9:00", "Wed 2026-12-02 09:00"),  # already past today: next week
        ("jutro 9:00", "Thu 2026-11-26 09:00"),
        ("besok", "Thu 2026-11-26 23:59"),
        ("today 18:00", "Wed 2026-11-25 18:00"),
        ("18:00", "Wed 2026-11-25 18:00"),
        ("10:30", "Thu 2026-11-26 10:30"),
        ("6pm", "Wed 2026-11-25 18:00"),
        ("2026-11-28", "Sat 2026-11-28 23:59"),
        ("2026-11-28 18:00", "Sat 2026-11-28 18:00"),
        ("2026-11-28T18:00", "Sat 2026-11-28 18:00"),
        ("28.11.2026 18:00", "Sat 2026-11-28 18:00"),
        ("28/11/2026", "Sat 2026-11-28 23:59"),
    ],
)
def test_deadlines(text: str, expected: str) -> None:
    assert local(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), ("soonish", "unknown"), ("2026-02-30", "unknown"), ("25:00", "unknown"), ("friday 25:00", "unknown"),
     ("2020-01-01", "past"), ("0h", "unknown"), ("400d", "too_far"), ("13pm", "unknown")],
)
def test_bad_deadlines(text: str, code: str) -> None:
    with pytest.raises(WhenError) as caught:
        parse_deadline(text, now=NOW, tz=WARSAW)
    assert caught.value.code == code


def test_across_the_daylight_saving_change() -> None:
    before = datetime(2026, 10, 23, 10, 0, tzinfo=UTC)  # Friday, 12:00 CEST
    deadline = parse_deadline("monday 18:00", now=before, tz=WARSAW)
    assert deadline == datetime(2026, 10, 26, 17, 0, tzinfo=UTC)  # 18:00 CET after the change
    assert parse_deadline("3d", now=before, tz=WARSAW) == before + timedelta(days=3)


def test_times_of_day() -> None:
    assert parse_time_of_day("7") == time(7) and parse_time_of_day("12am") == time(0) and parse_time_of_day("12:30pm") == time(12, 30)
    assert parse_time_of_day("24:00") is None and parse_time_of_day("7:61") is None
