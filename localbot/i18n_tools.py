"""Keeping the catalogues complete: extract messages with Babel and check every language.

``localbot i18n extract`` finds every text marked with ``_``, ``n_`` or ``N_`` and adds the new ones
to each language's ``.po`` file for the feature the source file belongs to. ``localbot i18n check``
(and the test suite) fails when a text has no Polish or Indonesian translation, or when a translation
lost or invented a ``{placeholder}``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from localbot import __version__
from localbot.i18n import LOCALE_DIR, SOURCE_LANGUAGE, SUPPORTED, load_catalog

PACKAGE_ROOT = Path(__file__).parent
KEYWORDS = {"_": None, "n_": (1, 2), "N_": None}
_SHARED_MODULES = {"router", "context", "conversation", "__init__", "base"}
HEADER = """\
# localbot: {domain} texts in {language}.
# Source texts are the English msgids; update with `localbot i18n extract`, check with `localbot i18n check`.
#"""
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Extracted:
    msgid: str | tuple[str, str]
    domain: str
    location: tuple[str, int]


def domain_for(path: Path) -> str:
    """The catalogue a source file's texts belong to: its feature, or ``core``."""
    parts = path.relative_to(PACKAGE_ROOT).parts
    if len(parts) == 2 and parts[0] in ("handlers", "adapters"):
        stem = Path(parts[1]).stem
        return "core" if stem in _SHARED_MODULES else stem
    if len(parts) >= 2:
        return parts[0]
    return "core"


def extract() -> list[Extracted]:
    found: list[Extracted] = []
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE_ROOT.parent))
        for lineno, message, _comments, _context in extract_from_file("python", str(path), keywords=KEYWORDS):
            msgid = message if isinstance(message, str) else (str(message[0]), str(message[1]))
            found.append(Extracted(msgid, domain_for(path), (rel, lineno)))
    return found


def _key(msgid: str | tuple[str, str]) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def update_catalogues() -> dict[str, int]:
    """Add new texts to every language's catalogues; returns how many entries each domain has."""
    by_domain: dict[str, Catalog] = {}
    for item in extract():
        template = by_domain.setdefault(item.domain, Catalog(domain=item.domain))
        existing = template.get(item.msgid)
        if existing is None:
            template.add(item.msgid, locations=[item.location])
        else:
            existing.locations.append(item.location)
    sizes: dict[str, int] = {}
    for language in SUPPORTED:
        if language == SOURCE_LANGUAGE:
            continue
        folder = LOCALE_DIR / language / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        for domain, template in by_domain.items():
            path = folder / f"{domain}.po"
            if path.exists():
                with path.open("rb") as handle:
                    catalog = read_po(handle, locale=language, domain=domain)
            else:
                catalog = Catalog(locale=language, domain=domain)
            created = catalog.creation_date
            catalog.update(template, no_fuzzy_matching=True)
            # Keep the header stable: a changing date in every file would make parallel work conflict.
            catalog.creation_date = created
            catalog.revision_date = created
            catalog.header_comment = HEADER.format(language=language, domain=domain)
            catalog.obsolete.clear()
            catalog.project = "localbot"
            catalog.version = __version__
            catalog.copyright_holder = "the localbot contributors"
            catalog.msgid_bugs_address = "https://github.com/localbot/localbot/issues"
            catalog.last_translator = "localbot contributors"
            catalog.language_team = f"{language} <translators>"
            catalog.fuzzy = False
            with path.open("wb") as handle:
                # No line numbers: they would change with every edit and make catalogues conflict.
                write_po(handle, catalog, width=100, sort_output=False, include_previous=False, include_lineno=False)
            sizes[domain] = len(template)
    return sizes


def problems() -> list[str]:
    """Every missing or inconsistent translation, as lines a translator can act on."""
    found: list[str] = []
    messages = extract()
    for language in SUPPORTED:
        if language == SOURCE_LANGUAGE:
            continue
        catalog = load_catalog(language)
        for item in messages:
            entry = catalog.get(_key(item.msgid))
            where = f"{item.location[0]}:{item.location[1]}"
            if entry is None or not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
                found.append(f"{language}: missing translation for {_key(item.msgid)!r} ({where})")
                continue
            wanted = set(_PLACEHOLDER.findall(_key(item.msgid)))
            if isinstance(item.msgid, tuple):
                wanted |= set(_PLACEHOLDER.findall(item.msgid[1]))
            strings = [str(s) for s in entry.string] if isinstance(entry.string, (tuple, list)) else [str(entry.string)]
            for text in strings:
                got = set(_PLACEHOLDER.findall(text))
                # A plural form may leave out {n} ("one more"), but must not invent placeholders.
                if got - wanted or (wanted - {"n"}) - got:
                    found.append(f"{language}: placeholders differ in {_key(item.msgid)!r}: {sorted(wanted)} vs {sorted(got)}")
    return sorted(set(found))


def counts() -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for item in extract():
        totals[item.domain] += 1
    return dict(totals)
