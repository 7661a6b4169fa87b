"""After the tasting: the report (JSON, HTML, chat), the export in long format, paper forms imported
from the same format, and the "what we learned" message the organiser approves."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from scipy.stats import binomtest, friedmanchisquare

from localbot.cli import main
from localbot.export.writers import write_csv
from localbot.i18n import translator
from localbot.replies import Choices, Picture
from localbot.tastings import stats, store
from localbot.tastings.paper import ImportProblem, import_file
from localbot.tastings.report import LikingTest, _cata, _preference, _ranking, build, summary_lines, to_html
from tests.helpers import Harness, choices, texts
from tests.tasting_helpers import said, sessions, started

#: Ten paper forms: (liking A, B, C), sweetness JAR of A, creamy ticked for A, B, C, the preferred product.
PAPER = [
    ((8, 5, 6), 3, (1, 0, 0), 0), ((7, 4, 6), 3, (1, 0, 1), 0), ((9, 6, 5), 3, (1, 0, 0), 0), ((6, 6, 7), 4, (0, 0, 1), 2),
    ((8, 3, 5), 3, (1, 1, 0), 0), ((4, 5, 6), 1, (0, 0, 0), 2), ((5, 6, 4), 2, (1, 0, 0), 1), ((8, 5, 7), 3, (1, 0, 1), 0),
    ((7, 4, 5), 3, (1, 0, 0), 0), ((6, 5, 8), 5, (0, 1, 1), 2),
]
HEADER = ["participant", "session", "product", "code", "position", "question", "value"]


def paper_rows(products: list[store.Product]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for number, (liking, sweet, creamy, preferred) in enumerate(PAPER, start=1):
        label = f"paper-{number}"
        for index, product in enumerate(products):
            base = {"participant": label, "session": 1, "product": product.name, "code": product.code, "position": index + 1}
            rows.append({**base, "question": "liking", "value": liking[index]})
            rows.append({**base, "question": "jar.sweetness", "value": sweet if index == 0 else 3})
            rows.append({**base, "question": "cata.creamy", "value": creamy[index]})
            rows.append({**base, "question": "cata.watery", "value": 0})
            rows.append({**base, "question": "preference", "position": "", "value": int(index == preferred)})
    return rows


def write(path: Path, rows: list[dict[str, object]], columns: list[str] = HEADER, delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


async def answered(bot: Harness, tmp_path: Path) -> store.Tasting:
    """A tasting where Bartek and Celina answered in the chat and ten paper forms were imported."""
    tasting = await started(bot, tmp_path)
    first = sessions(bot, tasting)[0]
    for name in ("bartek", "celina"):
        await bot.pick(f"ts:up:{first.id}", name, chat=bot.private(name))
    bot.clock.set(first.starts_at)
    for participant in store.participants(bot.core.db, tasting.id):
        await bot.pick(f"ts:ci:{participant.id}", "anna", chat=bot.private("anna"))
    await bot.outbox()
    for name, liking in (("bartek", "7"), ("celina", "6")):
        for _sample in range(3):
            await bot.send("1", name, chat=bot.private(name))
            for line in (liking, "3", "1", "-"):
                await bot.send(line, name, chat=bot.private(name))
        await bot.send("1", name, chat=bot.private(name))
    result = import_file(bot.core.db, tasting, write(tmp_path / "paper.csv", paper_rows(store.products(bot.core.db, tasting.id))), now=bot.clock.now())
    assert result.ok and (result.added, result.participants) == (150, 10)
    return tasting


async def test_the_report_reads_chat_and_paper_answers_alike(bot: Harness, tmp_path: Path) -> None:
    tasting = await answered(bot, tmp_path)
    report = build(bot.core.db, tasting, "en")
    data = report.to_json()
    assert list(data) == ["tasting", "products", "liking_test", "penalties", "cata", "preference"]
    assert data["tasting"]["participants"] == 12 and data["tasting"]["paper_participants"] == 10
    by_name = {p["product"]: p for p in data["products"]}
    # Oat Barista: paper 8 7 9 6 8 4 5 8 7 6 and chat 7, 6: 81/12 = 6.75.
    assert by_name["Oat Barista"]["n"] == 12 and by_name["Oat Barista"]["mean"] == pytest.approx(81 / 12)
    assert by_name["Oat Light"]["mean"] == pytest.approx((49 + 13) / 12) and by_name["Oat Barista"]["small"]
    assert data["liking_test"]["method"] == "friedman" and data["liking_test"]["blocks"] == 12 and data["liking_test"]["df"] == [2]
    # Ranks within each person, ties sharing the average (the chat's 7 7 7 and 6 6 6 rank 2 2 2), summed by hand.
    assert data["liking_test"]["rank_sums"] == [28.5, 18.5, 25.0] and 0 < data["liking_test"]["p_value"] < 1
    assert len(data["liking_test"]["comparisons"]) == 3
    [sweet_a] = [p for p in data["penalties"] if p["product"] == "Oat Barista"]
    # Sweetness of Oat Barista: too little = paper 6 and 7 (liking 4, 5), too much = paper 4 and 10 (6, 6).
    assert sweet_a["too_little"]["n"] == 2 and sweet_a["too_little"]["share"] == pytest.approx(2 / 12)
    assert sweet_a["jar"]["mean"] == pytest.approx((8 + 7 + 9 + 8 + 8 + 7 + 7 + 6) / 8)
    assert sweet_a["too_little"]["mean_drop"] == pytest.approx(60 / 8 - 4.5) and not sweet_a["too_little"]["large"]
    [creamy] = [c for c in data["cata"] if c["term"] == "creamy"]
    assert [p["count"] for p in creamy["products"]] == [7 + 2, 2 + 2, 4 + 2] and creamy["cochran_q"] is not None
    # Twelve answers per product: every CATA group is flagged, none dropped; "watery", which nobody
    # ticked, has no Cochran's Q at all and is still reported, flagged.
    assert creamy["blocks"] == 12 and creamy["small"]
    [watery] = [c for c in data["cata"] if c["term"] == "watery"]
    assert watery["cochran_q"] is None and watery["small"] and [p["count"] for p in watery["products"]] == [0, 0, 0]
    for term in data["cata"]:
        assert len(term["products"]) == 3 and all(p["small"] and p["n"] == 12 for p in term["products"])
    assert data["preference"]["kind"] == "preference" and data["preference"]["n"] == 12 and data["preference"]["test"] == "chi-square"
    counts = {p["product"]: p["count"] for p in data["preference"]["products"]}
    assert sum(counts.values()) == 12 and counts["Oat Barista"] >= 6

    t = translator("en")
    lines = "\n".join(summary_lines(t, report, names=False))
    assert "12 people took part · 3 samples" in lines and "(10 of them on paper)" in lines
    assert "Oat Barista" not in lines and "Friedman test: χ² =" in lines
    assert "* fewer than 30 answers: read as indicative." in lines
    assert f"• Creamy: {report.products[0].code}* 75%," in lines  # 9 of 12, marked as indicative
    # Three products: the report says which tests it ran on the preference, and their figures.
    assert "Chi-square test of equal shares: χ² = " in lines and ", df = 2, p = " in lines
    assert "Each sample against 1 in 3 (exact binomial tests, Holm-adjusted): " in lines
    assert data["preference"]["product_test"] == {"test": "binomial", "share": pytest.approx(1 / 3), "adjustment": "holm"}
    page = to_html(t, report, {"liking": b"\x89PNG"})
    assert page.startswith("<!DOCTYPE html>") and "Oat Barista" in page and "data:image/png;base64," in page

    # One more paper form with only two samples: no longer complete blocks, so the ANOVA with people as blocks.
    products = store.products(bot.core.db, tasting.id)
    partial = paper_rows(products)[:10]
    for row in partial:
        row["participant"] = "paper-11"
    import_file(bot.core.db, tasting, write(tmp_path / "partial.csv", partial), now=bot.clock.now())
    test = build(bot.core.db, tasting, "en").to_json()["liking_test"]
    assert test["method"] == "anova" and test["df"] == [2, 23] and len(test["adjusted_means"]) == 3


async def test_export_and_import_round_trip_and_every_bad_row_stops_the_file(bot: Harness, tmp_path: Path) -> None:
    tasting = await answered(bot, tmp_path)
    exported = io.StringIO()
    # Chat: 3 samples × (liking, sweetness, 2 terms, comment) + 3 preference rows; paper: 3 × 5 rows.
    assert write_csv(store.export_rows(bot.core.db, tasting_id=tasting.id), store.EXPORT_COLUMNS, exported) == 2 * 18 + 10 * 15
    rows = list(csv.DictReader(io.StringIO(exported.getvalue())))
    assert list(rows[0])[:7] == HEADER
    chat = [r for r in rows if r["participant"] == "P1"]
    assert {r["question"] for r in chat} == {"liking", "jar.sweetness", "cata.creamy", "cata.watery", "comment", "preference"}
    assert {r["source"] for r in chat} == {"chat"} and {r["tasting"] for r in rows} == {"1"}
    assert sorted({r["position"] for r in chat if r["question"] == "liking"}) == ["1", "2", "3"]

    again = tmp_path / "again.csv"
    again.write_text(exported.getvalue(), encoding="utf-8")
    result = import_file(bot.core.db, tasting, again, now=bot.clock.now())
    assert result.ok and (result.added, result.updated, result.unchanged, result.participants) == (0, 0, 186, 0)

    products = store.products(bot.core.db, tasting.id)
    a = products[0]
    base = {"participant": "paper-1", "session": "1", "product": a.name, "code": str(a.code), "position": "1"}
    fixes = [{**base, "question": "liking", "value": "9"}, {**base, "question": "comment", "value": "=Too sweet;\nbut nice"}]
    changed = import_file(bot.core.db, tasting, write(tmp_path / "fix.csv", fixes, delimiter=";"), now=bot.clock.now())
    assert changed.ok and (changed.updated, changed.added) == (1, 1)
    # The comment leaves as a neutralised cell on two lines and comes back exactly as it was written.
    second = io.StringIO()
    write_csv(store.export_rows(bot.core.db, tasting_id=tasting.id), store.EXPORT_COLUMNS, second)
    assert "'=Too sweet;\nbut nice" in second.getvalue()
    (tmp_path / "second.csv").write_text(second.getvalue(), encoding="utf-8")
    same = import_file(bot.core.db, tasting, tmp_path / "second.csv", now=bot.clock.now())
    assert same.ok and (same.added, same.updated, same.unchanged) == (0, 0, 187)
    paper_1 = store.participant_by_label(bot.core.db, tasting.id, "paper-1")
    assert store.answers(bot.core.db, paper_1.id)[(a.id, "comment")].value == "=Too sweet;\nbut nice"  # type: ignore[union-attr]

    bad = [
        {**base, "participant": "paper-12", "question": "liking", "value": "5"},  # fine, but the file has problems
        {**base, "code": "999", "question": "liking", "value": "5"},
        {**base, "question": "liking", "value": "10"},
        {**base, "product": "Oat Cocoa", "question": "liking", "value": "5"},
        {**base, "session": "7", "question": "liking", "value": "5"},
        {**base, "question": "jar.saltiness", "value": "3"},
        {**base, "participant": "P1", "question": "liking", "value": "1"},  # answered in the chat with 7
        {**base, "participant": "paper-13", "session": "2", "question": "liking", "value": "5", "tasting": "99"},  # another tasting
    ]
    refused = import_file(bot.core.db, tasting, write(tmp_path / "bad.csv", bad, [*HEADER, "tasting"]), now=bot.clock.now())
    assert not refused.ok and refused.added == 0 and refused.other_tastings == 1
    assert refused.problems == [
        (3, "There is no sample 999 in this tasting. Please check the code on the cup."),
        (4, "“10” is not on the scale. Please answer with a whole number from 1 (dislike extremely) to 9 (like extremely)."),
        (5, f"product “Oat Cocoa” does not match code {a.code}, which is “Oat Barista”"),
        (6, "session “7” is not a session of tasting #1 (its sessions: 1, 2)"),
        (7, "“jar.saltiness” is not a question of this tasting."),
        (8, "participant P1 answered liking in the chat with “7”; the file's “1” would overwrite it"),
    ]
    assert store.participant_by_label(bot.core.db, tasting.id, "paper-12") is None  # all or nothing
    with pytest.raises(ImportProblem, match="needs the columns participant, session, code, question, value"):
        import_file(bot.core.db, tasting, write(tmp_path / "cols.csv", [{"participant": "x"}], ["participant", "value"]), now=bot.clock.now())


async def test_the_report_in_the_chat_and_the_thank_you(bot: Harness, tmp_path: Path) -> None:
    tasting = await answered(bot, tmp_path)
    in_group = await bot.send("/report")
    assert texts(in_group).startswith("📋 Report of tasting #1: Oat drinks\n12 people took part · 3 samples")
    assert "Oat Barista" not in texts(in_group) and not any(isinstance(r, Choices) for r in in_group)
    assert [r.filename for r in in_group if isinstance(r, Picture)] == ["tasting-1-liking.png", "tasting-1-penalties.png", "tasting-1-cata.png"]
    assert all(r.data.startswith(b"\x89PNG") for r in in_group if isinstance(r, Picture))
    assert said(await bot.send("/report tasting", "bartek")) == "Only organisers can use /report."

    private = await bot.send("/report uji rasa", chat=bot.private("anna"))
    assert "Oat Barista" in texts(private)
    offer = choices(private)
    assert offer.text == "Send the 2 people who took part a short “what we learned, thank you” message?"
    preview = await bot.pick(offer.options[0].payload, chat=bot.private("anna"))
    assert said(preview).startswith("This goes to the 2 people who took part:\n\nThank you for tasting “Oat drinks” with us! 12 neighbours took part.")
    assert said(await bot.send("Thank you all! Sample 482 won, and it's coming to the shop.", chat=bot.private("anna"))).startswith(
        "This goes to the 2 people who took part:\n\nThank you all! Sample 482 won"
    )
    assert said(await bot.send("1", chat=bot.private("anna"))) == "Sent to 2 people. Thank you for running the tasting!"
    sent = {o.chat_ref: (o.purpose, o.reply.text) for o in await bot.outbox()}
    assert sent == {name: ("results", "🍽 Oat drinks\nThank you all! Sample 482 won, and it's coming to the shop.") for name in ("console:bartek", "console:celina")}
    assert not any(isinstance(r, Choices) for r in await bot.send("/report 1", chat=bot.private("anna")))  # sent once
    assert said(await bot.send("/tasting thanks 1", chat=bot.private("anna"))) == "The thank-you for tasting #1 was sent already."
    assert store.get_tasting(bot.core.db, tasting.id).thanks_sent_at == bot.clock.now()  # type: ignore[union-attr]


def localbot_here(*args: str) -> Result:
    """The command line in this process (quicker than a subprocess), in the test's working directory."""
    return CliRunner().invoke(main, list(args))


async def test_the_command_line_report_import_and_export(bot: Harness, tmp_path: Path) -> None:
    tasting = await answered(bot, tmp_path)
    database = str(bot.core.settings.database)
    report = localbot_here("--db", database, "tasting", "report", "oat-drinks", "--out", "report.json")
    assert report.exit_code == 0, report.stderr
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["charts"] == {"liking": "report-liking.png", "penalties": "report-penalties.png", "cata": "report-cata.png"}
    assert (tmp_path / "report-liking.png").read_bytes().startswith(b"\x89PNG") and data["products"][0]["n"] == 12
    html = localbot_here("--db", database, "tasting", "report", "1", "--format", "html", "--lang", "pl")
    assert html.exit_code == 0 and '<html lang="pl">' in html.stdout
    missing = localbot_here("--db", database, "tasting", "report", "7")
    assert missing.exit_code == 1 and "no tasting '7' has been started" in missing.stderr

    exported = localbot_here("--db", database, "export", "tastings", "--format", "csv", "--out", "answers.csv")
    assert exported.exit_code == 0 and "Wrote 186 row(s)" in exported.stderr
    text = (tmp_path / "answers.csv").read_text()
    assert text.startswith(",".join(store.EXPORT_COLUMNS))
    (tmp_path / "answers.csv").write_text(text + "paper-20,2,Oat Light,999,1,liking,4,1,oat-drinks,,,\n")
    refused = localbot_here("--db", database, "tasting", "import", "1", "answers.csv")
    assert refused.exit_code == 1 and "Nothing was imported: 1 row(s) of answers.csv have problems:" in refused.stderr
    assert "line 188: There is no sample 999 in this tasting." in refused.stderr
    code = store.products(bot.core.db, tasting.id)[1].code
    (tmp_path / "answers.csv").write_text(text + f"paper-20,2,Oat Light,{code},1,liking,4,1,oat-drinks,,,\n")
    imported = localbot_here("--db", database, "tasting", "import", "1", "answers.csv")
    assert imported.exit_code == 0, imported.stderr
    assert imported.stdout.strip() == "Imported into tasting #1: 1 new answer(s), 0 changed, 186 already there; 1 new paper participant(s)."
    sheet = localbot_here("--db", database, "tasting", "plan", "1")
    lines = sheet.stdout.splitlines()
    assert lines[0] == "participant,name,session,row,product_1,code_1,product_2,code_2,product_3,code_3"
    assert lines[1].startswith("P1,Bartek,1,1,Oat Barista,") and lines[2].startswith("P2,Celina,1,2,Oat Light,")
    assert len(lines) == 3  # paper participants are not served by the bot
    await bot.outbox()
    assert bot.clock.now() > tasting.created_at + timedelta(hours=1)


def test_cata_groups_are_flagged_small_below_thirty_and_never_dropped() -> None:
    # 30 people answered for both products, 5 more only for the first: the second product's group
    # (30) and Cochran's Q (30 complete blocks) are at the threshold, so not small; a term only
    # 29 people answered is small throughout, and still reported in full.
    checked = {pid: {0: 1, 1: pid % 2} for pid in range(30)} | {pid: {0: 0} for pid in range(30, 35)}
    term = _cata("creamy", "Creamy", checked, 2)
    assert term.answered == (35, 30) and term.counts == (30, 15)
    assert term.test is not None and term.test.blocks == 30
    assert not term.small and not term.small_for(0) and not term.small_for(1)
    few = _cata("watery", "Watery", {pid: {0: pid % 2, 1: 0} for pid in range(29)}, 2)
    assert few.small and few.small_for(0) and few.small_for(1) and few.counts == (14, 0)


def _chose(picks: list[int], k: int) -> dict[int, dict[int, int]]:
    """Preference answers as the report reads them: per person, 1 for the chosen product, 0 for the others."""
    return {pid: {i: int(i == pick) for i in range(k)} for pid, pick in enumerate(picks)}


def test_two_products_preference_is_the_two_sided_exact_binomial_test() -> None:
    # 15 of 20 prefer the first sample. By hand: P(X ≥ 15 | n = 20, p = 1/2) = (C(20,15) + … + C(20,20)) / 2^20
    # = (15504 + 4845 + 1140 + 190 + 20 + 1) / 1048576 = 21700 / 1048576; two-sided, twice that: 0.041389.
    # ISO 5495 Table A.1 has 15 of 20 as the one-sided minimum at α = 0.05, consistent with this.
    answers = _chose([0] * 15 + [1] * 5, 2)
    answers[99] = {0: 1, 1: 1}  # a garbled answer (both chosen) is not a preference: left out, n stays 20
    result = _preference(answers, 2)
    assert (result.kind, result.test, result.n, result.counts) == ("preference", "binomial", 20, (15.0, 5.0))
    assert result.statistic == 15 and result.p_value == pytest.approx(2 * 21700 / 2**20, rel=1e-12)
    assert result.product_p == ()  # one test: nothing to adjust
    # Either product may win: 5 against 15 is the same test; an even split is p = 1.
    assert _preference(_chose([1] * 15 + [0] * 5, 2), 2).p_value == pytest.approx(result.p_value)
    assert _preference(_chose([0, 1] * 5, 2), 2).p_value == pytest.approx(1.0)
    assert _preference({}, 2).test is None


def test_more_products_preference_is_chi_square_then_holm_adjusted_binomials() -> None:
    # 12, 5 and 3 of 20 chose the three samples. By hand, against 20/3 each:
    # χ² = (5.333² + 1.667² + 3.667²) / 6.667 = 6.7, df = 2, p = e^(−6.7/2) = 0.03508.
    result = _preference(_chose([0] * 12 + [1] * 5 + [2] * 3, 3), 3)
    assert (result.test, result.n, result.counts) == ("chi-square", 20, (12.0, 5.0, 3.0))
    assert result.statistic == pytest.approx(6.7) and result.p_value == pytest.approx(math.exp(-3.35))
    # Then each sample against 1/3 (scipy's exact binomial test), Holm-adjusted over the three.
    raw = [binomtest(c, 20, 1 / 3).pvalue for c in (12, 5, 3)]
    assert result.product_p == pytest.approx(stats.holm(raw))
    assert result.product_p[0] < 0.05 < result.product_p[1]


def test_a_ranking_is_tested_with_friedman_on_the_ranks() -> None:
    # Eight people rank three samples (1 = best): 1 2 3 four times, 2 1 3 twice, 1 3 2 and 3 1 2.
    # Rank sums 12, 14, 22 (they total b·k(k+1)/2 = 48). Without ties the textbook formula:
    # χ² = 12 / (b·k·(k+1)) · ΣR² − 3·b·(k+1) = 12/96 · (144 + 196 + 484) − 96 = 7.0, df = 2,
    # p = e^(−7/2) = 0.0302 (χ² with 2 df), as scipy's friedmanchisquare gives.
    rows = [(1, 2, 3)] * 4 + [(2, 1, 3)] * 2 + [(1, 3, 2), (3, 1, 2)]
    ranks = {pid: dict(enumerate(row)) for pid, row in enumerate(rows)}
    ranks[50] = {0: 1, 1: 2}  # an unfinished ranking: left out of the test
    result = _ranking(ranks, 3)
    assert (result.kind, result.test, result.n, result.counts) == ("ranking", "friedman", 8, (12.0, 14.0, 22.0))
    assert result.statistic == pytest.approx(7.0) and result.p_value == pytest.approx(math.exp(-3.5))
    scipy_result = friedmanchisquare(*zip(*rows, strict=True))
    assert result.statistic == pytest.approx(scipy_result.statistic) and result.p_value == pytest.approx(scipy_result.pvalue)
    # Pairs by rank sums (Nemenyi): |ΔR| / √(b·k(k+1)/12) = 10 / √8 = 3.54 for the first and third,
    # between the studentized range's q(0.05; 3, ∞) = 3.314 and q(0.01; 3, ∞) = 4.120 of the
    # published tables; 2 / √8 = 0.71 for the first two, far from significant.
    pairs = {(c.first, c.second): c for c in result.comparisons}
    assert pairs[(0, 2)].statistic == pytest.approx(10 / math.sqrt(8)) and 0.01 < pairs[(0, 2)].p_value < 0.05
    assert pairs[(0, 1)].statistic == pytest.approx(2 / math.sqrt(8)) and pairs[(0, 1)].p_value > 0.5
    assert _ranking({1: {0: 1, 1: 2, 2: 3}}, 3).test is None  # one person: nothing to test


async def test_the_report_names_the_binomial_test_for_two_products_and_friedman_for_a_ranking(bot: Harness, tmp_path: Path) -> None:
    tasting = await answered(bot, tmp_path)
    report = build(bot.core.db, tasting, "en")
    t = translator("en")
    # The same report cut down to its first two products, with a preference of 15 against 5.
    two = dataclasses.replace(report, products=report.products[:2], liking=report.liking[:2], penalties=(), cata=(), liking_test=LikingTest(None),
                              preference=_preference(_chose([0] * 15 + [1] * 5, 2), 2))
    lines = "\n".join(summary_lines(t, two, names=False))
    assert f"Preferred: {two.products[0].code}: 15, {two.products[1].code}: 5 (of 20). Exact binomial test against an even split (two-sided): p = 0.041." in lines
    assert two.to_json()["preference"]["product_test"] is None
    rows = [(1, 2, 3)] * 4 + [(2, 1, 3)] * 2 + [(1, 3, 2), (3, 1, 2)]
    ranked = dataclasses.replace(report, preference=_ranking({pid: dict(enumerate(row)) for pid, row in enumerate(rows)}, 3))
    lines = "\n".join(summary_lines(t, ranked, names=False))
    assert "Friedman test on the ranks: χ² = 7, df = 2, p = 0.03." in lines
    codes = [str(p.code) for p in report.products]
    assert f"Ranking (rank sums, lowest is best): {codes[0]} (12), {codes[1]} (14), {codes[2]} (22)." in lines
