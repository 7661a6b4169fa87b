"""Tables of pickup points, their spatial index, the geocoding cache, and what members chose.

``pickup_point_index`` is an SQLite R*Tree over latitude and longitude, kept in step with
``pickup_points`` by triggers, so no code path can forget it. The community and the exact
coordinates ride along as auxiliary columns (the tree itself stores 32-bit floats, rounded
outwards), so a search filters by community and computes distances without touching the main
table. (The community as a third, zero-width dimension of the tree was tried: R*Tree splits
degrade on it and a 100,000-point search took 100 times longer; ``bench/nearest.py`` measures.)

A member's location is never stored on its own initiative: ``member_locations`` holds one only
when the member asked for it to be remembered (``/near remember``), and ``pickup_choices`` holds
the point a member chose, not where they were when choosing it.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from localbot.storage.db import run_script

migrations = Migrations("localbot.maps")


@migrations()
def m001_pickup_points(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE pickup_points (
            id INTEGER PRIMARY KEY,
            community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            name TEXT NOT NULL,
            -- the name folded for comparison: one "Kiosk" per community, whatever the case
            name_key TEXT NOT NULL,
            latitude REAL NOT NULL CHECK (latitude BETWEEN -90 AND 90),
            longitude REAL NOT NULL CHECK (longitude BETWEEN -180 AND 180),
            address TEXT,
            -- OpenStreetMap opening_hours syntax as written back by localbot.maps.hours; NULL: not known
            opening_hours TEXT,
            note TEXT,
            created_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (community_id, name_key),
            UNIQUE (community_id, number)
        );

        CREATE VIRTUAL TABLE pickup_point_index USING rtree(
            id,
            min_lat, max_lat,
            min_lon, max_lon,
            +community_id, +latitude, +longitude
        );

        CREATE TRIGGER pickup_points_indexed AFTER INSERT ON pickup_points BEGIN
            INSERT INTO pickup_point_index
            VALUES (new.id, new.latitude, new.latitude, new.longitude, new.longitude,
                    new.community_id, new.latitude, new.longitude);
        END;

        CREATE TRIGGER pickup_points_moved AFTER UPDATE OF latitude, longitude, community_id ON pickup_points BEGIN
            UPDATE pickup_point_index
            SET min_lat = new.latitude, max_lat = new.latitude,
                min_lon = new.longitude, max_lon = new.longitude,
                community_id = new.community_id, latitude = new.latitude, longitude = new.longitude
            WHERE id = new.id;
        END;

        CREATE TRIGGER pickup_points_removed AFTER DELETE ON pickup_points BEGIN
            DELETE FROM pickup_point_index WHERE id = old.id;
        END;

        -- What Nominatim answered for a query, so the same address is never asked twice.
        -- found = 0 remembers "no such place" too (for a while: see localbot.maps.geocode).
        CREATE TABLE geocode_cache (
            query_key TEXT PRIMARY KEY,
            query TEXT NOT NULL,
            found INTEGER NOT NULL CHECK (found IN (0, 1)),
            latitude REAL,
            longitude REAL,
            address TEXT,
            fetched_at TEXT NOT NULL
        ) WITHOUT ROWID;

        -- The pickup point a member chose in a community.
        CREATE TABLE pickup_choices (
            community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
            member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            point_id INTEGER NOT NULL REFERENCES pickup_points(id) ON DELETE CASCADE,
            chosen_at TEXT NOT NULL,
            PRIMARY KEY (community_id, member_id)
        );
        CREATE INDEX pickup_choices_point ON pickup_choices(point_id);

        -- A location a member explicitly asked the bot to remember for /near.
        CREATE TABLE member_locations (
            member_id INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
            latitude REAL NOT NULL CHECK (latitude BETWEEN -90 AND 90),
            longitude REAL NOT NULL CHECK (longitude BETWEEN -180 AND 180),
            saved_at TEXT NOT NULL
        );
        """,
    )
