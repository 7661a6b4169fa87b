"""Languages: every shipped text translated, placeholders intact, dates in the community's zone."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from localbot.i18n import SUPPORTED, language_name, normalize_language, translator
from localbot.i18n_tools import PACKAGE_ROOT, extract, problems


def test_every_text_is_translated_into_polish_and_indonesian() -> None:
    assert extract(), "no texts found: extraction is broken"
    assert problems() == []


def test_no_translated_call_hides_inside_an_f_string() -> None:
    """Babel cannot see ``_("…")`` inside an f-string on Python 3.11; such texts would silently stay English."""
    offenders = []
    for path in PACKAGE_ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                for inner in ast.walk(node):
                    if (
                        isinstance(inner, ast.Call)
                        and getattr(inner.func, "attr", getattr(inner.func, "id", None)) in ("_", "n_", "N_")
                        and inner.args
                        and isinstance(inner.args[0], ast.Constant)
                    ):
                        offenders.append(f"{path.relative_to(PACKAGE_ROOT)}:{inner.lineno}")
    assert offenders == []


def test_catalogues_are_ordinary_po_files() -> None:
    from babel.messages.pofile import read_po

    for language in ("pl", "id"):
        files = sorted((PACKAGE_ROOT / "locales" / language / "LC_MESSAGES").glob("*.po"))
        assert files
        for path in files:
            with path.open("rb") as handle:
                catalog = read_po(handle, abort_invalid=True)
            assert str(catalog.locale) == language and len(catalog) > 0


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Your vote: Pizza"), ("pl", "Twój głos: Pizza"), ("id", "Suara Anda: Pizza")],
)
def test_translation_with_values(language: str, expected: str) -> None:
    assert translator(language)._("Your vote: {option}", option="Pizza") == expected


def test_polish_plurals_have_three_forms() -> None:
    t = translator("pl")
    assert t.n_("{n} person voted.", "{n} people voted.", 1) == "Zagłosowała 1 osoba."
    assert t.n_("{n} person voted.", "{n} people voted.", 3) == "Zagłosowały 3 osoby."
    assert t.n_("{n} person voted.", "{n} people voted.", 5) == "Zagłosowało 5 osób."
    assert t.n_("{n} person voted.", "{n} people voted.", 22) == "Zagłosowały 22 osoby."


def test_values_are_not_templates() -> None:
    """A member's text with braces must come out as typed, not be formatted."""
    assert translator("en")._("Your vote: {option}", option="{0} {__class__}") == "Your vote: {0} {__class__}"


def test_dates_follow_language_and_time_zone() -> None:
    moment = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    warsaw = ZoneInfo("Europe/Warsaw")
    assert "18:00" in translator("pl").datetime(moment, warsaw) and "pt." in translator("pl").datetime(moment, warsaw)
    assert "18.00" in translator("id").datetime(moment, warsaw) and "Jum" in translator("id").datetime(moment, warsaw)
    assert "6:00" in translator("en").datetime(moment, warsaw) and "Fri" in translator("en").datetime(moment, warsaw)
    assert "00:00" in translator("pl").datetime(moment, ZoneInfo("Asia/Jakarta"))


def test_language_codes() -> None:
    assert normalize_language("pl-PL") == "pl" and normalize_language("in") == "id" and normalize_language("en_GB") == "en"
    assert normalize_language("de") is None and normalize_language(None) is None
    assert [language_name(code) for code in SUPPORTED] == ["English", "polski", "Indonesia"]
    assert translator("xx").language == "en"

