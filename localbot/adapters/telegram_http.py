"""python-telegram-bot's calls to the Bot API over aiohttp instead of httpx.

python-telegram-bot lets an application bring its own HTTP layer (``telegram.request.BaseRequest``)
and ships one built on httpx. Measured in ``bench/run.py``, that layer cost about three
milliseconds of CPU for every ``answerCallbackQuery``: httpcore checks every pooled connection
on each request, asking the socket for its peer address every time, and looks for ``sniffio``
with a failing import on every call when it is not installed. Behind a burst of votes that was
most of the bot's time, and it capped a webhook at about 250 updates a second on two cores.
aiohttp (already installed for Twilio) does the same job for a fraction of that. Nothing else
changes: python-telegram-bot still builds every request and reads every answer, and time-outs and
network failures surface as its own ``TimedOut`` and ``NetworkError``.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

#: python-telegram-bot's own defaults, in seconds.
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a pool of ``connections``, made inside the running event loop."""

    def __init__(self, *, connections: int = 256, read_timeout: float | None = READ_TIMEOUT) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=self._connections)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT)
        connect = _given(connect_timeout, CONNECT_TIMEOUT)
        pool = _given(pool_timeout, POOL_TIMEOUT)
        # aiohttp knows no separate write time-out: the whole request is bounded by the sum.
        parts = (read, write, connect, pool)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=None if pool is None or connect is None else pool + connect, sock_connect=connect, sock_read=read
        )
        body: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime_type) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime_type)
            body = form
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _given(value: float | None | object, default: float | None) -> float | None:
    """A time-out passed for one call, or the default (python-telegram-bot marks "not given" with a
    ``DefaultValue``, the type of ``BaseRequest.DEFAULT_NONE``)."""
    if isinstance(value, type(BaseRequest.DEFAULT_NONE)):
        return default
    return value if value is None else float(value)  # type: ignore[arg-type]
