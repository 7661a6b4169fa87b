"""Distances on the Earth, and the boxes an index is searched with.

Ranking uses the WGS-84 geodesic (geopy, Karney's algorithm), which is what a distance on a map
means. It costs tens of microseconds per pair, so it is computed only for a shortlist: the points
whose haversine (great-circle on a sphere of the mean radius) distance could still make them one of
the k nearest. The haversine distance differs from the geodesic by at most about 0.56 % (a short
north–south step at the equator); :data:`HAVERSINE_ERROR` is a generous bound on that, and
:data:`SHORTLIST_FACTOR` follows from it (see :func:`shortlist_radius`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geopy.distance import geodesic

EARTH_RADIUS_M = 6_371_008.8
HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M
#: Bound on |haversine − geodesic| / geodesic.
HAVERSINE_ERROR = 0.01
#: With h_k the k-th smallest haversine distance, every true k-nearest point has haversine
#: distance at most h_k × (1 + e) / (1 − e): its geodesic is at most the k-th geodesic, which is at
#: most h_k / (1 − e), and its haversine at most (1 + e) times its geodesic.
SHORTLIST_FACTOR = (1 + HAVERSINE_ERROR) / (1 - HAVERSINE_ERROR)
#: Rounding in both formulas near zero distance (points on top of each other, or at a pole) is
#: absolute, not relative: a metre of slack covers it.
SHORTLIST_SLACK_M = 1.0

#: A comfortable walking pace, and how much longer streets are than the straight line in a town.
WALKING_M_PER_MIN = 80.0
DETOUR = 1.3


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres on a sphere of the Earth's mean radius."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS-84 geodesic distance in metres: the distance we show and rank by."""
    return float(geodesic((lat1, lon1), (lat2, lon2)).meters)


def shortlist_radius(kth_haversine_m: float) -> float:
    """How far (in haversine metres) a point may be and still be among the k nearest by geodesic."""
    return kth_haversine_m * SHORTLIST_FACTOR + SHORTLIST_SLACK_M


def walking_minutes(metres: float) -> int:
    """Minutes on foot for a straight-line distance, allowing for streets that are not straight."""
    return max(1, math.ceil(metres * DETOUR / WALKING_M_PER_MIN))


@dataclass(frozen=True, slots=True)
class Box:
    """A latitude/longitude rectangle, never crossing the antimeridian."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


WHOLE_EARTH = Box(-90.0, 90.0, -180.0, 180.0)


def search_boxes(lat: float, lon: float, radius_m: float) -> list[Box]:
    """Rectangles that together contain every point within ``radius_m`` of (lat, lon).

    The longitude half-width at latitude φ for angular radius δ is asin(sin δ / cos φ); a circle
    that reaches a pole covers every longitude, and one that crosses the antimeridian is split
    into two rectangles, because an index compares plain numbers.
    """
    delta = radius_m / EARTH_RADIUS_M
    if delta >= math.pi:
        return [WHOLE_EARTH]
    dlat = math.degrees(delta)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0:
        return [Box(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)]
    dlon = math.degrees(math.asin(min(1.0, math.sin(delta) / math.cos(math.radians(lat)))))
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180.0:
        return [Box(min_lat, max_lat, min_lon + 360.0, 180.0), Box(min_lat, max_lat, -180.0, max_lon)]
    if max_lon > 180.0:
        return [Box(min_lat, max_lat, min_lon, 180.0), Box(min_lat, max_lat, -180.0, max_lon - 360.0)]
    return [Box(min_lat, max_lat, min_lon, max_lon)]
