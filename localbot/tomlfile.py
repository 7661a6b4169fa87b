"""Files people write in TOML (study files, tasting files): line numbers, problems, typed checks.

A file written by a person (an organiser, an FMCG tester) is validated in one pass that reports
every problem as ``file:line: field: message`` and never a traceback. ``tomllib`` parses a file
into plain dicts and lists and forgets where things were, yet someone fixing a file wants
"line 42: questions[3].show_if.question". :func:`key_lines` scans the source text once more, only
for its structure: table headers (``[a.b]``, ``[[a]]`` with their running index), keys (bare,
quoted and dotted), inline tables and arrays, while stepping over strings of all four kinds and
comments, so a ``#`` or ``=`` inside a string misleads nothing. It runs only on text ``tomllib``
has already accepted, so it can stay small and forgiving; it maps each key path
(``("questions", 3, "show_if", "question")``) to the line it starts on.

:class:`Checker` holds what every such validator needs: reporting errors and warnings at a key
path, reading a value of the right type, a whole number in a range, and a text given either as
one string or as a table of texts by language (:class:`Localized`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Where a value sits in a document: keys and array positions (from 0), e.g. ``("questions", 2, "id")``.
Path = tuple[str | int, ...]

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        #: Arrays of tables seen so far, by their resolved path: how many elements each has.
        self.arrays: dict[Path, int] = {}

    # --- characters ---

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def startswith(self, token: str) -> bool:
        return self.text.startswith(token, self.pos)

    def advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self.pos < len(self.text):
                if self.text[self.pos] == "\n":
                    self.line += 1
                self.pos += 1

    def skip_blank(self, *, newlines: bool) -> None:
        """Spaces, tabs, comments, and with ``newlines`` also line breaks."""
        while self.pos < len(self.text):
            char = self.peek()
            if char in " \t\r" or (newlines and char == "\n"):
                self.advance()
            elif char == "#":
                while self.pos < len(self.text) and self.peek() != "\n":
                    self.advance()
            else:
                return

    def skip_line(self) -> None:
        while self.pos < len(self.text) and self.peek() != "\n":
            self.advance()

    # --- keys ---

    def read_string(self) -> str:
        """A basic or literal string, single- or multi-line; returns its raw content."""
        for quote in ('"""', "'''"):
            if self.startswith(quote):
                self.advance(3)
                start = self.pos
                while self.pos < len(self.text) and not self.startswith(quote):
                    self.advance(2 if quote == '"""' and self.peek() == "\\" else 1)
                content = self.text[start:self.pos]
                self.advance(3)
                while self.peek() == quote[0]:  # up to two quotes may end the content
                    self.advance()
                return content
        quote = self.peek()
        self.advance()
        start = self.pos
        while self.pos < len(self.text) and self.peek() not in (quote, "\n"):
            self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
        content = self.text[start:self.pos]
        self.advance()
        return content

    def read_key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            if self.peek() in ('"', "'"):
                parts.append(self.read_string())
            else:
                start = self.pos
                while self.peek() in _BARE and self.peek():
                    self.advance()
                parts.append(self.text[start:self.pos])
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return parts
            self.advance()

    def note(self, path: Path, line: int) -> None:
        self.lines.setdefault(path, line)

    def note_key(self, base: Path, parts: Sequence[str], line: int) -> Path:
        path = base
        for part in parts:
            path = (*path, part)
            self.note(path, line)
        return path

    # --- values ---

    def skip_value(self, path: Path) -> None:
        char = self.peek()
        if char in ('"', "'"):
            self.read_string()
        elif char == "{":
            self.inline_table(path)
        elif char == "[":
            self.array(path)
        else:
            while self.pos < len(self.text) and self.peek() not in ",]}\n#":
                self.advance()

    def inline_table(self, path: Path) -> None:
        self.advance()  # {
        while self.pos < len(self.text):
            self.skip_blank(newlines=True)
            if self.peek() == "}":
                self.advance()
                return
            if self.peek() == ",":
                self.advance()
                continue
            line = self.line
            key = self.note_key(path, self.read_key(), line)
            self.skip_blank(newlines=False)
            self.advance()  # =
            self.skip_blank(newlines=False)
            self.skip_value(key)

    def array(self, path: Path) -> None:
        self.advance()  # [
        index = 0
        while self.pos < len(self.text):
            self.skip_blank(newlines=True)
            if self.peek() == "]":
                self.advance()
                return
            if self.peek() == ",":
                self.advance()
                index += 1
                continue
            self.note((*path, index), self.line)
            self.skip_value((*path, index))

    # --- tables ---

    def resolve(self, parts: Sequence[str]) -> Path:
        """A header's path, with the current element of every array of tables along the way."""
        path: Path = ()
        for part in parts:
            path = (*path, part)
            if path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        return path

    def header(self) -> Path:
        line = self.line
        double = self.startswith("[[")
        self.advance(2 if double else 1)
        parts = self.read_key()
        self.advance(2 if double else 1)
        if double:
            base = self.resolve(parts[:-1]) + (parts[-1],)
            index = self.arrays.get(base, 0)
            self.arrays[base] = index + 1
            table: Path = (*base, index)
            self.note(base, line)
        else:
            table = self.resolve(parts)
        for end in range(1, len(table) + 1):
            self.note(table[:end], line)
        return table

    def scan(self) -> dict[Path, int]:
        table: Path = ()
        while self.pos < len(self.text):
            self.skip_blank(newlines=True)
            if self.pos >= len(self.text):
                break
            if self.peek() == "[":
                table = self.header()
                self.skip_line()
                continue
            line = self.line
            key = self.note_key(table, self.read_key(), line)
            self.skip_blank(newlines=False)
            if self.peek() != "=":  # not TOML we understand: move on rather than guess
                self.skip_line()
                continue
            self.advance()
            self.skip_blank(newlines=False)
            self.skip_value(key)
            self.skip_line()
        return self.lines


def key_lines(text: str) -> dict[Path, int]:
    """Every key path of a (valid) TOML document and the line, counted from 1, it starts on."""
    return _Scanner(text).scan()


def line_of(lines: dict[Path, int], path: Path) -> int:
    """The line of ``path``, or of its nearest enclosing key (a missing key points at its table)."""
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return 1


# --- texts in several languages ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Localized:
    """One text in several languages, in the order the file declares its languages.

    A member sees their own language; failing that the file's first language, which is the one
    its author wrote in. A text given as a plain string is the same in every language.
    """

    values: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, values: Mapping[str, str] | str, order: Iterable[str] = ()) -> Localized:
        if isinstance(values, str):
            return cls((("", values),))
        order = list(order)
        ranked = [code for code in order if code in values] + [code for code in values if code not in order]
        return cls(tuple((code, values[code]) for code in ranked))

    def pick(self, language: str) -> str:
        for code, text in self.values:
            if code == language:
                return text
        return self.values[0][1] if self.values else ""

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.values if code)


# --- problems ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.warning else ""
        return f"{self.file}:{self.line}: {prefix}{self.field}: {self.message}"


def field_name(path: Path) -> str:
    """``("questions", 2, "show_if")`` → ``questions[3].show_if`` (array positions count from 1)."""
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(file)"


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", list: "a list", dict: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


MISSING: Any = object()


class Checker:
    """The common half of a validator: subclasses read their own tables with these helpers and
    collect every problem in :attr:`problems` instead of stopping at the first."""

    #: What the file is called in messages ("study", "tasting").
    noun = "file"

    def __init__(self, source: str, filename: str) -> None:
        self.filename = filename
        self.source = source
        self.lines: dict[Path, int] = {}
        self.problems: list[Problem] = []
        #: The languages texts may be given in; the first is the fallback.
        self.languages: tuple[str, ...] = ("en",)

    def parse(self) -> dict[str, Any] | None:
        """The document, with line numbers ready; None (and a problem) when it is not valid TOML."""
        try:
            data = tomllib.loads(self.source)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            line = int(found.group(1)) if found else 1
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
            self.problems.append(Problem(self.filename, line, "(file)", f"not valid TOML: {message}"))
            return None
        self.lines = key_lines(self.source)
        return data

    # --- reporting ---

    def error(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.filename, line_of(self.lines, path), field_name(path), message))

    def warn(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.filename, line_of(self.lines, path), field_name(path), message, warning=True))

    @property
    def failed(self) -> bool:
        return any(not p.warning for p in self.problems)

    def sorted_problems(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.line, p.warning))

    # --- typed access ---

    def known(self, table: Mapping[str, Any], path: Path, allowed: set[str], what: str) -> None:
        for key in table:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                self.error((*path, key), f"unknown field “{key}” for {what} (known: {hint})")

    def get(
        self,
        table: Mapping[str, Any],
        path: Path,
        key: str,
        kind: type | tuple[type, ...],
        *,
        required: bool = False,
        default: Any = None,
    ) -> Any:
        value = table.get(key, MISSING)
        if value is MISSING:
            if required:
                self.error((*path, key), "is required")
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        bad_bool = isinstance(value, bool) and bool not in kinds
        if bad_bool or not isinstance(value, kinds):
            self.error((*path, key), f"must be {_type_name(kind)}, not {value!r}")
            return default
        return value

    def integer(
        self, table: Mapping[str, Any], path: Path, key: str, low: int, high: int, default: int | None = None, *, required: bool = False
    ) -> int | None:
        value = self.get(table, path, key, int, required=required, default=default)
        if key in table and value is not None and not low <= value <= high:
            self.error((*path, key), f"must be between {low} and {high}, not {value}")
            return default
        return value  # type: ignore[no-any-return]

    def text(self, table: Mapping[Any, Any], path: Path, key: str | int, *, required: bool = False) -> Localized | None:
        """A text: one string, or a table of texts by language such as ``{ en = "…", pl = "…" }``;
        ``key`` is an array position when ``table`` is a list's items by position."""
        value = table.get(key, MISSING)
        where = (*path, key)
        if value is MISSING:
            if required:
                self.error(where, "is required: a text, or a table of texts by language such as { en = \"…\", pl = \"…\" }")
            return None
        if isinstance(value, str):
            if not value.strip():
                self.error(where, "is empty")
                return None
            return Localized.of(value.strip())
        if not isinstance(value, dict):
            self.error(where, f"must be a text or a table of texts by language, not {value!r}")
            return None
        texts: dict[str, str] = {}
        for code, text in value.items():
            if code not in self.languages:
                self.error((*where, code), f"“{code}” is not one of the {self.noun}'s languages ({', '.join(self.languages)})")
            elif not isinstance(text, str) or not text.strip():
                self.error((*where, code), "must be a non-empty text")
            else:
                texts[code] = text.strip()
        if texts and self.languages[0] not in texts:
            self.error(where, f"needs a text in {self.languages[0]}, the {self.noun}'s first language")
        for code in self.languages[1:]:
            if texts and code not in texts and code not in value:
                self.warn(where, f"no {code} text: members who speak {code} will see the {self.languages[0]} text")
        return Localized.of(texts, self.languages) if texts else None

    def language_list(self, table: Mapping[str, Any], path: Path, supported: Sequence[str]) -> None:
        """Read ``languages = ["en", "pl"]`` into :attr:`languages` (the first is the fallback)."""
        languages = self.get(table, path, "languages", list, required=True, default=["en"])
        checked: list[str] = []
        for index, code in enumerate(languages):
            if code not in supported:
                self.error((*path, "languages", index), f"“{code}” is not a language I speak (use {', '.join(supported)})")
            elif code in checked:
                self.error((*path, "languages", index), f"“{code}” is listed twice")
            else:
                checked.append(code)
        self.languages = tuple(checked) or ("en",)
