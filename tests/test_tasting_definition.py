"""Tasting files: the shipped example is valid, and every kind of mistake names file, line and field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from localbot.tastings.definition import TastingFileError, load, parse
from localbot.tastings.model import Final, Mode, TastingError, parse_value
from tests.test_console import localbot

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "tastings" / "oat-drinks.toml"
WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

MINIMAL = """\
[tasting]
languages = ["en", "pl"]
title = { en = "Crisps", pl = "Chipsy" }

[[products]]
id = "salted"
name = "Salted"

[[products]]
id = "paprika"
name = "Paprika"

[[sessions]]
start = "2026-02-01 10:00"
end = "12:00"
point = "Kiosk"
places = 8
"""


def problems(source: str, **options: object) -> list[str]:
    with pytest.raises(TastingFileError) as caught:
        parse(source, filename="t.toml", name="t", tz=WARSAW, now=NOW, **options)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems if not p.warning]


def test_the_shipped_example_is_valid_and_complete() -> None:
    definition, source, warnings = load(EXAMPLE, tz=WARSAW)
    assert warnings == [] and "[[questions.cata]]" in source
    assert definition.name == "oat-drinks" and definition.languages == ("en", "pl", "id")
    assert [p.key for p in definition.products] == ["barista", "light", "choco"]
    assert definition.mode is Mode.ON_SITE and definition.final is Final.PREFERENCE and definition.comment
    assert [a.key for a in definition.jar] == ["sweetness", "thickness"] and len(definition.jar[1].labels) == 5
    assert definition.jar[1].labels[0].pick("pl") == "Zdecydowanie za rzadki"
    assert [c.key for c in definition.cata] == ["creamy", "watery", "oaty", "aftertaste"]
    start, end, taste_at = definition.sessions[0].resolved(WARSAW)
    assert (start.hour, end.hour, taste_at) == (8, 10, None)  # 10:00–12:00 Warsaw summer time is 08:00–10:00 UTC
    assert definition.sessions[1].point == "Library" and definition.sessions[1].places == 12
    assert definition.question_keys() == (
        "liking", "jar.sweetness", "jar.thickness", "cata.creamy", "cata.watery", "cata.oaty", "cata.aftertaste", "comment", "preference",
    )


def test_a_minimal_file_and_its_defaults() -> None:
    definition, warnings = parse(MINIMAL, filename="t.toml", name="crisps", tz=WARSAW, now=NOW)
    assert warnings == [] and definition.name == "crisps" and definition.final is Final.PREFERENCE
    session = definition.sessions[0]
    assert session.resolved(WARSAW)[:2] == (datetime(2026, 2, 1, 9, 0, tzinfo=UTC), datetime(2026, 2, 1, 11, 0, tzinfo=UTC))
    offset = MINIMAL.replace('start = "2026-02-01 10:00"', "start = 2026-02-01T10:00:00Z")
    assert parse(offset, name="crisps", tz=WARSAW, now=NOW)[0].sessions[0].resolved(WARSAW)[0] == datetime(2026, 2, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('title = { en = "Crisps", pl = "Chipsy" }\n', ""), "t.toml:1: tasting.title: is required"),
        (('places = 8\n', ""), "t.toml:13: sessions[1].places: is required"),
        (('point = "Kiosk"\n', ""), "t.toml:13: sessions[1].point: is required: the pickup point's name or number"),
        (('name = "Paprika"\n', ""), "t.toml:9: products[2].name: is required"),
        (('id = "paprika"\n', 'id = "salted"\n'), "t.toml:10: products[2].id: “salted” is already the id of product 1"),
        (('[[products]]\nid = "paprika"\nname = "Paprika"\n', ""), "t.toml:5: products: has 1 product; a tasting compares 2 to 12"),
        (('start = "2026-02-01 10:00"', 'start = "2026-01-05 09:00"'), "t.toml:14: sessions[1].start: 2026-01-05 09:00 is in the past: a session must start later than now"),
        (('start = "2026-02-01 10:00"', 'start = "next week"'), "t.toml:14: sessions[1].start: 'next week' is not a date and time such as 2026-12-05 10:00"),
        (('end = "12:00"', 'end = "09:00"'), "t.toml:15: sessions[1].end: must be after the start"),
        (('places = 8', 'places = 0'), "t.toml:17: sessions[1].places: must be between 1 and 1000, not 0"),
        (('places = 8', 'places = 8\ntaste_at = "2026-02-02 18:00"'), "t.toml:18: sessions[1].taste_at: only applies to a home-use tasting"),
        (('pl = "Chipsy"', 'fr = "Chips"'), "t.toml:3: tasting.title.fr: “fr” is not one of the tasting's languages (en, pl)"),
        (('[tasting]\n', '[tasting]\nmode = "delivery"\n'), "t.toml:2: tasting.mode: must be “on_site” or “home_use”, not “delivery”"),
        (('places = 8\n', 'places = 8\ncolour = "red"\n'), "t.toml:18: sessions[1].colour: unknown field “colour” for a session"),
        (('[[products]]\nid = "salted"', '[[products]]\nid = "Salted!"'), "t.toml:6: products[1].id: “Salted!” is not a usable id"),
    ],
)
def test_every_mistake_names_file_line_and_field(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in MINIMAL
    found = problems(MINIMAL.replace(old, new, 1))
    assert any(p.startswith(expected) for p in found), found


def test_questions_home_use_and_their_mistakes() -> None:
    home = MINIMAL.replace('[tasting]\n', '[tasting]\nmode = "home_use"\n').replace("places = 8", 'places = 8\ntaste_at = "2026-02-02 18:00"')
    questions = home + """
[questions]
final = "ranking"
comment = false

[[questions.jar]]
id = "salt"
name = { en = "saltiness", pl = "słoność" }

[[questions.cata]]
id = "crunchy"
label = { en = "Crunchy" }
"""
    definition, warnings = parse(questions, filename="t.toml", name="crisps", tz=WARSAW, now=NOW)
    assert definition.mode is Mode.HOME_USE and definition.final is Final.RANKING
    assert definition.sessions[0].resolved(WARSAW)[2] == datetime(2026, 2, 2, 17, 0, tzinfo=UTC)
    assert definition.sample_questions() == ("liking", "jar.salt", "cata.crunchy") and definition.question_keys()[-1] == "rank"
    assert [str(w) for w in warnings] == ["t.toml:31: warning: questions.cata[1].label: no pl text: members who speak pl will see the en text"]

    assert problems(MINIMAL.replace('[tasting]\n', '[tasting]\nmode = "home_use"\n')) == [
        "t.toml:14: sessions[1].taste_at: is required, for example 2026-12-05 10:00"
    ]
    early = home.replace('taste_at = "2026-02-02 18:00"', 'taste_at = "2026-02-01 11:00"')
    assert problems(early) == ["t.toml:19: sessions[1].taste_at: must not be before the end of the session, when the kits have been picked up"]
    labels = questions.replace('name = { en = "saltiness", pl = "słoność" }', 'name = "saltiness"\nlabels = ["a", "b", "c"]')
    assert problems(labels) == ["t.toml:28: questions.jar[1].labels: needs exactly 5 labels, from “not enough at all” to “far too much”; it has 3"]
    assert problems(questions.replace('final = "ranking"', 'final = "best"')) == [
        "t.toml:22: questions.final: must be “preference”, “ranking” or “none”, not “best”"
    ]


def test_broken_toml_and_unreadable_files(tmp_path: Path) -> None:
    assert problems(MINIMAL + "\nplaces = = 3\n")[0].startswith("t.toml:19: (file): not valid TOML")
    path = tmp_path / "gone.toml"
    with pytest.raises(TastingFileError) as caught:
        load(path)
    assert "cannot be read" in str(caught.value)


def test_answers_on_the_scales() -> None:
    definition, _ = parse(MINIMAL + '\n[questions]\nfinal = "ranking"\n[[questions.jar]]\nid = "salt"\nname = "saltiness"\n', name="crisps", tz=WARSAW)
    assert parse_value(definition, "liking", " 9 ", products=2) == "9"
    assert parse_value(definition, "jar.salt", "3", products=2) == "3"
    assert parse_value(definition, "rank", "2", products=2) == "2"
    assert parse_value(definition, "comment", "  ", products=2) is None
    for question, value, code in (("liking", "0", "bad_liking"), ("liking", "10", "bad_liking"), ("liking", "7.5", "bad_liking"),
                                  ("jar.salt", "6", "bad_jar"), ("rank", "3", "bad_rank"), ("preference", "1", "unknown_question"),
                                  ("comment", "x" * 1001, "comment_too_long")):
        with pytest.raises(TastingError) as caught:
            parse_value(definition, question, value, products=2)
        assert caught.value.code == code


def test_validate_on_the_command_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(MINIMAL.replace('name = "Paprika"\n', "").replace("places = 8\n", ""), encoding="utf-8")
    done = localbot("tasting", "validate", str(EXAMPLE), str(broken), str(tmp_path / "missing.toml"), cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{EXAMPLE}: OK — oat-drinks: 3 products, 2 session(s), 2 JAR attribute(s), 4 CATA term(s)")
    assert f"{broken}:9: products[2].name: is required" in lines
    assert f"{broken}:12: sessions[1].places: is required" in lines
    assert f"{broken}: 2 error(s); not usable" in lines
    assert lines[-1] == f"{tmp_path / 'missing.toml'}: no such file"
    past = tmp_path / "past.toml"
    past.write_text(MINIMAL.replace("2026-02-01", "2020-02-01"), encoding="utf-8")
    warned = localbot("tasting", "validate", str(past), cwd=tmp_path)
    assert warned.returncode == 0 and "warning: sessions[1]: starts in the past (2020-02-01 10:00); /tasting start would refuse it" in warned.stdout
