"""The command line: exports, database maintenance, and what a bad setting looks like."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.test_console import localbot

VOTES = """\
/poll Where? | Kiosk | =HYPERLINK("http://evil") | Park
:as bartek
2
:as celina
1
:as anna
/poll --anon Secret? | Yes | No
:as bartek
1
:as celina
2
"""


def test_export_polls_csv_and_json(tmp_path: Path) -> None:
    assert localbot("shell", stdin=VOTES, cwd=tmp_path).returncode == 0
    done = localbot("export", "polls", "--format", "csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["poll"] for r in rows] == ["1", "1", "2", "2"]
    named = {r["voter"]: r["option"] for r in rows if r["poll"] == "1"}
    assert named == {"console:bartek": "'=HYPERLINK(\"http://evil\")", "console:celina": "Kiosk"}  # formula neutralised
    assert all(r["voter"] == "" for r in rows if r["poll"] == "2")  # anonymous stays anonymous
    assert all(r["time"].endswith("Z") and "T" in r["time"] for r in rows)
    assert [r["channel"] for r in rows] == ["console", "console", "", ""]  # an anonymous vote keeps no messenger

    out = tmp_path / "votes.json"
    done = localbot("export", "polls", "--format", "json", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0 and "Wrote 4 row(s)" in done.stderr
    data = json.loads(out.read_text())
    assert len(data) == 4 and data[0]["question"] == "Where?" and data[2]["voter"] == ""


def test_export_filters_and_errors(tmp_path: Path) -> None:
    assert localbot("export", "polls", cwd=tmp_path).returncode == 1  # no database yet
    localbot("shell", stdin=VOTES, cwd=tmp_path)
    assert localbot("export", "polls", "--community", "Console neighbourhood", cwd=tmp_path).stdout.count("\n") == 5
    assert "no community named" in localbot("export", "polls", "--community", "Nowhere", cwd=tmp_path).stderr
    assert localbot("export", "polls", "--since", "2999-01-01", cwd=tmp_path).stdout.count("\n") == 1
    assert localbot("export", "polls", "--since", "soon", cwd=tmp_path).returncode == 2
    assert localbot("export", "nothing", cwd=tmp_path).returncode == 2
    assert localbot("export", "polls", "--format", "pdf", cwd=tmp_path).returncode == 2


def test_export_into_a_new_folder_and_where_nothing_can_be_written(tmp_path: Path) -> None:
    localbot("shell", stdin=VOTES, cwd=tmp_path)
    done = localbot("export", "polls", "--format", "xlsx", "--out", "study/2026/votes.xlsx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "study" / "2026" / "votes.xlsx").stat().st_size > 0
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    for command in (["export", "polls"], ["points", "export"], ["tasting", "report", "1"]):
        refused = localbot(*command, "--out", "notes.txt/votes.csv", cwd=tmp_path)
        assert refused.returncode == 2, refused.stderr
        assert "cannot make the folder notes.txt" in refused.stderr and "Traceback" not in refused.stderr
    assert (tmp_path / "notes.txt").read_text() == "a file, not a folder"


def test_db_migrate_and_backup(tmp_path: Path) -> None:
    first = localbot("db", "migrate", cwd=tmp_path)
    assert first.returncode == 0 and "Applied" in first.stdout and "localbot.core:m001_initial" in first.stdout
    assert "is up to date" in localbot("db", "migrate", cwd=tmp_path).stdout
    localbot("shell", stdin=VOTES, cwd=tmp_path)
    done = localbot("db", "backup", "backup/copy.db", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    import sqlite3

    copy = sqlite3.connect(tmp_path / "backup" / "copy.db")
    assert copy.execute("SELECT COUNT(*) FROM poll_votes").fetchone()[0] == 4
    copy.close()
    assert localbot("--db", "missing.db", "db", "backup", "x.db", cwd=tmp_path).returncode == 1


def test_a_bad_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    done = localbot("run", cwd=tmp_path, env={"LOCALBOT_TIMEZONE": "Nowhere/Town"})
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "LOCALBOT_TIMEZONE" in done.stderr and "Traceback" not in done.stderr
