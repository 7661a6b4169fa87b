"""``localbot demo``: a short scripted walk-through in the console, leaving a database to look at."""

from __future__ import annotations

SCRIPT = """\
/help
/poll --until 2h Where should we meet for the tasting? | Kiosk by the bus stop | Library | Playground
:as bartek
1
/lang pl
/results
:as citra
/lang id
3
:as dorota
2
:as bartek
2
:as anna
/polls
:wait 3h
/results 1
/poll --multi --anon What should the kiosk stock? | Kefir | Sourdough bread | Oat milk | Kombucha
:as citra
1
3
:as bartek
3
:as anna
/close
"""
