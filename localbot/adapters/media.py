"""Pictures and files at short-lived signed URLs, for messengers that fetch media by URL.

Twilio sends a WhatsApp picture by downloading it from a URL we give it, so charts, QR codes and
exports must be reachable from the internet for a while, and by nobody who was not given the link.
A file is kept under ``<media dir>/outbound`` by the hash of its bytes (sending the same chart twice
stores it once) and served by the web process at ``/media/<key>/<filename>?e=<expiry>&s=<signature>``:
an HMAC of key, filename and expiry under a key derived from the instance secret. A wrong or
expired signature gets 403. A file is deleted once no link to it works any more (as new ones
arrive, and by the recurring ``outbox.tidy`` job), and earlier when the message it was published for
is finished, or forgotten (:mod:`localbot.delivered`).
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from localbot import delivered

DEFAULT_TTL = delivered.LINK_TTL
_KEY = re.compile(r"[0-9a-f]{32}")
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def safe_filename(filename: str) -> str:
    """A filename that is safe in a URL path and on disk; the extension is kept for the messenger."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name).lstrip("._-")[:100]
    return cleaned or "file"


class SignedMedia:
    def __init__(
        self,
        folder: Path,
        secret: bytes,
        base_url: str,
        now: Callable[[], datetime],
        *,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self.folder = folder
        # A key of its own: the instance secret also keys anonymous votes.
        self._key = hmac.new(secret, b"localbot signed media", hashlib.sha256).digest()
        self.base_url = base_url.rstrip("/")
        self._now = now
        self.ttl = ttl
        self._pruned_at = 0.0

    def publish(self, data: bytes, filename: str) -> str:
        """Store ``data`` and return a URL that serves it until the time to live runs out."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._prune()
        key = delivered.media_key(data)
        path = self.folder / key
        if path.exists():
            path.touch()  # a fresh link: keep the file past the next pruning
        else:
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(path)
        name = safe_filename(filename)
        expires = int((self._now() + self.ttl).timestamp())
        return f"{self.base_url}/media/{key}/{name}?e={expires}&s={self._sign(key, name, expires)}"

    def routes(self) -> list[BaseRoute]:
        return [Route("/media/{key}/{filename}", self._serve, methods=["GET", "HEAD"])]

    def _sign(self, key: str, name: str, expires: int) -> str:
        return hmac.new(self._key, f"{key}/{name}/{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    async def _serve(self, request: Request) -> Response:
        key, name = request.path_params["key"], request.path_params["filename"]
        expires, signature = request.query_params.get("e", ""), request.query_params.get("s", "")
        if not (_KEY.fullmatch(key) and _FILENAME.fullmatch(name) and expires.isascii() and expires.isdigit() and len(expires) <= 12):
            return PlainTextResponse("not found", status_code=404)
        if not hmac.compare_digest(signature, self._sign(key, name, int(expires))):
            return PlainTextResponse("forbidden", status_code=403)
        if int(expires) < self._now().timestamp():
            return PlainTextResponse("link expired", status_code=403)
        path = self.folder / key
        if not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=media_type, filename=name, content_disposition_type="inline")

    def _prune(self) -> None:
        """Remove files whose links have all expired, at most once every ten minutes."""
        now = time.time()
        if now - self._pruned_at < 600:
            return
        self._pruned_at = now
        delivered.prune(self.folder, older_than=self.ttl, now=now)
