"""The report of a tasting: liking per product, a test across products, penalties, CATA, preference.

:func:`build` reads every answer (chat and paper alike) and runs :mod:`localbot.tastings.stats`:

- **products**: per product n, mean liking, sd and 95 % confidence interval;
- **liking_test**: Friedman's test (tie-corrected) when every participant rated every product
  (complete blocks), else a two-way ANOVA with the participant as block; pairwise comparisons
  (Nemenyi on rank sums, or Tukey–Kramer on adjusted means);
- **penalties**: per product and just-about-right attribute, the too-little and too-much groups
  with share, mean drop, weighted penalty and p-value, groups of at least 20 % marked as the
  ones to act on;
- **cata**: per term how many checked it for each product, Cochran's Q across products (among
  participants who answered for every product) and pairwise McNemar tests, Holm-adjusted;
- **preference**: the count per product. Two products: the two-sided exact binomial test against
  an even split (ISO 5495's paired preference test). More: a chi-square test of equal shares (is
  the choice spread unevenly at all?), then each product's exact binomial test against 1/k (which
  ones were chosen more or less often than chance?), Holm-adjusted because k tests are run at once.
  A ranking: the rank sums with Friedman's test and Nemenyi's pairs.

Nothing is dropped: a product, group or term with few answers is reported and marked ``small``.
The JSON form (:meth:`TastingReport.to_json`) uses the keys ``products``, ``liking_test``,
``penalties``, ``cata`` and ``preference`` so that other tools can read it.
"""

from __future__ import annotations

import base64
import html
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import sqlite_utils
from scipy import stats as sp

from localbot.i18n import Translator
from localbot.tastings import stats, store
from localbot.tastings.model import JAR_IDEAL, Final

ALPHA = 0.05
#: Fewer consumers than this: read the numbers as indicative (consumer tests usually want 30 or more).
SMALL = 30
#: A penalty group this large is worth acting on (the usual rule of penalty analysis).
LARGE_GROUP = 0.20


@dataclass(frozen=True)
class ProductLiking:
    product: store.Product
    summary: stats.Summary

    @property
    def small(self) -> bool:
        return self.summary.n < SMALL


@dataclass(frozen=True)
class LikingTest:
    #: ``friedman``, ``anova``, or None when no test could be run (``reason`` says why).
    method: str | None
    statistic: float | None = None
    df: tuple[int, ...] = ()
    p_value: float | None = None
    blocks: int = 0
    comparisons: tuple[stats.Comparison, ...] = ()
    reason: str | None = None
    #: ANOVA: the products' adjusted means; Friedman: their rank sums.
    scores: tuple[float, ...] = ()


@dataclass(frozen=True)
class Penalty:
    attribute: str
    name: str
    product: store.Product
    result: stats.PenaltyResult


@dataclass(frozen=True)
class CataPair:
    first: int
    second: int
    test: stats.McNemarResult
    adjusted_p: float


@dataclass(frozen=True)
class CataTerm:
    term: str
    label: str
    counts: tuple[int, ...]
    answered: tuple[int, ...]
    test: stats.CochranResult | None
    pairs: tuple[CataPair, ...]

    def share(self, index: int) -> float | None:
        return self.counts[index] / self.answered[index] if self.answered[index] else None

    def small_for(self, index: int) -> bool:
        """Fewer than :data:`SMALL` answered this term for the product: its share is indicative."""
        return self.answered[index] < SMALL

    @property
    def small(self) -> bool:
        """Cochran's Q rests on fewer than :data:`SMALL` people who answered for every product."""
        return (self.test.blocks if self.test else 0) < SMALL


@dataclass(frozen=True)
class Preference:
    #: ``preference`` or ``ranking``.
    kind: str
    n: int
    #: Preference: how many chose each product; ranking: each product's rank sum.
    counts: tuple[float, ...]
    #: ``binomial``, ``chi-square`` or ``friedman`` (None: not enough answers).
    test: str | None
    statistic: float | None
    p_value: float | None
    #: More than two products: each product against 1/k, Holm-adjusted.
    product_p: tuple[float, ...] = ()
    comparisons: tuple[stats.Comparison, ...] = ()


@dataclass(frozen=True)
class TastingReport:
    tasting: store.Tasting
    language: str
    title: str
    products: tuple[store.Product, ...]
    participants: int
    liking: tuple[ProductLiking, ...]
    liking_test: LikingTest
    penalties: tuple[Penalty, ...]
    cata: tuple[CataTerm, ...]
    preference: Preference | None
    sessions: int = 0
    paper: int = 0

    def product_label(self, index: int, *, names: bool) -> str:
        product = self.products[index]
        return f"{product.code} {product.name}" if names else str(product.code)

    # --- JSON ---

    def to_json(self) -> dict[str, Any]:
        def product(index: int) -> dict[str, Any]:
            p = self.products[index]
            return {"product": p.name, "id": p.key, "code": p.code}

        def comparison(c: stats.Comparison) -> dict[str, Any]:
            return {
                "first": self.products[c.first].name,
                "second": self.products[c.second].name,
                "difference": c.difference,
                "statistic": c.statistic,
                "p_value": c.p_value,
                "significant": c.p_value < ALPHA,
            }

        def group(g: stats.PenaltyGroup) -> dict[str, Any]:
            return {
                "n": g.n, "share": g.share, "mean": g.mean, "mean_drop": g.mean_drop, "weighted_penalty": g.weighted_penalty,
                "p_value": g.p_value, "large": g.large, "small": not g.large,
            }

        test = self.liking_test
        preference: dict[str, Any] | None = None
        if self.preference is not None:
            pref = self.preference
            preference = {
                "kind": pref.kind,
                "n": pref.n,
                "test": pref.test,
                "statistic": pref.statistic,
                "p_value": pref.p_value,
                "products": [
                    {**product(i), ("count" if pref.kind == "preference" else "rank_sum"): pref.counts[i],
                     **({"share": pref.counts[i] / pref.n if pref.n else None} if pref.kind == "preference" else {}),
                     **({"p_value": pref.product_p[i]} if pref.product_p else {})}
                    for i in range(len(self.products))
                ],
                "comparisons": [comparison(c) for c in pref.comparisons],
                # With more than two products, each product's p_value is its exact binomial test
                # against a share of 1/k, Holm-adjusted over the k products.
                "product_test": {"test": "binomial", "share": 1 / len(self.products), "adjustment": "holm"} if pref.product_p else None,
                "small": pref.n < SMALL,
            }
        return {
            "tasting": {
                "number": self.tasting.number,
                "name": self.tasting.name,
                "title": self.title,
                "mode": self.tasting.mode.value,
                "participants": self.participants,
                "paper_participants": self.paper,
                "sessions": self.sessions,
                "alpha": ALPHA,
                "small_below": SMALL,
            },
            "products": [
                {**product(i), "n": pl.summary.n, "mean": pl.summary.mean, "sd": pl.summary.sd,
                 "ci_low": pl.summary.ci_low, "ci_high": pl.summary.ci_high, "small": pl.small}
                for i, pl in enumerate(self.liking)
            ],
            "liking_test": {
                "method": test.method,
                "statistic": test.statistic,
                "df": list(test.df),
                "p_value": test.p_value,
                "significant": test.p_value is not None and test.p_value < ALPHA,
                "blocks": test.blocks,
                "reason": test.reason,
                ("rank_sums" if test.method == "friedman" else "adjusted_means"): list(test.scores),
                "comparisons": [comparison(c) for c in test.comparisons],
            },
            "penalties": [
                {"attribute": p.attribute, "name": p.name, **product(self.products.index(p.product)), "n": p.result.n,
                 "jar": {"n": p.result.jar_n, "share": p.result.jar_share, "mean": p.result.jar_mean},
                 "too_little": group(p.result.too_little), "too_much": group(p.result.too_much)}
                for p in self.penalties
            ],
            "cata": [
                {"term": c.term, "label": c.label,
                 "products": [{**product(i), "count": c.counts[i], "n": c.answered[i], "share": c.share(i), "small": c.small_for(i)}
                              for i in range(len(self.products))],
                 "cochran_q": c.test.q if c.test else None, "df": c.test.df if c.test else None,
                 "p_value": c.test.p_value if c.test else None, "blocks": c.test.blocks if c.test else 0, "small": c.small,
                 "pairs": [{"first": self.products[pair.first].name, "second": self.products[pair.second].name,
                            "only_first": pair.test.only_first, "only_second": pair.test.only_second,
                            "statistic": pair.test.statistic, "p_value": pair.test.p_value, "adjusted_p": pair.adjusted_p,
                            "significant": pair.adjusted_p < ALPHA} for pair in c.pairs]}
                for c in self.cata
            ],
            "preference": preference,
        }


# --- building ------------------------------------------------------------------------------------


def build(db: sqlite_utils.Database, tasting: store.Tasting, language: str) -> TastingReport:
    definition = tasting.definition
    products = tuple(store.products(db, tasting.id))
    index_of = {p.id: i for i, p in enumerate(products)}
    k = len(products)
    by_participant: dict[int, dict[str, dict[int, str | None]]] = defaultdict(lambda: defaultdict(dict))
    sources: dict[int, str] = {}
    for row in store.tasting_answers(db, tasting.id):
        by_participant[row["participant_id"]][row["question"]][index_of[row["product_id"]]] = row["value"]
        sources[row["participant_id"]] = row["participant_source"]

    def numbers(question: str) -> dict[int, dict[int, int]]:
        out: dict[int, dict[int, int]] = {}
        for pid, questions in by_participant.items():
            values = {i: int(v) for i, v in questions.get(question, {}).items() if v is not None}
            if values:
                out[pid] = values
        return out

    liking = numbers("liking")
    summaries = tuple(ProductLiking(p, stats.summary([v[i] for v in liking.values() if i in v])) for i, p in enumerate(products))
    penalties = tuple(
        Penalty(attribute.key, attribute.name.pick(language), product, result)
        for attribute in definition.jar
        for i, product in enumerate(products)
        if (result := _penalty(liking, numbers(f"jar.{attribute.key}"), i)) is not None
    )
    cata = tuple(_cata(term.key, term.label.pick(language), numbers(f"cata.{term.key}"), k) for term in definition.cata)
    preference = None
    if definition.final is Final.PREFERENCE:
        preference = _preference(numbers("preference"), k)
    elif definition.final is Final.RANKING:
        preference = _ranking(numbers("rank"), k)
    sessions = {s.id for s in store.sessions(db, tasting.id)}
    return TastingReport(
        tasting=tasting,
        language=language,
        title=definition.title.pick(language),
        products=products,
        participants=len(by_participant),
        liking=summaries,
        liking_test=_liking_test(liking, k),
        penalties=penalties,
        cata=cata,
        preference=preference,
        sessions=len(sessions),
        paper=sum(1 for source in sources.values() if source == "paper"),
    )


def _liking_test(liking: dict[int, dict[int, int]], k: int) -> LikingTest:
    if not liking:
        return LikingTest(None, reason="no_answers")
    complete = [values for values in liking.values() if len(values) == k]
    if len(complete) == len(liking):
        result = stats.friedman([[values[i] for i in range(k)] for values in complete])
        if result is None:
            return LikingTest(None, blocks=len(complete), reason="too_few" if len(complete) < 2 else "all_tied")
        return LikingTest("friedman", result.statistic, (result.df,), result.p_value, result.blocks, result.comparisons, scores=result.rank_sums)
    observations = [(pid, i, float(v)) for pid, values in liking.items() for i, v in values.items()]
    anova = stats.block_anova(observations, k)
    if anova is None:
        return LikingTest(None, blocks=len(liking), reason="too_few")
    return LikingTest("anova", anova.f, (anova.df_treatment, anova.df_error), anova.p_value, anova.blocks, anova.comparisons, scores=anova.means)


def _penalty(liking: dict[int, dict[int, int]], jar: dict[int, dict[int, int]], index: int) -> stats.PenaltyResult | None:
    pairs = [(liking[pid][index], values[index]) for pid, values in jar.items() if index in values and index in liking.get(pid, {})]
    if not pairs:
        return None
    return stats.penalty([like for like, _ in pairs], [j for _, j in pairs], ideal=JAR_IDEAL, threshold=LARGE_GROUP)


def _cata(term: str, label: str, checked: dict[int, dict[int, int]], k: int) -> CataTerm:
    counts = tuple(sum(values.get(i, 0) for values in checked.values()) for i in range(k))
    answered = tuple(sum(1 for values in checked.values() if i in values) for i in range(k))
    complete = [[values[i] for i in range(k)] for values in checked.values() if len(values) == k]
    test = stats.cochran_q(complete) if complete else None
    raw = []
    for first, second in combinations(range(k), 2):
        only_first = sum(1 for row in complete if row[first] and not row[second])
        only_second = sum(1 for row in complete if row[second] and not row[first])
        raw.append((first, second, stats.mcnemar(only_first, only_second)))
    adjusted = stats.holm([result.p_value for _a, _b, result in raw])
    pairs = tuple(CataPair(a, b, result, p) for (a, b, result), p in zip(raw, adjusted, strict=True))
    return CataTerm(term, label, counts, answered, test, pairs)


def _preference(chosen: dict[int, dict[int, int]], k: int) -> Preference:
    picks = [next(i for i, v in values.items() if v == 1) for values in chosen.values() if sum(values.values()) == 1]
    n = len(picks)
    counts = tuple(float(sum(1 for pick in picks if pick == i)) for i in range(k))
    if n == 0:
        return Preference("preference", 0, counts, None, None, None)
    if k == 2:
        return Preference("preference", n, counts, "binomial", max(counts), stats.binomial_test(int(max(counts)), n))
    chi = sp.chisquare(counts)
    product_p = tuple(stats.holm([stats.binomial_test(int(c), n, 1 / k) for c in counts]))
    return Preference("preference", n, counts, "chi-square", float(chi.statistic), float(chi.pvalue), product_p)


def _ranking(ranks: dict[int, dict[int, int]], k: int) -> Preference:
    complete = [[values[i] for i in range(k)] for values in ranks.values() if len(values) == k]
    sums = tuple(float(sum(row[i] for row in complete)) for i in range(k))
    result = stats.friedman(complete)
    if result is None:
        return Preference("ranking", len(complete), sums, None, None, None)
    return Preference("ranking", len(complete), sums, "friedman", result.statistic, result.p_value, comparisons=result.comparisons)


# --- words ---------------------------------------------------------------------------------------


def p_text(t: Translator, p: float | None) -> str:
    if p is None:
        return "–"
    return "p < 0.001" if p < 0.001 else f"p = {t.number(p, 3)}"


def _mark(small: bool) -> str:
    return "*" if small else ""


def summary_lines(t: Translator, report: TastingReport, *, names: bool) -> list[str]:
    """What the report says, in a few lines for the chat (``names``: show the products' names)."""
    lines: list[str] = []
    k = len(report.products)
    lines.append(t.n_("{n} person took part", "{n} people took part", report.participants) + " · "
                 + t.n_("{n} sample", "{n} samples", k))
    if report.paper:
        lines.append(t.n_("({n} of them on paper)", "({n} of them on paper)", report.paper))
    lines += ["", t._("Overall liking (1 = dislike extremely … 9 = like extremely), mean and 95 % interval:")]
    order = sorted(range(k), key=lambda i: -(report.liking[i].summary.mean or 0))
    any_small = False
    for i in order:
        s = report.liking[i].summary
        any_small |= report.liking[i].small
        label = report.product_label(i, names=names) + _mark(report.liking[i].small)
        if s.mean is None:
            lines.append(f"• {label}: " + t._("no answers"))
        elif s.ci_low is None or s.ci_high is None:
            lines.append(f"• {label}: {t.number(s.mean, 2)} (n = {s.n})")
        else:
            lines.append(f"• {label}: {t.number(s.mean, 2)} ({t.number(s.ci_low, 2)}–{t.number(s.ci_high, 2)}, n = {s.n})")
    lines.append(_test_line(t, report, names=names))
    big = sorted(
        ((p, side, g) for p in report.penalties for side, g in (("too_little", p.result.too_little), ("too_much", p.result.too_much))
         if g.large and g.mean_drop is not None and g.mean_drop > 0),
        key=lambda item: -(item[2].weighted_penalty or 0),
    )
    if report.penalties:
        lines += ["", t._("Penalties (groups of at least 20 % who found an attribute off):")]
        if not big:
            lines.append("• " + t._("none: where people found an attribute off, liking did not drop or the group was small."))
        for p, side, g in big[:6]:
            where = report.product_label(report.products.index(p.product), names=names)
            what = t._("too little {attribute}", attribute=p.name) if side == "too_little" else t._("too much {attribute}", attribute=p.name)
            lines.append(
                f"• {where}: {what} — {t.percent(g.share)}, "
                + t._("liking {drop} points lower", drop=t.number(g.mean_drop or 0, 2))
                + ", " + (p_text(t, g.p_value) if g.p_value is not None else t._("too few to test"))
            )
    if report.cata:
        differing = [c for c in report.cata if c.test is not None and c.test.p_value < ALPHA]
        lines += ["", t._("Words people ticked (check all that apply):")]
        for term in report.cata:
            shares = ", ".join(
                f"{report.product_label(i, names=False)}{_mark(term.small_for(i))} {t.percent(term.share(i) or 0)}" for i in range(k)
            )
            any_small |= any(term.small_for(i) for i in range(k))
            star = " ‡" if term in differing else ""
            lines.append(f"• {term.label}: {shares}{star}")
        if differing:
            lines.append(t._("‡ differs between the samples (Cochran's Q, p < 0.05)."))
    if report.preference is not None:
        lines += ["", *_preference_lines(t, report, names=names)]
    if any_small:
        lines += ["", t._("* fewer than {n} answers: read as indicative.", n=SMALL)]
    return lines


def _test_line(t: Translator, report: TastingReport, *, names: bool) -> str:
    test = report.liking_test
    if test.method is None:
        return t._("No test across the samples yet: it needs at least two people who rated the samples.")
    if test.method == "friedman":
        head = t._("Friedman test: χ² = {value}, df = {df}, {p}.", value=t.number(test.statistic or 0, 2), df=test.df[0], p=p_text(t, test.p_value))
    else:
        head = t._("Analysis of variance (people as blocks): F = {value}, df = {df1} and {df2}, {p}.",
                   value=t.number(test.statistic or 0, 2), df1=test.df[0], df2=test.df[1], p=p_text(t, test.p_value))
    if test.p_value is None or test.p_value >= ALPHA:
        return head + " " + t._("The samples are not liked differently enough to tell apart.")
    pairs = [
        f"{report.product_label(c.first, names=names)} – {report.product_label(c.second, names=names)} ({p_text(t, c.p_value)})"
        for c in test.comparisons if c.p_value < ALPHA
    ]
    if not pairs:
        return head + " " + t._("The samples differ, though no single pair stands out.")
    return head + " " + t._("The samples differ: {pairs}.", pairs="; ".join(pairs))


def _preference_lines(t: Translator, report: TastingReport, *, names: bool) -> list[str]:
    pref = report.preference
    assert pref is not None
    if pref.n == 0:
        return [t._("Preference: no answers yet.")]
    k = len(report.products)
    if pref.kind == "ranking":
        order = sorted(range(k), key=lambda i: pref.counts[i])
        ranked = ", ".join(f"{report.product_label(i, names=names)} ({t.number(pref.counts[i], 0)})" for i in order)
        line = t._("Ranking (rank sums, lowest is best): {ranked}.", ranked=ranked)
        if pref.p_value is not None:
            line += " " + t._("Friedman test on the ranks: χ² = {value}, df = {df}, {p}.",
                              value=t.number(pref.statistic or 0, 2), df=k - 1, p=p_text(t, pref.p_value))
        return [line]
    order = sorted(range(k), key=lambda i: -pref.counts[i])
    counts = ", ".join(f"{report.product_label(i, names=names)}: {int(pref.counts[i])}" for i in order)
    line = t._("Preferred: {counts} (of {n}).", counts=counts, n=pref.n)
    if pref.test == "binomial":
        # Two samples: the paired preference test of ISO 5495, two-sided since either may win.
        line += " " + t._("Exact binomial test against an even split (two-sided): {p}.", p=p_text(t, pref.p_value))
    elif pref.test == "chi-square":
        # More samples: one test of whether choices are spread unevenly at all, then which samples
        # were chosen more or less often than 1 in k, adjusted because k tests are run at once.
        line += " " + t._("Chi-square test of equal shares: χ² = {value}, df = {df}, {p}.",
                          value=t.number(pref.statistic or 0, 2), df=k - 1, p=p_text(t, pref.p_value))
        tests = ", ".join(f"{report.product_label(i, names=names)} {p_text(t, pref.product_p[i])}" for i in order)
        line += " " + t._("Each sample against 1 in {k} (exact binomial tests, Holm-adjusted): {tests}.", k=k, tests=tests)
    return [line]


def to_html(t: Translator, report: TastingReport, charts: dict[str, bytes]) -> str:
    """A self-contained page (charts embedded) a tester can open, print or send on."""

    def esc(value: object) -> str:
        return html.escape(str(value))

    def cell(value: float | None, digits: int = 2) -> str:
        return "–" if value is None else t.number(value, digits)

    def row(cells: list[object], tag: str = "td") -> str:
        return "<tr>" + "".join(f"<{tag}>{esc(c)}</{tag}>" for c in cells) + "</tr>"

    def section(title: str, head: str, body: str) -> str:
        return f"<h2>{esc(title)}</h2><table>{head}{body}</table>"

    k = len(report.products)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(report.language)}"><head><meta charset="utf-8">',
        f"<title>{esc(report.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
        "img{max-width:100%}</style></head><body>",
        f"<h1>{esc(report.title)}</h1>",
        "<p>" + "<br>".join(esc(line) for line in summary_lines(t, report, names=True) if line) + "</p>",
    ]
    for name in ("liking", "penalties", "cata"):
        if name in charts:
            data = base64.b64encode(charts[name]).decode()
            parts.append(f'<p><img alt="{esc(name)}" src="data:image/png;base64,{data}"></p>')
    head = row([t._("Sample"), t._("Code"), "n", t._("Mean"), t._("SD"), t._("95 % interval")], "th")
    body = "".join(
        row([p.product.name, p.product.code, p.summary.n, cell(p.summary.mean), cell(p.summary.sd),
             f"{cell(p.summary.ci_low)}–{cell(p.summary.ci_high)}"])
        for p in report.liking
    )
    parts.append(section(t._("Overall liking"), head, body))
    if report.penalties:
        head = row([t._("Attribute"), t._("Sample"), t._("Side"), "n", t._("Share"), t._("Mean drop"), t._("Weighted penalty"), "p", "≥ 20 %"], "th")
        body = ""
        for p in report.penalties:
            for side, g in ((t._("too little"), p.result.too_little), (t._("too much"), p.result.too_much)):
                body += row([p.name, p.product.name, side, g.n, t.percent(g.share), cell(g.mean_drop), cell(g.weighted_penalty),
                             cell(g.p_value, 3), "✓" if g.large else ""])
        parts.append(section(t._("Penalty analysis"), head, body))
    if report.cata:
        head = row([t._("Term"), *(p.name for p in report.products), "Cochran Q", "p"], "th")
        body = "".join(
            row([c.label, *(f"{c.counts[i]}/{c.answered[i]}{_mark(c.small_for(i))}" for i in range(k)), cell(c.test.q if c.test else None),
                 cell(c.test.p_value if c.test else None, 3)])
            for c in report.cata
        )
        parts.append(section(t._("Check all that apply"), head, body))
    parts.append("</body></html>")
    return "\n".join(parts)
