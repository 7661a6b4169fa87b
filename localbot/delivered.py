"""What the outbox keeps of a message once it has gone out: its bookkeeping, not what it said.

A queued message may say what a member did or where they were: "Your vote: No" after an anonymous
vote, the map with a "You are here" dot and the distances to the nearest pickup points, a member's
own ``/mydata`` file. So the rule is simple and has no exceptions to remember: once a message is
finished, its payload is cleared (set to ``''``) and any file published for it at a signed link
(WhatsApp fetches media by URL, see :mod:`localbot.adapters.media`) is deleted. What stays is the
row's bookkeeping: chat, purpose, state, times, ``dedupe_key``, ``platform_id`` and the delivery
status, which is all that de-duplication, status callbacks and the weekly figures need.

*Finished* means:

- sent, on a messenger without delivery reports (Telegram, the console): at once;
- sent on WhatsApp: when Twilio reports it delivered or read, or failed for good. Until then the
  text may be needed once more, because a 63016 ("outside the 24-hour window") in a later status
  callback sends it again as a template; at the latest after :data:`HOLD`, Twilio's longest
  queueing time, after which Twilio no longer sends it and no such report can come;
- failed or skipped: at once.

A recurring job (``outbox.tidy``, :mod:`localbot.handlers.privacy`) clears whatever is left and
deletes published files whose links have expired; ``/forgetme`` and ``localbot db purge`` do the same
for the rows they remove. Everything here runs inside the caller's transaction.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from localbot.clock import iso
from localbot.storage.db import one, rows

#: How long a signed media link works (WhatsApp: Twilio fetches the file when it sends the message).
LINK_TTL = timedelta(hours=1)
#: How long a sent WhatsApp message keeps its text without a final delivery report: Twilio queues a
#: message for at most 10 hours (the largest ``ValidityPeriod``), so no 63016 can come later.
HOLD = timedelta(hours=10)
#: Delivery reports after which a message is never sent again.
FINAL_REPORTS = ("delivered", "read", "failed", "undelivered", "canceled")
REMOVED = ""


def media_key(data: bytes) -> str:
    """The name of a published file: the start of its SHA-256 (the same bytes are stored once)."""
    return hashlib.sha256(data).hexdigest()[:32]


def outbound_folder(media_path: Path) -> Path:
    """Where files published at signed links live, under the media directory."""
    return media_path / "outbound"


def _files(payload: str) -> list[str]:
    """The base64 of every file a payload carries (pictures and documents)."""
    if '"b64"' not in payload:
        return []
    try:
        data = json.loads(payload)
    except ValueError:
        return []
    return [value["b64"] for value in data.values() if isinstance(value, dict) and isinstance(value.get("b64"), str)]


def clear(db: sqlite_utils.Database, folder: Path | None, where: str, params: Iterable[Any] = ()) -> int:
    """Clear the payload of the outbox rows matching ``where`` and delete the files published for
    them, unless a row that still keeps its payload carries the same file. Returns how many."""
    found = rows(db, f"SELECT id, payload FROM outbox WHERE payload != '' AND ({where})", list(params))
    if not found:
        return 0
    files = {b64 for row in found for b64 in _files(row["payload"])}
    ids = [row["id"] for row in found]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.execute(f"UPDATE outbox SET payload = ? WHERE id IN ({','.join('?' for _ in chunk)})", [REMOVED, *chunk])
    if folder is not None and folder.is_dir():
        for b64 in files:
            if one(db, "SELECT 1 FROM outbox WHERE payload != '' AND instr(payload, ?) LIMIT 1", [b64]):
                continue  # the same picture waits for someone else
            _unlink(folder / media_key(base64.b64decode(b64)))
    return len(found)


def clear_finished(db: sqlite_utils.Database, folder: Path | None, now: datetime) -> int:
    """Clear every finished message (see the module's doc) that still keeps its payload."""
    # ``+state``: the rows that keep a payload are few (index outbox_kept); read by state, SQLite
    # would walk every message ever sent.
    return clear(
        db,
        folder,
        f"""+state IN ('failed', 'skipped')
            OR (+state = 'sent' AND (delivery_status IN ({','.join('?' for _ in FINAL_REPORTS)}) OR sent_at < ?))""",
        [*FINAL_REPORTS, iso(now - HOLD)],
    )


def prune(folder: Path, *, older_than: timedelta = LINK_TTL, now: float | None = None) -> int:
    """Delete published files no valid link can point at any more (each publication refreshes the
    file's time, and links live :data:`LINK_TTL`). Returns how many."""
    if not folder.is_dir():
        return 0
    limit = (time.time() if now is None else now) - older_than.total_seconds()
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except OSError:
            pass  # another process got there first
    return removed


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
