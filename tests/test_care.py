"""Community care: rules and a welcome for newcomers, and the organisers' weekly digest."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from localbot import scheduler
from localbot.core import Core
from localbot.events import MemberJoined
from localbot.handlers.care import DIGEST_JOB, PLAN_JOB
from localbot.handlers.privacy import TIDY_JOB
from localbot.replies import Choices
from tests.helpers import GROUP, Harness, texts
from tests.organiser_helpers import roster_community
from tests.survey_helpers import EXAMPLES

RULES = "1. Be kind.\n2. No adverts."


async def test_rules_and_welcome_set_by_organisers_reach_newcomers(bot: Harness) -> None:
    assert texts(await bot.send("/rules", "bartek")) == "Sunny Estate has no rules written down yet."
    assert "/setrules" in texts(await bot.send("/rules"))  # organisers are told how to write them
    assert texts(await bot.send(f"/setrules {RULES}")).startswith("Saved.")
    assert texts(await bot.send("/rules", "bartek")) == f"📜 The rules of Sunny Estate:\n{RULES}"

    saved = texts(await bot.send("/setwelcome Hello {name}, this is {community}. Say hi!"))
    assert saved == "Saved. Newcomers will read, for example:\nHello Anna, this is Sunny Estate. Say hi!"
    joined = await bot.handle(MemberJoined(chat=GROUP, sender=bot.sender("dorota")))
    assert [texts([r]) for r in joined] == ["Hello Dorota, this is Sunny Estate. Say hi!", f"📜 The rules of Sunny Estate:\n{RULES}"]

    code = bot.community().join_code
    by_code = texts(await bot.send(f"JOIN {code}", "zoe", chat=bot.private("zoe")))
    assert by_code == f"Hello Zoe, this is Sunny Estate. Say hi!\n\n📜 The rules of Sunny Estate:\n{RULES}"
    again = texts(await bot.send(f"JOIN {code}", "zoe", chat=bot.private("zoe")))
    assert "rules" not in again  # only newcomers get them

    assert "Newcomers now read:\nHello Anna" in texts(await bot.send("/setwelcome"))
    assert "Welcome to Sunny Estate, Anna!" in texts(await bot.send("/setwelcome -"))
    assert texts(await bot.send("/setrules -")) == "The rules of Sunny Estate are removed."
    joined = await bot.handle(MemberJoined(chat=GROUP, sender=bot.sender("emil")))
    assert texts(joined) == "Welcome to Sunny Estate, Emil! I'm the group's helper bot: polls, tastings, pickup points. Send /help to see more."


async def test_wrong_rules_and_welcomes_are_refused_in_the_organisers_language(bot: Harness) -> None:
    await bot.send("/lang pl")
    assert texts(await bot.send("/setwelcome Cześć {imie}!")) == (
        "Nie znam pola {imie}. Powitanie może zawierać {name} (nowa osoba) i {community}."
    )
    assert texts(await bot.send("/setrules " + "x" * 3001)) == "To ma 3001 znaków; zmieść się w 3000."
    assert "/setrules -" in texts(await bot.send("/setrules"))
    assert bot.community().settings.get("welcome") is None and bot.community().settings.get("rules") is None
    await bot.send("/lang id", "bartek")
    assert texts(await bot.send("/setrules Hello", "bartek")) == "Hanya pengurus yang dapat menggunakan /setrules."
    assert texts(await bot.send("/rules", "bartek")) == "Sunny Estate belum memiliki aturan tertulis."


# --- the weekly digest ---------------------------------------------------------------------------

MONDAY = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # 09:00 in Warsaw, the test community's time zone


def digests(outgoing: list) -> list:  # type: ignore[type-arg]
    return [o for o in outgoing if o.purpose == "digest"]


async def test_the_weekly_digest_reaches_organisers_once_a_week(bot: Harness) -> None:
    await bot.send("/poll Where do we meet? | Kiosk | Library")
    await bot.pick("v:1:1", "bartek")
    await bot.pick("v:1:2", "celina")
    await bot.wait(timedelta(hours=1))
    assert [j.kind for j in scheduler.pending_jobs(bot.core.db) if j.kind != TIDY_JOB] == [PLAN_JOB]  # armed for Sunday noon

    bot.clock.set(MONDAY - timedelta(minutes=1))
    await bot.wait(timedelta())
    assert digests(await bot.outbox()) == []  # booked on Sunday, due on Monday morning
    await bot.wait(timedelta(minutes=1))
    [first] = digests(await bot.outbox())
    assert first.chat_ref == "console:anna" and isinstance(first.reply, Choices)
    text = first.reply.text
    assert text.startswith("📬 Weekly digest of Sunny Estate, Mon, Jan 5, 2026 – Mon, Jan 12, 2026")
    assert "👥 3 members · 3 new · 0 left" in text and "🙋 3 active this week (0 returning)" in text
    assert "🆕 New: Anna, Bartek, Celina" in text
    assert "#1 Where do we meet? — 2 of 3 answered (67%) · open" in text

    # the second week: Bartek comes back, Dorota is new, and a poll is answered after 2 and 4 hours
    await bot.send("/poll Lunch? | Pizza | Soup")
    bot.clock.advance(timedelta(hours=2))
    await bot.pick("v:2:1", "bartek")
    bot.clock.advance(timedelta(hours=2))
    await bot.handle(MemberJoined(chat=GROUP, sender=bot.sender("dorota")))
    await bot.pick("v:2:2", "dorota")
    await bot.send("/close 1")
    bot.clock.set(MONDAY + timedelta(days=7))
    await bot.wait(timedelta())
    [second] = digests(await bot.outbox())
    text = second.reply.text
    assert "👥 4 members · 1 new · 0 left" in text and "🙋 3 active this week (2 returning)" in text
    assert "🆕 New: Dorota" in text
    assert "#1 Where do we meet? — 2 of 4 answered (50%) · closed" in text
    assert "#2 Lunch? — 2 of 4 answered (50%) · open" in text
    assert "⏱ Median time to answer: 3 hours (2 votes this week)" in text

    # a restart does not send it again
    core = Core(bot.core.settings, bot.core.db, clock=bot.clock, secret=bot.core.secret)
    core.attach(bot.adapter)
    assert await core.run_until_idle() == 0
    assert digests(await bot.outbox()) == []


async def test_who_gets_the_digest(bot: Harness) -> None:
    """Organisers with the role unless they stop it; group admins once they ask; nobody when
    nothing happened."""
    await bot.wait(timedelta())  # the bot starts: the weekly planning is armed
    bot.adapter.admins.add((GROUP.ref, "console:gosia"))
    await bot.send("hello", "gosia")
    assert texts(await bot.send("/digest on", "gosia")) == "You will get the digest of Sunny Estate privately every Monday morning."
    assert texts(await bot.send("/digest on", "bartek")) == "Only organisers can use /digest."
    await bot.send("/poll Lunch? | Pizza | Soup")
    bot.clock.set(MONDAY)
    await bot.wait(timedelta())
    sent = digests(await bot.outbox())
    assert sorted(o.chat_ref for o in sent) == ["console:anna", "console:gosia"]

    stop = sent[0].reply.options[0].payload
    assert texts(await bot.pick(stop, "anna", chat=bot.private("anna"))).startswith("You will no longer get the weekly digest of Sunny Estate.")
    assert texts(await bot.pick("dg:x:off", "anna")) == "This button no longer works."
    assert texts(await bot.send("/digest off", "gosia")).startswith("You will no longer get")
    assert texts(await bot.send("/digest weekly")).startswith("Send /digest for the last seven days")
    await bot.send("/close")
    bot.clock.set(MONDAY + timedelta(days=7))
    await bot.wait(timedelta())
    assert digests(await bot.outbox()) == []  # both stopped it

    await bot.send("/digest on")
    bot.clock.set(MONDAY + timedelta(days=14))
    await bot.wait(timedelta())
    assert [o.chat_ref for o in digests(await bot.outbox())] == ["console:anna"]
    bot.clock.set(MONDAY + timedelta(days=21))  # a week with nothing at all in it
    await bot.wait(timedelta())
    assert digests(await bot.outbox()) == []
    jobs = [j for j in bot.core.db.query("SELECT dedupe_key, state FROM jobs WHERE kind = ?", [DIGEST_JOB])]
    assert all(j["state"] == "done" for j in jobs) and len(jobs) == 4


async def test_digest_on_demand(bot: Harness) -> None:
    await bot.send("/poll Lunch? | Pizza | Soup")
    await bot.pick("v:1:1", "bartek")
    await bot.send("/lang pl")
    now = texts(await bot.send("/digest", chat=bot.private("anna")))
    assert now.startswith("📬 Cotygodniowe podsumowanie społeczności Sunny Estate")
    assert "odpowiedziało 1 z 2 (50%)" in now
    assert "Mediana czasu odpowiedzi" in now
    quiet = await bot.send("/digest", "zoe", chat=bot.private("zoe"))
    assert texts(quiet).startswith("You are not in a community yet.")


def test_the_digest_is_due_on_monday_morning_in_each_time_zone() -> None:
    from zoneinfo import ZoneInfo

    from localbot.care.digest import digest_due_after, plan_due_after

    sunday_noon = plan_due_after(datetime(2026, 1, 5, 9, tzinfo=UTC))
    assert sunday_noon == datetime(2026, 1, 11, 12, tzinfo=UTC)
    assert plan_due_after(sunday_noon) == sunday_noon + timedelta(days=7)
    for zone, expected in (
        ("Pacific/Kiritimati", datetime(2026, 1, 11, 19, tzinfo=UTC)),  # UTC+14: still after Sunday noon
        ("Asia/Jakarta", datetime(2026, 1, 12, 2, tzinfo=UTC)),
        ("Europe/Warsaw", datetime(2026, 1, 12, 8, tzinfo=UTC)),
        ("Pacific/Pago_Pago", datetime(2026, 1, 12, 20, tzinfo=UTC)),  # UTC-11
    ):
        due = digest_due_after(ZoneInfo(zone), sunday_noon)
        assert due == expected and due > sunday_noon
    # across the change to summer time the digest stays at 09:00 local
    assert digest_due_after(ZoneInfo("Europe/Warsaw"), datetime(2026, 3, 29, 12, tzinfo=UTC)) == datetime(2026, 3, 30, 7, tzinfo=UTC)


# --- the ask budget, applied to polls ---------------------------------------------------------------


async def test_a_poll_over_the_ask_budget_of_a_group_member_is_refused(bot: Harness) -> None:
    assert texts(await bot.send("/askbudget")) == (
        "In Sunny Estate nobody is asked to take part (a poll, a survey, a tasting) more than 3 times in seven days. /askbudget COUNT changes it."
    )
    assert texts(await bot.send("/askbudget 1")) == "From now on nobody in Sunny Estate is asked more than 1 time in seven days."
    await bot.send("hello", "bartek")
    await bot.send("/poll Lunch? | Pizza | Soup")
    await bot.send("/lang pl")
    refused = texts(await bot.send("/poll Dinner? | Pizza | Soup"))
    assert refused.startswith("Uruchomienie teraz oznaczałoby pytanie 1 osoby częściej")
    assert "Bartek" in refused and "/askbudget" in refused
    assert bot.core.db.execute("SELECT COUNT(*) FROM polls").fetchone()[0] == 1  # nothing stored
    bot.clock.advance(timedelta(days=7, minutes=1))
    assert "Dinner?" in texts(await bot.send("/poll Dinner? | Pizza | Soup"))
    asked = [r["ref"] for r in bot.core.db.query("SELECT ref FROM asks ORDER BY id")]
    assert asked == ["poll:1", "poll:2"]  # Bartek's asks; Anna started them, so they did not ask her


async def test_members_reached_one_to_one_over_budget_do_not_get_the_poll(bot: Harness) -> None:
    anna = bot.private("anna")
    await roster_community(bot, "Oak Street", ("bartek", "celina"))
    await bot.send("/askbudget 1", chat=anna)
    await bot.send("/poll Lunch? | Pizza | Soup", chat=anna)
    assert sorted(o.chat_ref for o in await bot.outbox() if o.purpose == "poll") == ["console:bartek", "console:celina"]
    second = texts(await bot.send("/poll Dinner? | Pizza | Soup", chat=anna))
    assert "2 members who talk to me one to one have had this week's asks already, so I did not message them" in second
    assert [o for o in await bot.outbox() if o.purpose == "poll"] == []
    assert "Dinner?" in texts(await bot.send("/polls", "bartek", chat=bot.private("bartek")))  # they still find it


async def test_askbudget_refuses_what_it_cannot_use(bot: Harness) -> None:
    await bot.send("/lang id")
    assert texts(await bot.send("/askbudget many")) == "Harap berikan jumlah permintaan per minggu dari 1 sampai 50, misalnya /askbudget 5."
    assert texts(await bot.send("/askbudget 0")).startswith("Harap berikan jumlah")
    assert texts(await bot.send("/askbudget 5", "bartek")) == "Only organisers can use /askbudget."
    assert "ask_budget" not in bot.community().settings


async def test_the_digest_tells_how_surveys_are_going(bot: Harness) -> None:
    shutil.copytree(EXAMPLES, Path.cwd() / "config" / "surveys")
    await bot.wait(timedelta())
    await bot.send("hello", "bartek")
    await bot.send("hello", "celina")
    await bot.send("/survey start coffee-habits")
    await bot.send("1", "bartek")
    for answer in ("4", "5", "1", "A tasting", "-"):  # never drinks coffee: a short questionnaire, completed
        await bot.send(answer, "bartek", chat=bot.private("bartek"))
    bot.clock.set(MONDAY)
    await bot.wait(timedelta())
    [digest] = digests(await bot.outbox())
    assert "📋 Surveys this week:\n  #1 Coffee habits — 1 of 3 take part (33%) · 1 completed · open" in digest.reply.text
