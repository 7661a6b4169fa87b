"""The WhatsApp adapter against real Twilio protocol traffic on 127.0.0.1.

Webhooks are signed with Twilio's own RequestValidator and posted to the real Starlette app; what
the bot sends goes through the official ``twilio`` package to the fake Twilio API (see
``tests/fakes``). Time is a ManualClock, so the 24-hour window and retries are exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from localbot import outbox, runtime, scheduler
from localbot.adapters.twilio_api import GatewayHttpClient
from localbot.adapters.whatsapp import (
    chunks,
    delivery_moves_forward,
    language_of_number,
)
from localbot.community import store as community_store
from localbot.community.model import ChannelKind
from localbot.events import Command, LocationShared, PhotoShared
from localbot.handlers import build_router
from localbot.handlers.context import Context
from localbot.handlers.membership import UNREACHED_JOB
from localbot.i18n import N_
from localbot.polls import store as polls
from localbot.replies import Location, Picture, Text
from localbot.settings import (
    HttpSettings,
    Settings,
    SettingsError,
    TwilioSettings,
    load_settings,
)
from localbot.storage import open_database
from tests.fakes.twilio_api import Fail, FakeTwilioApi, Garble
from tests.fakes.whatsapp_rig import (
    ACCOUNT,
    ENGLISH,
    INDONESIAN,
    POLISH,
    POLL_TEMPLATE,
    PUBLIC,
    QUICK_REPLY_3,
    RESULTS_TEMPLATE,
    SENDER,
    TOKEN,
    WhatsAppRig,
    sign,
    whatsapp_rig,
)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[WhatsAppRig]:
    async with whatsapp_rig(tmp_path) as made:
        yield made


def counts(rig: WhatsAppRig) -> dict[str, int]:
    db = rig.core.db
    return {table: db[table].count for table in ("members", "memberships", "inbound_events", "outbox", "poll_votes")}


# --- joining, and the webhook itself --------------------------------------------------------------


async def test_join_by_code_creates_the_roster_and_answers_through_the_api(rig: WhatsAppRig) -> None:
    response = await rig.say(POLISH, f"JOIN {rig.code()}", name="Ola")
    assert response.headers["content-type"].startswith("text/xml") and "<Response>" in response.text
    welcome = await rig.reply(POLISH)
    assert welcome.startswith("Witaj w społeczności Sunny Estate!")  # +48: Polish until she chooses
    ola = rig.member(POLISH)
    assert ola.name == "Ola" and ola.private_chat_ref == POLISH and ola.last_inbound_at
    community = rig.console.community()
    assert community_store.current_community_id(rig.core.db, ola.id) == community.id
    channels = community_store.channels_of(rig.core.db, community.id)
    assert [(c.messenger, c.kind) for c in channels] == [("console", ChannelKind.GROUP), ("whatsapp", ChannelKind.ROSTER)]
    sent = rig.api.to(POLISH)[0]
    assert sent.from_ == SENDER and sent.status_callback and sent.status_callback.startswith(f"{PUBLIC}/twilio/status?o=")


async def test_a_forged_or_missing_signature_is_refused_and_changes_nothing(rig: WhatsAppRig) -> None:
    params = {"MessageSid": "SM" + "0" * 32, "From": POLISH, "To": SENDER, "Body": f"JOIN {rig.code()}", "NumMedia": "0"}
    before = counts(rig)
    assert (await rig.post("/twilio/whatsapp", params, unsigned=True)).status_code == 403
    assert (await rig.post("/twilio/whatsapp", params, signature="bm90IGEgc2lnbmF0dXJl")).status_code == 403
    wrong_url = sign("http://bot.example.org/twilio/whatsapp", params)  # signed for another address
    assert (await rig.post("/twilio/whatsapp", params, signature=wrong_url)).status_code == 403
    tampered = dict(params, Body="JOIN OTHER")
    assert (await rig.post("/twilio/whatsapp", tampered, signature=sign(PUBLIC + "/twilio/whatsapp", params))).status_code == 403
    assert (await rig.post("/twilio/status", {"MessageSid": "SM" + "0" * 32, "MessageStatus": "read"}, unsigned=True)).status_code == 403
    assert counts(rig) == before and rig.api.requests == []


MALFORMED: list[dict[str, str | None]] = [
    {"MessageSid": None},
    {"MessageSid": "not-a-sid"},
    {"From": "+48600100200"},
    {"From": "whatsapp:+48 600"},
    {"Body": "x" * 5000},
    {"ProfileName": "O" * 300},
    {"Latitude": "north", "Longitude": "21.0"},
    {"Latitude": "91", "Longitude": "21.0"},
    {"Latitude": "nan", "Longitude": "21.0"},
    {"Latitude": "52.2"},
    {"NumMedia": "many"},
    {"NumMedia": "1"},
    {"NumMedia": "1", "MediaUrl0": "file:///etc/passwd", "MediaContentType0": "image/jpeg"},
]


async def test_malformed_posts_get_400_and_change_nothing(rig: WhatsAppRig) -> None:
    before = counts(rig)
    for fields in MALFORMED:
        params = {"MessageSid": "SM" + "1" * 32, "From": POLISH, "To": SENDER, "Body": "hello", "NumMedia": "0", **fields}
        response = await rig.post("/twilio/whatsapp", {k: v for k, v in params.items() if v is not None})
        assert response.status_code == 400, (fields, response.text)
    assert counts(rig) == before and rig.api.requests == []


async def test_a_body_that_is_not_a_form_gets_400(rig: WhatsAppRig) -> None:
    response = await rig.http.post("/twilio/whatsapp", content=b"\xff\xfe", headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 400


async def test_a_redelivered_message_sid_is_processed_once(rig: WhatsAppRig) -> None:
    await rig.join(POLISH)
    await rig.console.send("/poll Lunch? | Pizza | Soup")
    await rig.replies(POLISH)
    sid = "SM" + "2" * 32
    await rig.say(POLISH, "2", sid=sid)
    await rig.say(POLISH, "1", sid=sid)  # Twilio retrying the same webhook: same MessageSid
    assert await rig.replies(POLISH) == ["✓ Twój głos: Soup"]
    assert rig.core.db["poll_votes"].count == 1


# --- voting, buttons, locations, photos, media ------------------------------------------------------


async def test_vote_by_number_and_by_button_payload(rig: WhatsAppRig) -> None:
    await rig.join(ENGLISH)
    await rig.console.send("/poll Where do we meet? | Kiosk | Library | Park")
    poll_message = await rig.reply(ENGLISH)
    assert poll_message == (
        "📊 Poll #1: Where do we meet?\nSingle choice · names shown\n\n1) Kiosk\n2) Library\n3) Park\n"
        "Reply with a number from 1 to 3."
    )
    await rig.say(ENGLISH, "2")
    assert await rig.replies(ENGLISH) == ["✓ Your vote: Library"]
    await rig.say(ENGLISH, "Park", ButtonPayload="v:1:3", ButtonText="Park")
    assert await rig.replies(ENGLISH) == ["✓ Changed your vote to Park."]
    await rig.say(ENGLISH, "7")
    assert await rig.replies(ENGLISH) == ["Please answer with a number from 1 to 3."]
    await rig.say(ENGLISH, "Yes", ButtonPayload="x" * 80, ButtonText="Yes please")  # a template's own button
    assert await rig.replies(ENGLISH) == ["I'm not sure what you mean. Send /help to see what I can do."]
    poll = polls.get_poll(rig.core.db, 1)
    tally = polls.tally(rig.core.db, poll) if poll else None
    assert tally is not None and tally.voters == 1 and tally.counts[3] == 1


async def test_choices_become_quick_replies_where_a_template_fits(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, quick_replies={3: QUICK_REPLY_3}) as rig:
        await rig.join(ENGLISH)
        await rig.console.send("/poll Where do we meet? | Kiosk | Library | Park")
        await rig.console.send("/poll Which day? | Monday | Tuesday | Wednesday evening after work")
        await rig.flush()
        first, second = rig.api.to(ENGLISH)[1:]
        assert first.content_sid == QUICK_REPLY_3 and first.body is None
        variables = first.content_variables
        assert variables["1"].endswith("1) Kiosk\n2) Library\n3) Park\nReply with a number from 1 to 3.")
        assert [variables[k] for k in ("2", "3", "4", "5", "6", "7")] == ["Kiosk", "v:1:1", "Library", "v:1:2", "Park", "v:1:3"]
        assert second.content_sid is None and "3) Wednesday evening after work" in (second.body or "")  # label too long for a button
        await rig.say(ENGLISH, "Library", ButtonPayload=variables["5"])
        assert (await rig.replies(ENGLISH))[-1] == "✓ Your vote: Library"


def pinning_router():  # type: ignore[no-untyped-def]
    """The real router plus a command that answers with a location and a picture, and a photo
    handler that reads the photo's bytes, as the maps and surveys features will."""
    router = build_router()

    @router.command("pin", help=N_("x"), needs_community=False)
    def pin(ctx: Context, cmd: Command) -> list:  # type: ignore[type-arg]
        return [
            Location(latitude=52.2297, longitude=21.0122, title="Kiosk | corner", address="Main St 1"),
            Picture(data=b"\x89PNG fake chart", caption="The map", filename="map.png"),
        ]

    @router.on_photo
    def photo(ctx: Context, event: PhotoShared) -> Text:
        data = ctx.media(event.media)
        return Text(text=f"got {len(data)} bytes of {event.media.mime_type}: {event.caption}")

    @router.on_location
    def location(ctx: Context, event: LocationShared) -> Text:
        return Text(text=f"at {event.latitude:.4f},{event.longitude:.4f} {event.label} / {event.address}")

    return router


async def test_locations_photos_and_media_both_ways(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, router=pinning_router()) as rig:
        await rig.join(ENGLISH)
        await rig.say(ENGLISH, "", Latitude="52.2297", Longitude="21.0122", Label="Kiosk", Address="Main St 1")
        assert await rig.replies(ENGLISH) == ["at 52.2297,21.0122 Kiosk / Main St 1"]

        photo = b"\xff\xd8 a shelf photo"
        url = rig.api.add_media(photo, "image/jpeg")
        await rig.say(ENGLISH, "our shelf", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
        assert await rig.replies(ENGLISH) == [f"got {len(photo)} bytes of image/jpeg: our shelf"]  # fetched with Twilio's auth

        await rig.say(ENGLISH, "", NumMedia="1", MediaUrl0=rig.api.add_media(b"OggS", "audio/ogg"), MediaContentType0="audio/ogg")
        assert await rig.replies(ENGLISH) == ["Thank you, but I can only read text, photos and shared locations."]

        await rig.say(ENGLISH, "/pin")
        await rig.flush()
        location, picture = rig.api.to(ENGLISH)[-2:]
        assert location.body == "Kiosk | corner" and location.persistent_action == ["geo:52.229700,21.012200|Main St 1"]
        assert picture.body == "The map" and len(picture.media_urls) == 1
        link = picture.media_urls[0]
        assert link.startswith(f"{PUBLIC}/media/") and "/map.png?e=" in link
        served = await rig.http.get(link)
        assert served.status_code == 200 and served.content == b"\x89PNG fake chart"
        assert served.headers["content-type"] == "image/png"
        assert (await rig.http.get(link.replace("&s=", "&s=0"))).status_code == 403
        assert (await rig.http.get(link.replace("/map.png", "/other.png"))).status_code == 403
        rig.clock.advance(timedelta(hours=2))
        assert (await rig.http.get(link)).status_code == 403  # the link has expired


async def test_invite_on_whatsapp_sends_the_qr_code_as_media(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, router=None) as rig:
        rig.core.settings.organisers.append(POLISH)
        await rig.say(POLISH, "/newcommunity Osiedle Dębowe")
        await rig.flush()
        created, picture = rig.api.to(POLISH)  # the text, then the QR code picture
        community = community_store.community_by_name(rig.core.db, "Osiedle Dębowe")
        assert community is not None and community.language == "pl"
        assert created.body and created.body.startswith("Społeczność Osiedle Dębowe jest gotowa, a Ty jesteś jej organizatorem.")
        assert f"https://wa.me/14155238886?text=JOIN%20{community.join_code}" in created.body
        qr = await rig.http.get(picture.media_urls[0])
        assert qr.status_code == 200 and qr.content.startswith(b"\x89PNG")
        await rig.say(INDONESIAN, f"gabung {community.join_code}")
        assert (await rig.reply(INDONESIAN)).startswith("Selamat datang di Osiedle Dębowe!")


# --- the 24-hour window ------------------------------------------------------------------------


async def test_a_closed_window_sends_the_template_without_a_body(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, templates={"poll": POLL_TEMPLATE}) as rig:
        await rig.join(ENGLISH)
        rig.clock.advance(timedelta(hours=25))
        await rig.console.send("/poll Lunch\ttoday?     Really? | Pizza | Soup")
        await rig.flush()
        sent = rig.api.to(ENGLISH)[-1]
        assert sent.content_sid == POLL_TEMPLATE and sent.body is None and "Body" not in rig.api.requests[-1]
        assert sent.content_variables == {  # one line: WhatsApp refuses new lines, tabs and runs of spaces
            "1": "Sunny Estate",
            "2": "📊 Poll #1: Lunch today? Really? · Single choice · names shown · 1) Pizza · 2) Soup · Reply with a number from 1 to 2.",
        }
        await rig.replies(ENGLISH)
        await rig.say(ENGLISH, "2")  # answering the template opens the window; the number still votes
        assert await rig.replies(ENGLISH) == ["✓ Your vote: Soup"]


async def test_a_closed_window_without_template_skips_and_tells_the_organisers(rig: WhatsAppRig) -> None:
    await rig.join(ENGLISH)
    await rig.join(POLISH)
    rig.clock.advance(timedelta(hours=23))
    await rig.say(POLISH, "hello")  # Ola's window stays open
    await rig.replies(POLISH)
    rig.clock.advance(timedelta(hours=2))
    await rig.console.send("/poll Lunch? | Pizza | Soup")
    await rig.flush()
    assert len(await rig.replies(POLISH)) == 1 and await rig.replies(ENGLISH) == []
    assert [r["state"] for r in rig.outbox(ENGLISH) if r["purpose"] == "poll"] == ["skipped"]
    rig.console.adapter.take()
    await rig.console.wait(timedelta(minutes=3))
    told = [o for o in await rig.console.outbox() if o.chat_ref == "console:anna"]
    assert [o.reply.text for o in told] == [  # type: ignore[union-attr]
        "1 of 2 members on WhatsApp did not get the new poll in Sunny Estate.\n"
        "WhatsApp lets me write to someone only within 24 hours of their last message, unless an approved "
        "template is set up for “poll” messages (see the README). Ask them to send me a message now and then."
    ]
    await rig.console.wait(timedelta(hours=1))
    assert await rig.console.outbox() == []  # told once


async def test_an_organiser_out_of_reach_is_not_told_again_and_again(rig: WhatsAppRig) -> None:
    await rig.join(POLISH)
    rig.core.settings.organisers.append(POLISH)  # Ola organises too, from WhatsApp
    rig.clock.advance(timedelta(hours=25))
    await rig.console.send("/poll Lunch? | Pizza | Soup")
    await rig.flush()
    await rig.console.wait(timedelta(minutes=3))
    await rig.flush()
    assert [(r["purpose"], r["state"]) for r in rig.outbox(POLISH)[1:]] == [("poll", "skipped"), ("message", "skipped")]
    assert [o.chat_ref for o in await rig.console.outbox()] == ["console:anna"]
    await rig.console.wait(timedelta(hours=1))
    await rig.flush()
    assert len(rig.outbox(POLISH)) == 3 and scheduler.pending_jobs(rig.core.db, UNREACHED_JOB) == []


async def test_error_63016_from_the_api_falls_back_to_the_template(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, templates={"results": RESULTS_TEMPLATE}) as rig:
        await rig.join(ENGLISH)
        await rig.join(POLISH)
        await rig.console.send("/poll Lunch? | Pizza | Soup")
        await rig.flush()
        rig.api.closed_windows |= {ENGLISH, POLISH}  # Twilio knows better than our clock
        earlier = len(rig.api.requests)
        await rig.console.send("/close")
        await rig.flush()
        assert [m.content_sid for m in rig.api.to(ENGLISH)][-1] == RESULTS_TEMPLATE
        assert "Poll #1 is closed: Lunch?" in rig.api.to(ENGLISH)[-1].content_variables["2"]
        await rig.console.send("/poll Dinner? | Fish | Rice")  # no poll template: skipped at once
        await rig.flush()
        assert [r["state"] for r in rig.outbox(ENGLISH) if r["purpose"] == "poll"] == ["sent", "skipped"]
        refused = [r for r in rig.api.requests[earlier:] if r["To"] == [ENGLISH] and "Body" in r]
        assert len(refused) == 1  # after one 63016 the adapter knows the window is closed until she writes


async def test_error_63016_in_a_status_callback_sends_the_template_after_all(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, templates={"poll": POLL_TEMPLATE}) as rig:
        await rig.join(ENGLISH)
        await rig.console.send("/poll Lunch? | Pizza | Soup")
        await rig.flush()
        free_form = rig.api.to(ENGLISH)[-1]
        assert free_form.body and free_form.status_callback
        response = await rig.status(free_form.status_callback, free_form.sid, "failed", ErrorCode="63016")
        assert response.status_code == 204
        await rig.status(free_form.status_callback, free_form.sid, "sent")  # overtaken: must not count as sent
        await rig.flush()
        template = rig.api.to(ENGLISH)[-1]
        assert template.content_sid == POLL_TEMPLATE and template.status_callback and template.status_callback.endswith("&k=t")
        row = [r for r in rig.outbox(ENGLISH) if r["purpose"] == "poll"][0]
        assert row["state"] == "sent" and row["platform_id"] == template.sid
        await rig.status(free_form.status_callback, free_form.sid, "failed", ErrorCode="63016")  # a late duplicate
        await rig.status(free_form.status_callback, free_form.sid, "sent")  # and a late report of its progress
        await rig.status(template.status_callback, template.sid, "delivered")
        await rig.flush()
        assert rig.api.to(ENGLISH)[-1].sid == template.sid
        assert rig.outbox(ENGLISH)[-1]["delivery_status"] == "delivered"


# --- fan-out, retries, never twice -------------------------------------------------------------


async def test_a_500_from_the_api_is_retried_with_back_off(rig: WhatsAppRig) -> None:
    await rig.join(ENGLISH)
    rig.api.script.append(Fail(500, 20500, "Internal Server Error"))
    await rig.console.send("/poll Lunch? | Pizza | Soup")
    await rig.flush()
    row = rig.outbox(ENGLISH)[-1]
    assert row["state"] == "pending" and "Twilio 500" in row["last_error"] and rig.api.to(ENGLISH)[1:] == []
    rig.clock.advance(outbox.backoff(1))
    await rig.flush()
    assert [m.text.splitlines()[0] for m in rig.api.to(ENGLISH)[1:]] == ["📊 Poll #1: Lunch?"]
    assert rig.outbox(ENGLISH)[-1]["state"] == "sent"


async def test_permanent_refusals_and_rate_limits(rig: WhatsAppRig) -> None:
    await rig.join(ENGLISH)
    rig.api.script.extend([Fail(429, 20429, "Too Many Requests"), Fail(400, 21211, "Invalid 'To' Phone Number")])
    await rig.console.send("/poll Lunch? | Pizza | Soup")
    await rig.flush()
    assert rig.outbox(ENGLISH)[-1]["state"] == "pending"  # 429: later
    rig.clock.advance(timedelta(minutes=1))
    await rig.flush()
    row = rig.outbox(ENGLISH)[-1]
    assert row["state"] == "failed" and "21211" in row["last_error"]


async def test_a_lost_answer_is_looked_up_not_sent_twice(rig: WhatsAppRig) -> None:
    await rig.join(ENGLISH)
    rig.api.script.append(Garble())  # Twilio sends it, but its answer never arrives intact
    await rig.console.send("/poll Lunch? | Pizza | Soup")
    await rig.flush()
    row = rig.outbox(ENGLISH)[-1]
    assert row["state"] == "pending" and row["last_error"].startswith("outcome unknown since ")
    rig.clock.advance(timedelta(seconds=2))
    await rig.flush()
    polls_sent = [m for m in rig.api.to(ENGLISH) if m.text.startswith("📊")]
    assert len(polls_sent) == 1
    row = rig.outbox(ENGLISH)[-1]
    assert row["state"] == "sent" and row["platform_id"] == polls_sent[0].sid


async def test_a_crash_mid_send_does_not_send_twice(rig: WhatsAppRig) -> None:
    await rig.join(ENGLISH)
    await rig.console.send("/poll Lunch? | Pizza | Soup")
    (item,) = outbox.claim(rig.core.db, rig.clock.now(), ["whatsapp"])
    await rig.adapter.deliver(item)  # Twilio took it… and the process died before recording that
    rig.clock.advance(timedelta(seconds=30))
    rig.core.recover()
    await rig.flush()
    polls_sent = [m for m in rig.api.to(ENGLISH) if m.text.startswith("📊")]
    assert len(polls_sent) == 1
    assert rig.outbox(ENGLISH)[-1]["platform_id"] == polls_sent[0].sid


async def test_a_status_callback_rescues_a_send_whose_answer_was_lost(rig: WhatsAppRig) -> None:
    await rig.join(ENGLISH)
    rig.api.script.append(Garble())
    await rig.console.send("/poll Lunch? | Pizza | Soup")
    await rig.flush()
    sent = rig.api.to(ENGLISH)[-1]
    assert sent.status_callback
    await rig.status(sent.status_callback, sent.sid, "sent")
    rig.clock.advance(timedelta(seconds=2))
    lists_before = len(rig.api.requests)
    await rig.flush()
    assert len(rig.api.requests) == lists_before  # nothing sent again
    row = rig.outbox(ENGLISH)[-1]
    assert row["state"] == "sent" and row["platform_id"] == sent.sid and row["delivery_status"] == "sent"


async def test_fan_out_is_paced_within_the_senders_rate(tmp_path: Path) -> None:
    async with whatsapp_rig(tmp_path, messages_per_second=40) as rig:
        members = [f"whatsapp:+4477009000{n:02d}" for n in range(10)]
        for member in members:
            await rig.join(member)
        start = len(rig.api.messages)
        await rig.console.send("/poll Lunch? | Pizza | Soup")
        await rig.flush()
        fan_out = rig.api.messages[start:]
        assert sorted(m.to for m in fan_out) == sorted(members)
        span = fan_out[-1].at_monotonic - fan_out[0].at_monotonic
        assert span >= 9 / 40 * 0.9  # ten sends at most 40 a second


async def test_long_messages_are_split_at_line_ends(tmp_path: Path) -> None:
    router = build_router()
    lines = [f"{n:03d} " + "x" * 95 for n in range(20)]

    @router.command("long", help=N_("x"), needs_community=False)
    def long(ctx: Context, cmd: Command) -> Text:
        return Text(text="\n".join(lines))

    async with whatsapp_rig(tmp_path, router=router) as rig:
        await rig.say(ENGLISH, "/long")
        parts = await rig.replies(ENGLISH)
        assert len(parts) == 2 and all(len(p) <= 1600 for p in parts)
        assert parts == ["\n".join(lines[:16]), "\n".join(lines[16:])]
    assert chunks("a\n" + "b" * 3500, 1600) == ["a", "b" * 1600, "b" * 1600, "b" * 300]


# --- delivery reports --------------------------------------------------------------------------


async def test_status_callbacks_never_move_backwards(rig: WhatsAppRig) -> None:
    await rig.join(ENGLISH)
    welcome = rig.api.to(ENGLISH)[0]
    assert welcome.status_callback

    async def state_after(state: str, **fields: str) -> str | None:
        assert (await rig.status(welcome.status_callback, welcome.sid, state, **fields)).status_code == 204  # type: ignore[arg-type]
        return rig.outbox(ENGLISH)[0]["delivery_status"]

    assert await state_after("sent") == "sent"
    assert await state_after("delivered") == "delivered"
    assert await state_after("sent") == "delivered"  # late and out of order
    assert await state_after("read") == "read"
    assert await state_after("undelivered", ErrorCode="30008") == "read"
    assert await state_after("partially_delivered") == "read"  # a status we do not know is ignored
    assert (await rig.status(welcome.status_callback, welcome.sid, "sent!")).status_code == 400
    other = "SM" + "9" * 32
    assert (await rig.status(f"{PUBLIC}/twilio/status", other, "delivered")).status_code == 204  # not ours
    assert rig.core.db.execute("SELECT COUNT(*) FROM outbox WHERE platform_id = ?", [other]).fetchone()[0] == 0

    assert delivery_moves_forward("sent", "failed") and not delivery_moves_forward("failed", "delivered")
    assert not delivery_moves_forward("undelivered", "failed") and delivery_moves_forward(None, "queued")


async def test_a_status_callback_without_our_query_finds_its_message_by_sid_through_an_index(rig: WhatsAppRig) -> None:
    await rig.join(ENGLISH)
    welcome = rig.api.to(ENGLISH)[0]
    plans: list[str] = []
    conn = rig.core.db.conn

    def explain(statement: str) -> None:
        if "platform_id = " in statement and statement.lstrip().upper().startswith("SELECT"):
            plans.extend(row[3] for row in sqlite3.connect(rig.core.settings.database).execute("EXPLAIN QUERY PLAN " + statement))

    conn.set_trace_callback(explain)
    try:
        assert (await rig.status(f"{PUBLIC}/twilio/status", welcome.sid, "delivered")).status_code == 204
    finally:
        conn.set_trace_callback(None)
    assert rig.outbox(ENGLISH)[0]["delivery_status"] == "delivered"
    assert plans and all("USING INDEX outbox_platform" in plan for plan in plans), plans


# --- wrong input, in the member's language ----------------------------------------------------------

WRONG = {
    ENGLISH: [
        ("JOIN", "Please send JOIN and your community's code, for example JOIN K7Q2MX."),
        ("JOIN ???", "“???” does not look like a join code. Codes are letters and digits, for example K7Q2MX."),
        ("JOIN ZZZZ99", "There is no community with the code ZZZZ99. Please check it with your organiser."),
        ("LEAVE", "You are not in any community, so there is nothing to leave."),
        ("/communities", "You are not in a community yet. Send JOIN and the code your organiser gave you."),
        ("/poll Lunch? | A | B", "You are not in a community yet. Use me in your neighbourhood group first"),
        ("/invite", "You are not in a community yet."),
        ("hello", "I'm not sure what you mean. Send /help to see what I can do."),
    ],
    POLISH: [
        ("DOŁĄCZ", "Wyślij DOŁĄCZ i kod swojej społeczności, na przykład DOŁĄCZ K7Q2MX."),
        ("dolacz ???", "„???” nie wygląda na kod społeczności. Kod to litery i cyfry, na przykład K7Q2MX."),
        ("dołącz ZZZZ99", "Nie ma społeczności z kodem ZZZZ99. Sprawdź go u swojego organizatora."),
        ("WYJDŹ", "Nie należysz do żadnej społeczności, więc nie masz skąd wyjść."),
        ("/communities", "Nie należysz jeszcze do żadnej społeczności. Wyślij DOŁĄCZ i kod od swojego organizatora."),
        ("/invite", "Nie należysz jeszcze do żadnej społeczności."),
    ],
    INDONESIAN: [
        ("GABUNG", "Silakan kirim GABUNG dan kode komunitas Anda, misalnya GABUNG K7Q2MX."),
        ("gabung ???", "“???” sepertinya bukan kode komunitas. Kode terdiri dari huruf dan angka, misalnya K7Q2MX."),
        ("GABUNG ZZZZ99", "Tidak ada komunitas dengan kode ZZZZ99. Silakan periksa kembali dengan pengurus Anda."),
        ("KELUAR", "Anda tidak tergabung di komunitas mana pun, jadi tidak ada yang perlu ditinggalkan."),
        ("/communities", "Anda belum tergabung di komunitas mana pun. Kirim GABUNG dan kode dari pengurus Anda."),
    ],
}


@pytest.mark.parametrize("address", [ENGLISH, POLISH, INDONESIAN])
async def test_wrong_input_is_answered_in_the_members_language(rig: WhatsAppRig, address: str) -> None:
    for message, expected in WRONG[address]:
        await rig.say(address, message)
        answer = await rig.reply(address)
        assert answer.startswith(expected), (message, answer)
    assert rig.core.db["memberships"].count == 1 and rig.core.db["polls"].count == 0  # anna's, from the console

    await rig.join(address)
    await rig.console.send("/poll Lunch? | Pizza | Soup")
    hint = (await rig.reply(address)).splitlines()[-1]
    assert hint == {ENGLISH: "Reply with a number from 1 to 2.", POLISH: "Odpowiedz liczbą od 1 do 2.", INDONESIAN: "Balas dengan angka 1 sampai 2."}[address]
    await rig.say(address, "9")
    assert (await rig.reply(address)) == {
        ENGLISH: "Please answer with a number from 1 to 2.",
        POLISH: "Odpowiedz liczbą od 1 do 2.",
        INDONESIAN: "Silakan jawab dengan angka 1 sampai 2.",
    }[address]
    await rig.say(address, "LEAVE")
    left = await rig.reply(address)
    assert rig.code() in left and rig.core.db["poll_votes"].count == 0


@pytest.mark.parametrize("address", [ENGLISH, POLISH, INDONESIAN])
async def test_a_wrong_answer_to_numbered_choices_asks_for_a_number_not_a_button(rig: WhatsAppRig, address: str) -> None:
    await rig.join(address)
    await rig.say(address, "/forgetme")
    question = await rig.reply(address)
    assert question.splitlines()[-1].startswith(("Reply with the number", "Reply with a number", "Odpowiedz", "Balas"))
    await rig.say(address, "maybe")
    [again, *rest] = await rig.replies(address)
    assert again == {
        ENGLISH: "Please reply with one of the numbers.",
        POLISH: "Odpowiedz jednym z numerów.",
        INDONESIAN: "Silakan balas dengan salah satu angka.",
    }[address]
    assert "button" not in " ".join([again, *rest]).lower() and rest == [question]  # the question, asked again
    assert rig.member(address) is not None  # nothing deleted


def test_the_api_url_setting_redirects_only_twilio_calls() -> None:
    gateway = GatewayHttpClient("https://gateway.example/twilio/")
    call = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=20"
    assert gateway.redirect(call) == "https://gateway.example/twilio/2010-04-01/Accounts/AC1/Messages.json?PageSize=20"
    assert gateway.redirect("https://media.example.org/photo.jpg") == "https://media.example.org/photo.jpg"
    assert GatewayHttpClient(None).redirect(call) == call


def test_languages_from_the_country_code() -> None:
    assert language_of_number(POLISH) == "pl" and language_of_number(INDONESIAN) == "id" and language_of_number(ENGLISH) is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOCALBOT_TWILIO__TEMPLATES__POLLS", POLL_TEMPLATE, "setting twilio.templates (LOCALBOT_TWILIO__TEMPLATES): unknown purpose 'polls'"),
        ("LOCALBOT_TWILIO__TEMPLATES__POLL", "HX123", "'HX123' is not a content SID"),
        ("LOCALBOT_TWILIO__QUICK_REPLIES__4", QUICK_REPLY_3, "quick replies have 1 to 3 buttons in a WhatsApp session, not 4"),
        ("LOCALBOT_TWILIO__WHATSAPP_FROM", "+14155238886", "setting twilio.whatsapp_from (LOCALBOT_TWILIO__WHATSAPP_FROM): must look like"),
        ("LOCALBOT_TWILIO__MESSAGES_PER_SECOND", "0", "setting twilio.messages_per_second"),
    ],
)
def test_twilio_settings_are_checked_at_start_up(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_template_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALBOT_TWILIO__TEMPLATES__POLL", POLL_TEMPLATE)
    monkeypatch.setenv("LOCALBOT_TWILIO__QUICK_REPLIES", json.dumps({"3": QUICK_REPLY_3}))
    twilio = load_settings().twilio
    assert twilio.templates == {"poll": POLL_TEMPLATE} and twilio.quick_replies == {3: QUICK_REPLY_3}


# --- `localbot run` -------------------------------------------------------------------------------


async def test_localbot_run_serves_the_twilio_routes_on_real_uvicorn(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with FakeTwilioApi(ACCOUNT, TOKEN, lambda: datetime.now(UTC)) as api:
        settings = Settings(
            database=tmp_path / "run.db",
            http=HttpSettings(host="127.0.0.1", port=port),
            twilio=TwilioSettings.model_validate(
                {"account_sid": ACCOUNT, "auth_token": TOKEN, "whatsapp_from": SENDER, "public_url": PUBLIC, "api_url": api.base_url}
            ),
        )
        db = open_database(settings.database)
        with db.atomic():
            code = community_store.create_community(db, name="Oak Street", language="en", timezone="UTC", now=datetime.now(UTC)).join_code
        db.close()
        assert code
        server = asyncio.create_task(runtime.serve(settings))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for _ in range(200):
                    try:
                        health = await http.get("/healthz")
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.02)
                assert health.json()["adapters"] == ["whatsapp"]
                params = {"MessageSid": "SM" + "3" * 32, "From": ENGLISH, "To": SENDER, "Body": f"JOIN {code}", "NumMedia": "0"}
                forged = await http.post("/twilio/whatsapp", data=params, headers={"X-Twilio-Signature": "forged"})
                assert forged.status_code == 403
                signed = {"X-Twilio-Signature": sign(PUBLIC + "/twilio/whatsapp", params)}
                assert (await http.post("/twilio/whatsapp", data=params, headers=signed)).status_code == 200
                for _ in range(200):  # the core's delivery loop sends the answer on its own
                    if api.to(ENGLISH):
                        break
                    await asyncio.sleep(0.02)
                assert [m.text for m in api.to(ENGLISH)][0].startswith("Welcome to Oak Street!")
        finally:
            server.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await server
