"""The statements a vote costs: a budget for the busiest path of the bot.

A burst of votes runs this path thousands of times a second (``bench/run.py``'s
``handler_votes_per_s``); each statement, and each page a commit writes, counts. The budget is
exact on purpose, so that a change that adds work here is a decision someone makes, not a drift.
"""

from __future__ import annotations

from localbot.core import Core
from localbot.events import Chat, ChatKind, ChoicePicked, Command, Sender
from localbot.settings import Settings
from localbot.storage import open_database
from tests.helpers import texts

GROUP = Chat("telegram:-100200", ChatKind.GROUP, "Estate")


async def test_a_vote_is_one_transaction_of_fifteen_statements_and_rewrites_no_pending_edit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database=tmp_path / "votes.db", organisers="telegram:1")
    db = open_database(settings.database)
    core = Core(settings, db)
    assert "Poll #1" in texts(await core.handle(Command(chat=GROUP, sender=Sender("telegram:1", "Org"), name="poll", args="Q? | A | B")))
    await core.handle(ChoicePicked(chat=GROUP, sender=Sender("telegram:2", "First"), payload="v:1:1", event_id="telegram:1"))
    statements: list[str] = []
    db.conn.set_trace_callback(lambda sql: statements.append(" ".join(sql.split())))
    replies = await core.handle(ChoicePicked(chat=GROUP, sender=Sender("telegram:3", "Second"), payload="v:1:2", event_id="telegram:2"))
    db.conn.set_trace_callback(None)
    assert texts(replies) == "Your vote: B"
    assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
    assert [s for s in statements if s in ("BEGIN", "COMMIT")] == ["BEGIN", "COMMIT"]
    # the live edit of the group message is pending already: found, not rewritten
    assert any(s.startswith("SELECT id, payload FROM outbox") for s in statements)
    assert not [s for s in statements if s.startswith("UPDATE outbox")]
    # plain reads open no savepoints of their own
    assert not [s for s in statements if "sqlite_utils_query" in s]
    assert len(statements) == 15, "\n".join(statements)
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0] == 1
    db.close()
