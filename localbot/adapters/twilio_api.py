"""Talking to Twilio's REST API through the official ``twilio`` package, paced and redirectable.

``twilio`` builds every request (URLs, parameters, authentication) and parses every answer; we give
it an asynchronous HTTP client of our own (the package's ``AsyncHttpClient`` interface) for three
reasons: one aiohttp session created inside the running loop and closed on stop; an explicit time
limit on every call; and ``LOCALBOT_TWILIO__API_URL``, which sends calls meant for
``*.twilio.com`` to another base URL (the tests' fake API, a Twilio-compatible gateway).

Failures come back as two kinds, because they call for different care on retry:
:class:`ApiRefused` (Twilio answered with a 4xx error: nothing was sent) and :class:`OutcomeUnknown`
(a time-out, a dropped connection, a garbled answer or a 5xx: the message may have gone out, so a
retry must first look).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 15.0
MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024


def basic_auth(user: str, password: str) -> str:
    """An ``Authorization`` header value. (aiohttp drops it when a redirect leaves the host.)"""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class ApiRefused(Exception):
    """Twilio answered with an error status; ``code`` is Twilio's error code (63016, 21211…)."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"Twilio {status} (error {code}): {message}")
        self.status = status
        self.code = code


class OutcomeUnknown(Exception):
    """The request may or may not have been carried out (time-out, dropped connection, garbled answer)."""


class GatewayHttpClient(AsyncHttpClient):
    """The ``twilio`` package's async HTTP interface on one aiohttp session, optionally redirected."""

    def __init__(self, api_url: str | None, timeout: float = REQUEST_TIMEOUT_S) -> None:
        super().__init__(log, is_async=True, timeout=timeout)
        self.api_url = api_url.rstrip("/") if api_url else None
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """Created on first use, inside the running event loop (aiohttp requires one)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    def redirect(self, url: str) -> str:
        """``https://api.twilio.com/2010-04-01/…`` → ``<api_url>/2010-04-01/…`` when an API URL is set."""
        parts = urlsplit(url)
        if not self.api_url or not (parts.hostname or "").endswith("twilio.com"):
            return url
        return self.api_url + parts.path + (f"?{parts.query}" if parts.query else "")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        sent_headers = dict(headers or {})
        if auth:
            sent_headers["Authorization"] = basic_auth(*auth)
        async with self.session().request(
            method.upper(),
            self.redirect(url),
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=sent_headers,
            timeout=aiohttp.ClientTimeout(total=timeout or self.timeout),
            allow_redirects=allow_redirects,
        ) as response:
            return TwilioResponse(response.status, await response.text(), response.headers)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class Pacer:
    """Spaces the starts of sends at least ``1 / per_second`` apart.

    Twilio queues WhatsApp messages at about ten a second per sender and refuses long bursts, and the
    core delivers to several chats at once; one pacer per sender keeps the sum within the rate.
    """

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval


@dataclass(frozen=True, slots=True)
class Recent:
    """A message Twilio says we sent: enough to recognise one whose sending we lost track of."""

    sid: str
    body: str
    created_at: datetime | None


class TwilioApi:
    """The few calls the WhatsApp adapter makes: send a message, list recent ones, fetch media."""

    def __init__(
        self, account_sid: str, auth_token: str, sender: str, *, api_url: str | None, per_second: float, timeout: float = REQUEST_TIMEOUT_S
    ) -> None:
        self.http = GatewayHttpClient(api_url, timeout)
        self.client = Client(account_sid, auth_token, http_client=self.http)
        self.sender = sender
        self._auth = (account_sid, auth_token)
        self.pacer = Pacer(per_second)

    async def send(self, to: str, **fields: Any) -> str:
        """Create one message (``body``, ``media_url``, ``persistent_action``, ``content_sid``,
        ``content_variables``, ``status_callback``); returns its MessageSid."""
        await self.pacer.wait()
        try:
            message = await self.client.messages.create_async(to=to, from_=self.sender, **fields)
        except TwilioRestException as exc:
            if exc.status >= 500:
                raise OutcomeUnknown(f"Twilio {exc.status}: {exc.msg}") from exc
            raise ApiRefused(exc.status, exc.code, str(exc.msg)) from exc
        except (aiohttp.ClientError, TimeoutError, TwilioException, ValueError) as exc:
            raise OutcomeUnknown(f"{type(exc).__name__}: {exc}") from exc
        if not message.sid:
            raise OutcomeUnknown("Twilio answered without a MessageSid")
        return message.sid

    async def recent(self, to: str, since: datetime, limit: int = 20) -> list[Recent]:
        """Messages from our sender to ``to`` sent since ``since`` (Twilio filters by send date)."""
        try:
            found = await self.client.messages.list_async(to=to, from_=self.sender, date_sent_after=since, limit=limit)
        except (TwilioException, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OutcomeUnknown(f"could not list recent messages: {exc}") from exc
        return [Recent(m.sid or "", m.body or "", m.date_created if isinstance(m.date_created, datetime) else None) for m in found]

    async def download(self, url: str) -> bytes:
        """A member's photo. Twilio's media URLs may require the account's credentials; aiohttp
        drops them when the URL redirects to another host (Twilio hands out storage links)."""
        chunks: list[bytes] = []
        size = 0
        headers = {"Authorization": basic_auth(*self._auth)}
        async with self.http.session().get(url, headers=headers, allow_redirects=True) as response:
            response.raise_for_status()
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise ValueError(f"media larger than {MAX_DOWNLOAD_BYTES} bytes")
                chunks.append(chunk)
        return b"".join(chunks)

    async def close(self) -> None:
        await self.http.close()
