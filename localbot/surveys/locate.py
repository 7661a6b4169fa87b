"""Where each key of a TOML document stands: line numbers for error messages.

``tomllib`` parses a study file into plain dicts and lists and forgets where things were, yet an
organiser fixing a file wants "line 42: questions[3].show_if.question". This module scans the
source text once more, only for its structure: table headers (``[a.b]``, ``[[a]]`` with their
running index), keys (bare, quoted and dotted), inline tables and arrays, while stepping over
strings of all four kinds and comments, so a ``#`` or ``=`` inside a string misleads nothing.
It runs only on text ``tomllib`` has already accepted, so it can stay small and forgiving; it
maps each key path (``("questions", 3, "show_if", "question")``) to the line it starts on.
"""

from __future__ import annotations

from collections.abc import Sequence

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
