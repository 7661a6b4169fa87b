"""A small tile server: ``/tiles/{z}/{x}/{y}.png`` over real HTTP, with a request log.

Every tile is a plain square of :data:`TILE_COLOUR` (a colour no map marker uses), so a test can
tell from the pixels of a picture whether tiles made it in. ``delay`` slows every answer down;
``status`` makes it answer errors instead.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TILE_COLOUR = (170, 211, 223)  # OpenStreetMap's water blue


def tile_png(size: int = 256) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), TILE_COLOUR).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class FakeTileServer:
    delay: float = 0.0
    status: int = 200
    size: int = 256
    log: list[tuple[str, str]] = field(default_factory=list)

    async def tile(self, request: Request) -> Response:
        self.log.append((request.url.path, request.headers.get("user-agent", "")))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return Response(b"no", status_code=self.status)
        return Response(tile_png(self.size), media_type="image/png")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/tiles/{z:int}/{x:int}/{y:int}.png", self.tile)])

    def template(self, base_url: str) -> str:
        return base_url + "/tiles/{z}/{x}/{y}.png"
