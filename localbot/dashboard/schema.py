"""The views the dashboard shows instead of the raw tables.

They are part of the schema (this migration set runs after every feature's), so the bot keeps them
up to date and the dashboard itself never writes. A view holds only what an organiser may see:
counts for anonymous polls, never a vote-by-vote list of them; members through their memberships
(so the identity-less stand-ins of forgotten members never appear); no settings, join codes,
conversations or queued messages. A feature that adds tables adds its views here, in a new
migration, and lists them in :mod:`localbot.dashboard.catalogue`.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

from localbot.maps.model import ATTRIBUTION
from localbot.storage.db import run_script

migrations = Migrations("localbot.dashboard")


@migrations()
def m001_views(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE VIEW communities_overview AS
        SELECT c.id, c.name, c.language, c.timezone, c.created_at AS created,
               (SELECT COUNT(*) FROM memberships ms WHERE ms.community_id = c.id AND ms.left_at IS NULL) AS members,
               (SELECT COUNT(*) FROM polls p WHERE p.community_id = c.id) AS polls,
               (SELECT COUNT(*) FROM survey_runs r WHERE r.community_id = c.id) AS surveys,
               (SELECT COUNT(*) FROM pickup_points pt WHERE pt.community_id = c.id) AS pickup_points,
               (SELECT COUNT(*) FROM tastings t WHERE t.community_id = c.id) AS tastings
        FROM communities c;

        CREATE VIEW community_members AS
        SELECT c.name AS community, m.name, m.username, m.ref AS member, m.messenger,
               COALESCE(m.language, m.messenger_language) AS language, ms.role,
               ms.joined_at AS joined, ms.left_at AS left, m.last_seen_at AS last_seen
        FROM memberships ms JOIN members m ON m.id = ms.member_id JOIN communities c ON c.id = ms.community_id;

        CREATE VIEW polls_overview AS
        SELECT c.name AS community, p.number AS poll, p.question,
               CASE WHEN p.multi THEN 'multiple' ELSE 'single' END AS choice,
               CASE WHEN p.anonymous THEN 'yes' ELSE 'no' END AS anonymous, p.status,
               (SELECT COUNT(DISTINCT v.voter_key) FROM poll_votes v WHERE v.poll_id = p.id) AS voters,
               p.created_at AS created, p.closes_at AS closes, p.closed_at AS closed
        FROM polls p JOIN communities c ON c.id = p.community_id;

        CREATE VIEW poll_option_counts AS
        SELECT c.name AS community, p.number AS poll, p.question, o.position, o.label AS option,
               (SELECT COUNT(*) FROM poll_votes v WHERE v.option_id = o.id) AS votes,
               CASE WHEN p.anonymous THEN 'yes' ELSE 'no' END AS anonymous, p.status
        FROM poll_options o JOIN polls p ON p.id = o.poll_id JOIN communities c ON c.id = p.community_id;

        -- One row per vote of a poll that shows names; anonymous polls have no rows here, only counts.
        CREATE VIEW named_votes AS
        SELECT c.name AS community, p.number AS poll, p.question, o.label AS option,
               m.name, m.ref AS member, v.channel, v.created_at AS time
        FROM poll_votes v JOIN polls p ON p.id = v.poll_id JOIN poll_options o ON o.id = v.option_id
        JOIN communities c ON c.id = p.community_id JOIN members m ON m.id = v.member_id
        WHERE p.anonymous = 0;

        CREATE VIEW surveys_overview AS
        SELECT c.name AS community, r.number AS survey, r.name AS study, r.title, r.mode, r.status,
               (SELECT COUNT(*) FROM survey_participants sp WHERE sp.run_id = r.id) AS participants,
               r.created_at AS created, r.closes_at AS closes, r.closed_at AS closed
        FROM survey_runs r JOIN communities c ON c.id = r.community_id;

        -- Participants appear by their label (P3) wherever tastings are shown, never by name.
        CREATE VIEW tastings_overview AS
        SELECT c.name AS community, t.number AS tasting, t.name AS file, t.title, t.mode, t.status,
               (SELECT COUNT(*) FROM tasting_products pr WHERE pr.tasting_id = t.id) AS products,
               (SELECT COUNT(*) FROM tasting_sessions s WHERE s.tasting_id = t.id AND s.status = 'open') AS sessions,
               (SELECT COUNT(*) FROM tasting_participants p WHERE p.tasting_id = t.id AND p.status = 'booked') AS booked,
               (SELECT COUNT(*) FROM tasting_participants p WHERE p.tasting_id = t.id AND p.status = 'waiting') AS waiting,
               (SELECT COUNT(*) FROM tasting_participants p WHERE p.tasting_id = t.id AND p.completed_at IS NOT NULL) AS answered,
               t.created_at AS created, t.closed_at AS closed
        FROM tastings t JOIN communities c ON c.id = t.community_id;

        -- latitude and longitude put the points on a map (datasette-cluster-map finds the columns).
        CREATE VIEW pickup_points_map AS
        SELECT c.name AS community, p.number, p.name, p.address, p.opening_hours, p.note,
               p.latitude, p.longitude
        FROM pickup_points p JOIN communities c ON c.id = p.community_id;
        """,
    )


@migrations()
def m002_pickup_points_credit(db: sqlite_utils.Database) -> None:
    """Addresses come from OpenStreetMap's Nominatim, whose usage policy asks for a credit wherever
    one is shown: ``address_source`` beside every address, as in the points export."""
    credit = ATTRIBUTION.replace("'", "''")
    run_script(
        db,
        f"""
        DROP VIEW IF EXISTS pickup_points_map;

        CREATE VIEW pickup_points_map AS
        SELECT c.name AS community, p.number, p.name, p.address,
               CASE WHEN COALESCE(p.address, '') = '' THEN '' ELSE '{credit}' END AS address_source,
               p.opening_hours, p.note, p.latitude, p.longitude
        FROM pickup_points p JOIN communities c ON c.id = p.community_id;
        """,
    )
