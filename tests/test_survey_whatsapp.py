"""A diary kept on WhatsApp, through the real adapter and the fake Twilio API: joining one to one,
prompts as free-form messages inside the 24-hour window and as the approved template outside it."""

from __future__ import annotations

from pathlib import Path

from localbot import scheduler
from localbot.surveys import store
from tests.fakes.whatsapp_rig import POLISH, whatsapp_rig
from tests.survey_helpers import studies  # noqa: F401  (a fixture)

PROMPT_TEMPLATE = "HX" + "e" * 32


async def test_a_diary_on_whatsapp_uses_the_prompt_template_when_the_window_is_closed(tmp_path: Path, studies: Path) -> None:  # noqa: F811
    async with whatsapp_rig(tmp_path, templates={"prompt": PROMPT_TEMPLATE}) as rig:
        await rig.join(POLISH)
        await rig.console.send("/survey start coffee-diary")
        [announcement] = await rig.replies(POLISH)
        assert "Kawowy dzienniczek" in announcement and "1) 📔 Dołącz do dzienniczka" in announcement
        await rig.say(POLISH, "1")
        assert "W jakich godzinach zwykle nie śpisz?" in await rig.reply(POLISH)
        await rig.say(POLISH, "7-22")
        assert "Gotowe!" in await rig.reply(POLISH)

        # Two days on, the member has not written for more than 24 hours: the prompt that falls
        # due goes out as the approved template, with the question on one line.
        member = rig.member(POLISH)
        participant = store.runs_of_member(rig.core.db, member.id)[0][1]
        later = next(e for e in store.entries(rig.core.db, participant.id, kind="prompt") if e.day == 2)
        assert later.planned_at is not None
        rig.clock.set(later.planned_at)
        await rig.core.run_until_idle()
        await rig.flush()
        sent = rig.api.to(POLISH)[-1]
        assert sent.content_sid == PROMPT_TEMPLATE and sent.body is None
        assert sent.content_variables["2"].startswith("☕ Kawowy dzienniczek: pytanie 1 z 5 na dziś")
        assert "Czy od mojego ostatniego pytania była u Ciebie kawa?" in sent.content_variables["2"]
        assert [r["purpose"] for r in rig.outbox(POLISH)][-1] == "prompt"
        await rig.replies(POLISH)

        # Answering the template opens the window: the rest of the check-in is free-form.
        await rig.say(POLISH, "2")
        [question] = await rig.replies(POLISH)
        assert "Co Cię powstrzymało?" in question
        await rig.say(POLISH, "1, 2")
        assert "Dziękuję, zapisane!" in await rig.reply(POLISH)
        [answered] = [e for e in store.entries(rig.core.db, participant.id, kind="prompt", status="sent") if e.started_at]
        assert answered.on_time and answered.day == 2
        assert store.answers_of(rig.core.db, answered.id) == {"had": "no", "put_off": ["no_need", "no_time"]}
        assert scheduler.pending_jobs(rig.core.db, "survey.prompt")  # the diary goes on
