"""Time zones as members type them: IANA names in any case ("europe/london"), and city names in
English, Polish and Indonesian ("London", "Londyn", "Nowy Jork", "Jakarta", "Bali").

Cities come from the IANA database itself (the last part of every name: "America/New_York" →
"new york"), plus the names our members use for places that are not a zone's own name.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from localbot.text import fold

#: Places members name that are not the last part of a zone's name, folded (see :func:`fold`).
ALIASES: dict[str, str] = {
    # Poland, in Polish and English
    **{city: "Europe/Warsaw" for city in (
        "warszawa", "polska", "poland", "krakow", "cracow", "wroclaw", "gdansk", "gdynia", "sopot", "poznan",
        "lodz", "szczecin", "lublin", "katowice", "bialystok", "rzeszow", "torun", "bydgoszcz", "olsztyn",
    )},
    # Polish names of cities abroad
    "londyn": "Europe/London", "dublin": "Europe/Dublin", "paryz": "Europe/Paris", "berlin": "Europe/Berlin",
    "rzym": "Europe/Rome", "madryt": "Europe/Madrid", "lizbona": "Europe/Lisbon", "wieden": "Europe/Vienna",
    "praga": "Europe/Prague", "kijow": "Europe/Kyiv", "kyiv": "Europe/Kyiv", "kiev": "Europe/Kyiv",
    "wilno": "Europe/Vilnius", "sztokholm": "Europe/Stockholm", "oslo": "Europe/Oslo",
    "kopenhaga": "Europe/Copenhagen", "amsterdam": "Europe/Amsterdam", "bruksela": "Europe/Brussels",
    "nowy jork": "America/New_York", "new york city": "America/New_York", "nyc": "America/New_York",
    "chicago": "America/Chicago", "los angeles": "America/Los_Angeles", "san francisco": "America/Los_Angeles",
    "tokio": "Asia/Tokyo", "pekin": "Asia/Shanghai", "beijing": "Asia/Shanghai", "dzakarta": "Asia/Jakarta",
    # Indonesia: the three zones by their Indonesian names and the cities in them
    "wib": "Asia/Jakarta", "wita": "Asia/Makassar", "wit": "Asia/Jayapura",
    **{city: "Asia/Jakarta" for city in (
        "bandung", "surabaya", "semarang", "yogyakarta", "jogja", "bogor", "depok", "bekasi", "tangerang",
        "malang", "solo", "surakarta", "palembang", "medan", "padang", "pekanbaru", "batam", "lampung",
        "bandar lampung", "pontianak", "pekalongan",
    )},
    **{city: "Asia/Makassar" for city in (
        "bali", "denpasar", "lombok", "mataram", "balikpapan", "samarinda", "banjarmasin", "manado", "kupang",
        "palu", "ujung pandang",
    )},
    **{city: "Asia/Jayapura" for city in ("ambon", "sorong", "papua", "merauke", "ternate")},
    "singapura": "Asia/Singapore", "kuala lumpur": "Asia/Kuala_Lumpur",
    "utc": "UTC", "gmt": "UTC",
}


@lru_cache(maxsize=1)
def _known() -> dict[str, str]:
    names = available_timezones()
    found: dict[str, str] = {}
    for name in sorted(names):  # "Europe/…" after "Africa/…": a shared city name keeps the first zone
        found.setdefault(fold(name), name)
        found.setdefault(fold(name.rsplit("/", 1)[-1].replace("_", " ")), name)
    found.update(ALIASES)
    return found


def parse_zone(text: str) -> str | None:
    """The IANA name of the time zone ``text`` names, or None."""
    key = re.sub(r"\s+", " ", fold(text).replace("_", " "))
    if not key:
        return None
    name = _known().get(key) or _known().get(key.replace(" ", "_"))
    if name is None:
        return None
    ZoneInfo(name)  # present in this system's database
    return name
