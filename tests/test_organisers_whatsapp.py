"""Organiser tools through the real WhatsApp adapter and the fake Twilio API: rules reach a member
who joins by code, an organiser's export and a member's own data arrive as files at signed links,
and a member forgets themselves by number, leaving the poll's count as it was."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from openpyxl import load_workbook

from localbot.community import store as community_store
from localbot.polls import store as polls
from tests.fakes.twilio_api import Sent
from tests.fakes.whatsapp_rig import ENGLISH, INDONESIAN, POLISH, WhatsAppRig, whatsapp_rig


async def fetch_file(rig: WhatsAppRig, sent: Sent) -> bytes:
    """The file a message carries: as WhatsApp media, or as a link in the text for files WhatsApp
    does not take as media."""
    links = sent.media_urls or re.findall(r"https://\S+", sent.body or "")
    assert links, sent
    response = await rig.http.get(links[-1])
    assert response.status_code == 200
    return response.content


async def test_organiser_tools_on_whatsapp(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path) as rig:
        rig.core.settings.organisers.append(POLISH)
        await rig.say(POLISH, "/newcommunity Osiedle Dębowe")
        await rig.replies(POLISH)
        community = community_store.community_by_name(rig.core.db, "Osiedle Dębowe")
        assert community is not None
        await rig.say(POLISH, "/setrules Bądźmy mili. Bez reklam.")
        assert (await rig.reply(POLISH)).startswith("Zapisane.")

        await rig.say(ENGLISH, f"JOIN {community.join_code}", name="Emma")
        welcome = await rig.reply(ENGLISH)
        assert welcome.startswith("Welcome to Osiedle Dębowe!") and welcome.endswith("📜 The rules of Osiedle Dębowe:\nBądźmy mili. Bez reklam.")
        await rig.say(ENGLISH, "/lang en")  # the community speaks Polish; Emma reads English
        await rig.replies(ENGLISH)
        await rig.say(INDONESIAN, f"GABUNG {community.join_code}", name="Ayu")
        assert "📜 Aturan Osiedle Dębowe:" in await rig.reply(INDONESIAN)

        await rig.say(POLISH, "/poll Gdzie? | Kiosk | Park")
        await rig.replies(POLISH)
        await rig.replies(ENGLISH)
        await rig.say(ENGLISH, "1")
        await rig.say(INDONESIAN, "2")
        await rig.replies(INDONESIAN)
        await rig.replies(ENGLISH)
        poll = polls.latest_poll(rig.core.db, community.id)
        assert poll is not None
        before = polls.tally(rig.core.db, poll, with_names=False)

        await rig.say(POLISH, "/export members xlsx")
        await rig.flush()
        [document] = rig.api.to(POLISH)[-1:]
        sheet = load_workbook(io.BytesIO(await fetch_file(rig, document)), read_only=True).active
        members = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert members == {POLISH, ENGLISH, INDONESIAN}  # the one community only

        await rig.say(ENGLISH, "/mydata")
        await rig.replies(ENGLISH)
        data = json.loads(await fetch_file(rig, rig.api.to(ENGLISH)[-1]))
        assert data["core"]["member"]["reference"] == ENGLISH and data["polls"]["votes"][0]["choice"] == "Kiosk"

        await rig.say(ENGLISH, "/forgetme")
        question = await rig.reply(ENGLISH)
        assert question.startswith("Do you want me to forget you?") and "1) Yes, forget me" in question
        await rig.say(ENGLISH, "1")
        assert await rig.reply(ENGLISH) == "Done: I have forgotten you. Goodbye, and thank you for taking part."
        assert rig.member(ENGLISH) is None
        after = polls.tally(rig.core.db, poll, with_names=False)
        assert (after.counts, after.voters) == (before.counts, before.voters)
        confirmations = [row for row in rig.outbox(ENGLISH) if row["state"] == "sent"]
        assert [row["member_id"] for row in confirmations] == [None]  # only the goodbye, tied to nobody
