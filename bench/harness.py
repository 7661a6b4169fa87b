"""What every bench scenario shares: figures, processes, a lean HTTP load generator, percentiles.

The bot under test runs as ``localbot run`` in its own process, configured for both messengers, and
the fake messenger APIs run in another (:mod:`bench.fakes_process`), so that the bot's figures are
the bot's. The load generator lives in the bench's own process and speaks HTTP/1.1 over plain
asyncio streams with pre-built requests: it costs a few microseconds a request, so on a small
machine nearly all the CPU is left to the bot.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_api import TOKEN  # noqa: E402
from tests.fakes.whatsapp_rig import ACCOUNT, PUBLIC, SENDER  # noqa: E402
from tests.fakes.whatsapp_rig import TOKEN as TWILIO_TOKEN  # noqa: E402
from tests.telegram_env import SECRET  # noqa: E402

WEBHOOK_URL = "https://bot.example.org/telegram"
#: Telegram's default ``max_connections`` for a webhook: at most this many requests at once.
TELEGRAM_CONNECTIONS = 40


# --- figures --------------------------------------------------------------------------------------


@dataclass
class Figure:
    """One measured figure, with its target and whether it was met (None: no target)."""

    name: str
    value: float | None
    unit: str
    target: str = ""
    passed: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)
    load: tuple[float, float, float] = field(default_factory=os.getloadavg)

    def json(self) -> str:
        return json.dumps(
            {
                "figure": self.name,
                "value": self.value,
                "unit": self.unit,
                "target": self.target,
                "pass": self.passed,
                "load": [round(x, 2) for x in self.load],
                **self.details,
            },
            ensure_ascii=False,
        )


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def at_least(value: float, target: float) -> bool:
    return value >= target


# --- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class ApiUrls:
    """Where the bot finds the Telegram Bot API and the Twilio API (fakes, in benches and drills)."""

    telegram: str
    twilio: str


@dataclass
class Fakes(ApiUrls):
    """The fake Bot API and Twilio API, in their own process."""

    process: subprocess.Popen[bytes]
    control: str

    @classmethod
    def start(cls) -> Fakes:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fakes_process.py")], stdout=subprocess.PIPE, cwd=ROOT
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the fake APIs did not start")
        urls = json.loads(line)
        return cls(telegram=urls["telegram"], twilio=urls["twilio"], process=process, control=urls["control"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    async def reset(self) -> None:
        async with httpx.AsyncClient() as http:
            (await http.post(f"{self.control}/reset")).raise_for_status()

    async def post(self, path: str, body: Any) -> None:
        async with httpx.AsyncClient() as http:
            (await http.post(f"{self.control}{path}", json=body)).raise_for_status()

    async def get(self, path: str, **params: Any) -> Any:
        async with httpx.AsyncClient(timeout=60) as http:
            response = await http.get(f"{self.control}{path}", params=params)
            response.raise_for_status()
            return response.json()

    async def telegram_calls(self) -> list[list[Any]]:
        """Every Bot API call so far: [method, ok, error code, at, chat id, query id, text, message id]."""
        return list((await self.get("/telegram/calls"))["calls"])

    async def twilio_messages(self) -> dict[str, Any]:
        return dict(await self.get("/twilio/messages"))


@dataclass
class Bot:
    """``localbot run`` with both messengers configured, pointed at the fakes."""

    folder: Path
    fakes: ApiUrls
    organisers: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    #: Another program to run in localbot's place (the bare yardstick bot); it gets the port and the API URL.
    program: str | None = None
    program_args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.folder / "localbot.db"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALBOT_")}
        env.update(
            LOCALBOT_DATABASE=str(self.database),
            LOCALBOT_LOG_LEVEL="WARNING",
            LOCALBOT_TIMEZONE="Europe/Warsaw",
            LOCALBOT_HTTP__PORT=str(self.port),
            LOCALBOT_TELEGRAM__TOKEN=TOKEN,
            LOCALBOT_TELEGRAM__API_URL=f"{self.fakes.telegram}/bot",
            LOCALBOT_TELEGRAM__WEBHOOK_URL=WEBHOOK_URL,
            LOCALBOT_TELEGRAM__SECRET_TOKEN=SECRET,
            LOCALBOT_TWILIO__ACCOUNT_SID=ACCOUNT,
            LOCALBOT_TWILIO__AUTH_TOKEN=TWILIO_TOKEN,
            LOCALBOT_TWILIO__WHATSAPP_FROM=SENDER,
            LOCALBOT_TWILIO__PUBLIC_URL=PUBLIC,
            LOCALBOT_TWILIO__API_URL=self.fakes.twilio,
            LOCALBOT_ORGANISERS=self.organisers,
            **self.extra_env,
        )
        return env

    def start(self, timeout: float = 60.0) -> float:
        """Start the process and wait until ``/healthz`` answers; returns the seconds that took."""
        self.folder.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        log = (self.folder / "bot.log").open("ab")
        command = [sys.executable, "-m", "localbot", "run"]
        if self.program:
            command = [sys.executable, self.program, str(self.port), f"{self.fakes.telegram}/bot", *self.program_args]
        self.process = subprocess.Popen(command, cwd=self.folder, env=self.env(), stdout=log, stderr=log)
        with httpx.Client(timeout=1) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"localbot run exited with {self.process.returncode}: {self.log()[-2000:]}")
                try:
                    if http.get(f"{self.url}/healthz").status_code == 200:
                        return time.monotonic() - started
                except httpx.HTTPError:
                    pass
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"localbot run did not answer /healthz within {timeout} s")
                time.sleep(0.02)

    def log(self) -> str:
        path = self.folder / "bot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def rss_mb(self) -> float:
        assert self.process is not None
        return rss_mb(self.process.pid)

    def cpu_seconds(self) -> float:
        """User and system CPU time the bot has used so far (from /proc)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    @contextmanager
    def running(self) -> Iterator[Bot]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


@contextmanager
def read_only(database: Path) -> Iterator[sqlite3.Connection]:
    """A reader next to the running bot (WAL lets it read while the bot writes)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def scalar(database: Path, sql: str, params: Sequence[Any] = ()) -> Any:
    with read_only(database) as conn:
        return conn.execute(sql, params).fetchone()[0]


# --- load -----------------------------------------------------------------------------------------


def http_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A complete HTTP/1.1 POST, ready to write to a socket."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Sample:
    index: int
    scheduled: float
    sent: float
    done: float
    status: int  # 0: the connection failed


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


async def blast(
    url: str, requests: Sequence[bytes], *, connections: int = TELEGRAM_CONNECTIONS, rate: float | None = None
) -> list[Sample]:
    """Send every request over ``connections`` keep-alive connections, each waiting for its answer
    before the next (as Telegram's webhook delivery does). With ``rate``, request *i* is not sent
    before ``start + i / rate`` (an offered load); without, as fast as the answers come back."""
    host, _, port = url.removeprefix("http://").partition(":")
    samples: list[Sample] = []
    position = iter(range(len(requests)))
    start = time.monotonic()

    async def worker() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            for index in position:
                scheduled = start + index / rate if rate else start
                delay = scheduled - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent = time.monotonic()
                status = 0
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, int(port))
                    assert reader is not None
                    writer.write(requests[index])
                    status = await _read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError, OSError):
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                samples.append(Sample(index, scheduled, sent, time.monotonic(), status))
        finally:
            if writer is not None:
                writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    samples.sort(key=lambda s: s.index)
    return samples


async def wait_until(check: Any, timeout: float, interval: float = 0.2) -> Any:
    """Poll the coroutine function ``check`` until it returns something true, or give up."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)
