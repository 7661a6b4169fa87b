"""Hostile input for the property tests: strategies, and the checks every step must pass.

The strategies mix what people and attackers actually send (very long text, control characters,
right-to-left and zero-width marks, emoji sequences, SQL and spreadsheet-formula fragments, format
placeholders, markup, numbers in other scripts) with arbitrary Unicode. The checks: a reply in a
member's private chat, and any answer to a button press, is in that member's language; the
database passes SQLite's own checks and the domain's invariants.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import sqlite_utils
from hypothesis import strategies as st

from localbot.handlers.router import Router
from localbot.i18n import SOURCE_LANGUAGE, load_catalog
from localbot.replies import Choices, Edit, Reply, from_json, text_of, to_json

FRAGMENTS = [
    "'; DROP TABLE polls; --",
    "1 OR 1=1",
    '" OR ""="',
    "%' AND 1=0 UNION SELECT sql FROM sqlite_master --",
    "\\",
    "%_%",
    '=HYPERLINK("http://evil.example","click")',
    "=1+1",
    "+1-1",
    "-2",
    "@SUM(A1:A9)",
    "\t=cmd|' /C calc'!A0",
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u2066\u2069",  # isolates
    "\u200b\u200d\ufeff",  # zero-width
    "\u0000",
    "\x07\x1b[31m",
    "\r\n",
    "\n\n\n",
    "📊🏳️‍🌈👨‍👩‍👧‍👦🇵🇱",
    "e\u0301\u0301\u0301",
    "{name}",
    "{0}{1}",
    "%s%d%n",
    "<b>bold</b><script>",
    "</Response><Message>x</Message>",
    "]]>",
    "|||",
    " | ",
    "--until",
    "--multi --anon",
    "0",
    "-1",
    "999999999999999999999",
    "1e309",
    "NaN",
    "٣",  # Arabic-Indic three
    "７",  # full-width seven
    "²",
    "JOIN",
    "LEAVE",
    "/",
    "@localbot_test_bot",
    "زمان",
    "שלום",
    "ありがとう",
]


def hostile_text(max_size: int = 60, *, long: bool = True) -> st.SearchStrategy[str]:
    """Hostile text; with ``long``, sometimes thousands of characters."""
    fragment = st.sampled_from(FRAGMENTS)
    mixed = st.lists(st.one_of(fragment, st.text(max_size=12)), min_size=1, max_size=6).map("".join)
    choices = [fragment, st.text(max_size=max_size), mixed]
    if long:
        choices.append(st.builds(lambda s, n: s * n, st.sampled_from(["A", "ä", "📊", "\u202e", "|"]), st.integers(1000, 6000)))
    return st.one_of(*choices)


def hostile_payload() -> st.SearchStrategy[str]:
    """Button payloads a forged or stale button might carry."""
    prefixes = st.sampled_from(["v", "c", "sv", "svs", "pt", "rp", "cm", "lang", "x", ""])
    parts = st.one_of(st.integers(-5, 10**12).map(str), st.sampled_from(["", "abc", "1.5", "1e3", "٣", "done", "join"]), st.text(max_size=8))
    built = st.builds(lambda p, xs: ":".join([p, *xs]), prefixes, st.lists(parts, max_size=4))
    return st.one_of(built, hostile_text(30, long=False)).filter(lambda p: 1 <= len(p.encode()) <= 64)


# --- every reply in the member's language -------------------------------------------------------


@cache
def english_only(language: str) -> frozenset[str]:
    """Pieces of our English texts (the parts between placeholders, of some length) whose
    translation into ``language`` is different and which no translation contains: finding one in
    a reply to a member who reads ``language`` means that reply was not translated."""
    catalog = load_catalog(language)
    pieces: set[str] = set()
    translations: list[str] = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translations.extend(strings)
        if set(ids) == set(strings):
            continue
        for text in ids:
            for piece in re.split(r"\{[^}]*\}", text):
                piece = piece.strip(" .,:;!?()“”\"'\n")
                if len(piece) >= 14 and " " in piece:
                    pieces.add(piece)
    return frozenset(p for p in pieces if not any(p in t for t in translations))


def untranslated(text: str, language: str) -> str | None:
    """An English piece of our own texts in ``text`` meant for a reader of ``language``, if any."""
    if language == SOURCE_LANGUAGE:
        return None
    return next((piece for piece in english_only(language) if piece in text), None)


def reply_text(reply: Reply) -> str:
    text = text_of(reply)
    if isinstance(reply, (Choices, Edit)):
        text += "\n" + "\n".join(o.label for o in reply.options)
    return text




# --- a consistent database ------------------------------------------------------------------------


def problems(db: sqlite_utils.Database, router: Router) -> list[str]:
    """Everything wrong with the database: SQLite's checks and the domain's rules."""
    found: list[str] = []

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in db.conn.execute(sql).fetchall()]

    if rows("PRAGMA integrity_check") != [("ok",)]:
        found.append(f"integrity_check: {rows('PRAGMA integrity_check')}")
    if rows("PRAGMA foreign_key_check"):
        found.append(f"foreign_key_check: {rows('PRAGMA foreign_key_check')}")
    for poll, n, low, high in rows(
        "SELECT p.id, COUNT(o.id), MIN(o.position), MAX(o.position) FROM polls p LEFT JOIN poll_options o ON o.poll_id = p.id GROUP BY p.id"
    ):
        if not (2 <= n <= 12 and low == 1 and high == n):
            found.append(f"poll {poll} has {n} options at positions {low}..{high}")
    found += [f"poll {p} closed without a time" for (p,) in rows("SELECT id FROM polls WHERE status = 'closed' AND closed_at IS NULL")]
    found += [f"vote {v} for another poll's option" for (v,) in rows(
        "SELECT v.id FROM poll_votes v JOIN poll_options o ON o.id = v.option_id WHERE o.poll_id != v.poll_id"
    )]
    found += [f"single-choice poll {p}: {k} holds {n} votes" for p, k, n in rows(
        "SELECT v.poll_id, v.voter_key, COUNT(*) FROM poll_votes v JOIN polls p ON p.id = v.poll_id WHERE p.multi = 0 GROUP BY 1, 2 HAVING COUNT(*) > 1"
    )]
    found += [f"anonymous poll {p} names a voter" for (p,) in rows(
        "SELECT DISTINCT v.poll_id FROM poll_votes v JOIN polls p ON p.id = v.poll_id WHERE p.anonymous = 1 AND v.member_id IS NOT NULL"
    )]
    found += [f"member {m} has {n} current communities" for m, n in rows(
        "SELECT member_id, COUNT(*) FROM memberships WHERE is_current = 1 GROUP BY member_id HAVING COUNT(*) > 1"
    )]
    found += [f"conversation {c} in unknown flow {f!r}" for c, f in rows("SELECT id, flow FROM conversations") if f not in router.flows]
    found += [f"pending job {j} of unknown kind {k!r}" for j, k in rows("SELECT id, kind FROM jobs WHERE state = 'pending'") if k not in router.jobs]
    for job, payload in rows("SELECT id, payload FROM jobs"):
        try:
            json.loads(payload)
        except ValueError:
            found.append(f"job {job} payload is not JSON")
    for row_id, payload, state in rows("SELECT id, payload, state FROM outbox"):
        if payload == "" and state in ("sent", "failed", "skipped"):
            continue  # finished: what it said is no longer kept (localbot/delivered.py)
        try:
            reply = from_json(payload)  # also checks every button payload's length
            to_json(reply)
        except (ValueError, TypeError, KeyError) as exc:
            found.append(f"outbox {row_id} cannot be read back: {exc}")
    indexed = rows(
        "SELECT p.id FROM pickup_points p LEFT JOIN pickup_point_index i ON i.id = p.id "
        "WHERE i.id IS NULL OR i.latitude != p.latitude OR i.longitude != p.longitude OR i.community_id != p.community_id"
    )
    found += [f"pickup point {p} out of step with its index" for (p,) in indexed]
    if rows("SELECT COUNT(*) FROM pickup_point_index") != rows("SELECT COUNT(*) FROM pickup_points"):
        found.append("the pickup-point index holds points that no longer exist")
    found += [f"survey entry {e} of a closed run still planned" for (e,) in rows(
        "SELECT e.id FROM survey_entries e JOIN survey_participants p ON p.id = e.participant_id "
        "JOIN survey_runs r ON r.id = p.run_id WHERE r.status = 'closed' AND e.status = 'planned'"
    )]
    found += [f"survey answer {a} to an entry never sent" for (a,) in rows(
        "SELECT a.id FROM survey_answers a JOIN survey_entries e ON e.id = a.entry_id WHERE e.kind = 'prompt' AND e.status != 'sent'"
    )]
    for chat, options in rows("SELECT chat_ref, options FROM menus"):
        if any(not 1 <= len(p.encode()) <= 64 for p in options.split("\x1f")):
            found.append(f"menu of {chat} holds a payload no messenger can carry")
    return found


class LoopThread:
    """An event loop in a thread of its own, so that synchronous code (a hypothesis test) can
    drive a long-lived asynchronous rig: ``loop.run(coroutine)`` waits for the result."""

    def __init__(self) -> None:
        import asyncio
        import threading

        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Any, timeout: float = 60) -> Any:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
