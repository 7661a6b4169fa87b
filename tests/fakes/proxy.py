"""A TCP proxy on 127.0.0.1 that breaks HTTP requests on purpose: the network trouble of a drill.

It sits between the bot and a fake messenger API and reads each HTTP/1.1 request and response
whole (``Content-Length`` bodies, which is what python-telegram-bot's httpx and Twilio's aiohttp
send and what uvicorn answers), so that a fault hits exactly one request:

* ``drop``: the connection is closed before the request reaches the API (nothing happened there);
* ``drop_answer``: the API carries the request out, then the connection is closed before its
  answer reaches the bot (something happened, and the bot cannot know);
* ``stall``: the request is held, unanswered, for some seconds (the bot's time limit runs out first),
  then the connection is closed; the API never sees it;
* ``hold``: the request is held until :meth:`FaultyProxy.release`, which either forwards it (the
  API acts on it, and its answer goes nowhere if the bot has died meanwhile) or drops it;
* ``pass``: the request goes through (to let a number of requests by before the next fault).

Faults are queued and used in order, one per request; requests with no fault queued pass through.
A fault may name a ``match``: then it waits for a request whose first line contains that text,
and other requests pass by.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    kind: str  # "drop", "drop_answer", "stall", "hold" or "pass"
    seconds: float = 0.0
    match: bytes | None = None


class FaultyProxy:
    def __init__(self, upstream: str = "") -> None:
        #: ``http://host:port`` of the API behind the proxy (may be set until :meth:`start`).
        self.upstream = upstream
        self._faults: deque[Fault] = deque()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        #: What happened to each request: "passed" or the fault's kind.
        self.log: list[str] = []
        self.url = ""
        self._held: list[tuple[bytes, asyncio.Future[bool]]] = []

    def drop(self, times: int = 1) -> None:
        self._faults.extend([Fault("drop")] * times)

    def drop_answer(self, times: int = 1) -> None:
        self._faults.extend([Fault("drop_answer")] * times)

    def stall(self, seconds: float, times: int = 1) -> None:
        self._faults.extend([Fault("stall", seconds)] * times)

    def allow(self, times: int, *, match: bytes | None = None) -> None:
        self._faults.extend([Fault("pass", match=match)] * times)

    def hold(self, times: int, *, match: bytes | None = None) -> None:
        self._faults.extend([Fault("hold", match=match)] * times)

    @property
    def held(self) -> int:
        return len(self._held)

    def release(self, *, forward: bool) -> None:
        """Let the held requests go: to the API (``forward``), or nowhere."""
        for _request, decision in self._held:
            if not decision.done():
                decision.set_result(forward)
        self._held = []

    def clear(self) -> None:
        """Forget the faults not used yet."""
        self._faults.clear()

    @property
    def pending_faults(self) -> int:
        return len(self._faults)

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self.release(forward=False)
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            for task in list(self._connections):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self._server.wait_closed()

    async def __aenter__(self) -> FaultyProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _next_fault(self, request: bytes) -> Fault | None:
        if not self._faults:
            return None
        fault = self._faults[0]
        if fault.match is not None and fault.match not in request.split(b"\r\n", 1)[0]:
            return None
        self._faults.popleft()
        return None if fault.kind == "pass" else fault

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                request = await _read_message(reader)
                if request is None:
                    return
                fault = self._next_fault(request)
                self.log.append(fault.kind if fault else "passed")
                if fault is not None and fault.kind == "drop":
                    return
                if fault is not None and fault.kind == "hold":
                    decision = asyncio.get_running_loop().create_future()
                    self._held.append((request, decision))
                    if not await decision:
                        return
                    fault = Fault("drop_answer")  # forwarded; the answer may have nobody to go to
                if fault is not None and fault.kind == "stall":
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(fault.seconds):
                            await reader.read()  # until the client gives up and closes
                    return
                if upstream is None:
                    host, _, port = self.upstream.removeprefix("http://").rstrip("/").partition(":")
                    upstream = await asyncio.open_connection(host, int(port))
                upstream[1].write(request)
                await upstream[1].drain()
                answer = await _read_message(upstream[0])
                if answer is None or (fault is not None and fault.kind == "drop_answer"):
                    return
                writer.write(answer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            return  # the proxy is stopping: end quietly (asyncio would log a cancelled handler)
        finally:
            self._connections.discard(task)
            for stream in (writer, upstream[1] if upstream else None):
                if stream is not None:
                    stream.close()
                    with contextlib.suppress(Exception):
                        await stream.wait_closed()


async def _read_message(reader: asyncio.StreamReader) -> bytes | None:
    """One HTTP/1.1 request or response with its ``Content-Length`` body; None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as short:
        if short.partial:
            raise
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            raise ValueError("the fault proxy handles Content-Length bodies only")
    body = await reader.readexactly(length) if length else b""
    return head + body
