"""Pure values: replies round-trip, payload limits, poll rules and command parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from localbot.events import split_command
from localbot.polls.model import PollError, check_options, clean
from localbot.polls.parse import parse_poll_args
from localbot.refs import RefError, parse_ref
from localbot.replies import (
    Ack,
    Choices,
    Document,
    Edit,
    LiveEdit,
    Location,
    Option,
    Picture,
    PrivateLink,
    ReplyError,
    Text,
    from_json,
    to_json,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "reply",
    [
        Text(text="hi", key="k"),
        Choices(text="pick", options=(Option("A", "v:1:1"), Option("Ä", "v:1:2")), key="poll:1", columns=2),
        Location(latitude=52.2, longitude=21.0, title="Kiosk", address="Main St 1"),
        Picture(data=b"\x89PNG...", caption="chart"),
        Document(data=b"a,b\n", filename="x.csv", mime_type="text/csv"),
        Edit(key="poll:1", text="new", options=(Option("A", "v:1:1"),)),
        Ack(text="ok"),
        LiveEdit(key="poll:1", view="poll", ref="1", language="pl"),
        PrivateLink(text="go", payload="resume", label="Continue"),
    ],
)
def test_replies_survive_the_outbox(reply) -> None:  # type: ignore[no-untyped-def]
    assert from_json(to_json(reply)) == reply


def test_payload_limits() -> None:
    Option("x", "a" * 64)
    with pytest.raises(ReplyError):
        Option("x", "a" * 65)
    with pytest.raises(ReplyError):
        Option("x", "")
    with pytest.raises(ReplyError):
        Option("x", "ż" * 33)  # 66 bytes
    with pytest.raises(ReplyError):
        Choices(text="x", options=())


def test_split_command() -> None:
    assert split_command("/poll@MyBot Q? | A | B", "mybot") == ("poll", "Q? | A | B")
    assert split_command("/poll@OtherBot x", "mybot") is None
    assert split_command("/Results  3") == ("results", "3")
    assert split_command("no command") is None and split_command("/ space") is None


def test_refs() -> None:
    assert parse_ref("telegram:-1001234") == ("telegram", "-1001234")
    assert parse_ref("whatsapp:+48600100200") == ("whatsapp", "+48600100200")
    for bad in ("telegram:abc", "whatsapp:48600", "nobody", "console:", "sms:+48600100200"):
        with pytest.raises(RefError):
            parse_ref(bad)


def test_clean_removes_invisible_and_control_characters() -> None:
    assert clean("  Where\u200b do\nwe\tmeet?\u202e ") == "Where do we meet?"


def test_options_rules() -> None:
    assert check_options(["A", "B"]) == ("A", "B")
    for options, code in ((["A"], "too_few_options"), (["A", " "], "empty_option"), (["A", "a "], "duplicate_option"),
                          ([str(i) for i in range(13)], "too_many_options"), (["A", "x" * 101], "option_too_long")):
        with pytest.raises(PollError) as caught:
            check_options(options)
        assert caught.value.code == code


def test_parse_flags_in_both_places() -> None:
    tz = ZoneInfo("Europe/Warsaw")
    spec = parse_poll_args("--multi --until friday 18:00 Lunch? | Pizza | Soup", now=NOW, tz=tz)
    assert spec.multi and not spec.anonymous and spec.closes_at == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    spec = parse_poll_args("Lunch? | Pizza | Soup --anon --until 2h", now=NOW, tz=tz)
    assert spec.anonymous and spec.options == ("Pizza", "Soup") and spec.closes_at is not None
    spec = parse_poll_args("Is 2+2 -- four? | yes | no", now=NOW, tz=tz)
    assert spec.question == "Is 2+2 -- four?"
