"""The habit map (numbers, text, JSON, HTML, PNG), /report in chat, and the survey exports."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from localbot.clock import ManualClock
from localbot.community.model import Community
from localbot.export.writers import write_xlsx
from localbot.handlers import reports
from localbot.handlers.context import Effects
from localbot.i18n import translator
from localbot.replies import Choices, Picture, Reply, Text
from localbot.surveys import store
from localbot.surveys.charts import (
    all_charts,
    breakdowns_png,
    compliance_png,
    heatmap_png,
)
from localbot.surveys.report import build, report_text, summary_lines, to_html
from tests.helpers import Harness, choices, texts
from tests.survey_helpers import run_next_job, studies  # noqa: F401  (a fixture)
from tests.test_console import localbot
from tests.test_survey_once import ALL_RIGHT, answer_all

WARSAW = ZoneInfo("Europe/Warsaw")
PNG = b"\x89PNG\r\n\x1a\n"

# days, where, convince: six respondents of the one-off survey
RESPONDENTS = {
    "bartek": ("1, 6", "2", "A free tasting"),
    "celina": ("1", "1", "a free tasting!"),
    "dorota": ("1, 2", "1", "A  free tasting"),
    "ewa": ("6, 7", "4", "=HYPERLINK(\"http://evil\")"),
    "filip": ("1, 3", "2", "Cheaper cups"),
    "gosia": ("1", "1", "Cheaper cups."),
}


async def six_answer(bot: Harness) -> None:
    await bot.send("/survey start coffee-habits")
    for name, (days, where, convince) in RESPONDENTS.items():
        answers = list(ALL_RIGHT)
        answers[2], answers[3], answers[8] = days, where, convince
        await answer_all(bot, name, answers)


async def test_habit_map_of_a_one_off_survey(bot: Harness, studies: Path) -> None:  # noqa: F811
    await six_answer(bot)
    run = store.runs(bot.core.db)[0]
    habit = build(bot.core.db, run, "en")
    assert habit.participants == 6 and habit.answered == 6 and habit.moments == 6
    heat = habit.heatmap
    assert heat is not None and heat.basis == "respondents" and heat.hours_per_cell == 2
    # Everyone's first cup is at 7:30: the 06:00–08:00 cell of each day they named.
    assert [heat.moments[day][3] for day in range(7)] == [5, 1, 1, 0, 0, 2, 1]
    assert all(heat.base[day][cell] == 6 for day in range(7) for cell in range(12))
    assert heat.rate(0, 3) == pytest.approx(5 / 6) and not heat.low(0, 3)
    assert heat.moments[0][4] == 0 and heat.rate(0, 4) == 0
    assert [(c.value, c.count) for c in habit.places] == [("home", 3), ("work", 2), ("kiosk", 1)]
    assert habit.places[0].label == "At home" and habit.places[0].share == pytest.approx(0.5)
    assert [(c.label, c.count) for c in habit.convincers] == [
        ("A free tasting", 3), ("Cheaper cups", 2), ("=HYPERLINK(\"http://evil\")", 1)
    ]  # the same words, however written, count together
    assert [(c.value, c.count) for c in habit.deterrents] == [("price", 6), ("queue", 6)]
    assert all(p.completed for p in habit.compliance)
    text = report_text(translator("en"), habit, names=True)
    assert "6 people answered." in text and "Busiest time: Monday, 06:00–08:00" in text
    assert "6 of 6 who started answered every question." in text
    polish = "\n".join(summary_lines(translator("pl"), build(bot.core.db, run, "pl")))
    assert "Odpowiedziało 6 osób." in polish and "Gdzie: W domu (50%)" in polish and "Najczęściej: poniedziałek, 06:00–08:00" in polish


async def test_habit_map_of_a_diary(bot: Harness, studies: Path) -> None:  # noqa: F811
    await bot.send("/survey start coffee-diary")
    for name in ("bartek", "celina"):
        await bot.send("1", name)
        await bot.send("07:00-22:00", name, chat=bot.private(name))
    await bot.outbox()
    seen: dict[str, list[datetime]] = {"bartek": [], "celina": []}
    answered_cells: Counter[tuple[int, int]] = Counter()
    end = datetime(2026, 1, 9, 0, 0, tzinfo=UTC)  # three days of prompts
    while (delivered := await run_next_job(bot, end)) is not None:
        for item in delivered:
            if item.purpose != "prompt":
                continue
            name = item.chat_ref.partition(":")[2]
            seen[name].append(bot.clock.now())
            me = bot.private(name)
            local = bot.clock.now().astimezone(WARSAW)
            if name == "bartek":  # has one every time, at home, with breakfast
                for answer in ("1", "now", "1", "2", "-" if len(seen[name]) == 1 else None):
                    if answer is not None:
                        await bot.send(answer, name, chat=me)
                answered_cells[(local.weekday(), local.hour // 2)] += 1
            elif len(seen[name]) == 2:  # celina answers one prompt, two hours late: kept, but not on time
                bot.clock.advance(timedelta(hours=2))
                await bot.send("2", name, chat=me)
                await bot.send("3", name, chat=me)
    # dorota is not in the diary; bartek reports one more moment late at night: "23:50" at 00:20
    bot.clock.set(datetime(2026, 1, 8, 23, 20, tzinfo=UTC))  # Friday 00:20 in Warsaw
    await bot.send("/had", "bartek", chat=bot.private("bartek"))
    await bot.send("23:50", "bartek", chat=bot.private("bartek"))
    await bot.send("3", "bartek", chat=bot.private("bartek"))
    await bot.send("1", "bartek", chat=bot.private("bartek"))

    run = store.runs(bot.core.db)[0]
    habit = build(bot.core.db, run, "en")
    heat = habit.heatmap
    assert heat is not None and heat.basis == "prompts"
    base = {(d, c): heat.base[d][c] for d in range(7) for c in range(12) if heat.base[d][c]}
    assert base == dict(answered_cells)  # only check-ins answered in time count
    moments = {(d, c): heat.moments[d][c] for d in range(7) for c in range(12) if heat.moments[d][c]}
    assert moments == dict(answered_cells)  # bartek had one every time: a rate of 1 in each of his cells
    assert all(heat.rate(d, c) == 1 for (d, c) in base)
    selves = {(d, c): heat.self_reports[d][c] for d in range(7) for c in range(12) if heat.self_reports[d][c]}
    assert selves == {(3, 11): 1}  # the self-report, apart, on Thursday 22:00–24:00 (the time he gave)
    assert heat.rate(3, 11) is None
    assert all(heat.low(d, c) for (d, c) in base)  # fewer than 5 answers behind every cell
    assert habit.moments == sum(answered_cells.values()) + 1
    [bartek, celina] = habit.compliance
    assert (bartek.sent, bartek.on_time, bartek.late, bartek.self_reports) == (15, 15, 0, 1) and bartek.rate == 1
    assert (celina.sent, celina.on_time, celina.late, celina.missed) == (15, 0, 1, 14) and celina.rate == 0
    assert [(c.value, c.count) for c in habit.places] == [("home", 15), ("cafe", 1)]
    assert [(c.value, c.count) for c in habit.pairings] == [("breakfast", 15), ("nothing", 1)]
    assert habit.deterrents == []  # celina's only answer was late
    data = habit.to_json()
    assert data["heatmap"]["low"][3][11] is True and data["compliance"][1]["missed"] == 14 and data["compliance"][0]["rate"] == 1.0
    json.dumps(data)  # serialisable as it is
    group = report_text(translator("en"), habit, names=False)
    assert "for the typical participant (from 0% to 100%)" in group and "Bartek" not in group
    named = report_text(translator("en"), habit, names=True)
    assert "Bartek: 100% (15 of 15; 0 late, 1 “I just had one”)" in named and "Celina: 0% (0 of 15; 1 late" in named

    charts = all_charts(translator("pl"), habit)
    assert set(charts) == {"heatmap", "breakdowns", "compliance"} and all(png.startswith(PNG) for png in charts.values())
    page = to_html(translator("en"), habit, charts)
    assert page.count('src="data:image/png;base64,') == 3 and "<th>Compliance</th>" in page and "<td>Bartek</td>" in page


async def test_heat_map_rates_are_shares_and_self_reports_stand_apart(bot: Harness, studies: Path) -> None:  # noqa: F811
    """Hand-computed: Monday 08:00–10:00 has 6 check-ins answered in time, 4 of them with a coffee
    (rate 4/6); 10:00–12:00 has 2, both with one (rate 1, but marked: fewer than 5 answers); a late
    answer counts nowhere; a self-report at 13:30 lands apart, in 12:00–14:00, and leaves its cell's
    rate empty. The earlier measure counted the self-report and each check-in's "when" in the
    numerator only, giving rates above 1."""
    await bot.send("/survey start coffee-diary")
    for name in ("bartek", "celina"):
        await bot.send("1", name)
        await bot.send("07:00-22:00", name, chat=bot.private(name))
    db = bot.core.db
    run = store.runs(db)[0]
    [bartek, celina] = store.participants(db, run.id)
    monday = datetime(2026, 1, 12, tzinfo=WARSAW)

    def check_in(participant: store.Participant, index: int, at: str, had: str, *, after: timedelta = timedelta(minutes=5), when: str | None = None) -> None:
        entry = store.entries(db, participant.id, kind="prompt", status="planned")[index]
        hour, minute = (int(x) for x in at.split(":"))
        sent = monday.replace(hour=hour, minute=minute).astimezone(UTC)
        with db.atomic():
            store.mark_sent(db, entry.id, now=sent, expires_at=sent + timedelta(hours=1))
            store.save_answer(db, entry, "had", had, sent + after)
            if when is not None:
                store.save_answer(db, entry, "when", when, sent + after)

    # (participant, time sent, had one?, the time given): "when" never moves a check-in's moment
    for who, at, had, when in [
        (bartek, "08:05", "yes", "07:40"), (bartek, "08:40", "yes", "08:30"), (bartek, "09:15", "no", None),
        (celina, "08:10", "yes", "06:00"), (celina, "09:00", "yes", "09:00"), (celina, "09:50", "no", None),
        (bartek, "10:30", "yes", "10:00"), (celina, "11:00", "yes", "10:55"),
    ]:
        check_in(who, 0, at, had, when=when)
    check_in(bartek, 0, "08:20", "yes", after=timedelta(hours=2))  # answered late: not part of the map
    with db.atomic():
        selfie = store.open_entry(db, bartek.id, "self", monday.replace(hour=14).astimezone(UTC))
        store.save_answer(db, selfie, "had", "yes", monday.replace(hour=14).astimezone(UTC))
        store.save_answer(db, selfie, "when", "13:30", monday.replace(hour=14).astimezone(UTC))

    habit = build(db, run, "en")
    heat = habit.heatmap
    assert heat is not None
    assert (heat.moments[0][4], heat.base[0][4]) == (4, 6) and heat.rate(0, 4) == pytest.approx(4 / 6) and not heat.low(0, 4)
    assert (heat.moments[0][5], heat.base[0][5]) == (2, 2) and heat.rate(0, 5) == 1 and heat.low(0, 5)
    assert heat.moments[0][3] == 0 and heat.rate(0, 3) is None  # "07:40" and "06:00" stay with their check-ins
    assert heat.self_reports[0][6] == 1 and heat.moments[0][6] == 0 and heat.rate(0, 6) is None
    rates = [r for d in range(7) for c in range(12) if (r := heat.rate(d, c)) is not None]
    assert all(0 <= r <= 1 for r in rates)
    assert heat.busiest() == (0, 4)  # the one cell with enough answers, though 10:00–12:00 has a higher rate
    assert habit.moments == 6 + 1 and habit.answered == 8 + 1
    data = habit.to_json()
    assert data["heatmap"]["rates"][0][4] == round(4 / 6, 4) and data["heatmap"]["self_reports"][0][6] == 1
    assert data["heatmap"]["low"][0][5] is True and data["heatmap"]["low"][0][4] is False
    text = report_text(translator("en"), habit, names=False)
    assert "Busiest time: Monday, 08:00–10:00" in text and "“I just had one” reports are shown apart" in text
    assert (heatmap_png(translator("id"), habit) or b"").startswith(PNG)


def test_charts_need_data() -> None:
    from localbot.surveys.report import HabitMap

    empty = HabitMap(1, "x", "X", "once", "open", "en", "UTC", datetime(2026, 1, 1, tzinfo=UTC), None, 0, 0, 0, None)
    t = translator("en")
    assert heatmap_png(t, empty) is None and breakdowns_png(t, empty) is None and compliance_png(t, empty) is None
    assert summary_lines(t, empty) == ["Nobody answered, so there is nothing to report yet."]


async def test_report_in_chat(bot: Harness, studies: Path) -> None:  # noqa: F811
    assert texts(await bot.send("/report")) == "There is nothing to report on yet."
    await six_answer(bot)
    group = await bot.send("/report")
    assert "📋 Habit map of survey #1: Coffee habits" in texts(group) and "Bartek" not in texts(group)
    assert [type(r) for r in group] == [Text, Picture, Picture]
    private = await bot.send("/report coffee-habits", chat=bot.private("anna"))
    assert "6 of 6 who started answered every question." in texts(private)
    assert texts(await bot.send("/report", "bartek")) == "Only organisers can use /report."
    assert "I found no report matching “9”" in texts(await bot.send("/report 9"))
    await bot.send("/survey start coffee-diary")
    listing = choices(await bot.send("/report"))
    assert [o.label for o in listing.options] == ["📔 #2 Coffee diary", "📋 #1 Coffee habits"]
    assert "Habit map of diary #2" in texts(await bot.pick(listing.options[0].payload))
    assert "Habit map of survey #1" in texts(await bot.send("/report survey 1"))
    assert "Only organisers can use /report." in texts(await bot.pick("rp:survey:1", "bartek"))
    assert "This button no longer works." in texts(await bot.pick("rp:nothing:1"))


async def test_report_dispatches_to_every_provider(bot: Harness, studies: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Another feature (tastings, later) plugs in with a provider; /report stays one command."""

    def items(ctx: Effects, community: Community) -> list[reports.ReportItem]:
        return [reports.ReportItem("tasting", "7", "🍽 #1 Kefir", frozenset({"1", "kefir"}), datetime(2030, 1, 1, tzinfo=UTC))]

    def build_one(ctx: Effects, request: reports.ReportRequest, key: str) -> list[Reply]:
        return [Text(text=f"tasting {key} for {request.community.name}, private={request.private}")]

    monkeypatch.setattr(reports, "_PROVIDERS", dict(reports._PROVIDERS))
    reports.add_provider(reports.ReportProvider("tasting", frozenset({"tasting", "degustacja"}), items, build_one))
    await bot.send("/survey start coffee-habits")
    listing = choices(await bot.send("/report"))
    assert [o.payload for o in listing.options] == ["rp:tasting:7", "rp:survey:1"]
    assert texts(await bot.send("/report degustacja")) == "tasting 7 for Sunny Estate, private=False"
    assert texts(await bot.send("/report kefir", chat=bot.private("anna"))) == "tasting 7 for Sunny Estate, private=True"
    assert isinstance((await bot.send("/report 1"))[0], Choices)  # "1" names one of each: a choice
    assert "Habit map of survey #1" in texts(await bot.send("/report survey 1"))


async def test_command_line_report_and_exports(bot: Harness, studies: Path, tmp_path: Path) -> None:  # noqa: F811
    await six_answer(bot)
    await bot.send("/survey stop")
    db = str(bot.core.settings.database)

    done = localbot("--db", db, "survey", "report", "coffee-habits", "--format", "json", "--out", "map.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "map.json").read_text())
    assert data["participants"] == 6 and data["status"] == "closed" and data["heatmap"]["moments"][0][3] == 5
    assert data["charts"] == {"heatmap": "map-heatmap.png", "breakdowns": "map-breakdowns.png"}
    assert (tmp_path / "map-heatmap.png").read_bytes().startswith(PNG)
    page = localbot("--db", db, "survey", "report", "1", "--format", "html", "--lang", "id", cwd=tmp_path)
    assert page.returncode == 0 and page.stdout.startswith("<!DOCTYPE html>") and "Di rumah" in page.stdout and "<img" in page.stdout
    assert "&lt;" not in page.stdout.split("<body>")[0]
    missing = localbot("--db", db, "survey", "report", "tea-diary", cwd=tmp_path)
    assert missing.returncode == 1 and "no survey 'tea-diary' has been started" in missing.stderr
    wrong_community = localbot("--db", db, "survey", "report", "1", "--community", "Nowhere", cwd=tmp_path)
    assert wrong_community.returncode == 1 and "no community named 'Nowhere'" in wrong_community.stderr

    exported = localbot("--db", db, "export", "surveys", "--format", "csv", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 60 and list(rows[0])[:7] == ["participant", "survey", "prompt_id", "prompt_sent_at", "answered_at", "question", "answer"]
    evil = [r for r in rows if r["question"] == "convince" and r["participant"] == "console:ewa"]
    assert evil[0]["answer"] == "'=HYPERLINK(\"http://evil\")"  # neutralised
    assert {r["on_time"] for r in rows} == {"True"} and {r["entry_kind"] for r in rows} == {"once"}
    days = next(r for r in rows if r["question"] == "days" and r["participant"] == "console:bartek")
    assert (days["answer"], days["value"]) == ("Monday; Saturday", "mon;sat")

    out = tmp_path / "answers.xlsx"
    assert localbot("--db", db, "export", "surveys", "--format", "xlsx", "--out", str(out), cwd=tmp_path).returncode == 0
    sheet = openpyxl.load_workbook(out).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:7] == ("participant", "survey", "prompt_id", "prompt_sent_at", "answered_at", "question", "answer") and len(values) == 61
    cell = next(row for row in sheet.iter_rows() if row[5].value == "convince" and row[0].value == "console:ewa")[6]
    assert cell.value == "'=HYPERLINK(\"http://evil\")" and cell.data_type == "s"
    cups = next(row for row in values if row[5] == "cups")
    assert cups[7] == 3 and cups[8] is True  # numbers and true/false stay typed

    as_json = json.loads(localbot("--db", db, "export", "surveys", "--format", "json", "--community", "Sunny Estate", cwd=tmp_path).stdout)
    assert len(as_json) == 60 and as_json[0]["survey"] == "coffee-habits"
    assert localbot("--db", db, "export", "surveys", "--format", "geojson", "--out", "p.geojson", cwd=tmp_path).returncode == 2  # no places


def test_the_xlsx_writer_streams_and_neutralises() -> None:
    rows = ({"a": f"=SUM(A{i})", "b": i, "c": "bell\x07 and tab\tok", "d": None, "e": True} for i in range(1, 2001))
    buffer = io.BytesIO()
    assert write_xlsx(rows, ["a", "b", "c", "d", "e"], buffer, sheet="answers") == 2000
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = book["answers"]
    first = [c.value for c in sheet[2]]
    assert first == ["'=SUM(A1)", 1, "bell and tab\tok", None, True]
    assert sheet.max_row == 2001 and sheet.freeze_panes == "A2"


async def test_a_deadline_summary_in_polish(tmp_path: Path, studies: Path) -> None:  # noqa: F811
    from localbot.core import Core
    from localbot.settings import Settings
    from localbot.storage import open_database
    from tests.helpers import RecordingAdapter

    settings = Settings(database=tmp_path / "pl.db", language="pl", timezone="Europe/Warsaw")
    db = open_database(settings.database)
    clock = ManualClock()
    bot = Harness(Core(settings, db, clock=clock), clock, RecordingAdapter())
    await bot.make_organiser("anna")
    await six_answer(bot)
    closing = texts(await bot.send("/survey stop"))
    assert closing.startswith("🏁 Ankieta nr 1 jest zamknięta: Kawowe nawyki. Dziękujemy wszystkim!")
    assert "Odpowiedziało 6 osób." in closing and "Co przekonałoby nową osobę: A free tasting (50%)" in closing
    db.close()
