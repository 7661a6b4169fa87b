"""Reading answers of every kind, and conditions, as pure functions."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localbot.surveys.answers import AnswerError, Given, describe, parse, raw
from localbot.surveys.definition import load
from localbot.surveys.model import Condition, Op
from tests.survey_helpers import EXAMPLES

ONCE, _ = load(EXAMPLES / "coffee-habits.toml")
DIARY, _ = load(EXAMPLES / "coffee-diary.toml")


@pytest.mark.parametrize(
    ("question", "given", "value"),
    [
        ("often", Given(choice="weekly"), "weekly"),
        ("often", Given(text="2"), "weekly"),
        ("often", Given(text="codziennie"), "daily"),  # a label in any of the study's languages
        ("often", Given(text="Setiap hari"), "daily"),
        ("first_cup", Given(text="6pm"), "18:00"),
        ("first_cup", Given(text="07.45"), "07:45"),
        ("days", Given(text="1 3 7"), ["mon", "wed", "sun"]),
        ("days", Given(text="sobota, Monday"), ["mon", "sat"]),  # kept in the order of the week
        ("days", Given(text="Jumat dan Sabtu"), ["fri", "sat"]),
        ("where", Given(text="at home"), {"option": "home"}),
        ("with", Given(text="1;1;2"), ["nothing", "breakfast"]),
        ("cups", Given(text="3 cups"), 3),
        ("cups", Given(text=" 0 "), 0),
        ("kiosk_liking", Given(text="very much"), 5),  # a scale label picks its point
        ("kiosk_liking", Given(text="-"), None),  # optional: skipped
        ("kiosk_liking", Given(choice="skip"), None),
        ("convince", Given(text="  Free\u200b   tastings\n"), "Free tastings"),
        ("shelf", Given(photo=True), {"file": None}),
    ],
)
def test_answers_of_every_kind(question: str, given: Given, value: object) -> None:
    assert parse(ONCE.question(question), given, now_local=datetime(2026, 1, 5, 10, 15)) == value


def test_now_is_the_members_local_time_and_a_place_may_be_a_pin() -> None:
    assert parse(DIARY.question("when"), Given(text="teraz"), now_local=datetime(2026, 1, 5, 10, 15)) == "10:15"
    assert parse(DIARY.question("where"), Given(location=(52.2297001, 21.0122))) == {"lat": 52.2297, "lon": 21.0122}


@pytest.mark.parametrize(
    ("question", "given", "code"),
    [
        ("often", Given(text="sometimes"), "pick_one"),
        ("often", Given(choice="hourly"), "pick_one"),
        ("often", Given(text="-"), "required"),
        ("days", Given(text="mon, someday"), "unknown_pick"),
        ("days", Given(location=(1.0, 2.0)), "pick_several"),
        ("first_cup", Given(text="25:00"), "not_a_time"),
        ("first_cup", Given(text="now"), "not_a_time"),  # without a clock "now" means nothing
        ("cups", Given(text="three"), "not_a_number"),
        ("cups", Given(text="-2"), "out_of_range"),
        ("cups", Given(text="2 3"), "not_a_number"),
        ("cups", Given(text="1.5"), "not_whole"),
        ("kiosk_liking", Given(text="4.5"), "not_on_scale"),
        ("kiosk_liking", Given(choice="9"), "not_on_scale"),
        ("where", Given(location=(1.0, 2.0)), "pick_one"),
        ("convince", Given(text=" "), "need_text"),
        ("shelf", Given(text="a nice shelf"), "need_photo"),
    ],
)
def test_wrong_answers_say_why(question: str, given: Given, code: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse(ONCE.question(question), given)
    assert caught.value.code == code


@settings(max_examples=300, deadline=None)
@given(question=st.sampled_from([q.id for q in ONCE.questions]), text=st.text(max_size=40))
def test_any_text_is_an_answer_or_a_reason(question: str, text: str) -> None:
    try:
        value = parse(ONCE.question(question), Given(text=text), now_local=datetime(2026, 1, 5, 10, 15))
    except AnswerError as error:
        assert error.code
    else:
        describe(ONCE.question(question), value, "pl")
        raw(value)


def test_answers_read_back_in_every_language() -> None:
    assert describe(ONCE.question("days"), ["mon", "sat"], "pl") == "poniedziałek; sobota"
    assert describe(ONCE.question("where"), {"option": "home"}, "id") == "Di rumah"
    assert describe(ONCE.question("cups"), 2.5, "pl") == "2,5 filiżanek"
    assert describe(ONCE.question("kiosk_liking"), 1, "en") == "1 — Not at all"
    assert raw(["mon", "sat"]) == "mon;sat" and raw({"lat": 1.5, "lon": 2.0}) == "1.5,2.0" and raw(None) is None


def test_conditions() -> None:
    answers = {"often": "daily", "days": ["mon", "sat"], "cups": 3, "skipped": None}
    assert Condition("often", Op.EQUALS, "daily").holds(answers)
    assert Condition("often", Op.ANY_OF, ("weekly", "daily")).holds(answers)
    assert Condition("days", Op.INCLUDES, "sat").holds(answers) and not Condition("days", Op.INCLUDES, "sun").holds(answers)
    assert Condition("days", Op.ANY_OF, ("sun", "mon")).holds(answers)
    assert Condition("cups", Op.AT_LEAST, 3).holds(answers) and not Condition("cups", Op.AT_MOST, 2).holds(answers)
    assert Condition("skipped", Op.ANSWERED, False).holds(answers) and Condition("cups", Op.ANSWERED, True).holds(answers)
    assert not Condition("missing", Op.EQUALS, "x").holds(answers)
    assert not Condition("often", Op.AT_LEAST, 1).holds(answers)  # a word is not a number
    # the diary asks "convince" once per participant
    assert DIARY.next_question({"had": "yes", "when": "10:00", "where": {"option": "home"}, "with": ["sweet"]}).id == "convince"
    assert DIARY.next_question({"had": "yes", "when": "10:00", "where": {"option": "home"}, "with": ["sweet"]}, frozenset({"convince"})) is None
    assert DIARY.next_question({"had": "no"}).id == "put_off"
