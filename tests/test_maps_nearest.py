"""Nearest points from the R*Tree shortlist equal a brute-force geodesic ranking, anywhere on Earth."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest
from geographiclib.geodesic import Geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from localbot.community import store as community_store
from localbot.maps import store
from localbot.maps.geo import haversine_m, search_boxes
from localbot.maps.model import PointError, PointSpec

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def community(db, name: str = "Sunny Estate") -> int:  # type: ignore[no-untyped-def]
    with db.atomic():
        return community_store.create_community(db, name=name, language="en", timezone="Europe/Warsaw", now=NOW).id


def add(db, community_id: int, places: list[tuple[float, float]], prefix: str = "P") -> list[int]:  # type: ignore[no-untyped-def]
    specs = [PointSpec.build(f"{prefix}{i}", lat, lon) for i, (lat, lon) in enumerate(places)]
    with db.atomic():
        return store.add_points(db, community_id, specs, created_by=None, now=NOW)


def brute_force(places: list[tuple[float, float]], ids: list[int], lat: float, lon: float, k: int) -> list[int]:
    """Every point's WGS-84 geodesic distance, straight from geographiclib, sorted."""
    inverse = Geodesic.WGS84.Inverse
    ranked = sorted((inverse(lat, lon, plat, plon, Geodesic.DISTANCE)["s12"], pid) for (plat, plon), pid in zip(places, ids, strict=True))
    return [pid for _, pid in ranked[:k]]


def around(rng: random.Random, lat: float, lon: float, spread: float, n: int) -> list[tuple[float, float]]:
    return [(max(-90.0, min(90.0, lat + rng.uniform(-spread, spread))), ((lon + rng.uniform(-spread, spread) + 180) % 360) - 180) for _ in range(n)]


@pytest.mark.parametrize(
    ("label", "centre", "spread"),
    [
        ("a town (Warsaw)", (52.23, 21.01), 0.15),
        ("the equator, where haversine errs most", (0.0, 30.0), 0.3),
        ("across the antimeridian (Fiji)", (-17.8, 179.9), 1.0),
        ("near the north pole", (89.5, 0.0), 1.0),
        ("a continent", (50.0, 15.0), 15.0),
    ],
)
def test_nearest_equals_brute_force_geodesic(db, label: str, centre: tuple[float, float], spread: float) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(label)
    cid = community(db)
    places = around(rng, *centre, spread, 600)
    ids = add(db, cid, places)
    for _ in range(50):
        lat, lon = around(rng, *centre, spread * 1.2, 1)[0]
        got = store.nearest(db, cid, lat, lon, 3)
        assert [n.point.id for n in got] == brute_force(places, ids, lat, lon, 3), (label, lat, lon)
        assert [round(n.metres, 6) for n in got] == sorted(round(n.metres, 6) for n in got)
        assert math.isclose(got[0].metres, store.distance_m(got[0].point, lat, lon))


def test_a_far_away_member_still_gets_the_true_nearest(db) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    cid = community(db)
    places = around(rng, 52.23, 21.01, 0.1, 800)
    ids = add(db, cid, places)
    for lat, lon in [(-33.9, 18.4), (40.7, -74.0), (-52.23, -158.99), (0.0, 100.0)]:
        assert [n.point.id for n in store.nearest(db, cid, lat, lon, 3)] == brute_force(places, ids, lat, lon, 3)


def test_only_the_communitys_own_points(db) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = community(db, "Ours"), community(db, "Theirs")
    add(db, theirs, [(52.2297, 21.0122)], "Right here")
    (far,) = add(db, ours, [(52.30, 21.10)], "Ours")
    (near,) = [n.point.id for n in store.nearest(db, ours, 52.2297, 21.0122, 3)]
    assert near == far


def test_fewer_points_than_asked_and_none(db) -> None:  # type: ignore[no-untyped-def]
    cid = community(db)
    assert store.nearest(db, cid, 52.0, 21.0, 3) == []
    ids = add(db, cid, [(52.0, 21.0), (-45.0, 170.0)])
    assert [n.point.id for n in store.nearest(db, cid, 52.0, 21.01, 3)] == ids
    assert store.nearest(db, cid, 52.0, 21.0, 0) == []
    with pytest.raises(PointError, match="out_of_range"):
        store.nearest(db, cid, 52.0, 201.0, 3)


def test_the_index_follows_changes_and_removals(db) -> None:  # type: ignore[no-untyped-def]
    cid = community(db)
    a, b = add(db, cid, [(52.0, 21.0), (52.1, 21.1)])
    point_a = store.get_point(db, a)
    assert point_a is not None
    with db.atomic():
        store.update_point(db, point_a, PointSpec.build("A moved", 52.1001, 21.1001), now=NOW)
    assert [n.point.name for n in store.nearest(db, cid, 52.1002, 21.1002, 1)] == ["A moved"]
    assert store.delete_point(db, a) and not store.delete_point(db, a)
    assert [n.point.id for n in store.nearest(db, cid, 52.1002, 21.1002, 3)] == [b]
    assert db.execute("SELECT COUNT(*) FROM pickup_point_index").fetchone()[0] == 1
    with db.atomic():
        db.execute("DELETE FROM communities WHERE id = ?", [cid])
    assert db.execute("SELECT COUNT(*) FROM pickup_point_index").fetchone()[0] == 0  # cascades reach the index too


def test_names_are_unique_per_community_whatever_the_case(db) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = community(db, "Ours"), community(db, "Theirs")
    add(db, ours, [(52.0, 21.0)], "Kiosk ")
    with pytest.raises(PointError) as caught, db.atomic():
        store.create_point(db, ours, PointSpec.build("KIOSK 0", 52.0, 21.0), created_by=None, now=NOW)
    assert caught.value.code == "duplicate_name" and caught.value.details == {"name": "Kiosk 0"}
    add(db, theirs, [(52.0, 21.0)], "Kiosk ")  # another community may have its own
    assert store.find_point(db, ours, "kiosk 0") is not None and store.find_point(db, ours, "#1") is not None
    assert store.find_point(db, ours, "2") is None and store.find_point(db, ours, "  ") is None


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-89.9, 89.9),
    st.floats(-180.0, 180.0),
    st.floats(1.0, 3_000_000.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 360.0),
)
def test_search_boxes_contain_the_whole_circle(lat: float, lon: float, radius: float, fraction: float, bearing: float) -> None:
    """Any point within the radius, in any direction, lies in one of the boxes."""
    from geopy.distance import great_circle

    from localbot.maps.geo import EARTH_RADIUS_M

    inside = great_circle(kilometers=radius * fraction * 0.999 / 1000, radius=EARTH_RADIUS_M / 1000).destination((lat, lon), bearing)
    assert haversine_m(lat, lon, inside.latitude, inside.longitude) <= radius
    assert any(box.contains(inside.latitude, inside.longitude) for box in search_boxes(lat, lon, radius))


def test_a_point_says_whether_it_is_open(db) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    from localbot.maps.hours import parse_hours

    cid = community(db)
    with db.atomic():
        kiosk = store.create_point(db, cid, PointSpec.build("Kiosk", 52.0, 21.0, hours=parse_hours("Mon-Fri 10-18")), created_by=None, now=NOW)
        unknown = store.create_point(db, cid, PointSpec.build("Porch", 52.0, 21.0), created_by=None, now=NOW)
    warsaw = ZoneInfo("Europe/Warsaw")
    saturday_noon, monday_noon = datetime(2026, 11, 21, 11, 0, tzinfo=UTC), datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert kiosk.is_open(warsaw, monday_noon) is True and kiosk.is_open(warsaw, saturday_noon) is False
    assert unknown.is_open(warsaw, monday_noon) is None
