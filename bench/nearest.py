"""How long the nearest three pickup points take for 1,000, 10,000 and 100,000 points.

    python bench/nearest.py [--queries 1000] [--seed 1]

For each size, a fresh SQLite database (the bot's own schema and migrations, in a temporary
directory) gets that many points spread over a 30 × 30 km town, and members at random places in
it ask for the nearest three: the R*Tree shortlist plus the geodesic ranking, exactly what /near
does, including reading the three points back. Printed: latency percentiles in milliseconds, and
how many candidates the index handed to the geodesic ranking.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from localbot.community import store as community_store
from localbot.maps import store
from localbot.maps.model import PointSpec
from localbot.storage import open_database

CENTRE = (52.2297, 21.0122)  # Warsaw
HALF_SIDE_DEG = (0.135, 0.22)  # about 15 km each way
SIZES = (1_000, 10_000, 100_000)


def random_place(rng: random.Random) -> tuple[float, float]:
    return (CENTRE[0] + rng.uniform(-HALF_SIDE_DEG[0], HALF_SIDE_DEG[0]), CENTRE[1] + rng.uniform(-HALF_SIDE_DEG[1], HALF_SIDE_DEG[1]))


def run(size: int, queries: int, rng: random.Random, folder: Path) -> dict[str, float]:
    db = open_database(folder / f"bench-{size}.db")
    now = datetime.now(UTC)
    try:
        with db.atomic():
            community = community_store.create_community(db, name="Bench", language="en", timezone="Europe/Warsaw", now=now)
            specs = (PointSpec(f"Point {i}", *random_place(rng)) for i in range(size))
            store.add_points(db, community.id, specs, created_by=None, now=now)
        for _ in range(20):  # warm the page cache, as a running bot would be
            store.nearest(db, community.id, *random_place(rng), 3)
        timings: list[float] = []
        candidates: list[int] = []
        for _ in range(queries):
            lat, lon = random_place(rng)
            started = time.perf_counter()
            found = store.nearest(db, community.id, lat, lon, 3)
            timings.append((time.perf_counter() - started) * 1000)
            assert len(found) == 3
            candidates.append(len(store.shortlist(db, community.id, lat, lon, 3)))
    finally:
        db.close()
    timings.sort()
    return {
        "median": statistics.median(timings),
        "p95": timings[int(0.95 * (len(timings) - 1))],
        "p99": timings[int(0.99 * (len(timings) - 1))],
        "max": timings[-1],
        "candidates": statistics.mean(candidates),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--queries", type=int, default=1000, help="nearest-3 look-ups per size (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    print(f"nearest 3 pickup points, {args.queries} queries per size, SQLite {__import__('sqlite3').sqlite_version}, Python {sys.version.split()[0]}")
    print(f"{'points':>9}  {'median ms':>9}  {'p95 ms':>7}  {'p99 ms':>7}  {'max ms':>7}  {'shortlist':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for size in SIZES:
            r = run(size, args.queries, rng, Path(folder))
            print(f"{size:>9,}  {r['median']:>9.3f}  {r['p95']:>7.3f}  {r['p99']:>7.3f}  {r['max']:>7.3f}  {r['candidates']:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
