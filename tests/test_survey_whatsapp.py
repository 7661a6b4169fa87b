"""Surveys on WhatsApp, through the real adapter and the fake Twilio API: a diary (joining one to
one, prompts as free-form messages inside the 24-hour window and as the approved template outside
it) and a one-off survey answered in three languages by numbered replies, with its export."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from openpyxl import load_workbook

from localbot import scheduler
from localbot.export.kinds import KINDS, write_export
from localbot.replies import Document
from localbot.surveys import store
from tests.fakes.whatsapp_rig import ENGLISH, INDONESIAN, POLISH, WhatsAppRig, whatsapp_rig
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


async def test_a_one_off_survey_on_whatsapp_in_three_languages_with_numbers_a_pause_and_a_photo(tmp_path: Path, studies: Path) -> None:  # noqa: F811
    """Three WhatsApp members (numbers from Poland, Indonesia and the UK) answer every kind of
    question by numbered replies over signed webhooks, get wrong answers explained in their own
    language, pause and resume; what the organiser closes and exports is what they sent."""
    shelf = b"\xff\xd8\xff\xe0 the kiosk's coffee shelf"
    async with whatsapp_rig(tmp_path) as rig:
        for address in (POLISH, INDONESIAN, ENGLISH):
            await rig.join(address)
        await rig.console.send("/survey start coffee-habits")
        for address, take in ((POLISH, "1) ▶ Wypełnij"), (INDONESIAN, "1) ▶ Ikut serta"), (ENGLISH, "1) ▶ Take part")):
            [announcement] = await rig.replies(address)
            assert take in announcement, announcement

        async def send(address: str, body: str = "", expect: str = "", *, photo: bool = False, **fields: str) -> str:
            if photo:
                fields.update(NumMedia="1", MediaUrl0=rig.api.add_media(shelf, "image/jpeg"), MediaContentType0="image/jpeg")
            await rig.say(address, body, **fields)
            got = "\n".join(await rig.replies(address))
            assert expect in got, got
            for word in ("tap", "ketuk", "stuknij", "button", "przycisk", "tombol"):
                assert word not in got.lower().split(), got  # numbered choices: nothing to tap
            return got

        async def wrong(address: str, expect: str, body: str = "", **fields: Any) -> None:
            before = store_answers(rig)
            await send(address, body, expect, **fields)
            assert store_answers(rig) == before  # a wrong answer stores nothing and loses nothing

        # Poland: wrong answers of every kind, in Polish; a pin where a place is picked; /cancel pauses.
        await send(POLISH, "1", "Jak często pijesz kawę?\n\n1) Codziennie")
        await wrong(POLISH, "Wybierz jedną z opcji (od 1 do 4).", "9")
        await send(POLISH, "1", "O której zwykle pijesz pierwszą kawę")
        await wrong(POLISH, "Nie rozumiem tej godziny.", "pół do ósmej")
        days = await send(POLISH, "7:30", "Wyślij numery wszystkich pasujących odpowiedzi, na przykład 1, 3.")
        assert "Odpowiedz liczbą" not in days  # several numbers are fine: no "reply with a number" line contradicts it
        await wrong(POLISH, "„9” nie jest żadną z opcji.", "1, 9")
        await send(POLISH, "poniedziałek, sobota", "Gdzie pijesz ją najczęściej?")
        await wrong(POLISH, "Wybierz jedną z opcji (od 1 do 5).", Latitude="52.2297", Longitude="21.0122")
        await send(POLISH, "2", "Co zwykle do niej jesz lub pijesz?")
        await wrong(POLISH, "To pytanie wymaga odpowiedzi.", "-")
        await send(POLISH, "2, 3", "Ile filiżanek")
        await send(POLISH, "/cancel", "Wstrzymano. Twoje dotychczasowe odpowiedzi są zapisane")
        await send(POLISH, "/survey", "1) ▶ Kontynuuj")
        await send(POLISH, "1", "Witaj ponownie w ankiecie „Kawowe nawyki”.")
        await wrong(POLISH, "Odpowiedz liczbą, na przykład 2 albo 2,5.", "dużo")
        await wrong(POLISH, "Odpowiedz liczbą całkowitą.", "2,5")
        await wrong(POLISH, "Podaj liczbę od 0 do 20.", "25")
        await send(POLISH, "3", "Jak bardzo smakuje Ci kawa")
        await wrong(POLISH, "Odpowiedz liczbą całkowitą od 1 do 5.", "7")
        await send(POLISH, "4", "Co zniechęca Cię")
        await send(POLISH, "1, 3", "Sąsiad nigdy nie próbował")
        await wrong(POLISH, "To 301 znaków; zmieść się w 300.", "x" * 301)
        await wrong(POLISH, "Odpowiedz kilkoma słowami.", photo=True)
        await send(POLISH, "Darmowa degustacja", "1) Pomiń")
        await wrong(POLISH, "Wyślij zdjęcie.", "ładna półka")
        await send(POLISH, "ładna półka", photo=True, expect="Dziękujemy! Gdy ankieta się zakończy")

        # Indonesia: wrong answers in Indonesian, /survey pause and /survey resume, optional questions skipped.
        await send(INDONESIAN, "1", "Seberapa sering Anda minum kopi?")
        await send(INDONESIAN, "2", "Jam berapa")
        await wrong(INDONESIAN, "Saya tidak dapat membaca itu sebagai jam.", "jam tujuh")
        await send(INDONESIAN, "07.15", "Kirim nomor semua yang sesuai")
        await send(INDONESIAN, "Senin, Sabtu", "Di mana Anda paling sering meminumnya?")
        await wrong(INDONESIAN, "Silakan pilih salah satu opsi (1 sampai 5).", "di bulan")
        assert "Balas dengan angka" not in await send(INDONESIAN, "4", "Biasanya Anda menikmatinya dengan apa?")
        await send(INDONESIAN, "1", "Berapa cangkir")
        await wrong(INDONESIAN, "Silakan jawab dengan bilangan bulat.", "2,5")
        await send(INDONESIAN, "2", "Seberapa Anda menyukai kopi dari kios kompleks?")
        await send(INDONESIAN, "/survey pause", "Dijeda. Jawaban Anda sejauh ini tersimpan")
        await wrong(INDONESIAN, "Pertanyaan ini sudah ditutup.", "2")  # paused: an old number answers nothing
        await send(INDONESIAN, "/survey resume", "Selamat datang kembali di “Kebiasaan minum kopi”.")
        await wrong(INDONESIAN, "Silakan jawab dengan bilangan bulat dari 1 sampai 5.", "bagus")
        await send(INDONESIAN, "-", "Apa yang membuat Anda enggan")
        await send(INDONESIAN, "6", "Seorang tetangga belum pernah mencoba")
        await wrong(INDONESIAN, "Silakan jawab dengan beberapa kata.", photo=True)
        await send(INDONESIAN, "Rasa gratis", "1) Lewati")
        await send(INDONESIAN, "1", "Terima kasih! Setelah survei ditutup")  # the numbered Skip

        # The UK: English throughout, a photo of the shelf.
        await send(ENGLISH, "1", "How often do you drink coffee?")
        await send(ENGLISH, "3", "At what time")
        await send(ENGLISH, "6pm", "On which days")
        await send(ENGLISH, "sat, sun", "Where do you drink it most often?")
        await send(ENGLISH, "3", "What do you usually have with it?")
        await send(ENGLISH, "5", "How many cups")
        await send(ENGLISH, "1", "How much do you like")
        assert "Reply with a number" not in await send(ENGLISH, "5", "What puts you off")
        await wrong(ENGLISH, "“7” is not one of the options.", "1, 2, 7")
        await send(ENGLISH, "1,2", "What would convince them?")
        await send(ENGLISH, "Cheaper cups", "Optional: send a photo")
        await send(ENGLISH, photo=True, expect="Thank you! When the survey closes")
        await send(ENGLISH, "/survey", "📋 #1 Coffee habits: answered, thank you!")

        # The organiser closes it: everyone reads what the group said, in their own language.
        await rig.console.send("/survey stop")
        await rig.flush()
        for address, closed in (
            (POLISH, "🏁 Ankieta nr 1 jest zamknięta: Kawowe nawyki."),
            (INDONESIAN, "🏁 Survei #1 sudah ditutup: Kebiasaan minum kopi."),
            (ENGLISH, "🏁 Survey #1 is closed: Coffee habits."),
        ):
            [summary] = await rig.replies(address)
            assert summary.startswith(closed) and "3" in summary, summary

        # The export holds exactly what they sent; the two photos open from the CSV and the XLSX.
        sent = {
            POLISH: {"often": "daily", "first_cup": "07:30", "days": "mon;sat", "where": "work", "with": "breakfast;sweet", "cups": "3",
                     "kiosk_liking": "4", "put_off": "price;queue", "convince": "Darmowa degustacja"},
            INDONESIAN: {"often": "weekly", "first_cup": "07:15", "days": "mon;sat", "where": "kiosk", "with": "nothing", "cups": "2",
                         "kiosk_liking": "", "put_off": "nothing", "convince": "Rasa gratis", "shelf": ""},
            ENGLISH: {"often": "rarely", "first_cup": "18:00", "days": "sat;sun", "where": "cafe", "with": "water", "cups": "1",
                      "kiosk_liking": "5", "put_off": "price;taste", "convince": "Cheaper cups"},
        }
        buffer = io.BytesIO()
        write_export(rig.core.db, KINDS["surveys"], "csv", buffer)
        exported: dict[str, dict[str, str]] = {}
        for row in csv.DictReader(io.StringIO(buffer.getvalue().decode("utf-8"))):
            assert row["entry_kind"] == "once" and row["survey"] == "coffee-habits"
            exported.setdefault(row["participant"], {})[row["question"]] = row["value"]
        for address in (POLISH, ENGLISH):
            link = exported[address].pop("shelf")
            assert link.startswith("file:///") and Path(url2pathname(urlparse(link).path)).read_bytes() == shelf
        assert exported == sent

        buffer = io.BytesIO()
        write_export(rig.core.db, KINDS["surveys"], "xlsx", buffer)
        sheet = load_workbook(buffer).active
        header = [c.value for c in sheet[1]]
        photos = [row[header.index("value")] for row in sheet.iter_rows(min_row=2) if row[header.index("question")].value == "shelf"]
        linked = [c.hyperlink.target for c in photos if c.hyperlink is not None]
        assert len(linked) == 2 and all(Path(url2pathname(urlparse(t).path)).read_bytes() == shelf for t in linked)

        # In the chat the organiser gets the file alone: its caption says where the photos are and how to get them.
        anna = rig.console.private("anna")
        [document] = await rig.console.send("/export surveys xlsx", chat=anna)
        assert isinstance(document, Document)
        assert "2 photos stay on the computer that runs the bot; the file links to them there." in document.caption
        assert "localbot export surveys --format xlsx --community “Sunny Estate” --out FILE --photos FOLDER" in document.caption
        await rig.console.send("/lang pl", chat=anna)
        [document] = await rig.console.send("/export surveys", chat=anna)
        assert isinstance(document, Document) and "2 zdjęcia zostają na komputerze, na którym działa bot" in document.caption
        assert "--out PLIK --photos KATALOG" in document.caption
        [row] = [r for r in csv.DictReader(io.StringIO(document.data.decode())) if r["participant"] == ENGLISH and r["question"] == "shelf"]
        assert Path(url2pathname(urlparse(row["value"]).path)).read_bytes() == shelf


def store_answers(rig: WhatsAppRig) -> list[tuple[object, ...]]:
    return [tuple(r) for r in rig.core.db.execute("SELECT entry_id, question, value FROM survey_answers ORDER BY id").fetchall()]
