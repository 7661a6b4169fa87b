"""WhatsApp through Twilio: members talk to the bot one to one on behalf of their community.

Inbound, Twilio posts every message to ``POST /twilio/whatsapp`` as a form. The adapter checks the
``X-Twilio-Signature`` against the public URL (403 otherwise, nothing changes), refuses malformed
posts with 400, turns the form into one neutral event (a command, text, a quick-reply payload, a
shared location or a photo) whose ``event_id`` is the MessageSid, so a re-delivered message is
processed once, and answers Twilio at once with empty TwiML. The replies go out through the REST
API like everything else: they are queued in the outbox in the member's chat, which keeps their
order, retries them with back-off and survives a restart.

Outbound, :meth:`WhatsAppAdapter.deliver` renders a reply as WhatsApp can show it: choices as
numbered text (and as quick-reply buttons where a ``twilio/quick-reply`` template is configured),
locations as location messages, pictures and files as media at a short-lived signed URL. WhatsApp
only allows free-form messages within 24 hours of the member's last message; outside that window
the approved template configured for the message's purpose is sent instead, or, with none, the
member is skipped and the organisers are told how many were not reached. Twilio's error 63016
("outside the window"), whether it comes back from the API or later in a status callback, is handled
the same way. Sends are paced to the sender's rate, and a send whose outcome was lost (a time-out, a
crash) is looked up at Twilio before it is tried again, so that a member does not get it twice.

``POST /twilio/status`` records each message's delivery state in ``outbox.delivery_status``, never
moving backwards (queued < sent < delivered < read; failed and undelivered are final).
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from localbot import delivered, outbox
from localbot.adapters.base import (
    DEFAULT_CAPABILITIES,
    Adapter,
    DeliveryResult,
    RetryLater,
    Sent,
    Undeliverable,
)
from localbot.adapters.media import SignedMedia
from localbot.adapters.twilio_api import ApiRefused, OutcomeUnknown, TwilioApi
from localbot.clock import from_iso, iso
from localbot.community import store as community_store
from localbot.community.model import Community, Member
from localbot.core import Core
from localbot.events import (
    Chat,
    ChatKind,
    ChoicePicked,
    Command,
    Event,
    LocationShared,
    MediaRef,
    Message,
    PhotoShared,
    Sender,
    split_command,
)
from localbot.handlers import membership
from localbot.i18n import Translator, translator
from localbot.outbox import Outgoing
from localbot.replies import (
    MAX_PAYLOAD_BYTES,
    Ack,
    Choices,
    Document,
    Edit,
    Location,
    Option,
    Picture,
    Reply,
    Text,
    text_of,
)
from localbot.settings import Settings
from localbot.storage.db import one
from localbot.text import whole_number

log = logging.getLogger(__name__)

INBOUND_PATH = "/twilio/whatsapp"
STATUS_PATH = "/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

WINDOW = timedelta(hours=24)
#: Start using templates a little early: a message queued at 23:59 may leave at 24:01.
WINDOW_MARGIN = timedelta(minutes=5)
OUTSIDE_WINDOW = 63016

MAX_BODY = DEFAULT_CAPABILITIES["whatsapp"].max_text
QUICK_REPLY_BODY = 1024
#: The documents WhatsApp delivers as files (Twilio's accepted media types); other files go as a link.
WHATSAPP_DOCUMENTS = frozenset({
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "text/vcard",
})
QUICK_REPLY_TITLE = 20
#: Template variables: one line (WhatsApp refuses new lines and long runs of spaces in them), short.
TEMPLATE_TEXT = 900

# What a webhook may carry: longer values are not from Twilio, or not from a person.
MAX_FIELDS = 100
MAX_VALUE = 4096
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
_WHATSAPP_ADDRESS = re.compile(r"whatsapp:\+\d{6,16}")
_STATUS = re.compile(r"[a-z_]{1,24}")

#: A member's language until they choose one, from the country code of their number.
COUNTRY_LANGUAGES = {"48": "pl", "62": "id"}

# Delivery states: progress only moves forward; a failure is final.
STATUS_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5}
FAILED = frozenset({"failed", "undelivered", "canceled"})

# Written to outbox.last_error, so that the next attempt knows to look before sending again.
IN_FLIGHT = "in flight since "
UNKNOWN = "outcome unknown since "
_STAMP_LENGTH = len("2026-01-05T09:00:00.000Z")
#: How far before the mark to look at Twilio: its clock and ours may differ a little.
RECONCILE_SLACK = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class Part:
    """One Twilio message: the API fields, and the text it shows, to recognise it at Twilio later."""

    fields: dict[str, Any]
    text: str

    @property
    def templated(self) -> bool:
        return "content_sid" in self.fields


def content(content_sid: str, variables: dict[str, str], text: str) -> Part:
    return Part({"content_sid": content_sid, "content_variables": json.dumps(variables, ensure_ascii=False)}, text)


class BadRequest(Exception):
    """A webhook that is not a well-formed Twilio post: answered 400, nothing is stored."""


class Forbidden(Exception):
    """A webhook without a valid Twilio signature: answered 403, nothing is stored."""


class _WindowClosed(Exception):
    """Twilio refused a free-form message: the member's 24-hour window is closed (63016)."""


def language_of_number(address: str) -> str | None:
    digits = address.partition("+")[2]
    return next((language for code, language in COUNTRY_LANGUAGES.items() if digits.startswith(code)), None)


def delivery_moves_forward(current: str | None, new: str) -> bool:
    """Whether a status callback's state may replace the recorded one (callbacks arrive out of order)."""
    if new not in STATUS_RANK and new not in FAILED:
        return False
    if current is None:
        return True
    if current in FAILED:
        return False
    if new in FAILED:
        return current not in ("delivered", "read")
    return STATUS_RANK[new] > STATUS_RANK.get(current, -1)


class WhatsAppAdapter(Adapter):
    messenger = "whatsapp"
    capabilities = DEFAULT_CAPABILITIES["whatsapp"]
    delivery_reports = True

    def __init__(self, settings: Settings, core: Core, *, api: TwilioApi | None = None) -> None:
        twilio = settings.twilio
        if not (settings.twilio_enabled and twilio.account_sid and twilio.auth_token and twilio.whatsapp_from and twilio.public_url):
            raise ValueError("WhatsApp needs account_sid, auth_token, whatsapp_from and public_url")
        self.settings = settings
        self.core = core
        self.twilio = twilio
        self.public_url = twilio.public_url.rstrip("/")
        token = twilio.auth_token.get_secret_value()
        self.validator = RequestValidator(token)
        self.api = api or TwilioApi(
            twilio.account_sid, token, twilio.whatsapp_from, api_url=twilio.api_url, per_second=twilio.messages_per_second
        )
        self.media = SignedMedia(delivered.outbound_folder(settings.media_path), core.secret, self.public_url, core.clock.now)
        #: Chats for which Twilio said "outside the window" (63016), and when: until the member
        #: writes again, templates are used. Kept in memory: after a restart one more 63016 relearns it.
        self._closed: dict[str, datetime] = {}

    # --- the web process -----------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route(INBOUND_PATH, self.inbound, methods=["POST"]),
            Route(STATUS_PATH, self.status, methods=["POST"]),
            *self.media.routes(),
        ]

    async def start(self) -> None:
        log.info("WhatsApp: Twilio should post to %s%s (status callbacks: %s%s)", self.public_url, INBOUND_PATH, self.public_url, STATUS_PATH)

    async def stop(self) -> None:
        await self.api.close()

    async def download(self, media: MediaRef) -> bytes:
        return await self.api.download(media.ref)

    async def _verified_form(self, request: Request) -> ImmutableMultiDict[str, str]:
        try:
            pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("not a form") from None
        form: ImmutableMultiDict[str, str] = ImmutableMultiDict(pairs)
        signature = request.headers.get(SIGNATURE_HEADER, "")
        url = self.public_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        if not signature or not self.validator.validate(url, form, signature, algorithm):
            raise Forbidden
        if any(len(value) > MAX_VALUE for value in form.values()):
            raise BadRequest("a field is too long")
        return form

    async def inbound(self, request: Request) -> Response:
        try:
            form = await self._verified_form(request)
            event = self.event_from(form)
        except Forbidden:
            return PlainTextResponse("invalid signature", status_code=403)
        except BadRequest as exc:
            return PlainTextResponse(f"bad request: {exc}", status_code=400)
        if event is None:
            return Response(EMPTY_TWIML, media_type="text/xml")
        if isinstance(event, Event):
            chat_ref, key, replies = event.chat.ref, event.event_id or "", await self.core.handle(event)
        else:
            chat_ref, key, replies = form["From"], f"whatsapp:{form['MessageSid']}", [event]
        try:
            # No await between handle() and queueing: the outbox loop, woken by handle(), runs only
            # after these rows are committed.
            self._queue_replies(chat_ref, key, replies)
        except sqlite3.OperationalError as exc:
            # The database takes nothing just now (locked, disk full), so the answer ("I could not
            # save that, please try again") cannot wait in the outbox: it goes back in the webhook's
            # own response, which Twilio sends; the member's window is open, they have just written.
            log.error("could not queue the answer to %s (%s); answering in the webhook response", chat_ref, exc)
            return Response(self.twiml(chat_ref, replies), media_type="text/xml")
        return Response(EMPTY_TWIML, media_type="text/xml")

    def twiml(self, chat_ref: str, replies: list[Reply]) -> str:
        """Replies as TwiML ``<Message>`` verbs: their text (choices numbered), split at WhatsApp's length."""
        try:
            member = community_store.member_by_ref(self.core.db, chat_ref)
        except sqlite3.Error:
            member = None
        t = self.core.translator_for(member, None)
        bodies = [
            chunk
            for reply in replies
            if not (isinstance(reply, Edit) and not reply.fallback)
            for chunk in chunks(plain_text(reply, t), MAX_BODY)
        ]
        return EMPTY_TWIML.replace("</Response>", "".join(f"<Message>{escape(body)}</Message>" for body in bodies) + "</Response>")

    def event_from(self, form: Mapping[str, str]) -> Event | Reply | None:
        """The neutral event a webhook stands for; a :class:`Reply` where we can only answer (a voice
        note); None for what needs no answer (a reaction, a sticker)."""
        sid = form.get("MessageSid", "")
        address = form.get("From", "")
        if not _SID.fullmatch(sid):
            raise BadRequest("MessageSid missing or malformed")
        if not _WHATSAPP_ADDRESS.fullmatch(address):
            raise BadRequest("From is not a WhatsApp address")
        profile = form.get("ProfileName", "")
        if len(profile) > 256:
            raise BadRequest("ProfileName too long")
        body = form.get("Body", "")
        language = language_of_number(address)
        base: dict[str, Any] = {
            "chat": Chat(address, ChatKind.PRIVATE),
            "sender": Sender(address, profile.strip(), language=language),
            "event_id": f"whatsapp:{sid}",
        }
        payload = form.get("ButtonPayload", "")
        if payload:
            if len(payload.encode()) <= MAX_PAYLOAD_BYTES:
                return ChoicePicked(payload=payload, **base)
            body = form.get("ButtonText", "") or body  # a template's own button: read its words
        if "Latitude" in form or "Longitude" in form:
            return self._location(form, base)
        media_count = whole_number(form.get("NumMedia", "0") or "0")
        if media_count is None or media_count > 10:
            raise BadRequest("NumMedia is not a small number")
        if media_count:
            url = form.get("MediaUrl0", "")
            kind = form.get("MediaContentType0", "")
            if not url.startswith(("https://", "http://")) or len(url) > 2048:
                raise BadRequest("MediaUrl0 missing or malformed")
            if kind.startswith("image/"):
                return PhotoShared(media=MediaRef("whatsapp", url, mime_type=kind), caption=body.strip(), **base)
            if not body.strip():
                t = translator(language or self.settings.language)
                return Text(text=t._("Thank you, but I can only read text, photos and shared locations."))
        text = body.strip()
        if not text:
            return None
        command = split_command(text) if text.startswith("/") else None
        if command is not None:
            return Command(name=command[0], args=command[1], **base)
        return Message(text=text, **base)

    @staticmethod
    def _location(form: Mapping[str, str], base: dict[str, Any]) -> LocationShared:
        try:
            latitude, longitude = float(form.get("Latitude", "")), float(form.get("Longitude", ""))
        except ValueError:
            raise BadRequest("Latitude and Longitude must both be numbers") from None
        event = LocationShared(
            latitude=latitude,
            longitude=longitude,
            address=form.get("Address") or None,
            label=form.get("Label") or None,
            **base,
        )
        if not event.valid:
            raise BadRequest("coordinates out of range")
        return event

    def _queue_replies(self, chat_ref: str, event_id: str, replies: list[Reply]) -> None:
        """Answers go through the outbox like everything else: ordered, retried, paced, kept."""
        if not replies:
            return
        db, now = self.core.db, self.core.clock.now()
        member = community_store.member_by_ref(db, chat_ref)
        with db.atomic():
            for index, reply in enumerate(replies):
                outbox.enqueue(
                    db,
                    chat_ref=chat_ref,
                    reply=reply,
                    now=now,
                    member_id=member.id if member else None,
                    dedupe_key=f"{event_id}|{index}",
                )

    # --- status callbacks ----------------------------------------------------------------------

    async def status(self, request: Request) -> Response:
        try:
            form = await self._verified_form(request)
        except Forbidden:
            return PlainTextResponse("invalid signature", status_code=403)
        except BadRequest as exc:
            return PlainTextResponse(f"bad request: {exc}", status_code=400)
        sid, state, code = form.get("MessageSid", ""), form.get("MessageStatus", ""), form.get("ErrorCode", "")
        if not _SID.fullmatch(sid) or not _STATUS.fullmatch(state) or (code and not (code.isascii() and code.isdigit() and len(code) <= 6)):
            return PlainTextResponse("bad request: MessageSid, MessageStatus or ErrorCode malformed", status_code=400)
        query = request.query_params
        with self.core.db.atomic():
            self.record_status(sid, state, int(code) if code else None, query.get("o", ""), query.get("a", ""), template=query.get("k") == "t")
        return Response(status_code=204)

    def record_status(self, sid: str, state: str, code: int | None, outbox_id: str, attempt: str, *, template: bool) -> None:
        """Apply one status callback to the outbox row of that message.

        Our callback URL names the outbox row and the attempt (``?o=12&a=1``), so a callback that
        overtakes the API's answer still finds its row, and a callback about an earlier attempt of
        the same row is ignored. A row whose send had no known outcome learns its MessageSid here.
        """
        db = self.core.db
        row = None
        if outbox_id.isascii() and outbox_id.isdigit() and len(outbox_id) <= 18:
            row = one(db, "SELECT * FROM outbox WHERE id = ? AND messenger = 'whatsapp'", [int(outbox_id)])
            if row and not (row["platform_id"] == sid or (row["platform_id"] is None and str(row["attempts"]) == attempt)):
                row = None
        else:
            row = one(db, "SELECT * FROM outbox WHERE platform_id = ? AND messenger = 'whatsapp'", [sid])
        if row is None or not delivery_moves_forward(row["delivery_status"], state):
            return
        if state in FAILED and code == OUTSIDE_WINDOW and not template and row["payload"] != delivered.REMOVED:
            # Free-form refused after all: send it again, as a template or not at all. The row keeps
            # "failed" until the next attempt, so late callbacks about this message change nothing.
            self._closed[row["chat_ref"]] = self.core.clock.now()
            db.execute(
                """UPDATE outbox SET state = 'pending', next_attempt_at = ?, platform_id = NULL,
                   delivery_status = ?, last_error = ? WHERE id = ?""",
                [iso(self.core.clock.now()), state, f"Twilio {OUTSIDE_WINDOW}: outside the 24-hour window", row["id"]],
            )
            return
        # A report that brings the MessageSid of a send whose answer was lost also tells how it went
        # (``&k=t``: as a template), which the row must know (``outbox.seen``).
        db.execute(
            """UPDATE outbox SET delivery_status = ?, platform_id = COALESCE(platform_id, ?),
               template = CASE WHEN platform_id IS NULL THEN ? ELSE template END WHERE id = ?""",
            [state, sid, int(template), row["id"]],
        )
        if state in FAILED:
            db.execute("UPDATE outbox SET last_error = ? WHERE id = ?", [f"Twilio {state}" + (f", error {code}" if code else ""), row["id"]])
        if state in delivered.FINAL_REPORTS and row["state"] == "sent":
            # It arrived, or never will: what it said is no longer needed (see localbot.delivered).
            delivered.clear(db, self.media.folder, "id = ?", [row["id"]])

    # --- delivering ----------------------------------------------------------------------------

    async def deliver(self, item: Outgoing) -> DeliveryResult:
        db = self.core.db
        row = one(db, "SELECT platform_id, last_error, template FROM outbox WHERE id = ?", [item.id]) or {}
        member = community_store.member_by_ref(db, item.chat_ref)
        t = self._translator(member, item.community_id)
        parts = self.render(item.reply, t)
        if parts is None:
            return Undeliverable("WhatsApp cannot edit a message once sent", skipped=True)
        if not parts:
            return Sent(None)
        if row.get("platform_id") and len(parts) == 1:
            # A status callback told us the lost attempt went out, and whether as a template.
            return Sent(row["platform_id"], template=bool(row["template"]))
        last_error = row.get("last_error")
        if self.window_open(item.chat_ref, member, unknown_since=item.created_at):
            try:
                return await self._send(item, parts, last_error, template=False)
            except _WindowClosed:
                self._closed[item.chat_ref] = self.core.clock.now()
                last_error = None
        content_sid = self.twilio.templates.get(item.purpose)
        if content_sid is None:
            self._report_unreached(item)
            return Undeliverable(f"24-hour window closed; no template for {item.purpose!r} messages", skipped=True)
        # A question that comes with an invitation (a tasting's questions) sends the invitation: the
        # question itself, flattened into one line, could not be answered as asked.
        invitation = item.reply.invitation if isinstance(item.reply, Choices) else None
        text = one_line(invitation or plain_text(item.reply, t), TEMPLATE_TEXT)
        variables = {"1": self._community_name(member, item.community_id), "2": text}
        if invitation and isinstance(item.reply, Choices) and item.reply.invitation_payload:
            variables["3"] = item.reply.invitation_payload  # the id of the template's reply button
        template = content(content_sid, variables, text)
        try:
            result = await self._send(item, [template], last_error, template=True)
            return Sent(result.platform_id, template=True) if isinstance(result, Sent) else result
        except _WindowClosed:
            return Undeliverable(f"Twilio refused the {item.purpose!r} template as outside the window")

    def window_open(self, chat_ref: str, member: Member | None, *, unknown_since: datetime | None = None) -> bool:
        """Free-form messages are allowed until 24 hours after the member's last message.

        A chat with no member behind it is one whose member was just forgotten (``/forgetme``): every
        message ever queued for them went with them except the answer to that very message, so the
        time it was queued (``unknown_since``) is when they last wrote.
        """
        if member is None:
            if unknown_since is None:
                return False
            last = unknown_since
        elif not member.last_inbound_at:
            return False
        else:
            last = from_iso(member.last_inbound_at)
        closed = self._closed.get(chat_ref)
        if closed is not None and closed >= last:
            return False
        return self.core.clock.now() - last < WINDOW - WINDOW_MARGIN

    async def _send(self, item: Outgoing, parts: list[Part], last_error: str | None, *, template: bool) -> DeliveryResult:
        """Send the parts of one message; after an attempt whose outcome was lost, first ask Twilio
        which parts already went out."""
        now = self.core.clock.now()
        since = _marked_since(last_error)
        done: dict[int, str] = {}
        if since is not None:
            try:
                done = await self._already_sent(item.chat_ref, parts, since)
            except OutcomeUnknown as exc:
                return RetryLater(outbox.backoff(item.attempts), f"{UNKNOWN}{iso(since)}: {exc}")
        mark = since or now
        # The mark tells a later attempt to look first if this one dies mid-send; a new message
        # starts its delivery report afresh.
        self.core.db.execute(
            "UPDATE outbox SET last_error = ?, delivery_status = NULL WHERE id = ?", [f"{IN_FLIGHT}{iso(mark)}", item.id]
        )
        callback = f"{self.public_url}{STATUS_PATH}?o={item.id}&a={item.attempts}" + ("&k=t" if template else "")
        sid = done.get(len(parts) - 1)
        for index, part in enumerate(parts):
            if index in done:
                continue
            try:
                sid = await self.api.send(item.chat_ref, status_callback=callback, **part.fields)
            except ApiRefused as exc:
                if exc.code == OUTSIDE_WINDOW:
                    raise _WindowClosed from exc
                if index or done:  # earlier parts went out: the retry must look before sending
                    return RetryLater(outbox.backoff(item.attempts), f"{UNKNOWN}{iso(mark)}: {exc}")
                return _refused(item, exc)
            except OutcomeUnknown as exc:
                return RetryLater(outbox.backoff(item.attempts), f"{UNKNOWN}{iso(mark)}: {exc}")
        return Sent(sid)

    async def _already_sent(self, chat_ref: str, parts: list[Part], since: datetime) -> dict[int, str]:
        """Which parts Twilio already has, recognised by their text, with their MessageSids."""
        recent = await self.api.recent(chat_ref, since - RECONCILE_SLACK)
        found: dict[int, str] = {}
        for index, part in enumerate(parts):
            wanted = part.text.strip()
            for message in recent:
                if not wanted or message.sid in found.values():
                    continue
                if message.created_at is not None and message.created_at < since - RECONCILE_SLACK:
                    continue
                # Twilio reports a template's rendered body: our text is inside it.
                if message.body.strip() == wanted or (part.templated and wanted in message.body):
                    found[index] = message.sid
                    break
        return found

    def _report_unreached(self, item: Outgoing) -> None:
        """The organisers hear how many members a message skipped (see :mod:`~localbot.handlers.membership`)."""
        if item.community_id is None:
            return
        with self.core.db.atomic():
            membership.report_unreached_later(
                self.core.db,
                community_id=item.community_id,
                purpose=item.purpose,
                batch=iso(item.created_at),
                messenger=self.messenger,
                now=self.core.clock.now(),
                row=item.id,
            )

    # --- rendering -----------------------------------------------------------------------------

    def render(self, reply: Reply, t: Translator) -> list[Part] | None:
        """The messages that show ``reply`` on WhatsApp; None when WhatsApp cannot show it."""
        if isinstance(reply, Edit) and not reply.fallback:
            return None
        text = plain_text(reply, t)
        if isinstance(reply, (Choices, Edit)) and reply.options:
            quick = self._quick_reply(text, reply.options)
            if quick is not None:
                return [quick]
        if isinstance(reply, Location):
            label = (reply.address or reply.title or "").replace("|", "/")
            body = reply.title or reply.address or "📍"
            return [Part({"body": body, "persistent_action": [f"geo:{reply.latitude:.6f},{reply.longitude:.6f}|{label}"]}, body)]
        if isinstance(reply, Document) and reply.mime_type not in WHATSAPP_DOCUMENTS:
            # WhatsApp refuses other files (a calendar file, a CSV): send a link the phone can open.
            body = "\n".join(part for part in (reply.caption, self.media.publish(reply.data, reply.filename)) if part)[:MAX_BODY]
            return [Part({"body": body}, body)]
        if isinstance(reply, (Picture, Document)):
            fields: dict[str, Any] = {"media_url": [self.media.publish(reply.data, reply.filename)]}
            if reply.caption:
                fields["body"] = reply.caption[:MAX_BODY]
            return [Part(fields, reply.caption[:MAX_BODY])]
        return [Part({"body": chunk}, chunk) for chunk in chunks(text, MAX_BODY)]

    def _quick_reply(self, body: str, options: tuple[Option, ...]) -> Part | None:
        """A ``twilio/quick-reply`` template with the buttons as variables, where one is configured
        for this many buttons and WhatsApp's limits allow; else None (numbered text only)."""
        content_sid = self.twilio.quick_replies.get(len(options))
        if content_sid is None or len(body) > QUICK_REPLY_BODY or any(len(o.label) > QUICK_REPLY_TITLE for o in options):
            return None
        variables = {"1": body}
        for number, option in enumerate(options, start=1):
            variables[str(2 * number)] = option.label
            variables[str(2 * number + 1)] = option.payload
        return content(content_sid, variables, body)

    def _translator(self, member: Member | None, community_id: int | None) -> Translator:
        return self.core.translator_for(member, self._community(member, community_id))

    def _community(self, member: Member | None, community_id: int | None) -> Community | None:
        if community_id is None and member is not None:
            community_id = community_store.current_community_id(self.core.db, member.id)
        return community_store.get_community(self.core.db, community_id) if community_id else None

    def _community_name(self, member: Member | None, community_id: int | None) -> str:
        community = self._community(member, community_id)
        return community.name if community is not None else "localbot"


# --- helpers -------------------------------------------------------------------------------------


def numbered(text: str, options: tuple[Option, ...], t: Translator, *, several: bool = False) -> str:
    """Choices as WhatsApp shows them: the text, numbered options, and how to answer (unless the
    answer may be several numbers, which the text then explains)."""
    lines = [text, "", *(f"{number}) {option.label}" for number, option in enumerate(options, start=1))]
    if not several:
        lines.append(t.n_("Reply with the number {n}.", "Reply with a number from 1 to {n}.", len(options)))
    return "\n".join(lines)


def plain_text(reply: Reply, t: Translator) -> str:
    if isinstance(reply, (Choices, Edit)) and reply.options:
        return numbered(reply.text, reply.options, t, several=isinstance(reply, Choices) and reply.several)
    if isinstance(reply, Ack):
        return f"✓ {reply.text}"
    return text_of(reply)


def chunks(text: str, limit: int) -> list[str]:
    """Split at line ends into messages of at most ``limit`` characters (WhatsApp takes 1,600)."""
    out: list[str] = []
    current = ""
    for line in text.splitlines() or [""]:
        while len(line) > limit:
            if current:
                out.append(current)
                current = ""
            out.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            candidate = line
        current = candidate
    if current.strip():
        out.append(current)
    return [part for part in out if part.strip()]


def one_line(text: str, limit: int) -> str:
    """Text for a template variable: no new lines or tabs, no long runs of spaces, not too long."""
    flat = " · ".join(line.strip() for line in text.splitlines() if line.strip())
    flat = re.sub(r"\s+", " ", flat).strip() or "…"
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _marked_since(last_error: str | None) -> datetime | None:
    """When an attempt with an unknown outcome started, from the mark it left in ``last_error``."""
    for prefix in (IN_FLIGHT, UNKNOWN):
        if last_error and last_error.startswith(prefix):
            try:
                return from_iso(last_error[len(prefix) : len(prefix) + _STAMP_LENGTH])
            except ValueError:
                return None
    return None


def _refused(item: Outgoing, error: ApiRefused) -> DeliveryResult:
    """What Twilio's refusal means for the outbox: wait and retry, or give up on this member."""
    if error.status == 429:  # too many requests: back off harder than usual
        return RetryLater(outbox.backoff(item.attempts + 2), str(error))
    if error.status in (401, 403):  # our credentials: retrying helps once the operator fixes them
        log.error("Twilio refused our credentials: %s", error)
        return RetryLater(outbox.backoff(item.attempts + 4), str(error))
    return Undeliverable(str(error))
