"""What the dashboard shows: its views with friendly labels, and canned queries.

Anything not listed here is refused by the dashboard, raw tables first, so a new feature's tables
stay hidden until it adds a view (in :mod:`localbot.dashboard.schema`) and lists it here. Canned
queries take their parameters from a form; an empty ``community`` means every community.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class View:
    name: str
    title: str
    description: str
    sort: str | None = None
    facets: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    #: Where the data comes from, shown on the view's page ("Data source: …"), linked to ``source_url``.
    source: str = ""
    source_url: str = ""


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    description: str
    sql: str


VIEWS: tuple[View, ...] = (
    View("communities_overview", "Communities", "Each community with its members, polls, surveys and pickup points."),
    View(
        "community_members",
        "Members",
        "Who belongs to which community, with their role and when they joined or left.",
        sort="community",
        facets=("community", "role", "messenger"),
        columns={"member": "the member's messenger account (a phone number on WhatsApp)", "last_seen": "the last time they wrote to the bot"},
    ),
    View("polls_overview", "Polls", "Every poll with its number of voters.", sort="created", facets=("community", "status", "anonymous")),
    View(
        "poll_option_counts",
        "Poll results",
        "Votes per option, anonymous polls included (as counts only).",
        facets=("community", "poll"),
    ),
    View(
        "named_votes",
        "Votes (polls with names shown)",
        "Who voted for what, for polls that show names. Anonymous polls never appear here.",
        sort="time",
        facets=("community", "poll", "option"),
    ),
    View("surveys_overview", "Surveys", "Every survey and diary started, with its number of participants.", facets=("community", "status", "mode")),
    View(
        "tastings_overview",
        "Tastings",
        "Every tasting with its products, sessions, places booked, waiting list and questionnaires answered.",
        facets=("community", "status", "mode"),
    ),
    View(
        "pickup_points_map",
        "Pickup points",
        "Pickup points on a map, with their opening hours. Addresses © OpenStreetMap contributors.",
        facets=("community",),
        columns={"address_source": "“© OpenStreetMap contributors” beside an address: addresses come from OpenStreetMap's Nominatim"},
        source="Addresses: © OpenStreetMap contributors",
        source_url="https://www.openstreetmap.org/copyright",
    ),
)

QUERIES: tuple[Query, ...] = (
    Query(
        "poll_results",
        "Poll results",
        "Votes per option and the share of voters who chose it. Leave community empty for all.",
        """SELECT c.name AS community, p.number AS poll, p.question, o.label AS option,
                  COUNT(v.id) AS votes,
                  ROUND(100.0 * COUNT(v.id) / MAX(1, (SELECT COUNT(DISTINCT voter_key) FROM poll_votes WHERE poll_id = p.id)), 1) AS percent_of_voters
           FROM poll_options o JOIN polls p ON p.id = o.poll_id JOIN communities c ON c.id = p.community_id
           LEFT JOIN poll_votes v ON v.option_id = o.id
           WHERE (:community = '' OR c.name = :community)
           GROUP BY o.id ORDER BY c.name, p.number, o.position""",
    ),
    Query(
        "answer_rates",
        "Answer rates of polls",
        "How many members voted in each poll, out of the community's current members.",
        """SELECT c.name AS community, p.number AS poll, p.question, p.status,
                  (SELECT COUNT(DISTINCT voter_key) FROM poll_votes WHERE poll_id = p.id) AS voters,
                  (SELECT COUNT(*) FROM memberships ms WHERE ms.community_id = c.id AND ms.left_at IS NULL) AS members,
                  ROUND(100.0 * (SELECT COUNT(DISTINCT voter_key) FROM poll_votes WHERE poll_id = p.id)
                        / MAX(1, (SELECT COUNT(*) FROM memberships ms WHERE ms.community_id = c.id AND ms.left_at IS NULL)), 1) AS percent
           FROM polls p JOIN communities c ON c.id = p.community_id
           WHERE (:community = '' OR c.name = :community) ORDER BY c.name, p.number""",
    ),
    Query(
        "survey_compliance",
        "Survey compliance",
        "Per participant: diary prompts sent, answered in time, answered late, self-reports, and the share answered in time.",
        """SELECT c.name AS community, r.number AS survey, r.name AS study, m.name AS participant, sp.status,
                  SUM(e.kind = 'prompt' AND e.status = 'sent') AS prompts_sent,
                  SUM(e.kind = 'prompt' AND e.status = 'sent' AND e.started_at IS NOT NULL AND e.started_at <= e.expires_at) AS on_time,
                  SUM(e.kind = 'prompt' AND e.status = 'sent' AND e.started_at > e.expires_at) AS late,
                  SUM(e.kind = 'self' AND e.started_at IS NOT NULL) AS self_reports,
                  SUM(e.kind = 'once' AND e.completed_at IS NOT NULL) AS questionnaires_completed,
                  ROUND(100.0 * SUM(e.kind = 'prompt' AND e.status = 'sent' AND e.started_at IS NOT NULL AND e.started_at <= e.expires_at)
                        / MAX(1, SUM(e.kind = 'prompt' AND e.status = 'sent')), 1) AS percent_on_time
           FROM survey_participants sp JOIN survey_runs r ON r.id = sp.run_id JOIN communities c ON c.id = r.community_id
           JOIN members m ON m.id = sp.member_id LEFT JOIN survey_entries e ON e.participant_id = sp.id
           WHERE (:community = '' OR c.name = :community)
           GROUP BY sp.id ORDER BY c.name, r.number, m.name""",
    ),
    Query(
        "tasting_summaries",
        "Tasting summaries",
        "Per tasting and product: how many rated it, the mean liking (1-9), the share who liked it (6 or more) and how many preferred it.",
        """SELECT c.name AS community, t.number AS tasting, t.title, pr.code, pr.name AS product,
                  SUM(a.question = 'liking') AS ratings,
                  ROUND(AVG(CASE WHEN a.question = 'liking' THEN CAST(a.value AS REAL) END), 2) AS mean_liking,
                  ROUND(100.0 * SUM(a.question = 'liking' AND CAST(a.value AS INTEGER) >= 6) / MAX(1, SUM(a.question = 'liking')), 1) AS percent_liking_it,
                  SUM(a.question = 'preference' AND a.value = '1') AS preferred_by
           FROM tasting_products pr JOIN tastings t ON t.id = pr.tasting_id JOIN communities c ON c.id = t.community_id
           LEFT JOIN tasting_answers a ON a.product_id = pr.id
           WHERE (:community = '' OR c.name = :community)
           GROUP BY pr.id ORDER BY c.name, t.number, pr.position""",
    ),
    Query(
        "signups_per_session",
        "Sign-ups per session",
        "Per tasting session: its pickup point and time, places, and how many booked, wait, checked in or cancelled.",
        """SELECT c.name AS community, t.number AS tasting, t.title, s.number AS session, pt.name AS pickup_point,
                  s.starts_at AS starts, s.places, s.status,
                  COALESCE(SUM(p.status = 'booked'), 0) AS booked, COALESCE(SUM(p.status = 'waiting'), 0) AS waiting,
                  COALESCE(SUM(p.status = 'booked' AND p.checked_in_at IS NOT NULL), 0) AS checked_in,
                  COALESCE(SUM(p.status = 'cancelled'), 0) AS cancelled
           FROM tasting_sessions s JOIN tastings t ON t.id = s.tasting_id JOIN communities c ON c.id = t.community_id
           JOIN pickup_points pt ON pt.id = s.point_id LEFT JOIN tasting_participants p ON p.session_id = s.id
           WHERE (:community = '' OR c.name = :community)
           GROUP BY s.id ORDER BY c.name, t.number, s.number""",
    ),
)
