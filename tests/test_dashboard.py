"""The dashboard as an organiser meets it: ``localbot dashboard`` on a free port, real HTTP, and a
real headless browser for the map where Chromium is installed. Anonymous votes must stay out of
reach: only the catalogue's views and queries answer, every raw table is refused."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from localbot.dashboard.catalogue import QUERIES, VIEWS
from localbot.events import Chat, ChatKind
from localbot.tastings import store
from tests.helpers import Harness
from tests.tasting_helpers import write_tasting

SECRETS = ("voter_key", "member_id", "private_chat_ref", "payload", "settings", "join_code")


async def populate(bot: Harness) -> None:
    await bot.send("/poll Where? | Kiosk | Park")
    await bot.send("/poll --anon Secret? | Yes | No")
    for voter, named, anonymous in (("bartek", 1, 1), ("celina", 2, 1), ("dorota", 1, 2)):
        await bot.pick(f"v:1:{named}", voter)
        await bot.pick(f"v:2:{anonymous}", voter)
    private = bot.private("anna")
    for name, place in (("Kiosk", "52.2310, 21.0150"), ("Library", "50.0614, 19.9366")):
        await bot.send(f"/addpoint {name}")
        for line in (place, "1", "Mon-Fri 10-18", "-"):
            await bot.send(line, chat=private)
    await bot.send("hello", "zofia", chat=Chat("console:elsewhere", ChatKind.GROUP, "Other Estate"))
    write_tasting(Path.cwd() / "config" / "tastings")  # its sessions are at the Kiosk and the Library
    await bot.send("/tasting start oat-drinks")
    [tasting] = store.tastings(bot.core.db, bot.community().id)
    first = store.sessions(bot.core.db, tasting.id)[0]
    for member in ("bartek", "celina"):
        await bot.pick(f"ts:up:{first.id}", member, chat=bot.private(member))


def test_the_views_hold_nothing_that_could_name_an_anonymous_voter(db) -> None:  # type: ignore[no-untyped-def]
    for view in VIEWS:
        columns = {row[1] for row in db.conn.execute(f"PRAGMA table_info({view.name})")}
        assert columns, f"{view.name} is not in the schema"
        assert not columns & set(SECRETS), view.name
    assert {"latitude", "longitude"} <= {row[1] for row in db.conn.execute("PRAGMA table_info(pickup_points_map)")}


def written(path: Path) -> dict[str, bytes]:
    """The database and its write-ahead log, byte for byte (readers only touch the shared-memory index)."""
    return {p.name: p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def dashboard(bot: Harness, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    pytest.importorskip("datasette")
    pytest.importorskip("datasette_cluster_map")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALBOT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "localbot", "--db", str(bot.core.settings.database), "dashboard", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(process.stdout.read() if process.stdout else "the dashboard exited")
                time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_pages_views_and_canned_queries_over_http(bot: Harness, dashboard: tuple[str, subprocess.Popen[str]]) -> None:
    await populate(bot)
    base, _process = dashboard
    database = Path(bot.core.settings.database).stem
    status, index = get(f"{base}/{database}")
    assert status == 200
    for entry in (*VIEWS, *QUERIES):
        assert f'<a href="/{database}/{entry.name}">{entry.title}</a>' in index  # labelled, linked
    status, page = get(f"{base}/{database}/pickup_points_map")
    assert status == 200 and "<h1>Pickup points (view)</h1>" in page and "Pickup points on a map" in page

    status, body = get(f"{base}/{database}/poll_results.json?community=Sunny+Estate&_shape=array")
    assert status == 200
    results = {(r["poll"], r["option"]): r["votes"] for r in json.loads(body)}
    assert results == {(1, "Kiosk"): 2, (1, "Park"): 1, (2, "Yes"): 2, (2, "No"): 1}  # anonymous counts are there
    status, body = get(f"{base}/{database}/named_votes.json?_shape=array")
    assert status == 200 and {r["poll"] for r in json.loads(body)} == {1}  # never a row of the anonymous poll
    status, body = get(f"{base}/{database}/community_members.json?_shape=array&community=Sunny+Estate")
    assert status == 200 and {r["name"] for r in json.loads(body)} == {"Anna", "Bartek", "Celina", "Dorota"}
    status, body = get(f"{base}/{database}/pickup_points_map.json?_shape=array")
    assert status == 200 and [r["name"] for r in json.loads(body)] == ["Kiosk", "Library"]
    status, body = get(f"{base}/{database}/signups_per_session.json?community=Sunny+Estate&_shape=array")
    assert status == 200
    assert [(r["session"], r["pickup_point"], r["places"], r["booked"]) for r in json.loads(body)] == [(1, "Kiosk", 5, 2), (2, "Library", 10, 0)]
    status, body = get(f"{base}/{database}/tasting_summaries.json?community=&_shape=array")
    assert status == 200 and [r["product"] for r in json.loads(body)] == ["Oat Barista", "Oat Light", "Oat Cocoa"]
    status, body = get(f"{base}/{database}/tastings_overview.json?_shape=array")
    assert status == 200 and [(r["title"], r["booked"]) for r in json.loads(body)] == [("Oat drinks", 2)]


async def test_geocoded_addresses_are_credited_on_the_map_page(bot: Harness, dashboard: tuple[str, subprocess.Popen[str]]) -> None:
    """Nominatim's usage policy: "© OpenStreetMap contributors" wherever one of its addresses is
    shown, here beside each address and as the view's data source on its page."""
    from localbot.maps import store as points
    from localbot.maps.model import PointSpec

    await populate(bot)  # the Kiosk and the Library, placed by pin: no address
    spec = PointSpec.build("Biblioteka", 52.2224, 21.0112, address="Biblioteka Publiczna, Koszykowa 26, Warszawa, Polska")
    with bot.core.db.atomic():
        points.create_point(bot.core.db, bot.community().id, spec, created_by=None, now=bot.clock.now())
    base, _process = dashboard
    database = Path(bot.core.settings.database).stem

    status, body = get(f"{base}/{database}/pickup_points_map.json?_shape=array")
    assert status == 200
    rows = {r["name"]: (r["address"], r["address_source"]) for r in json.loads(body)}
    assert rows == {
        "Kiosk": (None, ""),
        "Library": (None, ""),
        "Biblioteka": ("Biblioteka Publiczna, Koszykowa 26, Warszawa, Polska", "© OpenStreetMap contributors"),
    }
    status, page = get(f"{base}/{database}/pickup_points_map")
    assert status == 200 and "Koszykowa 26" in page
    assert page.count("© OpenStreetMap contributors") >= 2  # the description and the address's row
    assert 'Data source:' in page and '<a href="https://www.openstreetmap.org/copyright">' in page
    status, body = get(f"{base}/{database}/pickup_points_map.csv")
    assert status == 200 and "address_source" in body.splitlines()[0]


async def test_no_raw_table_and_no_anonymous_voter_is_reachable(bot: Harness, dashboard: tuple[str, subprocess.Popen[str]]) -> None:
    await populate(bot)
    base, process = dashboard
    path = Path(bot.core.settings.database)
    database = path.stem
    before = written(path)
    status, listing = get(f"{base}/{database}.json")
    assert status == 200
    listed = json.loads(listing)
    assert listed["tables"] == [] and listed["hidden_count"] == 0
    assert sorted(v["name"] for v in listed["views"]) == sorted(v.name for v in VIEWS)
    assert sorted(q["name"] for q in listed["queries"]) == sorted(q.name for q in QUERIES)
    raw = [r[0] for r in bot.core.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert "poll_votes" in raw and "outbox" in raw
    for table in raw:
        for suffix in ("", ".json", ".csv"):
            assert get(f"{base}/{database}/{table}{suffix}")[0] == 403, table
    assert get(f"{base}/{database}/poll_votes/1.json")[0] == 403
    assert get(f"{base}/{database}.json?sql=select+voter_key+from+poll_votes")[0] == 403
    assert get(f"{base}/{database}.db")[0] in (403, 404)
    for name in [v.name for v in VIEWS] + [q.name for q in QUERIES]:
        status, body = get(f"{base}/{database}/{name}.json?community=")
        assert status == 200, name
        answer = json.loads(body)
        assert not set(answer["columns"]) & set(SECRETS), name
        tokens = [cell for row in answer["rows"] for cell in row if isinstance(cell, str) and cell.startswith(("a:", "m:", "f:"))]
        assert tokens == [], name  # no voter token, named or anonymous
    assert written(path) == before  # it only read
    process.terminate()
    log = process.communicate(timeout=10)[0]
    assert "Uvicorn running on http://127.0.0.1:" in log  # bound to this machine only


async def test_the_map_page_in_a_real_browser(bot: Harness, dashboard: tuple[str, subprocess.Popen[str]], tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    await populate(bot)
    base, _process = dashboard
    url = f"{base}/{Path(bot.core.settings.database).stem}/pickup_points_map"
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'chromium'}",
         "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "leaflet-container" in dom  # the map was drawn
    assert dom.count('class="leaflet-marker-icon') == 2  # one pin per pickup point, Warsaw and Kraków far apart
