"""The command line and the console for pickup points: import, export, and a piped console script."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from PIL import Image

from tests.maps_support import USER_AGENT, nominatim, tile_server  # noqa: F401 - fixtures
from tests.test_console import localbot

IMPORT = """\ufeffName;Address;Latitude;Longitude;Opening hours;Note
Kiosk Zielony;;52,2310;21,0150;Mon-Fri 10-18, Sat 10-14;Ring twice
Biblioteka;Biblioteka, Koszykowa 26, Warszawa;;;pn-pt 9-20;
Plac;Plac Zbawiciela, Warszawa;;;24/7;'=SUM(A1:A9)
Nowhere;Nowhere Street 99, Warszawa;;;;
Mars base;;152.1;21.0;;
Odd hours;;52.2;21.0;whenever;
;Zielona 3, Warszawa;;;;
kiosk zielony;;52.0;21.0;;
Existing;;52.3;21.1;;
"""


def env(url: str) -> dict[str, str]:
    return {"LOCALBOT_GEOCODER__URL": url, "LOCALBOT_GEOCODER__USER_AGENT": USER_AGENT, "LOCALBOT_MAP__TILE_URL": ""}


def points(tmp_path: Path) -> list[tuple]:  # type: ignore[type-arg]
    db = sqlite3.connect(tmp_path / "localbot.db")
    try:
        return db.execute("SELECT number, name, latitude, longitude, address, opening_hours, note FROM pickup_points ORDER BY number").fetchall()
    finally:
        db.close()


def test_import_places_what_it_can_and_says_why_not_for_the_rest(tmp_path: Path, nominatim) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    fake, url = nominatim
    setup = "/addpoint Existing\n:private\n52.3, 21.1\n1\n2\n1\n"
    assert localbot("shell", stdin=setup, cwd=tmp_path, env=env(url)).returncode == 0
    (tmp_path / "points.csv").write_text(IMPORT, encoding="utf-8")
    done = localbot("points", "import", "points.csv", cwd=tmp_path, env=env(url))
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip() == "Imported 3 pickup point(s) into Console neighbourhood."
    report = done.stderr
    assert "6 row(s) could not be placed:" in report
    assert "row 5 (Nowhere): address not found: “Nowhere Street 99, Warszawa”" in report
    assert "row 6 (Mars base): Those coordinates are not on Earth" in report
    assert "row 7 (Odd hours): opening hours: I don't understand “whenever” in the opening hours." in report
    assert "row 8 (no name): Please give the pickup point a name." in report
    assert "row 9 (kiosk zielony): the same name as row 2" in report
    assert "row 10 (Existing): a pickup point called “Existing” already exists (--update changes it)" in report
    stored = points(tmp_path)
    assert [p[:2] for p in stored] == [(1, "Existing"), (2, "Kiosk Zielony"), (3, "Biblioteka"), (4, "Plac")]
    assert stored[1][2:4] == (52.2310, 21.0150) and stored[1][5] == "Mo-Fr 10:00-18:00; Sa 10:00-14:00"
    assert stored[2][2:5] == (52.2224, 21.0112, "Biblioteka, Koszykowa 26, Warszawa")
    assert stored[3][5] == "24/7" and stored[3][6] == "=SUM(A1:A9)"  # our export's apostrophe is taken off
    # three addresses asked, one a second, with our user agent; "Nowhere" too: it was asked once
    assert [e.query for e in fake.log] == ["Biblioteka, Koszykowa 26, Warszawa", "Plac Zbawiciela, Warszawa", "Nowhere Street 99, Warszawa"]
    assert all(later.at - earlier.at >= 0.95 for earlier, later in zip(fake.log, fake.log[1:], strict=False))
    assert {e.user_agent for e in fake.log} == {USER_AGENT}

    # Again with --update: the cache in the database answers, nothing is asked twice.
    (tmp_path / "again.csv").write_text("name,address,hours\nPlac,\"Plac Zbawiciela, Warszawa\",Sat-Sun 8-20\nBiblioteka,\"Biblioteka, Koszykowa 26, Warszawa\",\n")
    again = localbot("points", "import", "again.csv", "--update", cwd=tmp_path, env=env(url))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "Imported 0 pickup point(s) into Console neighbourhood, updated 2."
    assert len(fake.log) == 3
    assert points(tmp_path)[3][5] == "Sa,Su 08:00-20:00"


def test_without_a_user_agent_only_rows_with_coordinates_import(tmp_path: Path) -> None:
    localbot("shell", stdin="/help\n", cwd=tmp_path)
    (tmp_path / "p.csv").write_text("name,address,lat,lon\nKiosk,,52.1,21.0\nBiblioteka,Koszykowa 26,,\n")
    done = localbot("points", "import", "p.csv", cwd=tmp_path)
    assert done.returncode == 1
    assert "row 3 (Biblioteka): no coordinates, and addresses cannot be looked up: set LOCALBOT_GEOCODER__USER_AGENT" in done.stderr
    assert [p[1] for p in points(tmp_path)] == ["Kiosk"]


def test_import_refuses_files_and_databases_it_cannot_use(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("name,hours\nKiosk,24/7\n")
    assert "there is no community yet" in localbot("points", "import", "p.csv", cwd=tmp_path).stderr
    localbot("shell", stdin="/help\n", cwd=tmp_path)
    bad = localbot("points", "import", "p.csv", cwd=tmp_path)
    assert bad.returncode == 2 and "needs a name column and either an address column or latitude and longitude columns" in bad.stderr
    assert localbot("points", "import", "missing.csv", cwd=tmp_path).returncode == 2
    assert "no community named 'Elsewhere'" in localbot("points", "import", "p.csv", "--community", "Elsewhere", cwd=tmp_path).stderr


def test_export_geojson_and_csv_and_import_the_csv_again(tmp_path: Path) -> None:
    script = "/addpoint Kiosk\n:private\n52.2310, 21.0150\n1\nMon-Fri 10-18\n-ring twice\n/addpoint Park\n52.2390 21.0260\n1\n2\n1\n"
    assert localbot("shell", stdin=script, cwd=tmp_path).returncode == 0
    geo = localbot("points", "export", cwd=tmp_path)
    assert geo.returncode == 0, geo.stderr
    collection = json.loads(geo.stdout)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 2
    kiosk = collection["features"][0]
    assert kiosk["geometry"] == {"type": "Point", "coordinates": [21.015, 52.231]}  # longitude first
    assert kiosk["properties"]["name"] == "Kiosk" and kiosk["properties"]["opening_hours"] == "Mo-Fr 10:00-18:00"
    assert kiosk["properties"]["community"] == "Console neighbourhood" and "latitude" not in kiosk["properties"]
    same = localbot("export", "points", "--format", "geojson", "--community", "Console neighbourhood", cwd=tmp_path)
    assert json.loads(same.stdout) == collection

    out = localbot("points", "export", "--format", "csv", "--out", "points.csv", cwd=tmp_path)
    assert out.returncode == 0 and "Wrote 2 row(s) to points.csv" in out.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "points.csv").read_text())))
    assert rows[0]["note"] == "'-ring twice" and rows[1]["opening_hours"] == ""  # a formula-like note is neutralised

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    localbot("shell", stdin="/help\n", cwd=elsewhere)
    (elsewhere / "points.csv").write_text((tmp_path / "points.csv").read_text())
    assert localbot("points", "import", "points.csv", cwd=elsewhere).returncode == 0
    assert points(elsewhere) == points(tmp_path)


def test_the_console_with_shared_locations(tmp_path: Path, tile_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tiles, template = tile_server
    script = """\
/near
/addpoint Kiosk Zielony
:private
52.2310, 21.0150
1
Mon-Fri 10:00-18:00, Sat 10:00-14:00
1
/addpoint Biblioteka
:loc 52.2224 21.0112
pn-pt 9-20
Ask at the desk
:as bartek
:private
:loc 52.2297 21.0122
2
:loc 95 21
/near remember
:loc 52.2297 21.0122
:group
/points
/point 2
"""
    done = localbot("shell", stdin=script, cwd=tmp_path, env={"LOCALBOT_MAP__TILE_URL": template})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "bot → group: There are no pickup points in Console neighbourhood yet. Add one with /addpoint." in out
    assert "Added pickup point 1: Kiosk Zielony." in out and "Added pickup point 2: Biblioteka." in out
    assert "bot → bartek (private): 📍 1. Kiosk Zielony — " in out
    assert "1. Kiosk Zielony — 240 m (about 4 min on foot)" in out and "2. Biblioteka — 820 m" in out
    assert "only bartek sees: ✓ Your pickup point is now Biblioteka." in out
    assert "That location does not look right. Please share it again." in out
    assert "I'll remember this location and use it when you send /near." in out
    assert "Pickup points of Console neighbourhood:" in out and "Note: Ask at the desk" in out
    pictures = sorted((tmp_path / "localbot.db.media" / "console").glob("*map.png"))
    assert len(pictures) == 3
    for path in pictures:
        assert Image.open(path).size == (800, 600)
    assert tiles.log  # the maps were drawn on tiles from the local tile server
