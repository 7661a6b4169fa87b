"""Shared by the tasting tests: a tasting file written for "now", pickup points, members signed up.

Each test runs in its own temporary working directory (``tests/conftest.py``), where the bot looks
for tasting files in ``config/tastings``. The harness's clock starts on Monday 2026-01-05 09:00 UTC
and the test community lives in Europe/Warsaw.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from localbot.maps import store as point_store
from localbot.maps.model import PointSpec
from localbot.replies import Reply
from localbot.tastings import store
from tests.helpers import Harness, choices, texts

MEMBERS = ("bartek", "celina", "dorota", "edek", "franek", "gosia")

KIOSK = (52.2297, 21.0122)
LIBRARY = (52.2400, 21.0300)

TASTING = """\
[tasting]
languages = ["en", "pl", "id"]
title = {{ en = "Oat drinks", pl = "Napoje owsiane", id = "Minuman oat" }}
mode = "{mode}"

[[products]]
id = "barista"
name = "Oat Barista"

[[products]]
id = "light"
name = "Oat Light"

[[products]]
id = "choco"
name = "Oat Cocoa"

[[sessions]]
start = "{start}"
end = "{end}"
point = "Kiosk"
places = {places}
{taste_at}
{second}
[questions]
final = "{final}"

[[questions.jar]]
id = "sweetness"
name = {{ en = "sweetness", pl = "słodycz", id = "rasa manis" }}

[[questions.cata]]
id = "creamy"
label = {{ en = "Creamy", pl = "Kremowy", id = "Creamy" }}

[[questions.cata]]
id = "watery"
label = {{ en = "Watery", pl = "Wodnisty", id = "Encer" }}
"""

#: Local (Warsaw) times of the two sessions: Wednesday 7 and Thursday 8 January 2026.
SESSION_1 = ("2026-01-07 10:00", "2026-01-07 12:00")
SESSION_2 = ("2026-01-08 17:00", "2026-01-08 19:00")


SECOND = """[[sessions]]
start = "{start}"
end = "{end}"
point = "Library"
places = 10
{taste_at}"""


def write_tasting(
    folder: Path, name: str = "oat-drinks", *, places: int = 5, mode: str = "on_site", final: str = "preference",
    first: tuple[str, str] = SESSION_1, second: tuple[str, str] | None = SESSION_2,
) -> Path:
    """A tasting file: three oat drinks, one session at the Kiosk and (unless ``second`` is None) one at the Library."""
    folder.mkdir(parents=True, exist_ok=True)
    home = mode == "home_use"
    text = TASTING.format(
        mode=mode, places=places, final=final, start=first[0], end=first[1],
        taste_at='taste_at = "2026-01-09 18:00"\n' if home else "",
        second=SECOND.format(start=second[0], end=second[1], taste_at='taste_at = "2026-01-10 18:00"\n' if home else "") if second else "",
    )
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def add_points(bot: Harness) -> None:
    community = bot.community()
    with bot.core.db.atomic():
        for name, (lat, lon) in (("Kiosk", KIOSK), ("Library", LIBRARY)):
            point_store.create_point(bot.core.db, community.id, PointSpec.build(name, lat, lon, address=f"{name} street 1"), created_by=None, now=bot.clock.now())


def plain(text: str) -> str:
    """Babel writes "10:00 AM" with a narrow no-break space; tests read it as a space."""
    return text.replace("\u202f", " ")


def said(replies: Iterable[Reply]) -> str:
    return plain(texts(replies))


def menu(replies: list[Reply]) -> str:
    return plain(choices(replies).text)


async def join(bot: Harness, *names: str) -> None:
    """Members say hello in the group: they belong to the community from then on."""
    for name in names:
        await bot.send("hello", name)


async def started(bot: Harness, tmp_path: Path, *, members: tuple[str, ...] = MEMBERS, **options: object) -> store.Tasting:
    """Members in the group, points in place, the tasting file written and started by anna in the group."""
    await join(bot, *members)
    add_points(bot)
    write_tasting(tmp_path / "config" / "tastings", **options)  # type: ignore[arg-type]
    await bot.send("/tasting start oat-drinks")
    await bot.outbox()
    [tasting] = store.tastings(bot.core.db, bot.community().id)
    return tasting


def sessions(bot: Harness, tasting: store.Tasting) -> list[store.Session]:
    return store.sessions(bot.core.db, tasting.id)

