"""Opening hours: reading them in three languages and OSM syntax, open now, next opening, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localbot.i18n import translator
from localbot.maps import texts
from localbot.maps.hours import DAY, HoursError, OpeningHours, is_open, parse_hours, state_at

WARSAW = ZoneInfo("Europe/Warsaw")
JAKARTA = ZoneInfo("Asia/Jakarta")
WEEKDAYS_10_18_SAT_10_14 = "Mo-Fr 10:00-18:00; Sa 10:00-14:00"


def plain(text: str) -> str:
    """Babel writes "6:00 PM" with a narrow no-break space; tests read it as a space."""
    return text.replace("\u202f", " ")


def at(text: str, tz: ZoneInfo = WARSAW) -> datetime:
    """A wall-clock moment in ``tz`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Mon-Fri 10:00-18:00, Sat 10:00-14:00", WEEKDAYS_10_18_SAT_10_14),
        ("Mo-Fr 10:00-18:00; Sa 10:00-14:00", WEEKDAYS_10_18_SAT_10_14),
        ("monday - friday 10-18, saturday 10-14", WEEKDAYS_10_18_SAT_10_14),
        ("Mon-Fri 10am-6pm, Sat 10 a.m. to 2 p.m.", WEEKDAYS_10_18_SAT_10_14),
        ("pn-pt 10-18, sob 10-14", WEEKDAYS_10_18_SAT_10_14),
        ("poniedziałek–piątek od 10:00 do 18:00, sobota 10:00–14:00", WEEKDAYS_10_18_SAT_10_14),
        ("pon.-pt. 10.00-18.00; sob. 10.00-14.00", WEEKDAYS_10_18_SAT_10_14),
        ("Senin-Jumat 10.00-18.00, Sabtu 10.00-14.00", WEEKDAYS_10_18_SAT_10_14),
        ("Sen sampai Jum pukul 10.00 - 18.00, Sab 10.00-14.00", WEEKDAYS_10_18_SAT_10_14),
        ("weekdays 10-18, Sat 10-14", WEEKDAYS_10_18_SAT_10_14),
        ("Mon-Fri: 10h-18h, Sat: 10h-14h", WEEKDAYS_10_18_SAT_10_14),
        ("Mon-Fri 8-12, 13-17", "Mo-Fr 08:00-12:00,13:00-17:00"),
        ("Mon-Fri 8-12 and 13-17", "Mo-Fr 08:00-12:00,13:00-17:00"),
        ("Mon, Wed, Fri 16-18", "Mo,We,Fr 16:00-18:00"),
        ("Fri-Mon 9-17", "Mo,Fr-Su 09:00-17:00"),
        ("daily 8-20, Sun closed", "Mo-Sa 08:00-20:00"),
        ("codziennie 8-20, niedziela nieczynne", "Mo-Sa 08:00-20:00"),
        ("setiap hari 08.00-20.00, Minggu tutup", "Mo-Sa 08:00-20:00"),
        ("Mo-Su 08:00-20:00; We off", "Mo,Tu,Th-Su 08:00-20:00"),
        ("Mon-Fri 9-17; Wed 9-12", "Mo,Tu,Th,Fr 09:00-17:00; We 09:00-12:00"),
        ("Fri 22:00-02:00", "Fr 22:00-02:00"),
        ("Fri 20:00-24:00, Sat 00:00-03:00", "Fr 20:00-03:00"),
        ("Sat 10-24h", "Sa 10:00-24:00"),
        ("Mon-Fri 24h", "Mo-Fr 00:00-24:00"),
        ("24/7", "24/7"),
        ("Mo-Su 00:00-24:00", "24/7"),
        ("całą dobę", "24/7"),
        ("24 jam", "24/7"),
        ("non-stop", "24/7"),
        ("10:00-18:00", "Mo-Su 10:00-18:00"),
        ("closed", "off"),
    ],
)
def test_reading_hours(written: str, canonical: str) -> None:
    hours = parse_hours(written)
    assert hours.canonical() == canonical
    assert parse_hours(canonical) == hours  # what we store reads back to the same week


@pytest.mark.parametrize(
    ("written", "code", "details"),
    [
        ("", "empty", {}),
        (" , ; ", "empty", {}),
        ("Mon-Fri", "no_times", {"days": "mon-fri"}),
        ("Mon-Fri 10-18, Sat", "no_times", {"days": "sat"}),
        ("whenever 10-12", "unknown_word", {"word": "whenever"}),
        ("Mo-Fr 10-18; PH off", "unknown_word", {"word": "ph"}),
        ("Mon 10", "bad_range", {"text": "10"}),
        ("Mon 25:00-26:00", "bad_time", {"time": "25:00"}),
        ("Mon 10:75-12:00", "bad_time", {"time": "10:75"}),
        ("Mon 24:30-02:00", "bad_time", {"time": "24:30"}),
        ("Mon 24:00-02:00", "bad_time", {"time": "24:00"}),
        ("Mon 13pm-2pm", "bad_time", {"time": "13pm"}),
        ("Mon 10:00-10:00", "empty_range", {"text": "10:00-10:00"}),
        ("Mon 10-12 #", "unknown_word", {"word": "#"}),
        ("Mon 10-12 " * 40, "too_long", {"limit": 300, "length": 399}),
    ],
)
def test_hours_that_do_not_parse_say_why(written: str, code: str, details: dict[str, object]) -> None:
    with pytest.raises(HoursError) as caught:
        parse_hours(written)
    assert (caught.value.code, caught.value.details) == (code, details)


_interval = st.tuples(st.integers(0, DAY - 1), st.integers(1, DAY)).map(lambda p: (p[0], p[0] + p[1]))
_week = st.lists(st.lists(_interval, max_size=3), min_size=7, max_size=7)


@given(_week)
def test_any_schedule_survives_its_canonical_text(week: list[list[tuple[int, int]]]) -> None:
    """Whatever the week, the stored text reads back to the same open periods."""
    from localbot.maps.hours import _normalise

    hours = OpeningHours(_normalise(week))
    assert parse_hours(hours.canonical()) == hours
    # and the same moments are open: the form changed, not the meaning
    start = at("2026-03-02T00:00")
    for step in range(0, 7 * DAY, 97):
        moment = start + timedelta(minutes=step)
        local = moment.astimezone(WARSAW)
        day, minute = local.weekday(), local.hour * 60 + local.minute
        expected = any(s <= minute < e for s, e in week[day]) or any(
            s <= minute + DAY < e for s, e in week[(day - 1) % 7]
        )
        assert is_open(hours, WARSAW, moment) is expected, (week, local)


# --- open now and next -------------------------------------------------------------------------


def test_open_now_and_until() -> None:
    hours = parse_hours("Mon-Fri 10:00-18:00, Sat 10:00-14:00")
    state = state_at(hours, WARSAW, at("2026-11-23T12:00"))  # a Monday
    assert state.is_open and state.closes_at == at("2026-11-23T18:00")
    assert not is_open(hours, WARSAW, at("2026-11-23T18:00"))  # the closing minute is closed
    assert is_open(hours, WARSAW, at("2026-11-23T10:00"))  # the opening minute is open


def test_closed_days_are_skipped_for_the_next_opening() -> None:
    hours = parse_hours("Mon-Fri 10:00-18:00, Sat 10:00-14:00")
    saturday_evening = state_at(hours, WARSAW, at("2026-11-21T15:00"))
    assert not saturday_evening.is_open
    assert saturday_evening.opens_at == at("2026-11-23T10:00")  # Sunday closed: Monday


def test_the_time_zone_is_the_communitys() -> None:
    hours = parse_hours("Mon-Fri 08:00-16:00")
    moment = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Jakarta, 03:00 in Warsaw
    assert is_open(hours, JAKARTA, moment)
    assert not is_open(hours, WARSAW, moment)


def test_across_midnight_the_night_belongs_to_the_day_it_starts() -> None:
    hours = parse_hours("Fri-Sat 22:00-02:00")
    assert is_open(hours, WARSAW, at("2026-11-20T23:30"))  # Friday night
    assert is_open(hours, WARSAW, at("2026-11-21T01:30"))  # still Friday's night, on Saturday
    assert not is_open(hours, WARSAW, at("2026-11-21T02:00"))
    assert is_open(hours, WARSAW, at("2026-11-22T01:00"))  # Saturday's night, on Sunday
    assert not is_open(hours, WARSAW, at("2026-11-20T01:00"))  # Thursday's night does not exist
    state = state_at(hours, WARSAW, at("2026-11-20T23:00"))
    assert state.closes_at == at("2026-11-21T02:00")


def test_nights_that_touch_are_one_opening() -> None:
    hours = parse_hours("Sun 20:00-24:00; Mon 00:00-06:00, Mon 10:00-12:00")
    state = state_at(hours, WARSAW, at("2026-11-22T21:00"))
    assert state.is_open and state.closes_at == at("2026-11-23T06:00")
    assert state_at(hours, WARSAW, at("2026-11-23T07:00")).opens_at == at("2026-11-23T10:00")


def test_round_the_clock_and_never() -> None:
    always = parse_hours("24/7")
    assert always.always and state_at(always, WARSAW, at("2026-11-21T03:00")) == state_at(always, WARSAW, at("2026-06-01T12:00"))
    assert state_at(always, WARSAW, at("2026-11-21T03:00")).is_open and state_at(always, WARSAW, at("2026-11-21T03:00")).closes_at is None
    never = parse_hours("closed")
    state = state_at(never, WARSAW, at("2026-11-21T03:00"))
    assert not state.is_open and state.opens_at is None


def test_clocks_going_forward_keep_wall_times() -> None:
    """Europe/Warsaw moves from 02:00 CET to 03:00 CEST on 29 March 2026."""
    hours = parse_hours("Mon-Fri 10:00-18:00")
    friday_evening = at("2026-03-27T19:00")
    opens = state_at(hours, WARSAW, friday_evening).opens_at
    assert opens == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST, not 09:00 UTC as a week earlier
    assert state_at(hours, WARSAW, at("2026-03-20T19:00")).opens_at == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def test_a_night_that_spans_the_change_is_an_hour_shorter() -> None:
    hours = parse_hours("Sat 22:00-06:00")
    state = state_at(hours, WARSAW, at("2026-03-28T23:00"))
    assert state.is_open and state.closes_at == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)  # 06:00 CEST
    opened = state_at(hours, WARSAW, at("2026-03-28T21:00")).opens_at
    assert opened is not None and state.closes_at - opened == timedelta(hours=7)


def test_opening_inside_the_missing_hour_opens_when_the_clock_resumes() -> None:
    hours = parse_hours("Sun 02:30-04:00")
    opens = state_at(hours, WARSAW, at("2026-03-28T12:00")).opens_at
    assert opens == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, the first real moment after 02:30
    assert is_open(hours, WARSAW, datetime(2026, 3, 29, 1, 45, tzinfo=UTC))


def test_clocks_going_back_make_the_night_an_hour_longer() -> None:
    """Europe/Warsaw moves from 03:00 CEST back to 02:00 CET on 25 October 2026."""
    hours = parse_hours("Sat 22:00-06:00")
    state = state_at(hours, WARSAW, at("2026-10-24T23:00"))
    assert state.closes_at == datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # 06:00 CET
    assert state.closes_at - at("2026-10-24T22:00") == timedelta(hours=9)
    assert is_open(hours, WARSAW, datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # the second 02:30


# --- as members read them ----------------------------------------------------------------------


def test_summaries_in_three_languages() -> None:
    hours = parse_hours("Mon-Fri 10:00-18:00, Sat 10:00-14:00")
    assert plain(texts.hours_summary(translator("en"), hours)) == "Mon–Fri 10:00 AM–6:00 PM · Sat 10:00 AM–2:00 PM · closed Sun"
    assert texts.hours_summary(translator("pl"), hours) == "pon.–pt. 10:00–18:00 · sob. 10:00–14:00 · nieczynne niedz."
    assert texts.hours_summary(translator("id"), hours) == "Sen–Jum 10.00–18.00 · Sab 10.00–14.00 · tutup Min"
    assert texts.hours_summary(translator("en"), None) == "opening hours not known"


def test_state_texts() -> None:
    t = translator("en")
    hours = parse_hours("Mon-Fri 10:00-18:00, Sat 10:00-14:00; Fri 22:00-02:00")
    assert plain(texts.opening_state(t, hours, WARSAW, at("2026-11-23T12:00"))) == "open now, until 6:00 PM"
    assert plain(texts.opening_state(t, hours, WARSAW, at("2026-11-23T08:00"))) == "closed, opens today at 10:00 AM"
    assert plain(texts.opening_state(t, hours, WARSAW, at("2026-11-23T19:00"))) == "closed, opens tomorrow at 10:00 AM"
    assert plain(texts.opening_state(t, hours, WARSAW, at("2026-11-21T15:00"))) == "closed, opens Mon at 10:00 AM"
    assert plain(texts.opening_state(t, hours, WARSAW, at("2026-11-27T23:00"))) == "open now, until 2:00 AM"
    assert plain(texts.opening_state(t, parse_hours("24/7"), WARSAW, at("2026-11-27T23:00"))) == "open now, round the clock"
    assert plain(texts.opening_state(t, parse_hours("off"), WARSAW, at("2026-11-27T23:00"))) == "closed, not open in the coming week"
    assert texts.opening_state(translator("pl"), hours, WARSAW, at("2026-11-21T15:00")) == "nieczynne, otwarcie pon. o 10:00"
