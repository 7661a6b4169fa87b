"""Every migration set the bot knows, applied in order.

A feature adds its tables by adding its own ``Migrations`` set to :data:`MIGRATION_SETS`; sets are
applied in list order, so a feature may reference the core tables and features listed before it.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from localbot.care import schema as care_schema
from localbot.community import asks as asks_schema
from localbot.dashboard import schema as dashboard_schema
from localbot.maps import schema as maps_schema
from localbot.polls import schema as polls_schema
from localbot.storage import schema as core_schema
from localbot.surveys import schema as surveys_schema
from localbot.tastings import schema as tastings_schema

MIGRATION_SETS: list[Migrations] = [
    core_schema.migrations,
    polls_schema.migrations,
    asks_schema.migrations,
    surveys_schema.migrations,
    maps_schema.migrations,
    tastings_schema.migrations,
    care_schema.migrations,
    # views over every feature's tables: last
    dashboard_schema.migrations,
]


def pending(db: sqlite_utils.Database) -> list[str]:
    return [f"{s.name}:{m.name}" for s in MIGRATION_SETS for m in s.pending(db)]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply what is pending; returns the names applied (``set:migration``)."""
    todo = pending(db)
    for migration_set in MIGRATION_SETS:
        migration_set.apply(db)
    return todo
