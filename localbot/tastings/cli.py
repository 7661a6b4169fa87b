"""``localbot tasting …``: check tasting files, print serving sheets, build reports, import paper forms.

The commands import what they use when they run (numpy, scipy, matplotlib), so that every other
``localbot`` command starts as fast as before.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from localbot.outfile import output_file

if TYPE_CHECKING:
    import sqlite_utils

    from localbot.tastings import store


class NotFound(Exception):
    """No such tasting (or an ambiguous one); the message says what to do."""


def find_tasting(db: sqlite_utils.Database, ref: str, community: str | None) -> store.Tasting:
    """The tasting a number or name refers to: the newest, in ``community`` if given."""
    from localbot.community import store as community_store
    from localbot.tastings import store

    community_id = None
    if community:
        found = community_store.community_by_name(db, community)
        if found is None:
            raise NotFound(f"no community named {community!r}")
        community_id = found.id
    matches = store.find_tastings(db, community_id, ref)
    if not matches:
        raise NotFound(f"no tasting {ref!r} has been started" + (f" in {community!r}" if community else ""))
    if community_id is None and len({t.community_id for t in matches}) > 1:
        raise NotFound(f"{ref!r} ran in several communities; choose one with --community")
    return matches[0]


def _open(ctx: click.Context, ref: str, community: str | None) -> tuple[sqlite_utils.Database, store.Tasting]:
    """The database and the tasting REF names; exits with a one-line message when there is none."""
    from localbot.cli import _existing_database, _settings

    db = _existing_database(ctx, _settings(ctx))
    try:
        return db, find_tasting(db, ref, community)
    except NotFound as exc:
        db.close()
        click.echo(f"localbot: {exc}", err=True)
        raise click.exceptions.Exit(1) from None


@click.group()
def tasting() -> None:
    """Tastings: check tasting files, serving sheets, reports, paper forms."""


@tasting.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def validate_command(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Check tasting FILES (config/tastings/*.toml): every problem with its file, line and field."""
    from zoneinfo import ZoneInfo

    from localbot.cli import _settings
    from localbot.tastings.definition import TastingFileError, load

    tz = ZoneInfo(_settings(ctx).timezone)
    now = datetime.now(UTC)
    ok = True
    for path in files:
        if not path.is_file():
            ok = False
            click.echo(f"{path}: no such file")
            continue
        try:
            definition, _source, warnings = load(path, tz=tz)
        except TastingFileError as error:
            ok = False
            for problem in error.problems:
                click.echo(str(problem))
            click.echo(f"{path}: {sum(1 for p in error.problems if not p.warning)} error(s); not usable")
            continue
        for problem in warnings:
            click.echo(str(problem))
        for index, session in enumerate(definition.sessions, start=1):
            if session.resolved(tz)[0] <= now:
                click.echo(f"{path}: warning: sessions[{index}]: starts in the past ({session.start:%Y-%m-%d %H:%M}); /tasting start would refuse it")
        click.echo(
            f"{path}: OK — {definition.name}: {len(definition.products)} products, {len(definition.sessions)} session(s), "
            f"{len(definition.jar)} JAR attribute(s), {len(definition.cata)} CATA term(s), final {definition.final.value}, "
            f"{definition.mode.value}, languages {', '.join(definition.languages)}"
        )
    if not ok:
        ctx.exit(1)


def _write_sheet(lines: list[dict[str, Any]], columns: list[str], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(lines, ensure_ascii=False, indent=2))
        return
    from localbot.export.writers import write_csv

    buffer = io.StringIO()
    write_csv(lines, columns, buffer)
    click.echo(buffer.getvalue(), nl=False)


@tasting.command("plan")
@click.argument("ref", required=False)
@click.option("--products", type=click.IntRange(2, 26), help="How many products (without a tasting: a plan on paper).")
@click.option("--participants", type=click.IntRange(1, 10_000), help="How many participants.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--seed", type=int, help="Draw the blind codes reproducibly.")
@click.option("--community", help="The community the tasting REF belongs to (by name), if there are several.")
@click.pass_context
def plan_command(ctx: click.Context, ref: str | None, products: int | None, participants: int | None, fmt: str, seed: int | None, community: str | None) -> None:
    """The serving sheet: a row per participant with the product and code at each position.

    With --products N --participants M: a Williams design with fresh blind codes (products A, B, …).
    With REF (a tasting's number or name): the people booked in that tasting, with their real codes.
    """
    import random

    from localbot.tastings.codes import blind_codes
    from localbot.tastings.design import letter, plan

    if ref is None:
        if products is None or participants is None:
            raise click.UsageError("give a tasting, or --products N and --participants M")
        codes = blind_codes(products, random.Random(seed) if seed is not None else None)
        sheet = []
        for serving in plan(products, participants):
            line: dict[str, Any] = {"participant": serving.participant, "row": serving.row + 1}
            for position, product in enumerate(serving.order, start=1):
                line[f"product_{position}"] = letter(product)
                line[f"code_{position}"] = codes[product]
            sheet.append(line)
        columns = ["participant", "row"] + [f"{kind}_{p}" for p in range(1, products + 1) for kind in ("product", "code")]
        _write_sheet(sheet, columns, fmt)
        return
    from localbot.community import store as community_store
    from localbot.tastings import store

    db, found = _open(ctx, ref, community)
    try:
        items = store.products(db, found.id)
        numbers = {s.id: s.number for s in store.sessions(db, found.id)}
        sheet = []
        for participant in store.participants(db, found.id, statuses=("booked",)):
            if participant.source != "chat":
                continue
            member = community_store.get_member(db, participant.member_id) if participant.member_id else None
            line = {"participant": participant.label, "name": member.display_name if member else "", "session": numbers[participant.session_id],
                    "row": (participant.design_row or 0) + 1}
            for position, served in enumerate(store.serving_order(items, participant), start=1):
                line[f"product_{position}"] = served.name
                line[f"code_{position}"] = served.code
            sheet.append(line)
        sheet.sort(key=lambda line: (line["session"], line["participant"]))
        columns = ["participant", "name", "session", "row"] + [f"{kind}_{p}" for p in range(1, len(items) + 1) for kind in ("product", "code")]
        _write_sheet(sheet, columns, fmt)
    finally:
        db.close()


@tasting.command("report")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["json", "html"]), default="json", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), callback=output_file, help="Write to this file (JSON: charts go next to it as PNG).")
@click.option("--community", help="The community it ran in (by name), if there are several.")
@click.option("--lang", "language", type=click.Choice(["en", "pl", "id"]), help="Language of the report (default: the community's).")
@click.pass_context
def report_command(ctx: click.Context, ref: str, fmt: str, out: Path | None, community: str | None, language: str | None) -> None:
    """The analysis of tasting REF (number or name): liking, tests, penalties, CATA, preference."""
    from localbot.cli import hand_out
    from localbot.community import store as community_store
    from localbot.i18n import translator
    from localbot.tastings.charts import all_charts
    from localbot.tastings.report import build, to_html

    db, found = _open(ctx, ref, community)
    try:
        home = community_store.get_community(db, found.community_id)
        t = translator(language or (home.language if home else None))
        report = build(db, found, t.language)
    finally:
        db.close()
    charts = all_charts(t, report, names=True)
    written: list[Path] = []
    if fmt == "html":
        content = to_html(t, report, charts)
    else:
        data = report.to_json()
        if out is not None:
            data["charts"] = {}
            for name, png in charts.items():
                path = out.with_name(f"{out.stem}-{name}.png")
                path.write_bytes(png)
                written.append(path)
                data["charts"][name] = path.name
        content = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    hand_out(content, out, written)


@tasting.command("import")
@click.argument("ref")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--community", help="The community the tasting belongs to (by name), if there are several.")
@click.pass_context
def import_command(ctx: click.Context, ref: str, file: Path, community: str | None) -> None:
    """Load paper-form answers from FILE (the long format `localbot export tastings` writes)."""
    from localbot.tastings.paper import ImportProblem, import_file

    db, found = _open(ctx, ref, community)
    try:
        try:
            result = import_file(db, found, file, now=datetime.now(UTC))
        except ImportProblem as exc:
            click.echo(f"localbot: {exc}", err=True)
            ctx.exit(1)
    finally:
        db.close()
    if not result.ok:
        click.echo(f"Nothing was imported: {len(result.problems)} row(s) of {file} have problems:", err=True)
        for line, problem in result.problems:
            click.echo(f"  line {line}: {problem}", err=True)
        ctx.exit(1)
    click.echo(
        f"Imported into tasting #{found.number}: {result.added} new answer(s), {result.updated} changed, {result.unchanged} already there; "
        f"{result.participants} new paper participant(s)."
        + (f" {result.other_tastings} row(s) of other tastings were skipped." if result.other_tastings else "")
    )

