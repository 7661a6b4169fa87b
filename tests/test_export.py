"""Exports: every kind in every format through ``localbot export``, read back with the real readers,
and ``/export`` in the chat, which sends an organiser their own community's file privately."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from localbot.events import Chat, ChatKind, Command, Sender
from localbot.export.kinds import KINDS
from localbot.export.writers import XLSX_MAX_ROWS, TooManyRows, write_xlsx
from localbot.handlers import export as chat_export
from localbot.replies import Document, PrivateLink, Text
from tests.helpers import GROUP, Harness, texts
from tests.organiser_helpers import organiser_elsewhere
from tests.test_console import localbot

FORMULAS = ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
OTHER_GROUP = Chat("console:elsewhere", ChatKind.GROUP, "Other Estate")


def read(path: Path, fmt: str) -> list[dict[str, str]]:
    """An export as rows of text, whatever its format, read by the reader a user would use."""
    if fmt == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    if fmt == "json":
        return [{k: "" if v is None else str(v) for k, v in row.items()} for row in json.loads(path.read_text(encoding="utf-8"))]
    sheet = load_workbook(path, read_only=True).active
    header, *body = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return [{h: "" if v is None else str(v) for h, v in zip(header, row, strict=True)} for row in body]


async def populate(bot: Harness) -> None:
    """Two polls (one anonymous) with options a spreadsheet would run, and members with such names."""
    await bot.send("/poll Where? | Kiosk | " + " | ".join(FORMULAS[:4]))
    for index, voter in enumerate(("bartek", "celina", "dorota", "emil"), start=2):
        await bot.pick(f"v:1:{index}", voter)
    await bot.send("/poll --anon Secret? | Yes | No")
    await bot.pick("v:2:1", "bartek")
    await bot.pick("v:2:2", "celina")
    for name in FORMULAS:  # members whose messenger name would run as a formula
        await bot.handle(Command(chat=GROUP, sender=Sender(f"console:x{len(name)}{ord(name[0])}", name), name="help", args=""))
    await bot.send("hello", "zofia", chat=OTHER_GROUP)  # another community: never in the first one's export


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
async def test_poll_votes_in_every_format(bot: Harness, tmp_path: Path, fmt: str) -> None:
    await populate(bot)
    out = tmp_path / f"votes.{fmt}"
    done = localbot("--db", str(bot.core.settings.database), "export", "polls", "--format", fmt, "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"Wrote 6 row(s) to {out}.\n"  # no progress bar: stderr is not a terminal
    rows = read(out, fmt)
    assert [r["poll"] for r in rows] == ["1"] * 4 + ["2"] * 2
    named = {r["voter"]: r["option"] for r in rows if r["poll"] == "1"}
    if fmt == "json":  # not a spreadsheet: the text as it was typed
        assert sorted(named.values()) == sorted(FORMULAS[:4])
    else:  # neutralised in both spreadsheet formats
        assert sorted(named.values()) == sorted("'" + f for f in FORMULAS[:4])
    assert set(named) == {"console:bartek", "console:celina", "console:dorota", "console:emil"}
    assert [r["voter"] for r in rows if r["poll"] == "2"] == ["", ""]  # anonymous stays anonymous
    assert all(r["time"].endswith("Z") for r in rows)
    if fmt == "xlsx":
        sheet = load_workbook(out).active
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)  # no formula anywhere


async def test_anonymous_votes_stored_before_lose_their_channel_and_their_order(bot: Harness, tmp_path: Path) -> None:
    """Votes an older version stored with the voter's messenger and in voting order are rewritten by
    the polls' second migration; the counts stay."""
    from localbot.storage import open_database

    await populate(bot)
    path = bot.core.settings.database
    with bot.core.db.atomic():  # as the first version stored them
        bot.core.db.execute("UPDATE poll_votes SET channel = 'whatsapp', id = id + 1000 WHERE poll_id = 2")
        bot.core.db.execute("DELETE FROM _sqlite_migrations WHERE migration_set = 'localbot.polls' AND name LIKE 'm002%'")
    before = bot.core.db.execute("SELECT poll_id, option_id, voter_key, channel FROM poll_votes ORDER BY voter_key").fetchall()
    again = open_database(path)
    try:
        after = again.execute("SELECT poll_id, option_id, voter_key, channel, id FROM poll_votes ORDER BY voter_key").fetchall()
    finally:
        again.close()
    assert [row[:3] for row in after] == [row[:3] for row in before]  # the same votes
    assert {row[3] for row in after if row[0] == 2} == {""} and {row[3] for row in after if row[0] == 1} == {"console"}
    assert all(row[4] > 2**20 for row in after if row[0] == 2)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
async def test_members_in_every_format(bot: Harness, tmp_path: Path, fmt: str) -> None:
    await populate(bot)
    out = tmp_path / f"members.{fmt}"
    args = ["--db", str(bot.core.settings.database), "export", "members", "--format", fmt, "--community", "Sunny Estate", "--out", str(out)]
    done = localbot(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = read(out, fmt)
    assert {r["community"] for r in rows} == {"Sunny Estate"}
    assert "console:zofia" not in {r["member"] for r in rows}
    roles = {r["member"]: r["role"] for r in rows}
    assert roles["console:anna"] == "organiser" and roles["console:bartek"] == "member"
    names = {r["name"] for r in rows}
    if fmt == "json":
        assert set(FORMULAS) <= names
    else:
        neutralised = {"'" + f for f in FORMULAS}
        if fmt == "xlsx":  # XML reads a carriage return as a line feed
            neutralised = {n.replace("\r", "\n") for n in neutralised}
        assert neutralised <= names and not names & set(FORMULAS)
    assert list(rows[0]) == list(KINDS["members"].columns)


#: Formulas hidden behind what a reader trims or drops: a control character XML cannot hold, a blank,
#: a zero-width space, a line break; and the full-width equals sign.
HIDDEN = ["\x01=HYPERLINK(\"http://evil\",\"x\")", " =1+1", "\u200b@SUM(A1)", "\n-2+3", "\uff1dSUM(A1)", "\x0b\t=1"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
async def test_formulas_behind_invisible_characters_are_neutralised_too(bot: Harness, tmp_path: Path, fmt: str) -> None:
    for index, name in enumerate(HIDDEN):  # names as WhatsApp's ProfileName or Telegram's full name deliver them
        await bot.handle(Command(chat=GROUP, sender=Sender(f"console:hidden{index}", name), name="help", args=""))
    stored = dict(bot.core.db.execute("SELECT ref, name FROM members WHERE ref LIKE 'console:hidden%'").fetchall())
    assert sorted(stored.values()) == sorted(HIDDEN)  # kept as the messenger gave them
    out = tmp_path / f"members.{fmt}"
    done = localbot("--db", str(bot.core.settings.database), "export", "members", "--format", fmt, "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = {r["member"]: r["name"] for r in read(out, fmt) if r["member"] in stored}
    assert len(names) == len(HIDDEN)
    if fmt == "json":  # data for programs: exactly as given
        assert names == stored
        return
    for ref, name in stored.items():
        if fmt == "xlsx":  # what XML cannot hold is dropped, then the apostrophe goes before what is left
            name = ILLEGAL_CHARACTERS_RE.sub("", name)
        assert names[ref] == "'" + name, ref
    if fmt == "xlsx":
        sheet = load_workbook(out).active
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)  # no formula anywhere


async def test_filters_and_refusals(bot: Harness, tmp_path: Path) -> None:
    await populate(bot)
    db = str(bot.core.settings.database)
    everyone = localbot("--db", db, "export", "members", cwd=tmp_path)
    assert "console:zofia" in everyone.stdout  # without --community: the whole database
    later = localbot("--db", db, "export", "members", "--since", "2030-01-01", cwd=tmp_path)
    assert later.stdout.strip().splitlines() == [",".join(KINDS["members"].columns)]
    assert localbot("--db", db, "export", "members", "--format", "geojson", cwd=tmp_path).returncode == 2
    assert localbot("--db", db, "export", "members", "--community", "Nowhere", cwd=tmp_path).returncode == 1
    piped = subprocess.run([sys.executable, "-m", "localbot", "--db", db, "export", "polls", "--format", "xlsx"], capture_output=True, cwd=tmp_path)
    assert piped.returncode == 0 and piped.stdout.startswith(b"PK")  # a binary format may go to a pipe
    assert localbot("--db", str(tmp_path / "none.db"), "export", "members", cwd=tmp_path).returncode == 1


def test_xlsx_refuses_more_rows_than_a_sheet_holds_and_writes_nothing() -> None:
    """The limit is the writer's own parameter (Excel's 1,048,576 rows by default), here made small."""
    columns = ("n", "text")
    fits = io.BytesIO()
    assert write_xlsx(({"n": n, "text": f"row {n}"} for n in range(3)), columns, fits, max_rows=4) == 3
    assert [row for row in load_workbook(fits, read_only=True).active.iter_rows(values_only=True)] == [
        ("n", "text"), (0, "row 0"), (1, "row 1"), (2, "row 2")
    ]
    over = io.BytesIO()
    with pytest.raises(TooManyRows) as refused:
        write_xlsx(({"n": n, "text": f"row {n}"} for n in range(4)), columns, over, max_rows=4)
    assert refused.value.fits == 3 and over.getvalue() == b""
    assert XLSX_MAX_ROWS == 1_048_576


def votes_beyond_a_sheet(db: Any) -> None:
    """Poll #1 with one vote more than an Excel sheet holds under its header (1,048,576 votes)."""
    with db.atomic():
        db.execute(
            """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1048576)
               INSERT INTO poll_votes (poll_id, option_id, member_id, voter_key, channel, created_at)
               SELECT 1, (SELECT MIN(id) FROM poll_options WHERE poll_id = 1), NULL, 'k' || i, 'console', '2026-01-05T09:00:00.000Z' FROM n"""
        )


async def test_an_export_longer_than_an_excel_sheet_is_refused_pointing_at_csv(bot: Harness, tmp_path: Path) -> None:
    await bot.send("/poll Big? | Yes | No")
    votes_beyond_a_sheet(bot.core.db)
    db = str(bot.core.settings.database)
    out = tmp_path / "votes.xlsx"
    done = localbot("--db", db, "export", "polls", "--format", "xlsx", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        "localbot: polls has more rows than an XLSX worksheet holds (1,048,575 under the header); "
        "nothing was written. Export it as CSV instead: --format csv\n"
    )
    assert list(tmp_path.glob("votes.xlsx*")) == []  # no file, not even a partial one
    piped = localbot("--db", db, "export", "polls", "--format", "xlsx", cwd=tmp_path)
    assert piped.returncode == 1 and piped.stdout == ""

    private = bot.private("anna")
    assert texts(await bot.send("/export polls xlsx", chat=private)) == (
        "That is more rows than an Excel sheet holds (1,048,575). Ask for CSV instead: /export polls csv"
    )
    await bot.send("/lang pl", chat=private)
    assert texts(await bot.send("/export polls xlsx", chat=private)) == (
        "To więcej wierszy, niż mieści arkusz Excela (1\u00a0048\u00a0575). Poproś o CSV: /export polls csv"
    )
    await bot.send("/lang id", chat=private)
    assert texts(await bot.send("/export polls xlsx", chat=private)).startswith("Itu lebih banyak baris daripada yang muat di satu lembar Excel (1.048.575).")
    assert [o for o in await bot.outbox() if o.chat_ref == "console:anna"] == []  # no file went out


def test_a_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from localbot import cli

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with cli._progress(1000, "polls") as step:
        assert step is not None
        for _ in range(1000):
            step()
    assert "Exporting polls" in terminal.getvalue() and "100%" in terminal.getvalue()

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with cli._progress(1000, "polls") as step:
        assert step is None


# --- in the chat ---------------------------------------------------------------------------------


def documents(outgoing: list, chat: str) -> list[Document]:  # type: ignore[type-arg]
    return [o.reply for o in outgoing if o.chat_ref == chat and isinstance(o.reply, Document)]


async def test_export_in_the_group_goes_privately_to_the_organiser(bot: Harness) -> None:
    await populate(bot)
    assert texts(await bot.send("/export polls")) == "Anna, I've sent you the file privately."
    [sent] = documents(await bot.outbox(), "console:anna")
    assert sent.filename.startswith("sunny-estate-polls-") and sent.filename.endswith(".csv")
    assert sent.mime_type == "text/csv" and sent.caption == "Poll votes of Sunny Estate: 6 rows."
    rows = list(csv.DictReader(io.StringIO(sent.data.decode())))
    assert len(rows) == 6 and {r["community"] for r in rows} == {"Sunny Estate"}

    private = await bot.send("/export members xlsx", chat=bot.private("anna"))
    [document] = private
    assert isinstance(document, Document) and document.filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(document.data), read_only=True).active
    members = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "console:anna" in members and "console:zofia" not in members


async def test_pickup_points_as_geojson_in_the_chat(bot: Harness) -> None:
    private = bot.private("anna")
    for line in ("/addpoint Kiosk", "52.2310, 21.0150", "1", "Mon-Fri 10-18", "-ring twice"):
        await bot.send(line, chat=private if not line.startswith("/") else GROUP)
    [document] = await bot.send("/export points geojson", chat=private)
    assert isinstance(document, Document) and document.mime_type == "application/geo+json"
    assert document.filename.endswith(".geojson")
    collection = json.loads(document.data)
    [kiosk] = collection["features"]
    assert collection["type"] == "FeatureCollection" and kiosk["geometry"] == {"type": "Point", "coordinates": [21.015, 52.231]}
    assert kiosk["properties"]["name"] == "Kiosk" and kiosk["properties"]["note"] == "-ring twice"
    [sheet] = await bot.send("/export points csv", chat=private)
    assert isinstance(sheet, Document) and list(csv.DictReader(io.StringIO(sheet.data.decode())))[0]["note"] == "'-ring twice"


async def test_export_choices_and_wrong_requests_in_the_members_language(bot: Harness) -> None:
    listing = (await bot.send("/export"))[0]
    assert [o.payload for o in listing.options] == [f"ex:1:{name}" for name in KINDS]  # type: ignore[union-attr]
    assert texts(await bot.pick("ex:1:members")) == "Anna, I've sent you the file privately."
    assert documents(await bot.outbox(), "console:anna")[0].filename.endswith(".csv")

    await bot.send("/lang pl")
    assert texts(await bot.send("/export votes")) == f"Mogę wyeksportować: {', '.join(KINDS)}. Na przykład: /export polls xlsx"
    assert texts(await bot.send("/export polls pdf")).startswith("polls można wyeksportować jako: csv, xlsx, json.")
    assert texts(await bot.send("/export polls csv extra")).startswith("polls można wyeksportować jako")
    assert texts(await bot.pick("ex:1:nothing")) == "Ten przycisk już nie działa."
    assert texts(await bot.pick("ex:x:polls")) == "Tylko organizatorzy mogą używać /export."
    assert [o for o in await bot.outbox() if o.chat_ref == "console:anna"] == []  # nothing was sent for those


async def test_export_is_for_organisers_of_that_community_only(bot: Harness) -> None:
    await populate(bot)
    assert texts(await bot.send("/export polls", "bartek")) == "Only organisers can use /export."
    assert texts(await bot.pick("ex:1:polls", "bartek")) == "Only organisers can use /export."
    # Zofia organises the other community: she exports hers, never Sunny Estate's
    await organiser_elsewhere(bot, "zofia", OTHER_GROUP)
    assert texts(await bot.send("/export polls", "zofia")) == "Only organisers can use /export."  # in Sunny Estate's group
    assert texts(await bot.pick("ex:1:polls", "zofia", chat=bot.private("zofia"))) == "Only organisers can use /export."
    [mine] = await bot.send("/export members", "zofia", chat=bot.private("zofia"))
    assert isinstance(mine, Document) and b"console:anna" not in mine.data and b"console:zofia" in mine.data
    assert documents(await bot.outbox(), "console:zofia") == []


async def test_a_telegram_organiser_without_a_private_chat_gets_a_link(bot: Harness) -> None:
    from localbot.adapters.base import DEFAULT_CAPABILITIES
    from tests.helpers import RecordingAdapter

    bot.core.attach(RecordingAdapter("telegram", DEFAULT_CAPABILITIES["telegram"]))
    group = Chat("telegram:-100", ChatKind.GROUP, "Telegram Estate")
    organiser = Sender("telegram:42", "Ola")
    await bot.handle(Command(chat=group, sender=organiser, name="help", args=""))
    community = bot.core.db.execute("SELECT community_id FROM channels WHERE chat_ref = ?", [group.ref]).fetchone()[0]
    from localbot.community import store
    from localbot.community.model import Role

    with bot.core.db.atomic():
        member = store.member_by_ref(bot.core.db, "telegram:42")
        store.set_role(bot.core.db, community, member.id, Role.ORGANISER, now=bot.clock.now())
    [link] = await bot.handle(Command(chat=group, sender=organiser, name="export", args="members json"))
    assert isinstance(link, PrivateLink) and link.payload == f"export-{community}-members-json"
    [document] = await bot.handle(Command(chat=Chat("telegram:42", ChatKind.PRIVATE), sender=organiser, name="start", args=link.payload))
    assert isinstance(document, Document) and json.loads(document.data)[0]["member"] == "telegram:42"
    stale = await bot.handle(Command(chat=Chat("telegram:42", ChatKind.PRIVATE), sender=organiser, name="start", args="export-1-members"))
    assert texts(stale) == "That link is no longer valid. Send /help to see what I can do."


async def test_a_file_too_large_for_a_chat_is_refused_with_the_command_to_use(bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    await populate(bot)
    monkeypatch.setattr(chat_export, "MAX_CHAT_BYTES", 200)
    reply = texts(await bot.send("/export polls"))
    assert reply.startswith("That file is too large to send in a chat.")
    assert "localbot export polls --format csv --community “Sunny Estate” --out FILE" in reply
    assert documents(await bot.outbox(), "console:anna") == []
    assert isinstance((await bot.send("/export members"))[0], Text)  # a small one still goes


# --- points and tastings, every format, read back -----------------------------------------------------

OSM = "© OpenStreetMap contributors"


async def two_points(bot: Harness) -> None:
    """Kiosk placed by a pin (no address) through the chat, and a library whose address came from Nominatim."""
    from localbot.maps import store as point_store
    from localbot.maps.model import PointSpec

    private = bot.private("anna")
    for line in ("/addpoint Kiosk", "52.2310, 21.0150", "1", "Mon-Fri 10-18", "-ring twice"):
        await bot.send(line, chat=private if not line.startswith("/") else GROUP)
    spec = PointSpec.build("Biblioteka", 52.2224, 21.0112, address="Biblioteka Publiczna, Koszykowa 26, Warszawa", hours=None, note=None)
    with bot.core.db.atomic():
        point_store.create_point(bot.core.db, bot.community().id, spec, created_by=None, now=bot.clock.now())


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
async def test_points_in_every_table_format(bot: Harness, tmp_path: Path, fmt: str) -> None:
    await two_points(bot)
    out = tmp_path / f"points.{fmt}"
    done = localbot("--db", str(bot.core.settings.database), "export", "points", "--format", fmt, "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == f"Wrote 2 row(s) to {out}.\n"
    if fmt == "xlsx":
        sheet = load_workbook(out, read_only=True).active
        header, *body = [list(row) for row in sheet.iter_rows(values_only=True)]
        rows = [dict(zip(header, row, strict=True)) for row in body]
    elif fmt == "json":
        rows = json.loads(out.read_text(encoding="utf-8"))
    else:
        rows = read(out, fmt)
    assert list(rows[0]) == list(KINDS["points"].columns)
    kiosk, library = rows
    assert (kiosk["number"], kiosk["name"], library["name"]) == (("1" if fmt == "csv" else 1), "Kiosk", "Biblioteka")
    if fmt == "csv":
        assert (kiosk["latitude"], kiosk["longitude"]) == ("52.231", "21.015")
    else:  # numbers stay numbers
        assert (kiosk["latitude"], kiosk["longitude"]) == (52.231, 21.015)
    assert kiosk["opening_hours"] == "Mo-Fr 10:00-18:00" and kiosk["note"] == ("-ring twice" if fmt == "json" else "'-ring twice")
    assert library["address"] == "Biblioteka Publiczna, Koszykowa 26, Warszawa" and library["address_source"] == OSM
    assert kiosk["address"] in ("", None) and kiosk["address_source"] in ("", None)  # no address, nothing to credit
    assert str(kiosk["created_at"]).endswith("Z")


async def test_points_as_geojson_for_map_tools(bot: Harness, tmp_path: Path) -> None:
    await two_points(bot)
    done = localbot("--db", str(bot.core.settings.database), "export", "points", "--format", "geojson", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    collection = json.loads(done.stdout)
    assert set(collection) == {"type", "features"} and collection["type"] == "FeatureCollection"  # RFC 7946: no "crs"
    stored = {r["name"]: (r["latitude"], r["longitude"]) for r in bot.core.db.query("SELECT name, latitude, longitude FROM pickup_points")}
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]  # longitude first, as RFC 7946 says
        assert (lat, lon) == stored[feature["properties"]["name"]]
        assert set(feature["properties"]) == set(KINDS["points"].columns) - {"latitude", "longitude"}
    kiosk, library = (f["properties"] for f in collection["features"])
    assert kiosk["note"] == "-ring twice" and kiosk["opening_hours"] == "Mo-Fr 10:00-18:00" and kiosk["address_source"] == ""
    assert library["address"] == "Biblioteka Publiczna, Koszykowa 26, Warszawa" and library["address_source"] == OSM
    assert kiosk["community"] == "Sunny Estate" and kiosk["number"] == 1


async def test_tastings_as_xlsx_and_json_hold_what_the_csv_holds(bot: Harness, tmp_path: Path) -> None:
    from tests.test_tasting_report import answered

    await answered(bot, tmp_path)
    db = str(bot.core.settings.database)
    as_csv = localbot("--db", db, "export", "tastings", "--format", "csv", cwd=tmp_path)
    as_json = localbot("--db", db, "export", "tastings", "--format", "json", cwd=tmp_path)
    assert localbot("--db", db, "export", "tastings", "--format", "xlsx", "--out", "t.xlsx", cwd=tmp_path).returncode == 0
    text_rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    json_rows = json.loads(as_json.stdout)
    sheet = load_workbook(tmp_path / "t.xlsx", read_only=True).active
    header, *body = [list(row) for row in sheet.iter_rows(values_only=True)]
    xlsx_rows = [dict(zip(header, row, strict=True)) for row in body]
    assert len(text_rows) == len(json_rows) == len(xlsx_rows) == 186
    assert header == list(KINDS["tastings"].columns) == list(json_rows[0])
    for typed in (json_rows, xlsx_rows):
        for row in typed:
            if row["question"] in ("liking", "preference") or row["question"].startswith(("jar.", "cata.")):
                assert isinstance(row["value"], int), row  # numbers for R and Excel, not text
        assert [{k: "" if v is None else str(v) for k, v in row.items()} for row in typed] == text_rows
    assert {r["participant"] for r in json_rows} >= {"P1", "P2"} and "Bartek" not in as_json.stdout  # labels, not names
