"""Reading ``/poll [--multi] [--anon] [--until WHEN] Question? | Option | Option …``.

Flags are read at the start, and also at the end of the last option, because people write
``/poll Lunch? | Pizza | Sushi --multi`` as often as the documented order.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from localbot.polls.model import PollError, PollSpec
from localbot.when import WhenError, parse_deadline

FLAGS_WITHOUT_VALUE = {"--multi": "multi", "--anon": "anonymous", "--anonymous": "anonymous"}


def _split_until(tokens: list[str], start: int) -> tuple[str, int]:
    """The deadline text after ``--until``: one token, or a date followed by a time of day."""
    if start >= len(tokens):
        raise PollError("until_missing")
    value = tokens[start]
    end = start + 1
    # "--until 2026-11-28 18:00" and "--until friday 18:00" take the time too.
    if end < len(tokens) and not tokens[end].startswith("--") and any(c.isdigit() for c in tokens[end]) and ":" in tokens[end]:
        value = f"{value} {tokens[end]}"
        end += 1
    return value, end


def parse_poll_args(args: str, *, now: datetime, tz: tzinfo) -> PollSpec:
    flags: dict[str, bool] = {"multi": False, "anonymous": False}
    until: str | None = None
    tokens = args.split(" ")
    index = 0
    # leading flags
    while index < len(tokens):
        token = tokens[index]
        if token == "":
            index += 1
            continue
        if not token.startswith("--"):
            break
        lowered = token.lower()
        if lowered in FLAGS_WITHOUT_VALUE:
            flags[FLAGS_WITHOUT_VALUE[lowered]] = True
            index += 1
        elif lowered == "--until":
            until, index = _split_until(tokens, index + 1)
        else:
            raise PollError("unknown_flag", flag=token)
    body = " ".join(tokens[index:]).strip()
    if not body:
        raise PollError("no_question")
    parts = body.split("|")
    question, options = parts[0], parts[1:]
    if options:
        options[-1], trailing_until = _trailing_flags(options[-1], flags)
        until = until or trailing_until
    if not options or all(not o.strip() for o in options) and len(options) == 1:
        raise PollError("too_few_options", minimum=2, count=0)
    closes_at = None
    if until is not None:
        try:
            closes_at = parse_deadline(until, now=now, tz=tz)
        except WhenError as exc:
            raise PollError("bad_until", reason=exc.code, text=until) from None
    return PollSpec.build(question, options, closes_at=closes_at, **flags)


def _trailing_flags(last: str, flags: dict[str, bool]) -> tuple[str, str | None]:
    words = last.rstrip().split(" ")
    until: str | None = None
    changed = True
    while changed and words:
        changed = False
        if words[-1].lower() in FLAGS_WITHOUT_VALUE:
            flags[FLAGS_WITHOUT_VALUE[words.pop().lower()]] = True
            changed = True
        elif len(words) >= 2 and words[-2].lower() == "--until":
            until = words[-1]
            del words[-2:]
            changed = True
        elif len(words) >= 3 and words[-3].lower() == "--until":
            until = f"{words[-2]} {words[-1]}"
            del words[-3:]
            changed = True
    return " ".join(words), until
