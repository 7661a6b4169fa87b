"""/help and usage lines in every language: placeholders translated, command names and syntax kept."""

from __future__ import annotations

import re

import pytest

from localbot.handlers import build_router
from localbot.handlers.router import PLACEHOLDERS, render_usage
from localbot.i18n import load_catalog, translator
from tests.helpers import Harness, texts

WORD = re.compile(r"[^\W\d_]+")
LINE = re.compile(r"^/(?P<name>\w+)(?: (?P<usage>.*?))? — (?P<help>.*)$")


def same_on_purpose(language: str, word: str) -> bool:
    """A placeholder this language writes as English does (FORMAT), translated so on purpose."""
    message = load_catalog(language).get(word)
    return message is not None and message.string == word


def literal(word: str) -> bool:
    """Typed as it is (a sub-command such as ``start``, a language code): lower case."""
    return word.islower()


async def help_lines(bot: Harness, language: str) -> dict[str, tuple[str, str]]:
    await bot.send(f"/lang {language}")
    lines = {}
    for line in texts(await bot.send("/help")).splitlines():
        match = LINE.match(line)
        if match:
            lines[match["name"]] = (match["usage"] or "", match["help"])
    return lines


@pytest.mark.parametrize("language", ["pl", "id"])
async def test_help_shows_no_english_placeholder_in_polish_or_indonesian(bot: Harness, language: str) -> None:
    english = await help_lines(bot, "en")
    shown = await help_lines(bot, language)
    assert shown.keys() == english.keys() and len(english) > 20  # every command, under its own name
    t = translator(language)
    for name, (usage, help_text) in english.items():
        their_usage, their_help = shown[name]
        assert WORD.sub("·", their_usage) == WORD.sub("·", usage), f"/{name}: the syntax changed in {language}: {their_usage!r}"
        for word, theirs in zip(WORD.findall(usage), WORD.findall(their_usage), strict=True):
            if literal(word):
                assert theirs == word, f"/{name}: {word!r} is typed as it is, but {language} shows {theirs!r}"
            else:
                assert theirs != word or same_on_purpose(language, word), f"/{name} {usage}: {word!r} is not translated into {language}"
        assert their_help != help_text, f"/{name}: the help is not translated into {language}"
        for word in set(WORD.findall(help_text)) & set(PLACEHOLDERS):  # "poll NUMBER" in the help reads as in the usage
            assert t._(PLACEHOLDERS[word]) in WORD.findall(their_help), f"/{name}: the help and the usage name {word!r} differently"
            if not same_on_purpose(language, word):
                assert word not in WORD.findall(their_help), f"/{name}: {word!r} left in English in {language}: {their_help!r}"


def test_every_registered_usage_uses_known_placeholders_or_literals() -> None:
    router = build_router()
    for spec in router.commands.values():  # hidden ones too
        for word in WORD.findall(spec.usage):
            assert literal(word) or word in PLACEHOLDERS, f"/{spec.name}: {word!r} is neither a placeholder in capitals nor typed as it is"
        for language in ("pl", "id"):
            assert WORD.sub("·", render_usage(translator(language), spec.usage)) == WORD.sub("·", spec.usage)
    with pytest.raises(ValueError, match="PLACEHOLDERS"):
        router.command("frobnicate", help="x", usage="[WIDGET]")(lambda ctx, cmd: None)


async def test_a_poll_usage_error_is_in_the_members_language(bot: Harness) -> None:
    await bot.send("/lang pl")
    assert texts(await bot.send("/poll Bad")).endswith("Użycie: /poll PYTANIE? | OPCJA | OPCJA")
    await bot.send("/lang id")
    assert texts(await bot.send("/poll Bad")).endswith("/poll PERTANYAAN? | PILIHAN | PILIHAN")
