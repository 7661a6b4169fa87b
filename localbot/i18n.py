"""Polish, English and Indonesian: gettext catalogues read through Babel, dates through Babel.

English is the source language: message ids are the English texts, so a missing translation falls
back to readable English rather than a key. Each feature keeps its translations in its own ``.po``
file per language (``locales/pl/LC_MESSAGES/polls.po``); they are merged at load time into one
catalogue. That lets features grow in parallel without fighting over one file, while the catalogues
stay ordinary gettext files that any translation tool opens. Babel compiles them in memory, so there
are no ``.mo`` files to forget to rebuild.

Messages use ``str.format`` placeholders (``"Poll #{number} closed"``); values are inserted after
translation, so text a member typed is never interpreted as a template.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import (
    format_datetime,
    format_skeleton,
    format_time,
    format_timedelta,
    get_day_names,
)
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

SUPPORTED: tuple[str, ...] = ("en", "pl", "id")
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locales"

# Older or regional codes messengers report for our languages.
_ALIASES = {"in": "id", "ind": "id", "pol": "pl", "eng": "en"}


def N_(message: str) -> str:
    """Mark a text for translation where it is defined (help texts); it is translated when shown."""
    return message


def normalize_language(code: str | None) -> str | None:
    """``"pl-PL"`` → ``"pl"``; ``None`` for languages we do not speak."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    base = _ALIASES.get(base, base)
    return base if base in SUPPORTED else None


def catalog_files(language: str) -> list[Path]:
    return sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))


def load_catalog(language: str) -> Catalog:
    """All of a language's ``.po`` files merged into one Babel catalogue."""
    merged = Catalog(locale=language, domain="localbot")
    for path in catalog_files(language):
        with path.open("rb") as handle:
            part = read_po(handle, locale=language)
        for message in part:
            if message.id and message.string and not message.fuzzy:
                merged[message.id] = message
    return merged


@cache
def _translations(language: str) -> gettext.NullTranslations:
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, load_catalog(language))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translator:
    """Everything language-dependent a handler needs: texts, plurals, dates, numbers."""

    def __init__(self, language: str) -> None:
        if language not in SUPPORTED:
            raise ValueError(f"unsupported language {language!r}")
        self.language = language
        self._t = _translations(language)
        self._locale = Locale.parse(language)

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"

    def _(self, message: str, /, **values: Any) -> str:
        text = self._t.gettext(message)
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        return self._t.ngettext(singular, plural, n).format(n=n, **values)

    # --- dates and numbers, always in the community's time zone ---

    def datetime(self, moment: dt.datetime, tz: dt.tzinfo) -> str:
        """``Fri, Nov 27, 6:00 PM`` / ``pt., 27 lis, 18:00`` / ``Jum, 27 Nov, 18.00``."""
        day = format_skeleton("MMMEd", moment, tzinfo=tz, locale=self._locale)
        return f"{day}, {format_time(moment, 'short', tzinfo=tz, locale=self._locale)}"

    def date(self, moment: dt.datetime, tz: dt.tzinfo) -> str:
        return format_skeleton("yMMMEd", moment, tzinfo=tz, locale=self._locale)

    def time(self, moment: dt.datetime, tz: dt.tzinfo) -> str:
        return format_time(moment, "short", tzinfo=tz, locale=self._locale)

    def full_datetime(self, moment: dt.datetime, tz: dt.tzinfo) -> str:
        return format_datetime(moment, "medium", tzinfo=tz, locale=self._locale)

    def duration(self, delta: dt.timedelta) -> str:
        return format_timedelta(delta, threshold=1.1, locale=self._locale)

    def number(self, value: float, digits: int = 1) -> str:
        pattern = "#,##0" + ("." + "#" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self._locale)

    def percent(self, fraction: float) -> str:
        return format_percent(fraction, format="#,##0%", locale=self._locale)

    def weekday_names(self) -> dict[int, tuple[str, str]]:
        """Monday=0 … Sunday=6 → (wide, abbreviated) names in this language."""
        wide = get_day_names("wide", locale=self._locale)
        short = get_day_names("abbreviated", locale=self._locale)
        return {day: (str(wide[day]), str(short[day])) for day in range(7)}


@cache
def translator(language: str | None) -> Translator:
    """The shared translator for ``language`` (unsupported or None → English)."""
    return Translator(normalize_language(language) or SOURCE_LANGUAGE)


def language_name(code: str) -> str:
    """A language's own name for itself: "polski", "English", "Indonesia"."""
    return Locale.parse(code).get_display_name(code) or code
