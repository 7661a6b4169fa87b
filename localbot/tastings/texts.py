"""Words for the tasting rules, in any of our languages: what the chat and the command line say
when a rule refuses something (a :class:`~localbot.tastings.model.TastingError`)."""

from __future__ import annotations

from localbot.i18n import Translator
from localbot.tastings.model import TastingError


def tasting_error(t: Translator, error: TastingError) -> str:
    d = error.details
    match error.code:
        case "bad_liking":
            return t._("“{value}” is not on the scale. Please answer with a whole number from 1 (dislike extremely) to 9 (like extremely).", value=d["value"])
        case "bad_jar":
            return t._("“{value}” is not on the scale. Please answer with a whole number from 1 (not enough at all) to 5 (far too much); 3 is just about right.", value=d["value"])
        case "bad_cata" | "bad_preference":
            return t._("“{value}” must be 1 (yes) or 0 (no).", value=d["value"])
        case "bad_rank":
            return t._("“{value}” is not a rank: use 1 (the best) to {high}.", value=d["value"], high=d["high"])
        case "comment_too_long":
            return t._("That comment is {length} characters long; please keep it under {limit}.", length=d["length"], limit=d["limit"])
        case "unknown_question":
            return t._("“{question}” is not a question of this tasting.", question=d["question"])
        case "unknown_code":
            return t._("There is no sample {code} in this tasting. Please check the code on the cup.", code=d["code"])
        case "closed":
            return t._("Tasting #{number} is closed.", number=d["number"])
        case "session_cancelled":
            return t._("That session was cancelled. Send /tasting to see the other sessions.")
        case "session_started":
            return t._("That session has already started, so signing up for it is closed.")
        case "already_booked":
            return t._("You already have a place in this tasting: one place per person. To change sessions, cancel your place first.")
        case "already_waiting":
            return t._("You are already on a waiting list for this tasting. I'll tell you as soon as a place opens up.")
        case "full":
            return t._("Sorry, that session is full.")
        case "not_full":
            return t._("That session still has places, so you can simply sign up.")
        case "checked_in":
            return t._("You are checked in already, so your place can no longer be cancelled.")
    return t._("That is not possible in this tasting.")
