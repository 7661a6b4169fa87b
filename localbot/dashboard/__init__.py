"""The organisers' dashboard: the SQLite file, read-only, in Datasette (``localbot[dashboard]``).

Only views are shown (:mod:`localbot.dashboard.schema`), never the raw tables: the views leave out
what must not be seen, such as who cast an anonymous vote, the bot's message queue or half-finished
conversations. :mod:`localbot.dashboard.catalogue` lists the views with their labels and the canned
queries; :mod:`localbot.dashboard.app` builds the Datasette instance. Datasette is an optional
dependency, imported only when the dashboard runs.
"""
