"""Study files: the shipped examples are valid, and every kind of mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localbot.surveys.definition import StudyError, load, parse
from localbot.surveys.model import Kind, Mode, Op
from localbot.tomlfile import field_name, key_lines, line_of
from tests.survey_helpers import EXAMPLES
from tests.test_console import localbot

MINIMAL = """\
[survey]
mode = "once"
languages = ["en", "pl"]
title = { en = "Snacks", pl = "Przekąski" }

[[questions]]
id = "often"
kind = "single"
text = { en = "How often?", pl = "Jak często?" }
options = [
  { value = "daily", label = { en = "Daily", pl = "Codziennie" } },
  { value = "never", label = { en = "Never", pl = "Nigdy" } },
]
"""


def problems_of(source: str) -> list[str]:
    with pytest.raises(StudyError) as caught:
        parse(source, filename="study.toml", name="study")
    return [str(p) for p in caught.value.problems if not p.warning]


def test_the_shipped_examples_are_complete_and_in_three_languages() -> None:
    files = sorted(EXAMPLES.glob("*.toml"))
    assert [f.stem for f in files] == ["coffee-diary", "coffee-habits"]
    modes = {}
    for path in files:
        study, warnings = load(path)
        assert warnings == [], warnings
        assert study.languages == ("en", "pl", "id")
        modes[study.name] = study.mode
        for question in study.questions:
            assert set(question.text.languages) == {"en", "pl", "id"}, question.id
            for choice in question.choices:
                assert set(choice.label.languages) == {"en", "pl", "id"}, (question.id, choice.value)
    assert modes == {"coffee-diary": Mode.DIARY, "coffee-habits": Mode.ONCE}
    once, _ = load(EXAMPLES / "coffee-habits.toml")
    assert {q.kind for q in once.questions} == set(Kind)  # all nine kinds
    diary, _ = load(EXAMPLES / "coffee-diary.toml")
    assert diary.diary is not None and (diary.diary.days, diary.diary.prompts_per_day) == (7, 5)
    assert diary.roles.moment is not None and diary.roles.moment.op is Op.EQUALS
    assert diary.question("where").location


def test_a_condition_naming_an_unknown_question_is_an_error_with_its_line() -> None:
    source = MINIMAL + """
[[questions]]
id = "why"
kind = "text"
text = { en = "Why?", pl = "Dlaczego?" }
show_if = { question = "oftne", equals = "never" }
"""
    assert problems_of(source) == ["study.toml:19: questions[2].show_if.question: unknown question “oftne” (known here: often)"]


def test_a_condition_may_only_look_back() -> None:
    source = MINIMAL.replace(
        'text = { en = "How often?", pl = "Jak często?" }',
        'text = { en = "How often?", pl = "Jak często?" }\nshow_if = { question = "later", answered = true }',
    ) + """
[[questions]]
id = "later"
kind = "time"
text = { en = "When?", pl = "Kiedy?" }
"""
    [problem] = problems_of(source)
    assert problem.startswith("study.toml:10: questions[1].show_if.question: “later” is asked after this question")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('mode = "once"', 'mode = "weekly"'), 'study.toml:2: survey.mode: must be “once” or “diary”, not “weekly”'),
        (('languages = ["en", "pl"]', 'languages = ["en", "de"]'), "study.toml:3: survey.languages[2]: “de” is not a language I speak"),
        (('pl = "Przekąski"', 'fr = "Snacks"'), "study.toml:4: survey.title.fr: “fr” is not one of the study's languages (en, pl)"),
        (('id = "often"', 'id = "Often!"'), "study.toml:7: questions[1].id: “Often!” is not a usable id"),
        (('kind = "single"', 'kind = "slider"'), "study.toml:8: questions[1].kind: “slider” is not a question kind"),
        (('value = "never"', 'value = "daily"'), "study.toml:12: questions[1].options[2].value: “daily” is used by another option"),
        (('value = "never"', 'value = "skip"'), "study.toml:12: questions[1].options[2].value: “skip” is reserved"),
        (('kind = "single"', 'kind = "single"\nmin = 3'), "study.toml:9: questions[1].min: does not apply to a single question"),
        (('kind = "single"', 'kind = "single"\ncolour = "red"'), "study.toml:9: questions[1].colour: unknown field “colour” for a question"),
        (('[survey]', '[survey]\nclosing = "7d"'), "study.toml:2: survey.closing: unknown field “closing” for [survey]"),
        (('mode = "once"', 'mode = "once"\ncloses_after = "soon"'), "study.toml:3: survey.closes_after: “soon” is not a duration"),
        (('title = { en = "Snacks", pl = "Przekąski" }', 'title = ""'), "study.toml:4: survey.title: is empty"),
        (('[[questions]]', '[report]\nplace = "often"\nweekday = "often"\n\n[[questions]]'), "study.toml:8: report.weekday: “often” is a single question; weekday needs weekday"),
    ],
)
def test_mistakes_name_file_line_and_field(change: tuple[str, str], expected: str) -> None:
    source = MINIMAL.replace(*change, 1)
    assert source != MINIMAL
    found = problems_of(source)
    assert any(p.startswith(expected) for p in found), found


def test_kind_specific_rules() -> None:
    source = MINIMAL + """
[[questions]]
id = "rate"
kind = "scale"
min = 1
max = 15
text = "Rate it"

[[questions]]
id = "cups"
kind = "number"
min = 5
max = 2
text = "Cups?"

[[questions]]
id = "spot"
kind = "place"
text = "Where?"

[[questions]]
id = "hot"
kind = "scale"
text = "Hot?"
labels.1 = "Cold"

[[questions]]
id = "days"
kind = "weekday"
max_picks = 2
text = "Days?"
show_if = { question = "rate", includes = 3 }
"""
    found = problems_of(source)
    assert any("questions[2].max: a scale needs 2 to 11 points; 1 to 15 has 15" in p for p in found), found
    assert any("questions[3].max: must be larger than min (5)" in p for p in found)
    assert any("questions[4]: a place question needs options, location = true, or both" in p for p in found)
    assert any("questions[5].labels: label both ends of the scale (1 and 5)" in p for p in found)
    assert any("questions[6].max_picks: only applies with multiple = true" in p for p in found)
    assert any("questions[6].show_if.includes: looks inside a multiple-choice answer" in p for p in found)


def test_diary_rules() -> None:
    source = MINIMAL.replace('mode = "once"', 'mode = "diary"') + """
[diary]
days = 7
prompts_per_day = 6
min_gap_minutes = 90
expires_after_minutes = 120
window = "09:00-15:00"

[report]
moment = { question = "often", equals = "sometimes" }
"""
    found = problems_of(source)
    assert any(p.startswith("study.toml:19: diary.expires_after_minutes: 120 is longer than min_gap_minutes (90)") for p in found), found
    assert any(
        p == "study.toml:20: diary.window: 09:00–15:00 (6 h) is too short for 6 prompts at least 90 min apart: it needs 9 h" for p in found
    ), found
    assert any(p.startswith("study.toml:23: report.moment.equals: 'sometimes' is not an answer to “often”") for p in found), found
    once_only = MINIMAL.replace('kind = "single"', 'kind = "single"\nonce = true')
    assert any("questions[1].once: only applies to diary studies" in p for p in problems_of(once_only))
    no_table = MINIMAL.replace('mode = "once"', 'mode = "diary"')
    assert any("study.toml:1: diary: is required" in p for p in problems_of(no_table))


def test_missing_translations_are_warnings_and_fall_back_to_the_first_language() -> None:
    source = MINIMAL.replace('text = { en = "How often?", pl = "Jak często?" }', 'text = { en = "How often?" }')
    study, warnings = parse(source, filename="study.toml", name="study")
    assert [str(w) for w in warnings] == [
        "study.toml:9: warning: questions[1].text: no pl text: members who speak pl will see the en text"
    ]
    question = study.question("often")
    assert question.text.pick("pl") == "How often?" and question.text.pick("id") == "How often?"
    assert question.choices[0].label.pick("pl") == "Codziennie" and question.choices[0].label.pick("id") == "Daily"


def test_broken_toml_is_reported_with_its_line() -> None:
    assert problems_of(MINIMAL.replace('mode = "once"', 'mode = once')) == [
        "study.toml:2: (file): not valid TOML: Invalid value"
    ]


def test_the_locator_understands_strings_comments_and_nesting() -> None:
    source = """\
# a comment with = and [brackets]
[survey]
title.en = "A # not a comment"
intro = '''multi
line = not a key
'''
[[questions]]
id = "a"
options = [
  { value = "x", label = { en = "X, [y]" } },  # trailing ]
  { value = "y", label.en = "Y" },
]
[[questions]]
id = "b"
labels.1 = "one"
[questions.extra]
"quoted key" = 1
"""
    lines = key_lines(source)
    assert lines[("survey", "title", "en")] == 3
    assert lines[("survey", "intro")] == 4
    assert ("survey", "line") not in lines
    assert lines[("questions", 0, "options", 1, "label", "en")] == 11
    assert lines[("questions", 1, "labels", "1")] == 15
    assert lines[("questions", 1, "extra", "quoted key")] == 17
    assert line_of(lines, ("questions", 1, "text")) == 13  # a missing key points at its table
    assert field_name(("questions", 1, "show_if", 0, "question")) == "questions[2].show_if[1].question"


def test_validate_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL + '\n[[questions]]\nid = "why"\nkind = "text"\ntext = "Why?"\nshow_if = { question = "ghost", answered = true }\n')
    done = localbot("survey", "validate", str(EXAMPLES / "coffee-habits.toml"), str(EXAMPLES / "coffee-diary.toml"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "coffee-habits.toml: OK — coffee-habits: one-off survey, 10 questions, languages en, pl, id" in done.stdout
    assert "coffee-diary.toml: OK — coffee-diary: diary of 7 days × 5 prompts" in done.stdout
    failed = localbot("survey", "validate", str(bad), "missing.toml", cwd=tmp_path)
    assert failed.returncode == 1
    assert f"{bad}:19: questions[2].show_if.question: unknown question “ghost” (known here: often)" in failed.stdout
    assert f"{bad}: 1 error(s); not usable" in failed.stdout
    assert "missing.toml: no such file" in failed.stdout
    assert "Traceback" not in failed.stderr


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_damage_to_a_study_file_is_reported_never_raised(data: st.DataObject) -> None:
    """Whatever an organiser's editor does to a file, the validator answers with problems."""
    lines = (EXAMPLES / data.draw(st.sampled_from(["coffee-diary.toml", "coffee-habits.toml"]))).read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "duplicate", "value"]))
        if action == "drop":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif "=" in lines[index]:
            key = lines[index].split("=", 1)[0]
            lines[index] = key + "= " + data.draw(st.sampled_from(['""', "0", "-3", "true", "[]", "{}", '"x"', "1.5", '"07:00-07:30"', "[1, 2]", '{ question = "nope", equals = 1 }']))
    try:
        parse("\n".join(lines), filename="f.toml", name="f")
    except StudyError as error:
        assert error.problems and all(p.line >= 1 and p.message for p in error.problems)
