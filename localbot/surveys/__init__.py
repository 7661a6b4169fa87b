"""Habit surveys and diaries (messenger-neutral).

A *study* is defined in a TOML file (``config/surveys/*.toml``): its questions, their conditions,
texts in several languages, and either one-off mode or diary mode (a few prompts a day at random
moments inside each member's waking window, for some days). A *run* is one start of a study in a
community. This package holds the study model and its validator (:mod:`.definition`), answer
parsing (:mod:`.answers`), diary scheduling (:mod:`.schedule`), storage (:mod:`.schema`,
:mod:`.store`), and the habit map (:mod:`.report`, :mod:`.charts`).
"""
