"""Tasting files: TOML in, a checked :class:`~localbot.tastings.model.Definition` out, or every problem at once.

A tasting file is written by a person (an FMCG tester, an organiser), so the validator reports
all problems in one pass, each as ``file:line: field: message`` (array positions count from 1),
using the shared helpers of :mod:`localbot.tomlfile`. Missing translations are warnings: the
file's first language is the fallback. The format is documented in the README ("Tastings") and
shown, with comments, by ``config/tastings/oat-drinks.toml``.

Session times are the community's wall clock unless they carry an offset; :func:`parse` takes the
time zone and "now" so that a session in the past is refused here as well as when a tasting starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from localbot.i18n import SUPPORTED
from localbot.tastings.model import (
    KEY,
    MAX_PRODUCTS,
    MIN_PRODUCTS,
    CataTerm,
    Definition,
    Final,
    JarAttribute,
    Mode,
    Product,
    Session,
    local_to_utc,
)
from localbot.tomlfile import MISSING, Checker, Localized, Problem
from localbot.tomlfile import Path as KeyPath

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_SESSIONS = 50
MAX_PLACES = 1000
MAX_JAR = 10
MAX_CATA = 30
MAX_PRODUCT_NAME = 80
LONGEST_SESSION = timedelta(hours=24)
_LOCAL = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


class TastingFileError(ValueError):
    """A tasting file that cannot be used; ``problems`` lists everything wrong (and the warnings)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems if not p.warning))


def _moment(value: Any, day: date | None = None) -> datetime | None:
    """A TOML date-time (local or with an offset), ``"2026-12-05 10:00"``, an ISO text, or with
    ``day`` a time of day (``12:00``) on that day. None when it is none of these."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, time) and day is not None:
        return datetime.combine(day, value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    clock = _CLOCK.match(text)
    if clock and day is not None:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        return datetime.combine(day, time(hour, minute)) if hour < 24 and minute < 60 else None
    local = _LOCAL.match(text)
    if local:
        text = f"{local.group(1)}T{int(local.group(2)):02d}:{local.group(3)}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class _Checker(Checker):
    noun = "tasting"

    def __init__(self, source: str, filename: str, *, tz: tzinfo, now: datetime | None) -> None:
        super().__init__(source, filename)
        self.tz = tz
        self.now = now

    def check(self, name_hint: str | None) -> Definition | None:
        data = self.parse()
        if data is None:
            return None
        self.known(data, (), {"tasting", "products", "sessions", "questions"}, "a tasting file")
        head = self.get(data, (), "tasting", dict, required=True, default={})
        path: KeyPath = ("tasting",)
        self.known(head, path, {"name", "languages", "title", "intro", "thanks", "mode"}, "[tasting]")
        self.language_list(head, path, SUPPORTED)
        name = self.get(head, path, "name", str, default=name_hint)
        if name is None or not NAME.match(name):
            shown = name if name is not None else "(none)"
            self.error((*path, "name"), f"“{shown}” is not a usable name: use 1-40 lower-case letters, digits, - or _ (it is how organisers start the tasting)")
        title = self.text(head, path, "title", required=True)
        intro = self.text(head, path, "intro")
        thanks = self.text(head, path, "thanks")
        mode_text = self.get(head, path, "mode", str, default=Mode.ON_SITE.value)
        try:
            mode = Mode(mode_text)
        except ValueError:
            self.error((*path, "mode"), f"must be “on_site” or “home_use”, not “{mode_text}”")
            mode = Mode.ON_SITE
        products = self.products(data)
        sessions = self.sessions(data, mode)
        jar, cata, comment, final = self.questions(data)
        if self.failed or title is None:
            return None
        return Definition(
            name=str(name),
            languages=self.languages,
            title=title,
            products=tuple(products),
            sessions=tuple(sessions),
            mode=mode,
            intro=intro,
            thanks=thanks,
            jar=tuple(jar),
            cata=tuple(cata),
            comment=comment,
            final=final,
        )

    # --- products ---

    def key(self, table: Mapping[str, Any], path: KeyPath, seen: dict[str, int], what: str) -> str | None:
        key: str | None = self.get(table, path, "id", str, required=True)
        if key is None:
            return None
        if not KEY.match(key):
            self.error((*path, "id"), f"“{key}” is not a usable id: start with a letter; use lower-case letters, digits and _ (at most 32)")
            return None
        if key in seen:
            self.error((*path, "id"), f"“{key}” is already the id of {what} {seen[key] + 1}")
            return None
        return key

    def tables(self, data: Mapping[str, Any], path: KeyPath, key: str, *, required: bool, header: str) -> list[tuple[KeyPath, dict[str, Any]]]:
        raw = self.get(data, path, key, list, required=required, default=[])
        out = []
        for index, table in enumerate(raw):
            where: KeyPath = (*path, key, index)
            if isinstance(table, dict):
                out.append((where, table))
            else:
                self.error(where, f"must be a table: write each one as {header}")
        return out

    def products(self, data: Mapping[str, Any]) -> list[Product]:
        tables = self.tables(data, (), "products", required=True, header="[[products]]")
        if "products" in data and isinstance(data["products"], list) and not MIN_PRODUCTS <= len(data["products"]) <= MAX_PRODUCTS:
            count = len(data["products"])
            self.error(("products",), f"has {count} product{'s' if count != 1 else ''}; a tasting compares {MIN_PRODUCTS} to {MAX_PRODUCTS}")
        out: list[Product] = []
        seen: dict[str, int] = {}
        names: dict[str, int] = {}
        for index, (path, table) in enumerate(tables):
            self.known(table, path, {"id", "name"}, "a product")
            key = self.key(table, path, seen, "product")
            name = self.get(table, path, "name", str, required=True)
            if name is not None:
                name = " ".join(name.split())
                folded = name.casefold()
                if not name:
                    self.error((*path, "name"), "is empty")
                    name = None
                elif len(name) > MAX_PRODUCT_NAME:
                    self.error((*path, "name"), f"is {len(name)} characters long; keep it under {MAX_PRODUCT_NAME}")
                    name = None
                elif folded in names:
                    self.error((*path, "name"), f"“{name}” is already the name of product {names[folded] + 1}")
                    name = None
                else:
                    names[folded] = index
            if key is not None and name is not None:
                seen[key] = index
                out.append(Product(key, name))
        return out

    # --- sessions ---

    def sessions(self, data: Mapping[str, Any], mode: Mode) -> list[Session]:
        tables = self.tables(data, (), "sessions", required=True, header="[[sessions]]")
        if "sessions" in data and isinstance(data["sessions"], list) and not 1 <= len(data["sessions"]) <= MAX_SESSIONS:
            self.error(("sessions",), f"has {len(data['sessions'])} sessions; use 1 to {MAX_SESSIONS}")
        out: list[Session] = []
        for path, table in tables:
            self.known(table, path, {"start", "end", "point", "places", "taste_at"}, "a session")
            start = self.moment(table, path, "start")
            end = self.moment(table, path, "end", day=start.date() if start else None)
            point = table.get("point", MISSING)
            if point is MISSING:
                self.error((*path, "point"), "is required: the pickup point's name or number")
                point = None
            elif isinstance(point, bool) or not isinstance(point, (str, int)) or not str(point).strip():
                self.error((*path, "point"), f"must be a pickup point's name or number, not {point!r}")
                point = None
            places = self.integer(table, path, "places", 1, MAX_PLACES, required=True)
            taste_at = None
            if mode is Mode.HOME_USE:
                taste_at = self.moment(table, path, "taste_at")
            elif "taste_at" in table:
                self.error((*path, "taste_at"), "only applies to a home-use tasting (mode = \"home_use\")")
            if start is None or end is None:
                continue
            start_utc, end_utc = local_to_utc(start, self.tz), local_to_utc(end, self.tz)
            if end_utc <= start_utc:
                self.error((*path, "end"), "must be after the start")
                continue
            if end_utc - start_utc > LONGEST_SESSION:
                self.error((*path, "end"), "a session lasts at most 24 hours")
                continue
            if self.now is not None and start_utc <= self.now:
                self.error((*path, "start"), f"{start:%Y-%m-%d %H:%M} is in the past: a session must start later than now")
                continue
            if taste_at is not None and local_to_utc(taste_at, self.tz) < end_utc:
                self.error((*path, "taste_at"), "must not be before the end of the session, when the kits have been picked up")
                continue
            if point is None or places is None or (mode is Mode.HOME_USE and taste_at is None):
                continue
            out.append(Session(start, end, str(point).strip(), places, taste_at))
        return out

    def moment(self, table: Mapping[str, Any], path: KeyPath, key: str, day: date | None = None) -> datetime | None:
        value = table.get(key, MISSING)
        if value is MISSING:
            self.error((*path, key), "is required, for example 2026-12-05 10:00" + (" or 12:00" if day else ""))
            return None
        moment = _moment(value, day)
        if moment is None:
            self.error((*path, key), f"{value!r} is not a date and time such as 2026-12-05 10:00" + (" (or a time such as 12:00)" if day else ""))
        return moment

    # --- questions ---

    def questions(self, data: Mapping[str, Any]) -> tuple[list[JarAttribute], list[CataTerm], bool, Final]:
        path: KeyPath = ("questions",)
        table = self.get(data, (), "questions", dict, default={})
        self.known(table, path, {"jar", "cata", "comment", "final"}, "[questions]")
        comment = bool(self.get(table, path, "comment", bool, default=True))
        final_text = self.get(table, path, "final", str, default=Final.PREFERENCE.value)
        try:
            final = Final(final_text)
        except ValueError:
            self.error((*path, "final"), f"must be “preference”, “ranking” or “none”, not “{final_text}”")
            final = Final.NONE
        jar: list[JarAttribute] = []
        seen: dict[str, int] = {}
        raw_jar = self.tables(table, path, "jar", required=False, header="[[questions.jar]]")
        if len(raw_jar) > MAX_JAR:
            self.error((*path, "jar"), f"has {len(raw_jar)} attributes; at most {MAX_JAR} keep a questionnaire short enough")
        for index, (where, item) in enumerate(raw_jar):
            self.known(item, where, {"id", "name", "labels"}, "a just-about-right attribute")
            key = self.key(item, where, seen, "attribute")
            name = self.text(item, where, "name", required=True)
            labels: list[Localized] = []
            raw_labels = self.get(item, where, "labels", list, default=[])
            if "labels" in item and isinstance(item["labels"], list):
                if len(raw_labels) != 5:
                    self.error((*where, "labels"), f"needs exactly 5 labels, from “not enough at all” to “far too much”; it has {len(raw_labels)}")
                else:
                    by_position = dict(enumerate(raw_labels))
                    labels = [text for i in range(5) if (text := self.text(by_position, (*where, "labels"), i, required=True))]
            if key is not None and name is not None and len(labels) in (0, 5):
                seen[key] = index
                jar.append(JarAttribute(key, name, tuple(labels)))
        cata: list[CataTerm] = []
        seen = {}
        raw_cata = self.tables(table, path, "cata", required=False, header="[[questions.cata]]")
        if len(raw_cata) > MAX_CATA:
            self.error((*path, "cata"), f"has {len(raw_cata)} terms; use at most {MAX_CATA}")
        for index, (where, item) in enumerate(raw_cata):
            self.known(item, where, {"id", "label"}, "a check-all-that-apply term")
            key = self.key(item, where, seen, "term")
            label = self.text(item, where, "label", required=True)
            if key is not None and label is not None:
                seen[key] = index
                cata.append(CataTerm(key, label))
        return jar, cata, comment, final


def parse(
    source: str, *, filename: str = "<tasting>", name: str | None = None, tz: tzinfo = UTC, now: datetime | None = None
) -> tuple[Definition, list[Problem]]:
    """The tasting in ``source`` and its warnings; raises :class:`TastingFileError` listing every
    error. Times without an offset are read in ``tz``; with ``now``, sessions must start after it."""
    checker = _Checker(source, filename, tz=tz, now=now)
    definition = checker.check(name)
    problems = checker.sorted_problems()
    if definition is None:
        raise TastingFileError(problems)
    return definition, problems


def load(path: Path, *, tz: tzinfo = UTC, now: datetime | None = None) -> tuple[Definition, str, list[Problem]]:
    """Read and check a tasting file (its name defaults to the file name without ``.toml``);
    returns the definition, the source text (kept with the tasting) and the warnings."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TastingFileError([Problem(str(path), 1, "(file)", f"cannot be read: {exc}")]) from None
    definition, warnings = parse(source, filename=str(path), name=path.stem, tz=tz, now=now)
    return definition, source, warnings
