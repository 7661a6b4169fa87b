"""A poll's result as a bar chart: one horizontal bar per option, in the poll's order.

A picture reads faster than a column of numbers when there are more than two or three options, so
``/results`` and the closing result carry one. Bars show counts; each is labelled with the count and
the share of voters (with multiple choice the shares may add up to more than 100 %, as in the text).
No names appear, so the chart of a named poll is as shareable as that of an anonymous one.
"""

from __future__ import annotations

from localbot.charts import PALETTE, new_figure, to_png, wrap
from localbot.i18n import Translator
from localbot.polls.model import Tally

LABEL_WIDTH = 22


def poll_chart(t: Translator, tally: Tally) -> bytes | None:
    """PNG bytes of the result, or None when nobody has voted (an empty chart says nothing)."""
    if not tally.voters:
        return None
    poll = tally.poll
    options = list(poll.options)
    counts = [tally.counts.get(o.position, 0) for o in options]
    leaders = {o.position for o in tally.leaders()}
    height = 1.6 + 0.55 * len(options)
    figure, axes = new_figure(6.4, height)
    rows = range(len(options))
    colours = [PALETTE[0] if o.position in leaders else PALETTE[5] for o in options]
    axes.barh(list(rows), counts, color=colours)
    axes.set_yticks(list(rows), [wrap(o.label, LABEL_WIDTH) for o in options])
    axes.invert_yaxis()  # first option on top, as in the poll
    top = max(counts)
    axes.set_xlim(0, top * 1.3 + 0.5)
    axes.xaxis.get_major_locator().set_params(integer=True)
    for row, (option, count) in enumerate(zip(options, counts, strict=True)):
        axes.text(count + top * 0.02 + 0.05, row, f"{count} · {t.percent(tally.share(option.position))}", va="center", fontsize=9)
    axes.set_xlabel(t.n_("{n} person voted", "{n} people voted", tally.voters))
    title = t._("Poll #{number}", number=poll.number) + ": " + poll.question
    axes.set_title(wrap(title, 60), fontsize=10, loc="left")
    return to_png(figure)
