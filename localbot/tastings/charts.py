"""The report's pictures: liking means with their intervals, the penalty plot, CATA bars.

Drawn with the shared helpers of :mod:`localbot.charts` (one size, one palette, PNG bytes), every
label in the reader's language. Samples appear by their blind code, with the product's name only
when the reader may see it (the organiser, the command line).
"""

from __future__ import annotations

from localbot.charts import PALETTE, new_figure, to_png, wrap
from localbot.i18n import Translator
from localbot.tastings.model import LIKING_POINTS
from localbot.tastings.report import LARGE_GROUP, TastingReport


def liking_png(t: Translator, report: TastingReport, *, names: bool) -> bytes | None:
    """Mean overall liking per sample with its 95 % confidence interval; small samples hatched."""
    shown = [(i, pl) for i, pl in enumerate(report.liking) if pl.summary.mean is not None]
    if not shown:
        return None
    figure, axes = new_figure(6.4, 1.6 + 0.55 * len(shown))
    labels = [wrap(report.product_label(i, names=names), 24) for i, _pl in shown]
    means = [pl.summary.mean or 0.0 for _i, pl in shown]
    low = [(pl.summary.mean or 0) - pl.summary.ci_low if pl.summary.ci_low is not None else 0.0 for _i, pl in shown]
    high = [pl.summary.ci_high - (pl.summary.mean or 0) if pl.summary.ci_high is not None else 0.0 for _i, pl in shown]
    bars = axes.barh(labels, means, xerr=[low, high], color=PALETTE[0], capsize=4, ecolor="#333333")
    for bar, (_i, pl) in zip(bars, shown, strict=True):
        if pl.small:
            bar.set_hatch("//")
            bar.set_alpha(0.6)
        axes.text(0.15, bar.get_y() + bar.get_height() / 2, f"{t.number(pl.summary.mean or 0, 2)}  (n = {pl.summary.n})",
                  va="center", fontsize=8, color="white")
    axes.set_xlim(1, LIKING_POINTS)
    axes.invert_yaxis()
    axes.set_xlabel(t._("Overall liking, 1 = dislike extremely … 9 = like extremely (mean, 95 % interval)"), fontsize=8)
    axes.set_title(wrap(report.title, 60), fontsize=10, loc="left")
    return to_png(figure)


def penalties_png(t: Translator, report: TastingReport, *, names: bool) -> bytes | None:
    """Mean drop against the share of consumers, one point per sample, attribute and side; the
    dashed line is the 20 % a group needs before it is worth acting on."""
    points = []
    for penalty in report.penalties:
        index = report.products.index(penalty.product)
        for side, group in (("−", penalty.result.too_little), ("+", penalty.result.too_much)):
            if group.n and group.mean_drop is not None:
                points.append((group.share * 100, group.mean_drop, f"{penalty.name} {side} · {report.product_label(index, names=names)}", index, group.large))
    if not points:
        return None
    figure, axes = new_figure(6.8, 4.6)
    for share, drop, label, index, large in points:
        axes.scatter([share], [drop], color=PALETTE[index % len(PALETTE)], s=60 if large else 30, alpha=1.0 if large else 0.5)
        axes.annotate(wrap(label, 26), (share, drop), textcoords="offset points", xytext=(5, 3), fontsize=7)
    axes.axvline(LARGE_GROUP * 100, color="#999999", linestyle="--", linewidth=1)
    axes.axhline(0, color="#cccccc", linewidth=0.8)
    axes.set_xlim(0, 100)
    axes.set_xlabel(t._("% of consumers (− too little, + too much)"))
    axes.set_ylabel(t._("mean drop in liking"))
    axes.set_title(t._("Penalty analysis"), fontsize=10, loc="left")
    return to_png(figure)


def cata_png(t: Translator, report: TastingReport, *, names: bool) -> bytes | None:
    """How often each term was ticked for each sample (% of those who answered), grouped by term."""
    terms = report.cata
    if not terms:
        return None
    k = len(report.products)
    figure, axes = new_figure(7.0, 1.4 + 0.5 * len(terms) * max(1, k / 2))
    height = 0.8 / k
    for index in range(k):
        positions = [row + index * height for row in range(len(terms))]
        shares = [(term.share(index) or 0) * 100 for term in terms]
        axes.barh(positions, shares, height=height, color=PALETTE[index % len(PALETTE)], label=report.product_label(index, names=names))
    axes.set_yticks([row + 0.4 - height / 2 for row in range(len(terms))],
                    [wrap(term.label + (" ‡" if term.test and term.test.p_value < 0.05 else ""), 22) for term in terms])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel(t._("% who ticked it (‡: differs between the samples)"))
    axes.legend(fontsize=7, loc="lower right")
    axes.set_title(t._("Check all that apply"), fontsize=10, loc="left")
    return to_png(figure)


def all_charts(t: Translator, report: TastingReport, *, names: bool) -> dict[str, bytes]:
    drawn = {
        "liking": liking_png(t, report, names=names),
        "penalties": penalties_png(t, report, names=names),
        "cata": cata_png(t, report, names=names),
    }
    return {name: data for name, data in drawn.items() if data is not None}
