"""Tastings: products tasted blind at pickup points, balanced serving orders, and a report a tester can defend.

Pure domain code, no messenger: the tasting file (:mod:`~localbot.tastings.definition`), blind codes
(:mod:`~localbot.tastings.codes`), Williams designs (:mod:`~localbot.tastings.design`), the order of
questions (:mod:`~localbot.tastings.questionnaire`), storage (:mod:`~localbot.tastings.store`), the
statistics (:mod:`~localbot.tastings.stats`), the report and its charts, calendar files, and the
``localbot tasting`` commands. The conversation lives with the other handlers (``handlers/tastings.py``).
"""
