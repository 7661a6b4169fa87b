"""The seven-day coffee diary in the console: three members, time moved with :wait, the habit map.

The console's clock is the real one plus what ``:wait`` added, so the script first waits until the
next 06:00 UTC (the console community's time zone is UTC) and then lives seven days hour by hour:
Bartek answers every hour, so every prompt he gets is answered in time; Celina answers every other
hour and misses some; Dorota never answers a prompt but reports "I just had one" every day at noon.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from openpyxl import load_workbook

from tests.survey_helpers import EXAMPLES
from tests.test_console import localbot

YES = ["1", "now", "1", "2", "-"]  # had one · just now · at home · with breakfast · no words on convincing


def diary_script(now: datetime) -> str:
    to_six = (now.replace(hour=6, minute=0, second=0, microsecond=0) - now) % timedelta(days=1)
    lines = [f":wait {int(to_six.total_seconds() // 60) + 1}m", "/survey start coffee-diary"]
    for name in ("bartek", "celina", "dorota"):
        lines += [f":as {name}", ":group", "1", ":private", "07:00-22:00"]
    for _day in range(7):
        for hour in range(7, 23):  # from 07:00 to 22:00, answering after every hour
            lines += [":wait 1h", ":as bartek", *YES]
            if hour % 2 == 0:
                lines += [":as celina", *YES]
            if hour == 12:
                lines += [":as dorota", "/had", "now", "3", "1", "A free tasting"]
        lines.append(":wait 8h")  # 06:00 the next day
    lines += [":as anna", ":group", "/survey stop", "/report"]
    return "\n".join(lines) + "\n"


def test_a_seven_day_diary_with_three_members_ends_in_the_habit_map(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "config" / "surveys")
    done = localbot("shell", stdin=diary_script(datetime.now(UTC)), cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "📔 #1 Coffee diary" in out and "You're in! From" in out
    assert out.count("check-in 1 of 5 today") >= 3 * 7
    assert "🙋 Noted: you just had one." in out
    assert "That was the last check-in of “Coffee diary”" in out
    assert "🏁 Diary #1 is closed: Coffee diary." in out
    assert "3 people took part" in out and "Busiest time:" in out and "Where: At home" in out
    assert "📋 Habit map of diary #1: Coffee diary" in out
    assert out.count("[picture saved to") == 2  # heat map and breakdowns, for the group

    report = localbot("survey", "report", "coffee-diary", "--format", "json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    people = {p["name"]: p for p in data["compliance"]}
    assert set(people) == {"Bartek", "Celina", "Dorota"}
    assert people["Bartek"]["rate"] == 1.0 and people["Bartek"]["on_time"] >= 30
    assert 0.2 < people["Celina"]["rate"] < 0.9
    assert people["Dorota"]["rate"] == 0.0 and people["Dorota"]["self_reports"] == 7
    assert data["places"][0]["label"] == "At home"
    assert data["moments"] == data["answered"]  # everyone who answered had one
    heat = data["heatmap"]
    # Check-ins with a moment in the rates, Dorota's "I just had one" reports apart: every rate is a share.
    assert heat["basis"] == "prompts" and sum(map(sum, heat["moments"])) + sum(map(sum, heat["self_reports"])) == data["moments"]
    assert sum(map(sum, heat["self_reports"])) == 7
    rates = [rate for row in heat["rates"] for rate in row if rate is not None]
    assert rates and all(0 < rate <= 1 for rate in rates)
    # One week is one of each weekday: no cell has five answers behind it, and each is marked so.
    assert max(map(max, heat["base"])) < 5 and all(low for row in heat["low"] for low in row)

    html = localbot("survey", "report", "coffee-diary", "--format", "html", "--out", "map.html", cwd=tmp_path)
    assert html.returncode == 0 and "<img" in (tmp_path / "map.html").read_text()
    exported = localbot("export", "surveys", "--format", "xlsx", "--out", "diary.xlsx", cwd=tmp_path)
    assert exported.returncode == 0 and (tmp_path / "diary.xlsx").stat().st_size > 5000


def test_a_one_off_survey_with_a_shelf_photo_in_the_console(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "config" / "surveys")
    photo = tmp_path / "shelf.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a shelf")
    script = "\n".join(
        ["/survey start coffee-habits", ":as bartek", "1", ":private", "1", "7:30", "1, 6", "2", "2, 3", "3", "4", "1, 3", "A free tasting",
         f":photo {photo}", "/survey"]
    ) + "\n"
    done = localbot("shell", stdin=script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Thank you! When the survey closes, everyone gets a short summary." in done.stdout
    assert "Coffee habits: answered, thank you!" in done.stdout
    rows = json.loads(localbot("export", "surveys", "--format", "json", cwd=tmp_path).stdout)
    [shelf] = [r for r in rows if r["question"] == "shelf"]
    # Kept next to the database; the export links it where it lies, openable from anywhere on this computer.
    kept = tmp_path / "localbot.db.media" / "surveys" / "run-1" / "entry-1-shelf.jpg"
    assert shelf["answer"] == shelf["value"] == kept.resolve().as_uri()
    assert Path(url2pathname(urlparse(shelf["value"]).path)).read_bytes() == photo.read_bytes()

    # --photos copies them next to the export and links the copies relatively, so the folder travels.
    (tmp_path / "for-brand").mkdir()
    done = localbot("export", "surveys", "--format", "xlsx", "--out", "for-brand/habits.xlsx", "--photos", "for-brand/photos", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Copied 1 photo(s) to for-brand/photos." in done.stderr
    sheet = load_workbook(tmp_path / "for-brand" / "habits.xlsx").active
    header = [c.value for c in sheet[1]]
    [cell] = [row[header.index("value")] for row in sheet.iter_rows(min_row=2) if row[header.index("question")].value == "shelf"]
    assert cell.value == cell.hyperlink.target == "photos/entry-1-shelf.jpg"
    assert (tmp_path / "for-brand" / cell.hyperlink.target).read_bytes() == photo.read_bytes()
    shutil.move(tmp_path / "for-brand", tmp_path / "elsewhere")  # zipped and opened on another computer
    assert (tmp_path / "elsewhere" / cell.hyperlink.target).read_bytes() == photo.read_bytes()

    listed = localbot("export", "surveys", "--photos", "copies", cwd=tmp_path)  # to standard output: relative to this folder
    [line] = [r for r in csv.DictReader(io.StringIO(listed.stdout)) if r["question"] == "shelf"]
    assert line["value"] == "copies/entry-1-shelf.jpg" and (tmp_path / line["value"]).is_file()
    refused = localbot("export", "polls", "--photos", "copies", cwd=tmp_path)
    assert refused.returncode == 2 and "polls has no photos; only surveys do" in refused.stderr
