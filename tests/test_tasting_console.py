"""A whole tasting in the console: defined in TOML, six members sign up (one ends on the waiting
list, one cancels and the next is promoted), they are checked in, answer, and the report is built."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.tasting_helpers import write_tasting
from tests.test_console import localbot

#: Who answers what: liking and sweetness (JAR) of the first, second and third sample they are served.
ANSWERS = {
    "bartek": ((8, 3), (5, 4), (6, 3)),
    "dorota": ((7, 3), (4, 5), (7, 3)),
    "edek": ((9, 3), (5, 4), (6, 2)),
    "franek": ((6, 2), (6, 3), (8, 3)),
    "gosia": ((8, 3), (3, 4), (5, 3)),
}


def answering(name: str, answers: tuple[tuple[int, int], ...]) -> list[str]:
    lines = [f":as {name}", ":private"]
    for liking, sweetness in answers:
        lines += ["1", str(liking), str(sweetness), "1", "-"]  # the code, liking, sweetness, "Creamy", no comment
    return [*lines, "1"]  # the preference: the first sample served


def test_a_tasting_from_file_to_report_in_the_console(tmp_path: Path) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    end = start + timedelta(hours=2)
    write_tasting(tmp_path / "config" / "tastings", first=(f"{start:%Y-%m-%d %H:%M}", f"{end:%Y-%m-%d %H:%M}"), second=None)
    script = ["/addpoint Kiosk", ":private", ":loc 52.2297 21.0122", "1", "1", ":group", "/tasting start oat-drinks"]
    for name in ("bartek", "celina", "dorota", "edek", "franek", "gosia"):
        script += [f":as {name}", ":group", "1"]  # the first session's button of the announcement
    script += [":private", "1"]  # gosia: the session is full, so she joins its waiting list
    script += [":as celina", ":private", "/tasting cancel", "1"]  # celina cancels; gosia gets her place
    script += [":wait 2d", ":wait 1h", ":as anna", ":private", "/checkin", "1", "2", "3", "4", "5"]
    for name, answers in ANSWERS.items():
        script += answering(name, answers)
    script += [":as anna", ":private", "/report"]
    done = localbot("shell", stdin="\n".join(script) + "\n", cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout.replace("\u202f", " ")
    assert "bot → group: 🍽 Tasting #1: Oat drinks" in out and "Kiosk — 5 places left" in out
    assert out.count("only bartek sees: ✓ ✅ You have a place! (details in our private chat)") == 1
    assert "bot → bartek (private): ✅ You have a place!" in out and "[file saved to" in out and "tasting-1.ics" in out
    assert "bot → gosia (private): Sorry, that session is full. Would you like to join its waiting list?" in out
    assert "⏳ You're on the waiting list (number 1) for:" in out
    assert "is cancelled. Thank you for letting us know!" in out
    assert "bot → gosia (private): 🎉 Good news: a place opened up, and it's yours!" in out
    assert out.count("⏰ Tomorrow: tasting “Oat drinks”.") == 5 and out.count("⏰ In two hours: tasting “Oat drinks”.") == 5
    assert "5 of 5 here." in out and "celina" not in out.split("Check-in, session 1")[-1].split("Report of tasting")[0].lower()
    assert out.count("🙏 Thank you! That was the last question: your answers are saved.") == 5
    report = out.split("📋 Report of tasting #1: Oat drinks")[1]
    assert "5 people took part · 3 samples" in report and "Friedman test: χ² =" in report
    assert report.count("[picture saved to") == 3 and "Send the 5 people who took part" in report

    analysed = localbot("tasting", "report", "oat-drinks", "--format", "json", cwd=tmp_path)
    assert analysed.returncode == 0, analysed.stderr
    data = json.loads(analysed.stdout)
    assert data["tasting"]["participants"] == 5 and data["liking_test"]["method"] == "friedman" and data["liking_test"]["blocks"] == 5
    assert sorted(p["n"] for p in data["products"]) == [5, 5, 5] and data["preference"]["n"] == 5
    served_first = {p["product"]: p["count"] for p in data["preference"]["products"]}
    assert sum(served_first.values()) == 5
    assert all(c["products"][0]["count"] == 5 for c in data["cata"] if c["term"] == "creamy")  # everyone ticked "Creamy"
    exported = localbot("export", "tastings", "--format", "csv", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 5 * (3 * 5 + 3) and {r["participant"] for r in rows} == {"P1", "P3", "P4", "P5", "P6"}
    assert sorted(r["value"] for r in rows if r["participant"] == "P1" and r["question"] == "liking") == ["5", "6", "8"]
