"""Map pictures: tiles from a local tile server, cached on disk, and a picture even without them."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from localbot.maps import render
from localbot.maps.render import HEIGHT, WIDTH, Marker
from localbot.maps.tiles import TILE_SIZE, TileSource, fit, unwrap, world_pixel
from tests.fakes.http_server import free_port
from tests.fakes.tiles import TILE_COLOUR, FakeTileServer
from tests.maps_support import USER_AGENT, tile_server  # noqa: F401 - fixture

MARKERS = [
    Marker(52.2297, 21.0122, "You are here", you=True),
    Marker(52.2310, 21.0150, "Kiosk Zielony", "1"),
    Marker(52.2224, 21.0112, "Biblioteka Publiczna im. Bolesława Prusa", "2"),
    Marker(52.2330, 21.0100, "Żabka", "3"),
]


def source(template: str, tmp_path: Path, timeout: float = 1.5) -> TileSource:
    return TileSource(template, tmp_path / "tiles", user_agent=USER_AGENT, timeout=timeout, cache_days=7)


def picture(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    return image.convert("RGB")


def share_of(image: Image.Image, colour: tuple[int, int, int]) -> float:
    counts = dict((rgb, n) for n, rgb in image.getcolors(WIDTH * HEIGHT) or [])
    return counts.get(colour, 0) / (WIDTH * HEIGHT)


async def test_tiles_are_fetched_once_then_served_from_disk(tile_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, template = tile_server
    view = render.viewport(MARKERS, max_zoom=18)
    tiles = source(template, tmp_path)
    got = await tiles.fetch(view.keys())
    assert len(fake.log) == len(view.keys()) >= 4 and all(got.values())
    assert {agent for _, agent in fake.log} == {USER_AGENT}
    image = picture(render.draw(view, MARKERS, got, "© OpenStreetMap contributors"))
    assert share_of(image, TILE_COLOUR) > 0.6  # the map is under the markers
    again = await source(template, tmp_path).fetch(view.keys())  # another picture, as after a restart
    assert again == got and len(fake.log) == len(view.keys())


async def test_old_tiles_are_fetched_again_and_kept_when_the_server_is_down(tile_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, template = tile_server
    view = render.viewport(MARKERS, max_zoom=18)
    tiles = source(template, tmp_path)
    await tiles.fetch(view.keys())
    eight_days_ago = time.time() - 8 * 86400
    for key in view.keys():
        os.utime(tiles.path(key), (eight_days_ago, eight_days_ago))
    await tiles.fetch(view.keys())
    assert len(fake.log) == 2 * len(view.keys())  # stale after seven days: asked again
    for key in view.keys():
        os.utime(tiles.path(key), (eight_days_ago, eight_days_ago))
    fake.status = 503
    stale = await tiles.fetch(view.keys())
    assert all(stale.values())  # an old tile beats no tile


async def test_no_tile_server_still_draws_a_picture(tmp_path: Path) -> None:
    view = render.viewport(MARKERS, max_zoom=18)
    got = await source(f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png", tmp_path).fetch(view.keys())
    assert got and not any(got.values())
    image = picture(render.draw(view, MARKERS, got, "© OpenStreetMap contributors"))
    assert share_of(image, TILE_COLOUR) == 0.0
    assert share_of(image, render.BACKGROUND) > 0.5  # the plain background
    assert image.getpixel((int(view.position(52.2310, 21.0150)[0]), int(view.position(52.2310, 21.0150)[1]))) != render.BACKGROUND


async def test_a_slow_tile_server_does_not_hold_the_answer(tmp_path: Path) -> None:
    from tests.fakes.http_server import ServerThread

    fake = FakeTileServer(delay=1.5)
    with ServerThread(fake.app()) as server:
        view = render.viewport(MARKERS, max_zoom=18)
        started = time.monotonic()
        got = await source(fake.template(server.url), tmp_path, timeout=0.5).fetch(view.keys())
        assert time.monotonic() - started < 2.5
        assert not any(got.values())


async def test_bad_and_oversized_tiles(tmp_path: Path) -> None:
    from tests.fakes.http_server import ServerThread

    fake = FakeTileServer(size=512)  # a "retina" server: tiles are scaled to fit
    with ServerThread(fake.app()) as server:
        view = render.viewport(MARKERS[:2], max_zoom=18)
        got = await source(fake.template(server.url), tmp_path).fetch(view.keys())
    assert share_of(picture(render.draw(view, MARKERS[:2], got, "")), TILE_COLOUR) > 0.6
    broken = {key: b"not a png" for key in view.keys()}
    assert share_of(picture(render.draw(view, MARKERS[:2], broken, "x")), render.BACKGROUND) > 0.5


def test_the_attribution_is_drawn_in_the_corner() -> None:
    view = render.viewport(MARKERS, max_zoom=18)
    with_text = picture(render.draw(view, MARKERS, {}, "© OpenStreetMap contributors"))
    without = picture(render.draw(view, MARKERS, {}, ""))
    corner = (WIDTH - 200, HEIGHT - 22, WIDTH, HEIGHT)
    assert with_text.crop(corner).tobytes() != without.crop(corner).tobytes()
    assert with_text.crop((0, 0, 200, 100)).tobytes() == without.crop((0, 0, 200, 100)).tobytes()


@pytest.mark.parametrize(
    "places",
    [
        [(52.2297, 21.0122)],
        [(52.2297, 21.0122), (52.2310, 21.0150)],
        [(52.0, 21.0), (50.06, 19.94)],  # Warsaw to Kraków
        [(-17.8, 179.9), (-17.7, -179.8)],  # across the antimeridian
        [(52.2, 21.0), (-33.9, 151.2)],  # half the world
    ],
)
def test_every_place_lands_inside_the_picture(places: list[tuple[float, float]]) -> None:
    view = fit(places, WIDTH, HEIGHT, max_zoom=18, margin=render.MARGIN)
    for lat, lon in places:
        x, y = view.position(lat, lon)
        assert render.MARGIN - 1 <= x <= WIDTH - render.MARGIN + 1 and 0 <= y <= HEIGHT, (lat, lon, x, y)
    if len(places) == 2 and abs(places[0][1] - places[1][1]) < 1:
        assert view.zoom >= 15  # close places get a close view
    for x, y, (zoom, tx, ty) in view.tiles():
        assert zoom == view.zoom and 0 <= tx < 2**zoom and 0 <= ty < 2**zoom
        assert -TILE_SIZE < x < WIDTH and -TILE_SIZE < y < HEIGHT


def test_slippy_map_numbers() -> None:
    """Tile numbers match the OpenStreetMap wiki's formula (written with asinh there) for Warsaw."""
    import math

    lat, lon, zoom = 52.2297, 21.0122, 15
    wiki_x = int((lon + 180.0) / 360.0 * 2**zoom)
    wiki_y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * 2**zoom)
    x, y = world_pixel(lat, lon, zoom)
    assert (int(x // TILE_SIZE), int(y // TILE_SIZE)) == (wiki_x, wiki_y) == (18296, 10789)
    assert world_pixel(0.0, 0.0, 1) == (256.0, 256.0)
    assert unwrap([179.0, -179.0, 10.0]) == [179.0, 181.0, 10.0]
