"""``localbot demo``: a short scripted walk-through in the console, leaving a database to look at.

It shows a poll with a deadline in three languages, an anonymous multiple-choice poll, a pickup
point added by its organiser and found by a member who shares a location, and the studies an
organiser can start (from ``config/surveys`` when run in a checkout).
"""

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
/addpoint Kiosk by the bus stop
:private
:loc 52.2297 21.0122
Mon-Fri 7:00-19:00, Sat 8:00-14:00
Newspapers and parcels
:as dorota
:private
:loc 52.2310 21.0100
1
:as anna
:group
/points
/survey list
"""
