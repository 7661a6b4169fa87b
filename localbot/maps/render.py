"""Map pictures: tiles underneath, the member and the points on top, labelled, with attribution.

Drawn with Pillow on a fixed-size canvas. Tiles that could not be fetched leave a plain, lightly
gridded background, so a picture is always drawn and the member always gets an answer. The
attribution the tile licence requires sits in the bottom-right corner and a scale bar in the
bottom-left, which on a plain background is what still makes the distances readable.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeAlias

import matplotlib
from PIL import Image, ImageDraw, ImageFont

from localbot.charts import PALETTE
from localbot.maps.tiles import TILE_SIZE, TileKey, Viewport, fit, metres_per_pixel

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 800, 600
#: Room around the outermost places for their pins and labels.
MARGIN = 70
BACKGROUND = (242, 239, 233)
GRID = (228, 224, 216)
POINT_COLOUR = PALETTE[3]
MEMBER_COLOUR = PALETTE[0]
TEXT = (34, 34, 34)
MAX_LABEL = 28
SCALE_STEPS = (1, 2, 5)

Font: TypeAlias = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True, slots=True)
class Marker:
    latitude: float
    longitude: float
    label: str
    #: Short text inside the pin, such as the point's number.
    badge: str = ""
    #: The member's own position (drawn as a blue dot) rather than a pickup point.
    you: bool = False


def viewport(markers: list[Marker], *, max_zoom: int) -> Viewport:
    return fit([(m.latitude, m.longitude) for m in markers], WIDTH, HEIGHT, max_zoom=max_zoom, margin=MARGIN)


@cache
def _font_path(bold: bool) -> str | None:
    """DejaVu Sans, which matplotlib ships: it has every Polish and Indonesian letter."""
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    return str(path) if path.is_file() else None


def _font(size: int, *, bold: bool = False) -> Font:
    path = _font_path(bold)
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def _background(image: Image.Image) -> None:
    draw = ImageDraw.Draw(image)
    for x in range(0, image.width, 64):
        draw.line([(x, 0), (x, image.height)], fill=GRID)
    for y in range(0, image.height, 64):
        draw.line([(0, y), (image.width, y)], fill=GRID)


def _tiles(image: Image.Image, view: Viewport, tiles: dict[TileKey, bytes | None]) -> None:
    """Paste the tiles that arrived."""
    for x, y, key in view.tiles():
        data = tiles.get(key)
        if not data:
            continue
        try:
            with Image.open(io.BytesIO(data)) as tile:
                square = tile.convert("RGB")
        except Exception as exc:  # noqa: BLE001 - a damaged tile is a missing tile
            log.info("tile %s unreadable: %s", key, exc)
            continue
        if square.size != (TILE_SIZE, TILE_SIZE):
            square = square.resize((TILE_SIZE, TILE_SIZE))
        image.paste(square, (x, y))


Box = tuple[float, float, float, float]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _label_box(draw: ImageDraw.ImageDraw, text: str, font: Font, x: float, y: float, taken: list[Box]) -> Box:
    """Where a label goes: right of its pin, else left, above or below, whichever is inside the
    picture and clear of what is already drawn."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    w, h = right - left + 10, bottom - top + 6
    options = [(x + 16, y - h / 2), (x - 16 - w, y - h / 2), (x - w / 2, y - 18 - h), (x - w / 2, y + 18)]
    boxes = [(bx, by, bx + w, by + h) for bx, by in options]
    inside = [b for b in boxes if b[0] >= 2 and b[1] >= 2 and b[2] <= WIDTH - 2 and b[3] <= HEIGHT - 24]
    for box in inside:
        if not any(_overlaps(box, other) for other in taken):
            return box
    box = (inside or boxes)[0]
    dx = max(0.0, 2 - box[0]) - max(0.0, box[2] - (WIDTH - 2))
    dy = max(0.0, 2 - box[1]) - max(0.0, box[3] - (HEIGHT - 24))
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def _markers(image: Image.Image, view: Viewport, markers: list[Marker]) -> None:
    draw = ImageDraw.Draw(image, "RGBA")
    label_font, badge_font = _font(14, bold=True), _font(13, bold=True)
    placed = [(m, *view.position(m.latitude, m.longitude)) for m in markers]
    taken: list[Box] = [(x - 14, y - 14, x + 14, y + 14) for _, x, y in placed]
    # Pins first, then labels, so that no pin hides a label; the member's own dot last of the pins.
    for marker, x, y in sorted(placed, key=lambda item: item[0].you):
        if marker.you:
            draw.ellipse((x - 14, y - 14, x + 14, y + 14), fill=(0, 114, 178, 60))
            draw.ellipse((x - 8, y - 8, x + 8, y + 8), fill=MEMBER_COLOUR, outline="white", width=3)
        else:
            draw.ellipse((x - 12, y - 12, x + 12, y + 12), fill=POINT_COLOUR, outline="white", width=2)
            if marker.badge:
                draw.text((x, y), marker.badge, font=badge_font, fill="white", anchor="mm")
    for marker, x, y in placed:
        if not marker.label:
            continue
        text = _shorten(marker.label)
        box = _label_box(draw, text, label_font, x, y, taken)
        taken.append(box)
        draw.rounded_rectangle(box, radius=4, fill=(255, 255, 255, 225), outline=(0, 0, 0, 60))
        draw.text((box[0] + 5, (box[1] + box[3]) / 2), text, font=label_font, fill=TEXT, anchor="lm")


def _scale_bar(image: Image.Image, view: Viewport) -> None:
    """A bar of a round length (1, 2 or 5 × 10ⁿ metres) no longer than 120 pixels."""
    centre_lat = _latitude_at(view, view.height / 2)
    per_pixel = metres_per_pixel(centre_lat, view.zoom)
    metres = 1.0
    for exponent in range(0, 8):
        for step in SCALE_STEPS:
            if step * 10**exponent / per_pixel <= 120:
                metres = step * 10**exponent
    pixels = metres / per_pixel
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    draw = ImageDraw.Draw(image, "RGBA")
    font = _font(12)
    x0, y0 = 10, HEIGHT - 14
    text_width = draw.textlength(label, font=font)
    draw.rectangle((x0 - 6, y0 - 20, x0 + max(pixels, text_width) + 6, y0 + 6), fill=(255, 255, 255, 200))
    draw.line([(x0, y0), (x0 + pixels, y0)], fill=TEXT, width=3)
    draw.line([(x0, y0 - 5), (x0, y0)], fill=TEXT, width=2)
    draw.line([(x0 + pixels, y0 - 5), (x0 + pixels, y0)], fill=TEXT, width=2)
    draw.text((x0, y0 - 7), label, font=font, fill=TEXT, anchor="ls")


def _latitude_at(view: Viewport, y: float) -> float:
    size = TILE_SIZE * 2**view.zoom
    n = math.pi * (1 - 2 * (view.top + y) / size)
    return math.degrees(math.atan(math.sinh(n)))


def _attribution(image: Image.Image, text: str) -> None:
    if not text:
        return
    draw = ImageDraw.Draw(image, "RGBA")
    font = _font(12)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    w, h = right - left + 10, bottom - top + 8
    box = (WIDTH - w - 2, HEIGHT - h - 2, WIDTH - 2, HEIGHT - 2)
    draw.rectangle(box, fill=(255, 255, 255, 210))
    draw.text((box[0] + 5, (box[1] + box[3]) / 2), text, font=font, fill=TEXT, anchor="lm")


def draw(view: Viewport, markers: list[Marker], tiles: dict[TileKey, bytes | None], attribution: str) -> bytes:
    """The map as PNG bytes. Pure CPU work (run it in a worker thread from the event loop)."""
    image = Image.new("RGB", (view.width, view.height), BACKGROUND)
    _background(image)  # shows only where a tile is missing
    _tiles(image, view, tiles)
    _markers(image, view, markers)
    _scale_bar(image, view)
    _attribution(image, attribution)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
