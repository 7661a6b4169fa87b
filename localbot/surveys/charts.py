"""The habit map as pictures: the weekday × time-of-day heat map, the breakdowns, compliance.

Drawn with the shared helpers of :mod:`localbot.charts` (one size, one palette, PNG bytes), with
every label in the reader's language.
"""

from __future__ import annotations

import math

from matplotlib.patches import Rectangle

from localbot.charts import PALETTE, new_figure, to_png, wrap
from localbot.i18n import Translator
from localbot.surveys.report import MIN_CELL, Count, HabitMap


def heatmap_png(t: Translator, habit: HabitMap) -> bytes | None:
    """The rate of each weekday × time-of-day cell (share of answered check-ins that reported a
    moment, or share of respondents), with "I just had one" reports in a panel of their own."""
    heat = habit.heatmap
    if heat is None:
        return None
    cells = heat.cells
    selves = heat.basis == "prompts" and any(any(row) for row in heat.self_reports)
    figure, axes = new_figure(8.0, 7.4 if selves else 4.2)
    names = t.weekday_names()
    hours = [f"{cell * heat.hours_per_cell:02d}" for cell in range(cells)]
    if selves:
        axes.remove()
        axes, below = figure.add_subplot(2, 1, 1), figure.add_subplot(2, 1, 2)
    grid = [[heat.rate(day, cell) for cell in range(cells)] for day in range(7)]
    values = [[math.nan if v is None else v for v in row] for row in grid]
    image = axes.imshow(values, cmap="YlOrBr", vmin=0, vmax=1, aspect="auto")
    axes.set_yticks(range(7), [names[day][1] for day in range(7)])
    axes.set_xticks(range(cells), hours)
    axes.set_xlabel(t._("Time of day (hour the cell starts)"))
    axes.spines[["left", "bottom"]].set_visible(False)
    for day in range(7):
        for cell in range(cells):
            base = heat.base[day][cell]
            if heat.low(day, cell):
                axes.add_patch(Rectangle((cell - 0.5, day - 0.5), 1, 1, fill=False, hatch="///", edgecolor="#bbbbbb", linewidth=0))
            if base:
                axes.text(cell, day, f"{heat.moments[day][cell]}/{base}", ha="center", va="center", fontsize=6,
                          color="#888888" if heat.low(day, cell) else "#000000")
    bar = figure.colorbar(image, ax=axes, fraction=0.04)
    if heat.basis == "prompts":
        bar.set_label(t._("share of answered check-ins that reported a moment"))
        legend = t._("Numbers: check-ins with a moment / check-ins answered. Hatched: fewer than {n} answers behind the cell.", n=MIN_CELL)
    else:
        bar.set_label(t._("share of respondents"))
        legend = t._("Numbers: respondents / all respondents. Hatched: fewer than {n} answers behind the cell.", n=MIN_CELL)
    axes.set_title(wrap(habit.title, 60) + "\n" + legend, fontsize=9)
    if selves:
        top = max(max(row) for row in heat.self_reports)
        below.imshow(heat.self_reports, cmap="Blues", vmin=0, vmax=top, aspect="auto")
        below.set_yticks(range(7), [names[day][1] for day in range(7)])
        below.set_xticks(range(cells), hours)
        below.spines[["left", "bottom"]].set_visible(False)
        for day in range(7):
            for cell in range(cells):
                if heat.self_reports[day][cell]:
                    below.text(cell, day, str(heat.self_reports[day][cell]), ha="center", va="center", fontsize=7)
        below.set_title(t._("“I just had one” reports, at the time given (not part of the rates above)"), fontsize=9)
    return to_png(figure)


def breakdowns_png(t: Translator, habit: HabitMap) -> bytes | None:
    """Places, pairings, deterrents and convincers as horizontal bars, one panel each."""
    panels: list[tuple[str, list[Count]]] = [
        (t._("Where"), habit.places),
        (t._("With what"), habit.pairings),
        (t._("What puts people off"), habit.deterrents),
        (t._("What would convince a newcomer"), habit.convincers),
    ]
    panels = [(title, counts) for title, counts in panels if counts]
    if not panels:
        return None
    figure, first = new_figure(7.0, 2.0 + 1.9 * len(panels))
    first.remove()
    for index, (title, counts) in enumerate(panels, start=1):
        axes = figure.add_subplot(len(panels), 1, index)
        axes.spines[["top", "right"]].set_visible(False)
        labels = [wrap(c.label, 28) for c in reversed(counts)]
        shares = [c.share * 100 for c in reversed(counts)]
        axes.barh(labels, shares, color=PALETTE[(index - 1) % len(PALETTE)])
        for y, count in enumerate(reversed(counts)):
            axes.text(count.share * 100, y, f" {count.count}", va="center", fontsize=8)
        axes.set_xlim(0, 110)
        axes.set_title(title, fontsize=10, loc="left")
        axes.tick_params(labelsize=8)
    figure.axes[-1].set_xlabel(t._("% of answers"))
    return to_png(figure)


def compliance_png(t: Translator, habit: HabitMap) -> bytes | None:
    """Each diary participant's check-ins answered in time, as a share of those sent."""
    people = [p for p in habit.compliance if p.rate is not None]
    if not habit.is_diary or not people:
        return None
    figure, axes = new_figure(6.4, 1.2 + 0.35 * len(people))
    axes.barh([wrap(p.name, 20) for p in reversed(people)], [(p.rate or 0) * 100 for p in reversed(people)], color=PALETTE[2])
    for y, person in enumerate(reversed(people)):
        axes.text((person.rate or 0) * 100, y, f" {person.on_time}/{person.sent}", va="center", fontsize=8)
    axes.set_xlim(0, 115)
    axes.set_xlabel(t._("% of check-ins answered in time"))
    axes.set_title(t._("Compliance"), fontsize=10, loc="left")
    return to_png(figure)


def all_charts(t: Translator, habit: HabitMap) -> dict[str, bytes]:
    drawn = {"heatmap": heatmap_png(t, habit), "breakdowns": breakdowns_png(t, habit), "compliance": compliance_png(t, habit)}
    return {name: data for name, data in drawn.items() if data is not None}
