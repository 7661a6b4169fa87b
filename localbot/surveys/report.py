"""The habit map: when and where people reach for it, with what, what puts them off, what convinces.

Built from a run's stored answers, using the questions the study names in its ``[report]`` table:

- **Heat map** of consumption moments, weekday × time of day (cells of ``hours_per_cell`` hours,
  each member's own time zone). In a diary the cell's *rate* is the share of check-ins answered
  in time in that cell that reported a moment (``report.moment`` holds: "yes, I had one since the
  last check-in"); both the check-in and its moment are placed at the time the check-in was sent,
  so the rate is a proportion from 0 to 1 and a slot where people are rarely asked does not look
  empty only for that reason. "I just had one" self-reports are not sampled, so they are not part
  of the rate: they are counted apart (``self_reports``), placed at the time the member gave
  (``report.time``) or else when they sent it. In a one-off survey each respondent's usual time
  (``report.time``) on each of their usual days (``report.weekday``) is a moment, and the rate is
  the share of respondents who gave both. Cells with fewer than :data:`MIN_CELL` answers behind
  them are marked: too few to read anything into. The busiest time is the cell with the highest
  rate among cells with at least :data:`MIN_CELL` answers, or, while no cell has that many, the
  cell with the most moments (check-ins and self-reports).
- **Breakdowns** by place and by pairing (among moments), and the most frequent deterrents and
  convincers (choices counted, free texts grouped when they say the same thing).
- **Compliance** per participant: check-ins answered before they expired ÷ check-ins sent.

Late answers (to a check-in that had expired) are kept in the database and the export, but are not
part of the map: they are recalled, not sampled in the moment.
"""

from __future__ import annotations

import base64
import html
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from localbot.clock import iso
from localbot.community import store as community_store
from localbot.i18n import Translator, translator
from localbot.surveys import store
from localbot.surveys.answers import options
from localbot.surveys.model import WEEKDAYS, Kind, Question, Study, answer_values

MIN_CELL = 5
TOP = 8
_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Count:
    value: str
    label: str
    count: int
    #: Of the entries that answered this question.
    share: float


@dataclass(frozen=True)
class HeatMap:
    hours_per_cell: int
    #: ``moments[weekday][cell]``, Monday first: check-ins answered in time that reported a moment,
    #: by the cell they were sent in (diary), or respondents' usual moments (one-off).
    moments: list[list[int]]
    #: What each cell is normalised by: answered check-ins (diary) or respondents (one-off).
    base: list[list[int]]
    basis: str
    #: Diaries: "I just had one" moments by the time given; not part of the rate.
    self_reports: list[list[int]]

    def rate(self, day: int, cell: int) -> float | None:
        """Share of the cell's answers that reported a moment (0 to 1); None without answers."""
        base = self.base[day][cell]
        return self.moments[day][cell] / base if base else None

    def low(self, day: int, cell: int) -> bool:
        return self.base[day][cell] < MIN_CELL

    @property
    def cells(self) -> int:
        return 24 // self.hours_per_cell

    def busiest(self) -> tuple[int, int] | None:
        """The cell with the highest rate among cells with enough answers; while none has enough,
        the cell with the most moments, self-reports included (ties: the earlier one)."""
        every = [(day, cell) for day in range(7) for cell in range(self.cells)]
        enough = [(d, c) for d, c in every if not self.low(d, c) and self.moments[d][c]]
        if enough:
            return max(enough, key=lambda dc: (self.rate(*dc), self.moments[dc[0]][dc[1]], -dc[0], -dc[1]))
        counted = [(d, c) for d, c in every if self.moments[d][c] + self.self_reports[d][c]]
        if not counted:
            return None
        return max(counted, key=lambda dc: (self.moments[dc[0]][dc[1]] + self.self_reports[dc[0]][dc[1]], -dc[0], -dc[1]))


@dataclass(frozen=True)
class Compliance:
    name: str
    ref: str
    status: str
    sent: int = 0
    on_time: int = 0
    late: int = 0
    self_reports: int = 0
    completed: bool = False

    @property
    def missed(self) -> int:
        return self.sent - self.on_time - self.late

    @property
    def rate(self) -> float | None:
        return self.on_time / self.sent if self.sent else None


@dataclass(frozen=True)
class HabitMap:
    number: int
    name: str
    title: str
    mode: str
    status: str
    language: str
    #: The community's, for dates in the report.
    timezone: str
    started_at: datetime
    closed_at: datetime | None
    participants: int
    answered: int
    moments: int
    heatmap: HeatMap | None
    places: list[Count] = field(default_factory=list)
    pairings: list[Count] = field(default_factory=list)
    deterrents: list[Count] = field(default_factory=list)
    convincers: list[Count] = field(default_factory=list)
    compliance: list[Compliance] = field(default_factory=list)

    @property
    def is_diary(self) -> bool:
        return self.mode == "diary"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = iso(self.started_at)
        data["closed_at"] = iso(self.closed_at) if self.closed_at else None
        if self.heatmap is not None:
            data["heatmap"]["rates"] = [
                [None if r is None else round(r, 4) for r in (self.heatmap.rate(d, c) for c in range(self.heatmap.cells))]
                for d in range(7)
            ]
            data["heatmap"]["low"] = [[self.heatmap.low(d, c) for c in range(self.heatmap.cells)] for d in range(7)]
            data["heatmap"]["weekdays"] = list(WEEKDAYS)
            data["heatmap"]["min_cell"] = MIN_CELL
        for row, person in zip(data["compliance"], self.compliance, strict=True):
            row["missed"] = person.missed
            row["rate"] = None if person.rate is None else round(person.rate, 4)
        return data


# --- building ------------------------------------------------------------------------------------


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def _moment_time(reference: datetime, given: Any, timezone: str) -> datetime:
    """When a moment happened: the time the member gave, on the day it most likely was, else ``reference``.

    A time later than the end of the reference's hour (plus ten minutes for a clock running
    fast) was yesterday: "23:50" answered at 00:30. The rule looks at the reference's hour only,
    so a forgotten member's answers, whose times are kept to the hour, land in the same cells."""
    local = _local(reference, timezone)
    if not isinstance(given, str) or not re.fullmatch(r"\d{2}:\d{2}", given):
        return local
    hour, minute = (int(part) for part in given.split(":"))
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate > local.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=70):
        candidate -= timedelta(days=1)
    return candidate


def _fold_text(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCTUATION.sub(" ", folded).split())


def count_answers(question: Question | None, answers: list[Any], language: str) -> list[Count]:
    """How often each option (or each distinct text) was given, most frequent first."""
    if question is None:
        return []
    given = [a for a in answers if a is not None]
    if not given:
        return []
    if question.kind is Kind.TEXT:
        groups: dict[str, Counter[str]] = {}
        for text in given:
            groups.setdefault(_fold_text(str(text)), Counter())[str(text)] += 1
        ranked = sorted(groups.items(), key=lambda item: (-sum(item[1].values()), item[0]))
        return [
            Count(key, forms.most_common(1)[0][0], sum(forms.values()), sum(forms.values()) / len(given))
            for key, forms in ranked[:TOP]
        ]
    labels = options(question, language)
    counts: Counter[str] = Counter()
    located = 0
    for answer in given:
        if isinstance(answer, dict) and "lat" in answer:
            located += 1
        counts.update(str(v) for v in answer_values(answer))
    out = [Count(value, label, counts[value], counts[value] / len(given)) for value, label in labels if counts[value]]
    if located:
        out.append(Count("location", "📍 " + translator(language)._("a shared location"), located, located / len(given)))
    return sorted(out, key=lambda c: -c.count)[:TOP]


def build(db: sqlite_utils.Database, run: store.Run, language: str) -> HabitMap:
    study = run.study
    roles = study.roles
    items = store.run_answers(db, run.id)
    people = store.participants(db, run.id)
    members = {p.member_id: community_store.get_member(db, p.member_id) for p in people}
    counts = store.prompt_counts(db, run.id)
    community = community_store.get_community(db, run.community_id)

    if study.is_diary:
        usable = [i for i in items if i["entry"].kind == "self" or (i["entry"].kind == "prompt" and i["entry"].on_time)]
    else:
        usable = [i for i in items if i["entry"].kind == "once"]
    if roles.moment is not None:
        moment_items = [i for i in usable if roles.moment.holds(i["answers"])]
    else:  # a one-off survey asks everyone about their habits; a diary cannot tell its moments
        moment_items = [] if study.is_diary else usable

    heatmap = _diary_heatmap(study, usable, moment_items) if study.is_diary else _once_heatmap(study, usable)

    def question(role: str | None) -> Question | None:
        return study.question(role) if role is not None and study.has(role) else None

    def among(role: str | None, pool: list[dict[str, Any]]) -> list[Count]:
        if role is None:
            return []
        return count_answers(question(role), [i["answers"].get(role) for i in pool if role in i["answers"]], language)

    compliance = []
    for person in people:
        member = members.get(person.member_id)
        tally = counts.get(person.id, {})
        compliance.append(
            Compliance(
                name=member.display_name if member else "?",
                ref=member.ref if member else "?",
                status=person.status,
                sent=tally.get("sent", 0),
                on_time=tally.get("on_time", 0),
                late=tally.get("late", 0),
                self_reports=tally.get("self_reports", 0),
                completed=bool(tally.get("completed", 0)),
            )
        )
    return HabitMap(
        number=run.number,
        name=run.name,
        title=study.title.pick(language),
        mode=run.mode,
        status=run.status,
        language=language,
        timezone=community.timezone if community else "UTC",
        started_at=run.created_at,
        closed_at=run.closed_at,
        participants=len({i["member_id"] for i in usable}),
        answered=len(usable),
        moments=len(moment_items),
        heatmap=heatmap,
        places=among(roles.place, moment_items),
        pairings=among(roles.pairing, moment_items),
        deterrents=among(roles.deterrents, usable),
        convincers=among(roles.convincers, usable),
        compliance=compliance,
    )


def _empty(cells: int) -> list[list[int]]:
    return [[0] * cells for _ in range(7)]


def _diary_heatmap(study: Study, usable: list[dict[str, Any]], moment_items: list[dict[str, Any]]) -> HeatMap | None:
    roles = study.roles
    if roles.moment is None:
        return None
    hours = roles.hours_per_cell
    cells = 24 // hours
    moments, base, self_reports = _empty(cells), _empty(cells), _empty(cells)
    for item in usable:
        entry = item["entry"]
        if entry.kind == "prompt" and entry.sent_at is not None:
            local = _local(entry.sent_at, item["timezone"])
            base[local.weekday()][local.hour // hours] += 1
    for item in moment_items:
        entry = item["entry"]
        if entry.kind == "prompt":
            if entry.sent_at is not None:  # counted where its check-in is counted, so the rate is a share
                local = _local(entry.sent_at, item["timezone"])
                moments[local.weekday()][local.hour // hours] += 1
            continue
        reference = entry.started_at or entry.sent_at
        if reference is None:
            continue
        when = _moment_time(reference, item["answers"].get(roles.time) if roles.time else None, item["timezone"])
        self_reports[when.weekday()][when.hour // hours] += 1
    return HeatMap(hours, moments, base, "prompts", self_reports)


def _once_heatmap(study: Study, usable: list[dict[str, Any]]) -> HeatMap | None:
    roles = study.roles
    if roles.time is None or roles.weekday is None:
        return None
    hours = roles.hours_per_cell
    cells = 24 // hours
    moments = _empty(cells)
    respondents = 0
    for item in usable:
        usual, days = item["answers"].get(roles.time), answer_values(item["answers"].get(roles.weekday))
        if not isinstance(usual, str) or not days:
            continue
        respondents += 1
        cell = int(usual.split(":")[0]) // hours
        for day in days:
            moments[WEEKDAYS.index(day)][cell] += 1
    return HeatMap(hours, moments, [[respondents] * cells for _ in range(7)], "respondents", _empty(cells))


# --- words ---------------------------------------------------------------------------------------


def cell_label(hours: int, cell: int) -> str:
    return f"{cell * hours:02d}:00–{(cell + 1) * hours % 24:02d}:00"


def _top(t: Translator, counts: list[Count], limit: int = 3) -> str:
    return ", ".join(f"{c.label} ({t.percent(c.share)})" for c in counts[:limit])


def summary_lines(t: Translator, habit: HabitMap) -> list[str]:
    """What the group said, in a few lines: for members when a survey closes, and atop reports."""
    if not habit.answered:
        return [t._("Nobody answered, so there is nothing to report yet.")]
    lines = []
    if habit.is_diary:
        lines.append(
            t.n_("{n} person took part", "{n} people took part", habit.participants)
            + " · "
            + t.n_("{n} check-in answered", "{n} check-ins answered", habit.answered)
            + " · "
            + t.n_("{n} moment", "{n} moments", habit.moments)
        )
    else:
        lines.append(t.n_("{n} person answered.", "{n} people answered.", habit.participants))
    if habit.heatmap is not None and (best := habit.heatmap.busiest()) is not None:
        day = t.weekday_names()[best[0]][0]
        lines.append(t._("Busiest time: {day}, {hours}", day=day, hours=cell_label(habit.heatmap.hours_per_cell, best[1])))
    if habit.places:
        lines.append(t._("Where: {items}", items=_top(t, habit.places)))
    if habit.pairings:
        lines.append(t._("With: {items}", items=_top(t, habit.pairings)))
    if habit.deterrents:
        lines.append(t._("What puts people off: {items}", items=_top(t, habit.deterrents)))
    if habit.convincers:
        lines.append(t._("What would convince a newcomer: {items}", items=_top(t, habit.convincers)))
    return lines


def compliance_lines(t: Translator, habit: HabitMap, *, names: bool) -> list[str]:
    """Per participant (with names, for organisers) or as a spread (for a group chat)."""
    if habit.is_diary:
        rated = [p for p in habit.compliance if p.rate is not None]
        if not rated:
            return []
        if not names:
            rates = sorted(p.rate for p in rated if p.rate is not None)
            middle = rates[len(rates) // 2] if len(rates) % 2 else (rates[len(rates) // 2 - 1] + rates[len(rates) // 2]) / 2
            return [t._("Check-ins answered in time: {median} for the typical participant (from {low} to {high}).",
                        median=t.percent(middle), low=t.percent(rates[0]), high=t.percent(rates[-1]))]
        lines = [t._("Check-ins answered in time (answered ÷ sent):")]
        for p in habit.compliance:
            rate = t.percent(p.rate) if p.rate is not None else "–"
            lines.append(
                "• " + t._("{name}: {rate} ({on_time} of {sent}; {late} late, {self} “I just had one”)",
                           name=p.name, rate=rate, on_time=p.on_time, sent=p.sent, late=p.late, self=p.self_reports)
            )
        return lines
    done = sum(1 for p in habit.compliance if p.completed)
    return [t._("{done} of {total} who started answered every question.", done=done, total=len(habit.compliance))]


def report_text(t: Translator, habit: HabitMap, *, names: bool) -> str:
    if habit.is_diary:
        header = t._("📋 Habit map of diary #{number}: {title}", number=habit.number, title=habit.title)
    else:
        header = t._("📋 Habit map of survey #{number}: {title}", number=habit.number, title=habit.title)
    if habit.status == "open":
        state = t._("Still open: answers keep coming in.")
    else:
        state = t._("Closed {when}.", when=t.date(habit.closed_at or habit.started_at, ZoneInfo(habit.timezone)))
    lines = [header, state, "", *summary_lines(t, habit)]
    extra = compliance_lines(t, habit, names=names)
    if extra:
        lines += ["", *extra]
    if habit.heatmap is not None:
        lines += [""]
        if habit.heatmap.basis == "prompts":
            lines.append(t._("The heat map shows, for each weekday and time of day, the share of check-ins answered in time that reported one; "
                             "“I just had one” reports are shown apart, at the time given."))
        lines.append(t._("In the heat map, cells with fewer than {n} answers behind them are marked: too few to read much into.", n=MIN_CELL))
    return "\n".join(lines)


def to_html(t: Translator, habit: HabitMap, charts: dict[str, bytes]) -> str:
    """A self-contained page (charts embedded) an organiser can open, print or mail."""

    def esc(value: object) -> str:
        return html.escape(str(value))

    def row(cells: list[object], tag: str = "td") -> str:
        return "<tr>" + "".join(f"<{tag}>{esc(cell)}</{tag}>" for cell in cells) + "</tr>"

    def table(title: str, counts: list[Count]) -> str:
        if not counts:
            return ""
        head = row([t._("Answer"), t._("Count"), t._("Share")], "th")
        body = "".join(row([c.label, c.count, t.percent(c.share)]) for c in counts)
        return f"<h2>{esc(title)}</h2><table>{head}{body}</table>"

    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(habit.language)}"><head><meta charset="utf-8">',
        f"<title>{esc(habit.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
        "img{max-width:100%}</style></head><body>",
        f"<h1>{esc(habit.title)}</h1>",
        "<p>" + "<br>".join(esc(line) for line in summary_lines(t, habit)) + "</p>",
    ]
    for name in ("heatmap", "breakdowns", "compliance"):
        if name in charts:
            data = base64.b64encode(charts[name]).decode()
            parts.append(f'<p><img alt="{esc(name)}" src="data:image/png;base64,{data}"></p>')
    parts += [
        table(t._("Where"), habit.places),
        table(t._("With what"), habit.pairings),
        table(t._("What puts people off"), habit.deterrents),
        table(t._("What would convince a newcomer"), habit.convincers),
    ]
    if habit.compliance:
        participants = t._("Participants")
        if habit.is_diary:
            head = row([t._("Participant"), t._("Sent"), t._("In time"), t._("Late"), t._("Missed"), t._("I just had one"), t._("Compliance")], "th")
            body = "".join(
                row([p.name, p.sent, p.on_time, p.late, p.missed, p.self_reports, t.percent(p.rate) if p.rate is not None else "–"])
                for p in habit.compliance
            )
        else:
            head = row([t._("Participant"), t._("Answered every question")], "th")
            body = "".join(row([p.name, "✓" if p.completed else "–"]) for p in habit.compliance)
        parts.append(f"<h2>{esc(participants)}</h2><table>{head}{body}</table>")
    if habit.heatmap is not None:
        parts.append("<p>" + esc(t._("In the heat map, cells with fewer than {n} answers behind them are marked: too few to read much into.", n=MIN_CELL)) + "</p>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)
