"""Map tiles: which ones a picture needs, where they are kept, and how they are fetched politely.

Tiles follow the OpenStreetMap "slippy map" scheme: Web Mercator, 256-pixel squares, zoom z has
2^z × 2^z of them, x growing east from the antimeridian and y growing south from 85.0511° N. A
:class:`Viewport` is a window of the world at one zoom, measured in world pixels.

The OpenStreetMap tile policy asks for an identifying User-Agent, no bulk downloading, and local
caching for at least seven days. :class:`TileSource` fetches only the tiles one picture needs, when
a member asks for it, at most :data:`PARALLEL` at a time for the whole process, keeps them under
``<media>/tiles/<server>/z/x/y.png`` for ``map.cache_days``, and falls back to an older copy (or to
nothing: the picture is then drawn on a plain background) when the server does not answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import math
import os
import threading
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from localbot import __version__

if TYPE_CHECKING:
    from localbot.settings import Settings

log = logging.getLogger(__name__)

TILE_SIZE = 256
MAX_LATITUDE = 85.0511287798
#: Earth's radius in Web Mercator, for the ground size of a pixel.
MERCATOR_RADIUS_M = 6_378_137.0
#: Tile downloads in flight at once, for the whole process.
PARALLEL = 4
MAX_TILE_BYTES = 2_000_000
DEFAULT_USER_AGENT = f"localbot/{__version__} (+https://github.com/localbot/localbot)"

TileKey = tuple[int, int, int]  # zoom, x, y

_downloads = threading.BoundedSemaphore(PARALLEL)


def world_pixel(latitude: float, longitude: float, zoom: int) -> tuple[float, float]:
    """Where a place lies on the world map at ``zoom``, in pixels from its top-left corner."""
    size = TILE_SIZE * 2**zoom
    lat = math.radians(max(-MAX_LATITUDE, min(MAX_LATITUDE, latitude)))
    x = (longitude + 180.0) / 360.0 * size
    y = (1.0 - math.log(math.tan(lat) + 1.0 / math.cos(lat)) / math.pi) / 2.0 * size
    return x, y


def metres_per_pixel(latitude: float, zoom: int) -> float:
    return 2 * math.pi * MERCATOR_RADIUS_M * math.cos(math.radians(latitude)) / float(TILE_SIZE * 2**zoom)


def unwrap(longitudes: list[float]) -> list[float]:
    """Longitudes shifted by whole turns to lie within 180° of the first, so that places on both
    sides of the antimeridian sit side by side on one map."""
    if not longitudes:
        return []
    first = longitudes[0]
    return [lon + 360.0 * round((first - lon) / 360.0) for lon in longitudes]


@dataclass(frozen=True, slots=True)
class Viewport:
    """A ``width`` × ``height`` window of the world at ``zoom``; ``left``/``top`` in world pixels."""

    zoom: int
    left: float
    top: float
    width: int
    height: int
    #: Longitudes are read within 180° of this one (see :func:`unwrap`).
    reference_lon: float = 0.0

    def position(self, latitude: float, longitude: float) -> tuple[float, float]:
        """Where a place falls in the picture, in pixels."""
        (longitude,) = unwrap([self.reference_lon, longitude])[1:]
        x, y = world_pixel(latitude, longitude, self.zoom)
        return x - self.left, y - self.top

    def tiles(self) -> list[tuple[int, int, TileKey]]:
        """Every tile under the window: (picture x, picture y, the tile to fetch)."""
        count = 2**self.zoom
        out: list[tuple[int, int, TileKey]] = []
        first_x, first_y = math.floor(self.left / TILE_SIZE), math.floor(self.top / TILE_SIZE)
        last_x = math.floor((self.left + self.width - 1) / TILE_SIZE)
        last_y = math.floor((self.top + self.height - 1) / TILE_SIZE)
        for ty in range(max(first_y, 0), min(last_y, count - 1) + 1):
            for tx in range(first_x, last_x + 1):
                key = (self.zoom, tx % count, ty)
                out.append((round(tx * TILE_SIZE - self.left), round(ty * TILE_SIZE - self.top), key))
        return out

    def keys(self) -> list[TileKey]:
        return sorted({key for _, _, key in self.tiles()})


def _spread(places: list[tuple[float, float]], zoom: int) -> tuple[float, float, float, float]:
    xs, ys = zip(*(world_pixel(lat, lon, zoom) for lat, lon in places), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def fit(places: list[tuple[float, float]], width: int, height: int, *, max_zoom: int, margin: int, single_zoom: int = 16) -> Viewport:
    """The closest view (highest zoom up to ``max_zoom``) that shows every place ``margin``
    pixels inside the edges, centred on them; one place alone is shown at ``single_zoom``."""
    if not places:
        raise ValueError("a map needs at least one place")
    longitudes = unwrap([lon for _, lon in places])
    unwrapped = [(lat, lon) for (lat, _), lon in zip(places, longitudes, strict=True)]
    zoom = min(max_zoom, single_zoom)
    if len(set(unwrapped)) > 1:
        for zoom in range(max_zoom, -1, -1):
            left, top, right, bottom = _spread(unwrapped, zoom)
            if right - left <= width - 2 * margin and bottom - top <= height - 2 * margin:
                break
    left, top, right, bottom = _spread(unwrapped, zoom)
    return Viewport(zoom, (left + right - width) / 2, (top + bottom - height) / 2, width, height, longitudes[0])


class TileSource:
    """One tile server, its disk cache, and polite downloads."""

    def __init__(self, url_template: str, cache_dir: Path, *, user_agent: str, timeout: float, cache_days: int) -> None:
        self.url_template = url_template
        server = hashlib.sha256(url_template.encode()).hexdigest()[:12]
        self.cache_dir = cache_dir / server
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_age_s = cache_days * 86400

    @classmethod
    def from_settings(cls, settings: Settings) -> TileSource | None:
        """The configured tile server, or None when maps are drawn without tiles."""
        if not settings.map.tile_url:
            return None
        agent = settings.map.user_agent or settings.geocoder.user_agent or DEFAULT_USER_AGENT
        return cls(
            settings.map.tile_url,
            settings.media_path / "tiles",
            user_agent=agent,
            timeout=settings.map.timeout,
            cache_days=settings.map.cache_days,
        )

    def url(self, key: TileKey) -> str:
        zoom, x, y = key
        return self.url_template.replace("{s}", "abc"[(x + y) % 3]).replace("{r}", "").format(z=zoom, x=x, y=y)

    def path(self, key: TileKey) -> Path:
        zoom, x, y = key
        return self.cache_dir / str(zoom) / str(x) / f"{y}.png"

    # --- the disk cache -----------------------------------------------------------------------

    def _read(self, key: TileKey, *, fresh_only: bool) -> bytes | None:
        path = self.path(key)
        try:
            if fresh_only and time.time() - path.stat().st_mtime > self.max_age_s:
                return None
            return path.read_bytes()
        except OSError:
            return None

    def cached(self, keys: Iterable[TileKey]) -> dict[TileKey, bytes | None]:
        """What the disk holds for these tiles, however old; no network."""
        return {key: self._read(key, fresh_only=False) for key in keys}

    def _store(self, key: TileKey, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        tmp.write_bytes(data)
        tmp.replace(path)

    # --- downloading --------------------------------------------------------------------------

    def download(self, key: TileKey) -> bytes:
        """One tile from the server (blocking), checked to be an image, then kept on disk."""
        request = urllib.request.Request(self.url(key), headers={"User-Agent": self.user_agent, "Accept": "image/png,image/*"})
        with _downloads, urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) checked in settings
            data: bytes = response.read(MAX_TILE_BYTES + 1)
        if len(data) > MAX_TILE_BYTES:
            raise ValueError("tile too large")
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        self._store(key, data)
        return data

    def _fresh_or_download(self, key: TileKey) -> bytes | None:
        data = self._read(key, fresh_only=True)
        if data is not None:
            return data
        try:
            return self.download(key)
        except Exception as exc:  # noqa: BLE001 - any failure means: draw without it (or an old copy)
            log.info("tile %s not fetched: %s", key, exc)
            return self._read(key, fresh_only=False)

    async def fetch(self, keys: Iterable[TileKey]) -> dict[TileKey, bytes | None]:
        """The tiles, from the disk when fresh, else from the server; whatever has not arrived
        within ``timeout`` seconds is None (a download still running is kept for next time)."""
        wanted = list(dict.fromkeys(keys))
        tasks = {key: asyncio.ensure_future(asyncio.to_thread(self._fresh_or_download, key)) for key in wanted}
        if not tasks:
            return {}
        done, pending = await asyncio.wait(tasks.values(), timeout=self.timeout + 1.0)
        for task in pending:
            task.cancel()
        return {key: task.result() if task in done and not task.cancelled() else self._read(key, fresh_only=False) for key, task in tasks.items()}
