"""A small Nominatim: ``/search?q=…&format=json`` over real HTTP, with a request log.

Known places answer like the real service (a JSON list with ``lat``, ``lon`` and
``display_name``); an unknown query answers ``[]``. Queries containing ``slow`` are answered only
after ``slow_seconds`` (a timeout for the client), ``broken`` gets a 500, ``refused`` a 403. Every
request is logged with its arrival time (monotonic), query and User-Agent, which is how tests see
the rate limit and the cache from the outside.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PLACES: dict[str, tuple[float, float, str]] = {
    "zielona 3, warszawa": (52.2310, 21.0150, "Zielona 3, Śródmieście, Warszawa, 00-001, Polska"),
    "biblioteka, koszykowa 26, warszawa": (52.2224, 21.0112, "Biblioteka Publiczna, Koszykowa 26, Warszawa, Polska"),
    "marszałkowska 10, warszawa": (52.2200, 21.0170, "Marszałkowska 10, Warszawa, Polska"),
    "plac zbawiciela, warszawa": (52.2195, 21.0176, "Plac Zbawiciela, Warszawa, Polska"),
    "jalan sudirman 1, jakarta": (-6.2146, 106.8227, "Jalan Jenderal Sudirman 1, Jakarta, Indonesia"),
}


@dataclass
class Logged:
    at: float
    query: str
    user_agent: str
    language: str | None
    country_codes: str | None


@dataclass
class FakeNominatim:
    slow_seconds: float = 3.0
    places: dict[str, tuple[float, float, str]] = field(default_factory=lambda: dict(PLACES))
    log: list[Logged] = field(default_factory=list)

    def queries(self) -> list[str]:
        return [entry.query for entry in self.log]

    async def search(self, request: Request) -> JSONResponse:
        query = request.query_params.get("q", "")
        self.log.append(
            Logged(
                time.monotonic(),
                query,
                request.headers.get("user-agent", ""),
                request.query_params.get("accept-language"),
                request.query_params.get("countrycodes"),
            )
        )
        lowered = query.casefold()
        if "slow" in lowered:
            await asyncio.sleep(self.slow_seconds)
        if "broken" in lowered:
            return JSONResponse({"error": "internal"}, status_code=500)
        if "refused" in lowered:
            return JSONResponse({"error": "blocked"}, status_code=403)
        found = self.places.get(" ".join(lowered.split()))
        if found is None:
            return JSONResponse([])
        lat, lon, name = found
        return JSONResponse([{"place_id": 1, "lat": str(lat), "lon": str(lon), "display_name": name, "licence": "Data © OpenStreetMap contributors, ODbL 1.0"}])

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/search", self.search)])
