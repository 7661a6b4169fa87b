"""Members' privacy: /mydata is complete, /forgetme leaves no trace of who someone was while every
result stays the same, retention (``localbot db purge``) does the same to old data, and the
registry of member data covers every table in the schema."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from localbot.community import store as community_store
from localbot.events import Chat, ChatKind
from localbot.maps import store as point_store
from localbot.maps.model import PointSpec
from localbot.polls import store as poll_store
from localbot.privacy import registry
from localbot.privacy.model import Expiry
from localbot.replies import Choices, Document, PrivateLink
from localbot.surveys import store as survey_store
from tests.helpers import Harness, ack, choices, texts
from tests.organiser_helpers import organiser_elsewhere
from tests.survey_helpers import EXAMPLES, run_next_job
from tests.test_console import localbot

GARDEN = Chat("console:garden", ChatKind.GROUP, "Garden Club")


def tallies(db: sqlite_utils.Database) -> dict[int, tuple[dict[int, int], int]]:
    """Every poll's counts per option and number of voters: what must never change."""
    out = {}
    for row in db.query("SELECT id FROM polls ORDER BY id"):
        poll = poll_store.get_poll(db, row["id"])
        assert poll is not None
        tally = poll_store.tally(db, poll, with_names=False)
        out[poll.id] = (tally.counts, tally.voters)
    return out


#: Bartek's survey answers that could identify him: his free text and his shelf photo.
PERSONAL = {json.dumps("Bartek likes a free tasting"), json.dumps({"file": "shelf-bartek.jpg"})}


def without(answers: dict[str, list[str]], personal: set[str]) -> dict[str, list[str]]:
    kept = {question: [v for v in values if v not in personal] for question, values in answers.items()}
    return {question: values for question, values in kept.items() if values}


def bartek_id(bot: Harness) -> int:
    member = bot.member("bartek")
    assert member is not None
    return int(member.id)


def survey_answers(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """Every stored survey answer by question, whoever gave it."""
    found: dict[str, list[str]] = {}
    for row in db.query("SELECT question, value FROM survey_answers ORDER BY question, value"):
        found.setdefault(row["question"], []).append(row["value"])
    return found


def member_columns(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """Every column in the schema that references ``members``, by table."""
    found: dict[str, list[str]] = {}
    for table in tables(db):
        for key in db.conn.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            if key[2] == "members":
                found.setdefault(table, []).append(key[3])
    return found


def tables(db: sqlite_utils.Database) -> list[str]:
    """Every table a feature made (virtual ones too), without SQLite's own and R*Tree internals."""
    return [
        r[1]
        for r in db.conn.execute("PRAGMA table_list")
        if r[0] == "main" and r[2] in ("table", "virtual") and not r[1].startswith(("sqlite_", "_"))
    ]


#: Bartek's answers to the shipped coffee-habits study; the free text names him.
SURVEY_ANSWERS = ["1", "7:30", "1, 6", "2", "2, 3", "3", "4", "1, 3", "Bartek likes a free tasting", "-"]


async def bartek_everywhere(bot: Harness) -> int:
    """Bartek votes in every kind of poll, answers a survey, chose a pickup point and had his
    location remembered, organises a second community, has a wizard half done, asked for the
    digest and has messages queued and delivered, some naming him. Returns his id."""
    shutil.copytree(EXAMPLES, Path.cwd() / "config" / "surveys")
    await bot.send("/askbudget 10")  # a survey and three polls in one week
    await bot.send("hello", "bartek")  # in the group when the survey starts: asked once
    await bot.send("/survey start coffee-habits")
    await bot.send("1", "bartek")
    for answer in SURVEY_ANSWERS:
        await bot.send(answer, "bartek", chat=bot.private("bartek"))
    await bot.send("1", "celina")
    for answer in ("4", "5", "-", "-"):  # never drinks it: a short questionnaire
        await bot.send(answer, "celina", chat=bot.private("celina"))
    await bot.send("/poll --until 1h Where do we meet? | Kiosk | Library")
    await bot.send("/poll --anon Secret? | Secretly yes | Secretly no")
    await bot.send("/poll --multi Snacks? | Kefir | Bread | Oat milk")
    for who, named, anonymous in (("bartek", 2, 1), ("celina", 2, 2), ("dorota", 1, 1)):
        await bot.pick(f"v:1:{named}", who)
        await bot.pick(f"v:2:{anonymous}", who)
    await bot.pick("v:3:1", "bartek")
    await bot.pick("v:3:3", "bartek")
    await bot.pick("v:3:3", "celina")
    await bot.wait(timedelta(hours=2))  # poll 1 closes by its deadline: results naming Bartek, via the outbox

    await organiser_elsewhere(bot, "bartek", GARDEN)
    bartek = bot.member("bartek")
    await bot.send("/poll Compost day? | Saturday | Sunday", "bartek", chat=GARDEN)
    await bot.send("/digest on", "bartek", chat=GARDEN)
    await bot.send("/export members", "bartek", chat=GARDEN)
    await bot.send("/poll", "bartek", chat=GARDEN)  # the wizard, left at its first question
    photo = Path(bot.core.settings.database).resolve().parent / "shelf-bartek.jpg"
    photo.write_bytes(b"\xff\xd8 a shelf")
    with bot.core.db.atomic():  # a photo answer, as the survey handler stores one (the harness cannot download)
        [entry] = survey_store.entries(bot.core.db, survey_store.get_participant(bot.core.db, 1, bartek_id(bot)).id)
        survey_store.save_answer(bot.core.db, entry, "shelf", {"file": photo.name}, bot.clock.now())
    with bot.core.db.atomic():
        point = point_store.create_point(
            bot.core.db, bot.community().id, PointSpec.build("Kiosk", 52.23, 21.01), created_by=bartek.id, now=bot.clock.now()
        )
        point_store.choose_point(bot.core.db, bot.community().id, bartek.id, point.id, now=bot.clock.now())
        point_store.remember_location(bot.core.db, bartek.id, 52.2297, 21.0122, now=bot.clock.now())
    await bot.outbox()
    await bot.send("/mydata", "bartek")  # a file queued for him, not yet delivered
    return bartek.id


async def test_every_table_is_declared_and_member_tables_are_personal(bot: Harness) -> None:
    db = bot.core.db
    declared = [t for d in registry.declarations() for t in (*d.personal, *d.other)]
    assert len(declared) == len(set(declared)), "a table is declared twice"
    assert sorted(tables(db)) == sorted(declared)
    personal = {t for d in registry.declarations() for t in d.personal}
    assert set(member_columns(db)) <= personal


async def test_mydata_holds_everything_about_the_member(bot: Harness) -> None:
    await bartek_everywhere(bot)
    [document] = await bot.send("/mydata", "bartek", chat=bot.private("bartek"))
    assert isinstance(document, Document) and document.mime_type == "application/json"
    data: dict[str, Any] = json.loads(document.data)
    core = data["core"]
    assert core["member"]["reference"] == "console:bartek" and core["member"]["name"] == "Bartek"
    assert {(c["community"], c["role"]) for c in core["communities"]} == {("Sunny Estate", "member"), ("Garden Club", "organiser")}
    assert [c["flow"] for c in core["conversations_in_progress"]] == ["poll.new"]
    sent = {m["state"] for m in core["messages_to_you"]}
    assert sent == {"sent", "pending"}  # the export he got, and the file still on its way
    votes = {(v["community"], v["poll"], v["choice"]) for v in data["polls"]["votes"]}
    assert votes == {("Sunny Estate", 1, "Library"), ("Sunny Estate", 3, "Kefir"), ("Sunny Estate", 3, "Oat milk")}
    assert "Secretly" not in document.data.decode()  # an anonymous choice never travels in a file
    assert data["polls"]["polls_you_created_or_closed"] == [
        {"community": "Garden Club", "poll": 1, "question": "Compost day?", "created_by_you": True, "closed_by_you": False}
    ]
    assert data["care"]["weekly_digest"][0]["community"] == "Garden Club" and data["care"]["weekly_digest"][0]["wanted"]
    assert [a["which"] for a in data["care"]["asked_to_take_part"]] == ["survey:1", "poll:1", "poll:2", "poll:3"]
    [taking_part] = data["surveys"]["taking_part"]
    answers = {a["question"]: a["answer"] for q in taking_part["questionnaires"] for a in q["answers"]}
    assert answers["convince"] == "Bartek likes a free tasting" and answers["cups"] == 3
    assert data["maps"]["chosen_pickup_points"][0]["name"] == "Kiosk"
    assert data["maps"]["remembered_location"]["latitude"] == 52.2297
    assert data["maps"]["points_you_added"] == [{"community": "Sunny Estate", "point": 1, "name": "Kiosk"}]
    # every table with a row pointing at him is represented in the file
    db = bot.core.db
    for table, columns in member_columns(db).items():
        held = sum(db.execute(f"SELECT COUNT(*) FROM {table} WHERE {c} = ?", [bot.member("bartek").id]).fetchone()[0] for c in columns)
        owner = next(d.feature for d in registry.declarations() if table in d.personal)
        if held:
            assert any(value for value in data[owner].values()), table


async def test_mydata_in_a_group_goes_privately(bot: Harness) -> None:
    assert texts(await bot.send("/mydata", "bartek")) == "Bartek, I've sent you your data privately."
    [sent] = [o for o in await bot.outbox() if o.chat_ref == "console:bartek"]
    assert isinstance(sent.reply, Document) and json.loads(sent.reply.data)["core"]["member"]["name"] == "Bartek"


async def test_forgetme_leaves_no_trace_and_changes_no_result(bot: Harness) -> None:
    old_id = await bartek_everywhere(bot)
    db = bot.core.db
    before = tallies(db)
    survey_before = survey_answers(db)
    assert "Bartek" in texts(await bot.send("/results 1"))

    assert texts(await bot.send("/forgetme", "bartek")) == "Bartek, I've sent you a private message."
    [question] = [o.reply for o in await bot.outbox() if o.chat_ref == "console:bartek" and isinstance(o.reply, Choices)]
    assert "This cannot be undone." in question.text
    assert "You will also stop being an organiser of Garden Club." in question.text
    done = await bot.send("1", "bartek", chat=bot.private("bartek"))
    assert texts(done) == "Done: I have forgotten you. Goodbye, and thank you for taking part."
    await bot.outbox()

    assert tallies(db) == before
    assert survey_answers(db) == without(survey_before, PERSONAL)  # his words and his photo went, his counts stay
    assert db.execute("SELECT COUNT(*) FROM member_locations").fetchone()[0] == 0
    assert not (Path(bot.core.settings.database).resolve().parent / "shelf-bartek.jpg").exists()  # the photo file too
    results = texts(await bot.send("/results 1"))
    assert "Bartek" not in results and "Celina" in results and "3 people voted." in results
    for table in tables(db):
        for row in db.query(f"SELECT * FROM {table}"):
            for column, value in row.items():
                if isinstance(value, str):
                    assert "bartek" not in value.lower(), (table, column, value[:200])
    for table, columns in member_columns(db).items():
        for column in columns:
            assert db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", [old_id]).fetchone()[0] == 0, (table, column)
    assert db.execute("SELECT COUNT(*) FROM poll_votes WHERE voter_key = ?", [f"m:{old_id}"]).fetchone()[0] == 0

    # If he comes back, he is someone new, and his old anonymous vote is no longer his
    assert bot.member("bartek") is None
    assert ack(await bot.pick("v:2:2", "bartek")) == "Your vote: Secretly no"
    counts, voters = tallies(db)[2]
    assert voters == before[2][1] + 1


async def test_forgetme_asks_first_and_only_its_member_can_answer(bot: Harness) -> None:
    await bot.send("/poll Lunch? | Pizza | Soup")
    await bot.pick("v:1:1", "bartek")
    question = choices(await bot.send("/forgetme", "bartek", chat=bot.private("bartek")))
    yes = question.options[0].payload
    assert texts(await bot.pick(yes, "celina", chat=bot.private("celina"))) == "This question is no longer open."
    await bot.send("/lang pl", "bartek", chat=bot.private("bartek"))
    question = choices(await bot.send("/forgetme", "bartek", chat=bot.private("bartek")))
    retry = texts(await bot.send("tak", "bartek", chat=bot.private("bartek")))
    assert retry.startswith("Odpowiedz jednym z numerów.") and "Czy mam Cię zapomnieć?" in retry  # the console numbers its choices
    assert texts(await bot.send("2", "bartek", chat=bot.private("bartek"))) == "Nic nie zostało usunięte."
    assert bot.member("bartek") is not None and "Bartek" in texts(await bot.send("/results"))


async def test_telegram_members_get_a_link_to_their_data(bot: Harness) -> None:
    from localbot.adapters.base import DEFAULT_CAPABILITIES
    from localbot.events import Command, Sender
    from tests.helpers import RecordingAdapter

    bot.core.attach(RecordingAdapter("telegram", DEFAULT_CAPABILITIES["telegram"]))
    sender = Sender("telegram:7", "Ola")
    [link] = await bot.handle(Command(chat=Chat("telegram:-5", ChatKind.GROUP, "TG"), sender=sender, name="mydata", args=""))
    assert isinstance(link, PrivateLink) and link.payload == "mydata"
    [document] = await bot.handle(Command(chat=Chat("telegram:7", ChatKind.PRIVATE), sender=sender, name="start", args="mydata"))
    assert isinstance(document, Document) and json.loads(document.data)["core"]["member"]["reference"] == "telegram:7"


async def test_retention_anonymises_old_answers_and_forgets_who_left(bot: Harness) -> None:
    await bartek_everywhere(bot)
    db = bot.core.db
    garden = community_store.community_for_chat(db, GARDEN.ref)
    await bot.send("LEAVE", "dorota", chat=bot.private("dorota"))
    await bot.send("/close 3")
    await bot.send("/survey stop 1")
    old, old_answers = tallies(db), survey_answers(db)
    bot.clock.advance(timedelta(days=400))
    fresh = choices(await bot.send("/poll Fresh? | Yes | No")).options[0].payload  # recent: stays named
    await bot.pick(fresh, "celina")
    await bot.outbox()
    pending = db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]

    expiry = Expiry(before=bot.clock.now() - timedelta(days=365), secret=bot.core.secret, now=bot.clock.now())
    done = registry.purge(db, expiry)
    assert done["members forgotten"] == 1 and bot.member("dorota") is None
    # polls 1 and 3 closed long ago: Bartek and Celina in each (Dorota's were unlinked when she was forgotten)
    assert done["polls: voters anonymised"] == 4
    assert done["core: delivered messages deleted"] > 0
    assert done["surveys: participants anonymised"] == 2 and done["surveys: personal answers deleted"] == 2
    assert survey_answers(db) == without(old_answers, PERSONAL)
    assert db.execute(
        "SELECT COUNT(*) FROM survey_participants p JOIN members m ON m.id = p.member_id WHERE m.messenger != 'forgotten'"
    ).fetchone()[0] == 0
    assert {poll: tally for poll, tally in tallies(db).items() if poll in old} == old
    assert db.execute("SELECT COUNT(*) FROM poll_votes WHERE poll_id IN (1, 3) AND member_id IS NOT NULL").fetchone()[0] == 0
    fresh_id = int(fresh.split(":")[1])
    assert db.execute("SELECT member_id FROM poll_votes WHERE poll_id = ?", [fresh_id]).fetchone()[0] == bot.member("celina").id
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0] == pending
    assert bot.member("bartek") is not None and garden is not None  # still a member: only his old answers lost their name
    again = registry.purge(db, expiry)
    assert again["polls: voters anonymised"] == 0 and again["members forgotten"] == 0
    assert again["surveys: participants anonymised"] == 0


def test_db_purge_on_the_command_line(tmp_path: Path) -> None:
    import asyncio

    from localbot.clock import ManualClock
    from localbot.core import Core
    from localbot.settings import Settings
    from localbot.storage import open_database
    from tests.helpers import RecordingAdapter

    settings = Settings(database=tmp_path / "old.db")
    db = open_database(settings.database)
    core = Core(settings, db, clock=ManualClock(datetime(2020, 1, 6, 9, tzinfo=UTC)))
    core.attach(RecordingAdapter("console"))
    bot = Harness(core, core.clock, core.adapters["console"])  # type: ignore[arg-type]

    async def play() -> None:
        await bot.make_organiser("anna")
        await bot.send("/poll Old? | Yes | No")
        await bot.pick("v:1:1", "bartek")
        await bot.send("/close")

    asyncio.run(play())
    db.close()
    dry = localbot("--db", str(settings.database), "db", "purge", "--older-than", "365d", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0 and "Would purge data older than" in dry.stdout and "polls: voters anonymised: 1" in dry.stdout
    db = open_database(settings.database)
    assert db.execute("SELECT COUNT(*) FROM poll_votes WHERE member_id IS NOT NULL").fetchone()[0] == 1
    db.close()
    done = localbot("--db", str(settings.database), "db", "purge", "--older-than", "52w", cwd=tmp_path)
    assert done.returncode == 0 and "Purged data older than" in done.stdout
    db = open_database(settings.database)
    assert db.execute("SELECT COUNT(*) FROM poll_votes WHERE member_id IS NULL").fetchone()[0] == 1
    db.close()
    bad = localbot("--db", str(settings.database), "db", "purge", "--older-than", "soon", cwd=tmp_path)
    assert bad.returncode == 2 and "365d" in bad.stderr


def _habit(db: sqlite_utils.Database, run: survey_store.Run) -> dict[str, Any]:
    """A run's habit map as JSON, without the participants' names: every figure a report shows."""
    from localbot.surveys.report import build

    data = build(db, run, "en").to_json()
    data["compliance"] = sorted(json.dumps({k: v for k, v in p.items() if k not in ("name", "ref", "status")}, sort_keys=True) for p in data["compliance"])
    return data


async def test_forgotten_survey_answers_cannot_be_linked_to_an_earlier_export(bot: Harness) -> None:
    """After /forgetme, a diary and a one-off survey keep every figure of their habit maps, but an
    export taken before cannot be matched with what is left: no shared stand-in, no entry id, no
    minute, no waking window or time zone."""
    shutil.copytree(EXAMPLES, Path.cwd() / "config" / "surveys")
    await bot.send("/askbudget 10")
    for name in ("bartek", "celina"):
        await bot.send("hello", name)
    await bot.send("/survey start coffee-habits")
    await bot.send("1", "bartek")
    for answer in SURVEY_ANSWERS:
        await bot.send(answer, "bartek", chat=bot.private("bartek"))
    await bot.send("/survey start coffee-diary")
    for name in ("bartek", "celina"):
        await bot.pick("sv:join:2", name)  # "Join the diary"
        assert "You're in!" in texts(await bot.send("07:00-22:00", name, chat=bot.private(name)))
    db = bot.core.db
    end = bot.clock.now() + timedelta(days=3)
    count = 0
    while (delivered := await run_next_job(bot, end)) is not None:
        for item in delivered:
            if item.purpose != "prompt":
                continue
            who = item.chat_ref.partition(":")[2]
            me = bot.private(who)
            count += 1
            if count % 4 == 0:  # late, often within the hour its check-in closed in
                bot.clock.advance(timedelta(minutes=61 + count % 30))
            for answer in ("1", "now", "1", "2", "-") if count % 3 else ("2", "3"):
                await bot.send(answer, who, chat=me)
    for at in (timedelta(minutes=17), timedelta(minutes=47)):  # "I just had one", with the minutes of now
        bot.clock.advance(at)
        await bot.send("/had", "bartek", chat=bot.private("bartek"))
        for answer in ("now", "1", "1"):
            await bot.send(answer, "bartek", chat=bot.private("bartek"))
    await bot.outbox()
    runs = survey_store.runs(db)
    before = {run.id: _habit(db, run) for run in runs}
    exported = list(survey_store.export_rows(db))
    his = [row for row in exported if row["participant"] == "console:bartek"]
    assert {row["entry_kind"] for row in his} == {"once", "prompt", "self"}
    assert any(not row["on_time"] and row["entry_kind"] == "prompt" for row in his)

    await bot.send("/forgetme", "bartek", chat=bot.private("bartek"))
    await bot.send("1", "bartek", chat=bot.private("bartek"))

    assert [c["value"] for c in before[1].pop("convincers")] == ["bartek likes a free tasting"]
    after_maps = {run.id: _habit(db, run) for run in runs}
    assert after_maps[1].pop("convincers") == []  # his own words went, as they could name him
    assert after_maps == before  # every other figure of both habit maps: heat map, breakdowns, compliance
    after = list(survey_store.export_rows(db))
    assert len(after) == len(exported) - 1  # only his free text went
    celina = [row for row in after if row["participant"] == "console:celina"]
    assert celina == [row for row in exported if row["participant"] == "console:celina"]
    theirs = [row for row in after if row["participant"].startswith("forgotten:")]
    # one stand-in per participation: the survey and the diary are not one person's any more
    assert len({row["participant"] for row in theirs}) == 2
    assert len({(row["participant"], row["survey"]) for row in theirs}) == 2
    assert not {row["prompt_id"] for row in theirs} & {row["prompt_id"] for row in exported}
    for row in theirs:
        for column in ("prompt_sent_at", "answered_at"):
            assert row[column] == "" or row[column].endswith(":00:00Z"), row
    # nothing else keeps the old participation: its jobs, its window, its zone, when it joined
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE dedupe_key LIKE 'survey:%:p1:%'").fetchone()[0] == 0
    forgotten = list(db.query(
        """SELECT p.*, r.created_at AS started FROM survey_participants p JOIN survey_runs r ON r.id = p.run_id
           JOIN members m ON m.id = p.member_id WHERE m.messenger = 'forgotten'"""
    ))
    assert len(forgotten) == 2
    for row in forgotten:
        assert row["window_start"] is None and row["window_end"] is None and row["first_day"] is None
        assert row["timezone"] == "UTC" and row["joined_at"] == row["changed_at"] == row["started"]
    for entry in db.query("SELECT * FROM survey_entries WHERE participant_id IN (?, ?)", [forgotten[0]["id"], forgotten[1]["id"]]):
        for column in ("planned_at", "send_by", "sent_at", "expires_at", "started_at", "completed_at"):
            assert entry[column] is None or entry[column].endswith(":00:00.000Z"), (column, entry)
