"""``localbot points …``: load pickup points from a spreadsheet, and export them for map tools.

The commands import what they use when they run (:mod:`localbot.maps.importer`, geopy, Babel), so
that every other ``localbot`` command starts as fast as before.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from localbot.outfile import output_file

# --- the commands --------------------------------------------------------------------------------


@click.group()
def points() -> None:
    """Pickup points: import them from a spreadsheet, export them for map tools."""


@points.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--community", help="The community to add them to (by name); needed when there are several.")
@click.option("--update", is_flag=True, help="A row whose name exists changes that point instead of being skipped.")
@click.pass_context
def import_command(ctx: click.Context, file: Path, community: str | None, update: bool) -> None:
    """Add the pickup points in FILE (CSV: name, address or latitude and longitude, hours, note)."""
    from datetime import UTC, datetime

    from localbot.cli import _settings
    from localbot.maps import geocode
    from localbot.maps.geocode import Geocoder, GeocodingUnavailable
    from localbot.maps.importer import ImportProblem, Placed, Unplaced, choose_community, place, read_rows, save
    from localbot.storage import open_database

    settings = _settings(ctx)
    try:
        geocoder: Geocoder | None = geocode.geocoder_for(settings.geocoder)
    except GeocodingUnavailable:
        geocoder = None  # rows with coordinates still import; the others say why not
    db = open_database(settings.database)
    try:
        chosen = choose_community(db, community)
        rows = read_rows(file)
        now = datetime.now(UTC)
        with click.progressbar(rows, label="Placing pickup points", file=sys.stderr, item_show_func=lambda r: r.name if r else None) as bar:
            results = [place(row, db=db, community=chosen, geocoder=geocoder, now=now) for row in bar]
        added, updated, refused = save(db, chosen, [r for r in results if isinstance(r, Placed)], update=update, now=now)
    except ImportProblem as problem:
        click.echo(f"localbot: {problem}", err=True)
        ctx.exit(2)
    finally:
        db.close()
    unplaced = sorted([r for r in results if isinstance(r, Unplaced)] + refused, key=lambda u: u.line)
    summary = f"Imported {added} pickup point(s) into {chosen.name}"
    click.echo(summary + (f", updated {updated}." if updated else "."))
    if unplaced:
        click.echo(f"{len(unplaced)} row(s) could not be placed:", err=True)
        for item in unplaced:
            click.echo(f"  row {item.line} ({item.name or 'no name'}): {item.reason}", err=True)
        ctx.exit(1)


@points.command("export")
@click.option("--format", "fmt", type=click.Choice(["geojson", "csv", "xlsx", "json"]), default="geojson", show_default=True, help="GeoJSON for uMap or QGIS; CSV to edit and import again; XLSX for Excel.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), callback=output_file, help="Write to this file instead of standard output.")
@click.option("--community", help="Only this community (by name).")
@click.pass_context
def export_command(ctx: click.Context, fmt: str, out: Path | None, community: str | None) -> None:
    """Export the pickup points (the same as `localbot export points`)."""
    from localbot.cli import export

    ctx.invoke(export, kind="points", fmt=fmt, out=out, community=community, since=None)
