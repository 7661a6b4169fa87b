"""The ``localbot`` command: run the bot, try it in the console, manage the database, export."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from localbot import __version__
from localbot.outfile import output_file, write_failed
from localbot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    import sqlite_utils


def _settings(ctx: click.Context, **extra: Any) -> Settings:
    overrides = dict(ctx.find_root().obj or {})
    overrides.update({k: v for k, v in extra.items() if v is not None})
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        click.echo(f"localbot: {exc}", err=True)
        ctx.exit(2)
    return settings


def _existing_database(ctx: click.Context, settings: Settings) -> sqlite_utils.Database:
    """The configured database, opened; exits with a one-line message if there is none yet."""
    from localbot.storage import open_database

    if not Path(settings.database).is_file():
        click.echo(f"localbot: no database at {settings.database}", err=True)
        ctx.exit(1)
    return open_database(settings.database)


def _logging(settings: Settings, *, quiet: bool = False) -> None:
    level = logging.WARNING if quiet and settings.log_level in ("DEBUG", "INFO") else getattr(logging, settings.log_level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "database", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file to use (overrides LOCALBOT_DATABASE).")
@click.version_option(__version__, prog_name="localbot")
@click.pass_context
def main(ctx: click.Context, database: Path | None) -> None:
    """localbot: polls, tastings, pickup points and surveys for neighbourhood groups."""
    ctx.obj = {"database": database} if database else {}


# --- running -------------------------------------------------------------------------------------


def _console(settings: Settings, member: str) -> None:
    from localbot.adapters.console import run_console
    from localbot.clock import OffsetClock
    from localbot.core import Core
    from localbot.storage import open_database

    clock = OffsetClock()
    db = open_database(settings.database)
    try:
        asyncio.run(run_console(Core(settings, db, clock=clock), clock, member=member))
    finally:
        db.close()


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Start the bot: Telegram and/or WhatsApp when configured, else the local console."""
    from localbot import runtime

    settings = _settings(ctx)
    if not runtime.has_messenger(settings):
        _logging(settings, quiet=True)
        if sys.stdin.isatty():
            click.echo("No messenger is configured (see README: settings), so here is the local console.", err=True)
        _console(settings, "anna")
        return
    _logging(settings)
    try:
        asyncio.run(runtime.serve(settings))
    except SettingsError as exc:
        click.echo(f"localbot: {exc}", err=True)
        ctx.exit(2)
    except KeyboardInterrupt:
        pass


@main.command()
@click.option("--as", "member", default="anna", show_default=True, help="The member you start as (the first member is the organiser).")
@click.pass_context
def shell(ctx: click.Context, member: str) -> None:
    """Talk to the bot in the terminal as one or more simulated members."""
    settings = _settings(ctx)
    _logging(settings, quiet=True)
    _console(settings, member.lower())


@main.command()
@click.option("--db", "database", type=click.Path(dir_okay=False, path_type=Path), default=Path("localbot-demo.db"), show_default=True)
@click.pass_context
def demo(ctx: click.Context, database: Path) -> None:
    """Play a short scripted walk-through in the console (starts from an empty database)."""
    from localbot.adapters.console import run_console
    from localbot.clock import OffsetClock
    from localbot.core import Core
    from localbot.demo import SCRIPT
    from localbot.storage import open_database

    settings = _settings(ctx, database=database)
    _logging(settings, quiet=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.database}{suffix}").unlink(missing_ok=True)
    clock = OffsetClock()
    db = open_database(settings.database)
    try:
        asyncio.run(run_console(Core(settings, db, clock=clock), clock, stream=io.StringIO(SCRIPT)))
    finally:
        db.close()
    click.echo(f"\nThe demo's database is {settings.database}. Look inside with: localbot --db {settings.database} export polls")


# --- database ------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("migrate")
@click.pass_context
def db_migrate(ctx: click.Context) -> None:
    """Bring the database schema up to date."""
    from localbot.storage import open_database
    from localbot.storage.migrations import migrate

    settings = _settings(ctx)
    database = open_database(settings.database, migrate=False)
    try:
        applied = migrate(database)
    finally:
        database.close()
    if applied:
        click.echo(f"Applied {len(applied)} migration(s) to {settings.database}:")
        for name in applied:
            click.echo(f"  {name}")
    else:
        click.echo(f"{settings.database} is up to date.")


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def db_backup(ctx: click.Context, path: Path) -> None:
    """Write a consistent copy of the database to PATH, while the bot keeps running."""
    from localbot.storage.backup import backup_database

    settings = _settings(ctx)
    try:
        pages = backup_database(settings.database, path)
    except (FileNotFoundError, ValueError, OSError) as exc:
        click.echo(f"localbot: backup failed: {exc}", err=True)
        ctx.exit(1)
    click.echo(f"Backed up {settings.database} to {path} ({pages} pages).")


@db.command("purge")
@click.option("--older-than", "older_than", required=True, help="Retention period, e.g. 365d or 52w (at least one day).")
@click.option("--dry-run", is_flag=True, help="Count what would go, change nothing.")
@click.pass_context
def db_purge(ctx: click.Context, older_than: str, dry_run: bool) -> None:
    """Apply a retention period: forget members who left and were not seen since, anonymise older
    answers (results stay the same), delete delivered messages and other traces older than that."""
    from localbot import delivered
    from localbot.clock import SystemClock
    from localbot.privacy import registry
    from localbot.privacy.model import Expiry
    from localbot.storage.secret import load_or_create_secret
    from localbot.when import parse_duration

    period = parse_duration(older_than)
    if period is None or period < timedelta(days=1):
        raise click.BadParameter("give a period of a day or more, such as 365d or 52w", param_hint="--older-than")
    settings = _settings(ctx)
    database = _existing_database(ctx, settings)
    now = SystemClock().now()
    expiry = Expiry(
        before=now - period,
        secret=load_or_create_secret(settings.database),
        now=now,
        base=Path(settings.database).resolve().parent,
        # Deleting a file is not undone with the transaction: a dry run leaves files alone.
        outbound=None if dry_run else delivered.outbound_folder(settings.media_path),
    )
    try:
        with database.atomic():
            done = registry.purge(database, expiry)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    finally:
        database.close()
    click.echo(("Would purge" if dry_run else "Purged") + f" data older than {expiry.before:%Y-%m-%d %H:%M} UTC from {settings.database}:")
    for name, count in done.items():
        click.echo(f"  {name}: {count}")


class _DryRun(Exception):
    """Rolls a dry run's transaction back."""


# --- exports -------------------------------------------------------------------------------------


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use an ISO date such as 2026-11-01 or 2026-11-01T18:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.command()
@click.argument("kind")
@click.option("--format", "fmt", default="csv", show_default=True, help="csv, xlsx or json; geojson for points.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), callback=output_file, help="Write to this file instead of standard output.")
@click.option("--community", help="Only this community (by name).")
@click.option("--since", help="Only rows from this date on (ISO 8601).")
@click.option(
    "--photos",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="FOLDER",
    help="Copy the photos the rows link to into this folder and link the copies (surveys).",
)
@click.pass_context
def export(ctx: click.Context, kind: str, fmt: str, out: Path | None, community: str | None, since: str | None, photos: Path | None) -> None:
    """Export KIND (polls, surveys, points, tastings, members) in long format for spreadsheets, R or map tools.

    Rows are streamed, so memory stays flat however large the export; on a terminal a progress bar
    runs on standard error. Survey photos are linked as file: URIs on this computer; with --photos
    DIR they are copied into DIR and linked relative to the output file (or the current folder),
    so the file and the folder can be sent together.
    """
    from localbot.community import store as community_store
    from localbot.export.files import Files
    from localbot.export.kinds import KINDS, write_export
    from localbot.export.writers import BINARY, TooManyRows

    spec = KINDS.get(kind)
    if spec is None:
        raise click.BadParameter(f"choose one of: {', '.join(sorted(KINDS))}", param_hint="KIND")
    fmt = fmt.lower()
    if fmt not in spec.formats:
        raise click.BadParameter(f"{kind} can be exported as {', '.join(spec.formats)}", param_hint="--format")
    if photos is not None and not spec.files:
        raise click.BadParameter(f"{kind} has no photos; only surveys do", param_hint="--photos")
    if fmt in BINARY and out is None and sys.stdout.isatty():
        raise click.BadParameter(f"{fmt} is a binary format: write it to a file with --out", param_hint="--format")
    starting = _since(since)
    settings = _settings(ctx)
    database = _existing_database(ctx, settings)
    files = Files(
        Path(settings.database).resolve().parent,
        copy_to=photos,
        link_from=(out.resolve().parent if out is not None else Path.cwd()) if photos is not None else None,
    )
    # Sorting a million rows must spill to a temporary file, not grow in memory as the bot's
    # connection (temp_store=MEMORY) would let it.
    database.execute("PRAGMA temp_store = FILE")
    try:
        community_id = None
        if community:
            found = community_store.community_by_name(database, community)
            if found is None:
                click.echo(f"localbot: no community named {community!r}", err=True)
                ctx.exit(1)
            community_id = found.id
        tmp = out.with_name(out.name + ".part") if out is not None else None
        try:
            with _progress(spec.count(database, community_id=community_id, since=starting) if spec.count else None, kind) as step:
                if out is None or tmp is None:
                    count = write_export(
                        database, spec, fmt, sys.stdout.buffer, community_id=community_id, since=starting, on_row=step, files=files
                    )
                    sys.stdout.flush()
                else:
                    with tmp.open("wb") as handle:
                        count = write_export(
                            database, spec, fmt, handle, community_id=community_id, since=starting, on_row=step, files=files
                        )
                    tmp.replace(out)
        except OSError as exc:
            if tmp is None or out is None:
                raise
            tmp.unlink(missing_ok=True)
            click.echo(write_failed(out, exc), err=True)
            ctx.exit(1)
        except TooManyRows as full:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            click.echo(
                f"localbot: {kind} has more rows than an XLSX worksheet holds ({full.fits:,} under the header); "
                f"nothing was written. Export it as CSV instead: --format csv",
                err=True,
            )
            ctx.exit(1)
    finally:
        database.close()
    if out is not None:
        click.echo(f"Wrote {count} row(s) to {out}.", err=True)
    if photos is not None:
        click.echo(f"Copied {files.copied} photo(s) to {photos}.", err=True)
    for path in files.missing:
        click.echo(f"localbot: the photo {path} is missing; its link leads nowhere.", err=True)


@contextlib.contextmanager
def _progress(total: int | None, label: str) -> Iterator[Callable[[], None] | None]:
    """A progress bar on standard error while rows are written, only when that is a terminal."""
    if not total or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=f"Exporting {label}", file=sys.stderr, update_min_steps=max(1, total // 200)) as bar:
        yield lambda: bar.update(1)


# --- dashboard -----------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Where to listen; 0.0.0.0 lets other machines in.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="The port to listen on.")
@click.pass_context
def dashboard(ctx: click.Context, host: str, port: int) -> None:
    """Browse the database read-only in Datasette: members, polls, surveys, pickup points on a map.

    Needs the optional extra: pip install 'localbot[dashboard]'. Like every command it first brings
    the schema up to date (which also creates the dashboard's views); then it only reads.
    """
    from localbot.dashboard import app

    settings = _settings(ctx)
    _existing_database(ctx, settings).close()
    try:
        app.serve(Path(settings.database), host=host, port=port)
    except app.NotInstalled as exc:
        click.echo(f"localbot: {exc}", err=True)
        ctx.exit(1)


# --- translations (for developers) -----------------------------------------------------------------


@main.group(hidden=True)
def i18n() -> None:
    """Translation catalogues."""


@i18n.command("extract")
def i18n_extract() -> None:
    """Add new texts to every language's .po files."""
    from localbot.i18n_tools import update_catalogues

    for domain, size in sorted(update_catalogues().items()):
        click.echo(f"{domain}: {size} messages")


@i18n.command("check")
@click.pass_context
def i18n_check(ctx: click.Context) -> None:
    """Fail if any text lacks a translation."""
    from localbot.i18n_tools import problems

    found = problems()
    for line in found:
        click.echo(line)
    if found:
        ctx.exit(1)
    click.echo("All texts are translated.")


# --- habit surveys and diaries ----------------------------------------------------------------------


@main.group()
def survey() -> None:
    """Habit surveys and diaries: check study files, build habit maps."""


@survey.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def survey_validate(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Check study FILES (config/surveys/*.toml): every problem with its file, line and field."""
    from localbot.surveys.commandline import validate

    ok, lines = validate(list(files))
    for line in lines:
        click.echo(line)
    if not ok:
        ctx.exit(1)


@survey.command("report")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["json", "html"]), default="json", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), callback=output_file, help="Write to this file (JSON: charts go next to it as PNG).")
@click.option("--community", help="The community it ran in (by name), if it ran in several.")
@click.option("--lang", "language", type=click.Choice(["en", "pl", "id"]), help="Language of the report (default: the community's).")
@click.pass_context
def survey_report(ctx: click.Context, name: str, fmt: str, out: Path | None, community: str | None, language: str | None) -> None:
    """The habit map of survey NAME (a study name or a number): heat map, breakdowns, compliance."""
    from localbot.surveys.commandline import ReportError, find_run, render

    database = _existing_database(ctx, _settings(ctx))
    try:
        try:
            run = find_run(database, name, community)
        except ReportError as exc:
            click.echo(f"localbot: {exc}", err=True)
            ctx.exit(1)
        rendered = render(database, run, fmt=fmt, language=language, out=out)
    finally:
        database.close()
    hand_out(rendered.content, out, rendered.charts.values())


def hand_out(content: str, out: Path | None, written: Iterable[Path] = ()) -> None:
    """Print a report, or write it to ``out`` (whole or not at all) and say what was written."""
    if out is None:
        click.echo(content, nl=False)
        return
    tmp = out.with_name(out.name + ".part")
    try:
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        click.echo(write_failed(out, exc), err=True)
        raise SystemExit(1) from None
    click.echo(f"Wrote {out}" + "".join(f", {path}" for path in written) + ".", err=True)


# --- pickup points ---------------------------------------------------------------------------------

from localbot.maps.cli import points  # noqa: E402  (the group's commands import what they need lazily)

main.add_command(points)


# --- tastings --------------------------------------------------------------------------------------

from localbot.tastings.cli import tasting  # noqa: E402  (the group's commands import what they need lazily)

main.add_command(tasting)
