"""Authorisation everywhere: every organiser command, tried by a member and by another community's
organiser, is refused, and nothing of the community changes. The list of commands comes from the
router, so a command a feature adds later is checked too."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from localbot.community import store as community_store
from localbot.handlers import build_router
from localbot.handlers.router import Where
from tests.helpers import GROUP, Harness, texts
from tests.organiser_helpers import OTHER, organiser_elsewhere
from tests.survey_helpers import EXAMPLES
from tests.tasting_helpers import add_points, write_tasting

#: Arguments that would make each command do something, were it allowed.
ARGS = {"poll": "Take it? | Yes | No", "setrules": "Anything goes", "setwelcome": "Hi {name}", "export": "members", "digest": "on", "newcommunity": "Hijack"}


def organiser_commands() -> list[Any]:
    return sorted((spec for spec in build_router().commands.values() if spec.organiser_only), key=lambda s: s.name)


def snapshot(bot: Harness, community_id: int) -> dict[str, Any]:
    db = bot.core.db
    return {
        "community": next(db.query("SELECT * FROM communities WHERE id = ?", [community_id])),
        "polls": list(db.query("SELECT * FROM polls WHERE community_id = ?", [community_id])),
        "memberships": list(db.query("SELECT * FROM memberships WHERE community_id = ? ORDER BY member_id", [community_id])),
        "communities": db.execute("SELECT COUNT(*) FROM communities").fetchone()[0],
        "digest": list(db.query("SELECT * FROM digest_choices WHERE community_id = ?", [community_id])),
    }


async def test_the_list_of_organiser_commands_is_what_we_expect_at_least(bot: Harness) -> None:
    names = {spec.name for spec in organiser_commands()}
    assert {"poll", "close", "invite", "newcommunity", "export", "setrules", "setwelcome", "digest"} <= names


async def test_members_cannot_use_any_organiser_command(bot: Harness) -> None:
    await bot.send("/poll Lunch? | Pizza | Soup")
    await bot.send("hello", "bartek")
    before = snapshot(bot, bot.community().id)
    for spec in organiser_commands():
        chat = bot.private("bartek") if spec.where is Where.PRIVATE else GROUP
        reply = texts(await bot.send(f"/{spec.name} {ARGS.get(spec.name, '')}", "bartek", chat=chat))
        assert reply == f"Only organisers can use /{spec.name}.", spec.name
        private = texts(await bot.send(f"/{spec.name} {ARGS.get(spec.name, '')}", "bartek", chat=bot.private("bartek")))
        assert private in (f"Only organisers can use /{spec.name}.", f"Please use /{spec.name} in your group chat."), spec.name
    assert snapshot(bot, bot.community().id) == before
    assert [o for o in await bot.outbox() if o.chat_ref != GROUP.ref] == []
    await bot.send("/lang pl", "bartek")
    assert texts(await bot.send("/close", "bartek")) == "Tylko organizatorzy mogą używać /close."


async def test_another_communitys_organiser_cannot_act_here(bot: Harness) -> None:
    await bot.send("/poll Lunch? | Pizza | Soup")
    other = await organiser_elsewhere(bot, "zofia")
    await bot.send("/poll Theirs? | A | B", "zofia", chat=OTHER)
    await bot.send("hello", "zofia")  # she is in Sunny Estate's group too, as a member
    sunny = bot.community().id
    before = snapshot(bot, sunny)
    for spec in organiser_commands():
        if spec.where is Where.PRIVATE:
            continue
        reply = texts(await bot.send(f"/{spec.name} {ARGS.get(spec.name, '')}", "zofia"))
        assert reply == f"Only organisers can use /{spec.name}.", spec.name
    # Privately she speaks for her current community: everything she does lands there, never here
    with bot.core.db.atomic():
        community_store.set_current_community(bot.core.db, bot.member("zofia").id, other.id)
    for spec in organiser_commands():
        await bot.send(f"/{spec.name} {ARGS.get(spec.name, '')}", "zofia", chat=bot.private("zofia"))
    await bot.pick(f"ex:{sunny}:polls", "zofia", chat=bot.private("zofia"))
    after = snapshot(bot, sunny)
    assert {k: v for k, v in after.items() if k != "communities"} == {k: v for k, v in before.items() if k != "communities"}
    sent = [o for o in await bot.outbox() if o.community_id == sunny or o.chat_ref == GROUP.ref]
    assert sent == []
    assert next(bot.core.db.query("SELECT status FROM polls WHERE community_id = ?", [sunny]))["status"] == "open"


async def test_organiser_actions_behind_member_commands_and_buttons(bot: Harness) -> None:
    """/survey is for everyone, but starting and stopping one is for organisers; report and export
    buttons may be pressed by anyone who sees them, so they check again."""
    shutil.copytree(EXAMPLES, Path.cwd() / "config" / "surveys")
    await bot.send("/survey start coffee-habits")
    await bot.send("/poll Lunch? | Pizza | Soup")
    await organiser_elsewhere(bot, "zofia")
    await bot.send("hello", "zofia")
    await bot.send("hello", "bartek")
    before = snapshot(bot, bot.community().id)
    runs = list(bot.core.db.query("SELECT id, status FROM survey_runs"))
    add_points(bot)
    write_tasting(Path.cwd() / "config" / "tastings")
    await bot.send("/tasting start oat-drinks")
    tastings = list(bot.core.db.query("SELECT id, status FROM tastings"))
    for who in ("bartek", "zofia"):
        assert texts(await bot.send("/survey start coffee-diary", who)) == "Only organisers can start surveys."
        assert texts(await bot.send("/survey stop 1", who)).startswith("Only organisers can")
        for command in ("/tasting start oat-drinks", "/tasting close 1", "/tasting thanks 1", "/tasting sessions 1", "/tasting new"):
            assert "organisers" in texts(await bot.send(command, who)).lower(), (who, command)
        for payload in ("rp:poll:1", "rp:survey:1", f"ex:{bot.community().id}:members", "ex:1:polls"):
            assert "Only organisers can use" in texts(await bot.pick(payload, who)), (who, payload)
    assert snapshot(bot, bot.community().id) == before
    assert list(bot.core.db.query("SELECT id, status FROM survey_runs")) == runs
    assert list(bot.core.db.query("SELECT id, status FROM tastings")) == tastings
    assert [o for o in await bot.outbox() if o.chat_ref in ("console:bartek", "console:zofia")] == []
