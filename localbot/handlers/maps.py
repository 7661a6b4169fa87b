"""Pickup points in the chat: /addpoint, /editpoint, /removepoint, /points, /point, /near, shared locations.

Adding and editing are short conversations in the organiser's private chat: the name, then a
location pin or an address (geocoded, then confirmed on a pin, because a geocoder's first guess can
be a street of the same name in another town) or typed coordinates, then the opening hours (read
back in the organiser's language), then an optional note.

A member finds the nearest points with ``/near`` or by sharing a location in a private chat. The
answer is a map picture, one native pin per point, and the list with distances, walking time and
whether each point is open, with buttons to make one of them "my pickup point". The location is
used for that answer only: it is not stored, queued or logged, unless the member asks for it to be
remembered (``/near remember``). What is stored is the point a member chooses.

Everything from the network (geocoding, map tiles) comes through :meth:`Context.lookup`, outside
the database transaction; the map picture is even drawn there, off the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from typing import Any

from localbot.community import store as community_store
from localbot.community.model import Community
from localbot.events import ChoicePicked, Command, LocationShared
from localbot.handlers import conversation as conv
from localbot.handlers.context import Context, HandlerError, LookupFailed
from localbot.handlers.conversation import Answer, Conversation, Expect, Finish, Flow, Goto, Retry, Step
from localbot.handlers.router import HandlerResult, Router
from localbot.i18n import N_, Translator
from localbot.maps import geocode, render, store, texts
from localbot.maps.geocode import ATTRIBUTION, GeocodingUnavailable
from localbot.maps.hours import HoursError, parse_hours
from localbot.maps.model import MAX_NOTE, Point, PointError, PointSpec, check_name, check_text, parse_coordinates
from localbot.maps.tiles import TileSource
from localbot.replies import Ack, Choices, Location, Option, Picture, Reply, Text
from localbot.text import whole_number

NEAR_COUNT = 3
#: Beyond this the nearest point is not a neighbourhood answer: the member hears how far it is.
FAR_M = 25_000
LIST_LIMIT = 30
#: More points than this make a map of dots nobody can read; the list still comes.
MAP_LIMIT = 60
#: WhatsApp quick-reply buttons take 20 characters; Telegram more.
BUTTON_LABEL = 20


# --- shared pieces -------------------------------------------------------------------------------


def _flow_community(ctx: Context, c: Conversation) -> Community:
    community = community_store.get_community(ctx.db, int(c.data["community_id"]))
    if community is None:
        raise HandlerError(ctx.t._("That community no longer exists."))
    return community


def _point_ref(ctx: Context, community: Community, ref: str, usage: str) -> Point:
    t = ctx.t
    if not ref.strip():
        raise HandlerError(t._("Which pickup point? Write its number or name, for example: {usage}", usage=usage))
    point = store.find_point(ctx.db, community.id, ref)
    if point is None:
        raise HandlerError(t._("There is no pickup point “{ref}”. Send /points to see them.", ref=ref.strip()))
    return point


def _no_points(ctx: Context, t: Translator, community: Community) -> Text:
    text = t._("There are no pickup points in {community} yet.", community=community.name)
    if ctx.is_organiser(community):
        text += " " + t._("Add one with /addpoint.")
    return Text(text=text)


def _label(number: int, name: str) -> str:
    label = f"{number}. {name}"
    return label if len(label) <= BUTTON_LABEL else label[: BUTTON_LABEL - 1].rstrip() + "…"


def locate_text(ctx: Context, community: Community, text: str, *, keep: bool) -> geocode.Place:
    """Typed coordinates or an address → a place; :class:`HandlerError` says why not.

    ``keep`` stores the geocoder's answer in SQLite (an organiser's point address); a member's own
    address is their location and stays in memory only (see :mod:`localbot.maps.geocode`).
    """
    t = ctx.t
    try:
        coordinates = parse_coordinates(text)
    except PointError as error:
        raise HandlerError(texts.point_error(t, error)) from None
    if coordinates is not None:
        return geocode.Place(*coordinates, address="")
    try:
        geocoder = geocode.geocoder_for(ctx.settings.geocoder)
    except GeocodingUnavailable:
        raise HandlerError(
            t._("I can't look up addresses on this bot: it has no geocoder user agent set (LOCALBOT_GEOCODER__USER_AGENT). Please send a location pin instead.")
        ) from None
    key = geocoder.key(text, community.language)
    known, place = geocode.cached(ctx.db, key, now=ctx.now)
    if not known:
        try:
            # The key is hashed: a failed look-up is logged by its key, and this may be a member's home.
            place = ctx.lookup(("geocode", hash(key)), functools.partial(geocoder.asearch, text, language=community.language))
        except LookupFailed:
            raise HandlerError(t._("I couldn't find that address just now. Please send a location pin instead.")) from None
        if keep:
            geocode.remember(ctx.db, key, text, place, now=ctx.now)
    if place is None:
        raise HandlerError(t._("I couldn't find “{address}”. Check the spelling or add the town, or send a location pin instead.", address=text))
    return place


def map_picture(ctx: Context, markers: list[render.Marker], title: str) -> Picture:
    """A map of the markers, captioned with ``title`` and the tiles' attribution. Tiles are fetched
    and the picture drawn outside the transaction; if that fails or takes too long, it is drawn
    here from whatever tiles the disk holds."""
    settings = ctx.settings
    view = render.viewport(markers, max_zoom=settings.map.max_zoom)
    source = TileSource.from_settings(settings)
    attribution = settings.map.attribution

    async def build() -> bytes:
        tiles = await source.fetch(view.keys()) if source else {}
        return await asyncio.to_thread(render.draw, view, markers, tiles, attribution)

    try:
        png = ctx.lookup(("map", hash(tuple(markers))), build)  # hashed: the markers include the member
    except LookupFailed:
        png = render.draw(view, markers, source.cached(view.keys()) if source else {}, attribution)
    return Picture(data=png, caption=" · ".join(part for part in (title, attribution) if part), filename="map.png")


def point_pin(t: Translator, point: Point, *, title: str | None = None, address: str | None = None) -> Location:
    """A point as a native map pin (a venue where the messenger has them). Messengers want a venue's
    address, so a point placed by pin shows its opening hours there instead. Tastings use it too."""
    return Location(
        latitude=point.latitude,
        longitude=point.longitude,
        title=title or f"{point.number}. {point.name}",
        address=address or point.address or texts.hours_summary(t, point.hours),
    )


def point_details(t: Translator, point: Point, community: Community, ctx: Context) -> str:
    lines = [f"📍 {point.number}. {point.name}"]
    if point.address:
        lines += [point.address, ATTRIBUTION]  # Nominatim's usage policy: its addresses are credited
    lines.append(t._("Hours: {hours}", hours=texts.hours_summary(t, point.hours)))
    if point.hours is not None:
        lines.append(texts.opening_state(t, point.hours, community.tz, ctx.now))
    if point.note:
        lines.append(t._("Note: {note}", note=point.note))
    return "\n".join(lines)


# --- the nearest points --------------------------------------------------------------------------


def nearest_answer(ctx: Context, community: Community, latitude: float, longitude: float, *, remembered: bool = False) -> list[Reply]:
    """The answer to "where is my nearest pickup point?" for one location, which is not kept."""
    t = ctx.t
    near = store.nearest(ctx.db, community.id, latitude, longitude, NEAR_COUNT)
    if not near:
        return [_no_points(ctx, t, community)]
    first = near[0]
    if first.metres > FAR_M:
        return [
            Text(
                text=t._(
                    "You are far from every pickup point of {community}: the nearest, {name}, is {distance} away. If that is not where you are, share your location again.",
                    community=community.name,
                    name=first.point.name,
                    distance=texts.distance(t, first.metres),
                )
                + (f"\n{ATTRIBUTION}" if first.point.address else "")  # the pin shows the address
            ),
            point_pin(t, first.point, title=first.point.name),
        ]
    lines = [t._("Pickup points nearest to you:")]
    pins: list[Reply] = []
    for index, item in enumerate(near, start=1):
        point = item.point
        walk = texts.walking(t, item.metres)
        state = texts.opening_state(t, point.hours, community.tz, ctx.now)
        lines.append("")
        lines.append(f"{index}. {point.name} — {texts.distance(t, item.metres)}" + (f" ({walk})" if walk else ""))
        lines.append(f"   {state}")
        if point.address:
            lines.append(f"   {point.address}")
        pins.append(point_pin(t, point, title=f"{index}. {point.name}", address=" · ".join(part for part in (point.address, state) if part)))
    if any(item.point.address for item in near):
        # Nominatim's addresses, credited here: the picture's caption is the tiles' (a setting), and may not come.
        lines += ["", ATTRIBUTION]
    lines.append("")
    if remembered:
        lines.append(t._("I used the location you asked me to remember; /near forget deletes it."))
    else:
        lines.append(t._("I used your location only for this answer and did not keep it. To have me remember it, send /near remember."))
    if ctx.buttons:
        lines.append(t._("Tap a point to make it your pickup point."))
    else:
        lines.append(t._("Reply with a point's number to make it your pickup point."))
    markers = [render.Marker(latitude, longitude, t._("You are here"), you=True)]
    markers += [render.Marker(i.point.latitude, i.point.longitude, i.point.name, str(n)) for n, i in enumerate(near, start=1)]
    picture = map_picture(ctx, markers, t._("Pickup points nearest to you"))
    options = tuple(Option(_label(n, i.point.name), f"pt:pick:{i.point.id}") for n, i in enumerate(near, start=1))
    return [picture, *pins, Choices(text="\n".join(lines), options=options)]


def _near_prompt(ctx: Context, community: Community) -> Text:
    t = ctx.t
    if ctx.settings.geocoder.user_agent:
        text = t._(
            "Share your location (📎 → Location) and I'll show you the three pickup points nearest to you. You can also type an address. I use your location only for this answer."
        )
    else:
        text = t._("Share your location (📎 → Location) and I'll show you the three pickup points nearest to you. I use your location only for this answer.")
    chosen = store.chosen_point(ctx.db, community.id, ctx.member.id)
    if chosen is not None:
        text += "\n" + t._("Your pickup point now: {name}.", name=chosen.name)
    return Text(text=text)


def _ask_near(ctx: Context, c: Conversation) -> HandlerResult:
    return _near_prompt(ctx, _flow_community(ctx, c))


def _take_near(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    community = _flow_community(ctx, c)
    if a.location is not None:
        return Finish(tuple(nearest_answer(ctx, community, *a.location)))
    if not a.text:
        return Retry(ctx.t._("Please share a location or type an address."))
    try:
        place = locate_text(ctx, community, a.text, keep=False)
    except HandlerError as error:
        return Retry(error.message)
    return Finish(tuple(nearest_answer(ctx, community, place.latitude, place.longitude)))


def _ask_remember(ctx: Context, c: Conversation) -> HandlerResult:
    return Text(
        text=ctx.t._(
            "Share the location I should remember for /near (📎 → Location), or type an address. I keep it until you send /near forget."
        )
    )


def _take_remember(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    community = _flow_community(ctx, c)
    if a.location is not None:
        latitude, longitude = a.location
    elif a.text:
        try:
            place = locate_text(ctx, community, a.text, keep=False)
        except HandlerError as error:
            return Retry(error.message)
        latitude, longitude = place.latitude, place.longitude
    else:
        return Retry(ctx.t._("Please share a location or type an address."))
    store.remember_location(ctx.db, ctx.member.id, latitude, longitude, now=ctx.now)
    saved = Text(text=ctx.t._("I'll remember this location and use it when you send /near. Send /near forget to delete it."))
    return Finish((saved, *nearest_answer(ctx, community, latitude, longitude, remembered=True)))


NEAR_FLOW = Flow(name="maps.near", first="where", steps={"where": Step(Expect.LOCATION | Expect.TEXT, _ask_near, _take_near)})
REMEMBER_FLOW = Flow(name="maps.remember", first="where", steps={"where": Step(Expect.LOCATION | Expect.TEXT, _ask_remember, _take_remember)})


def cmd_near(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    t = ctx.t
    wanted = cmd.args.strip()
    if wanted.lower() == "forget":
        if store.forget_location(ctx.db, ctx.member.id):
            return Text(text=t._("Done: I no longer keep a location of yours."))
        return Text(text=t._("I don't keep a location of yours."))
    if store.count_points(ctx.db, community.id) == 0:
        return _no_points(ctx, t, community)
    if wanted.lower() == "remember":
        return conv.start_flow(ctx, REMEMBER_FLOW.name, {"community_id": community.id}, private=True)
    if wanted:
        place = locate_text(ctx, community, wanted, keep=False)
        return nearest_answer(ctx, community, place.latitude, place.longitude)
    remembered = store.remembered_location(ctx.db, ctx.member.id)
    if remembered is not None:
        if not ctx.in_group:
            return nearest_answer(ctx, community, *remembered, remembered=True)
        # Distances from where a member lives are for them alone, not for the group.
        if ctx.needs_private_link:
            return conv.start_flow(ctx, NEAR_FLOW.name, {"community_id": community.id}, private=True)
        ctx.send_to_member(ctx.member, lambda _t: nearest_answer(ctx, community, *remembered, remembered=True), community=community, purpose="conversation")
        return Text(text=ctx.t._("{name}, I've sent you a private message.", name=ctx.member.display_name))
    return conv.start_flow(ctx, NEAR_FLOW.name, {"community_id": community.id}, private=True)


def on_location(ctx: Context, event: LocationShared) -> HandlerResult:
    """A location shared in a private chat, outside any conversation: the nearest points.

    In a group a location is for the people there, and the bot stays quiet (as with group
    chatter); with no points yet, maps has nothing to say and the core's usual answer stands.
    """
    if ctx.in_group or ctx.community is None or store.count_points(ctx.db, ctx.community.id) == 0:
        return None
    return nearest_answer(ctx, ctx.community, event.latitude, event.longitude)


# --- listing -------------------------------------------------------------------------------------


def cmd_points(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    t = ctx.ct if ctx.in_group else ctx.t
    total = store.count_points(ctx.db, community.id)
    if total == 0:
        return _no_points(ctx, t, community)
    points = store.list_points(ctx.db, community.id, limit=None if total <= MAP_LIMIT else LIST_LIMIT)
    lines = [t._("Pickup points of {community}:", community=community.name)]
    for point in points[:LIST_LIMIT]:
        lines.append("")
        lines.append(f"{point.number}. {point.name}" + (f" — {point.address}" if point.address else ""))
        lines.append("   " + texts.hours_summary(t, point.hours))
        if point.hours is not None:
            lines.append("   " + texts.opening_state(t, point.hours, community.tz, ctx.now))
    if total > LIST_LIMIT:
        lines.append(t.n_("…and {n} more.", "…and {n} more.", total - LIST_LIMIT))
    credited = total <= MAP_LIMIT and ATTRIBUTION in ctx.settings.map.attribution  # the map's caption credits it
    if not credited and any(p.address for p in points[:LIST_LIMIT]):
        lines.append(ATTRIBUTION)
    lines.append("")
    lines.append(t._("Send /point NUMBER for one of them, or /near to find the nearest."))
    replies: list[Reply] = [Text(text="\n".join(lines))]
    if total <= MAP_LIMIT:
        markers = [render.Marker(p.latitude, p.longitude, p.name if total <= 12 else "", str(p.number)) for p in points]
        replies.append(map_picture(ctx, markers, t._("Pickup points of {community}", community=community.name)))
    return replies


def cmd_point(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    point = _point_ref(ctx, community, cmd.args, "/point 2")
    t = ctx.ct if ctx.in_group else ctx.t
    return [point_pin(t, point), Text(text=point_details(t, point, community, ctx))]


# --- adding and editing (a conversation in the organiser's private chat) --------------------------


def _data_spec(c: Conversation) -> PointSpec:
    d = c.data
    hours = parse_hours(d["hours"]) if d.get("hours") else None
    return PointSpec.build(d["name"], d["latitude"], d["longitude"], address=d.get("address"), hours=hours, note=d.get("note"))


def _then(ctx: Context, c: Conversation, following: str, *said: Reply) -> conv.Outcome:
    """After a step: on to ``following`` when adding; when editing, save at once and ask what else."""
    if c.data.get("mode") != "edit":
        return Goto(following, said)
    community = _flow_community(ctx, c)
    point = store.get_point(ctx.db, int(c.data["point_id"]))
    if point is None:
        return Finish((Text(text=ctx.t._("That pickup point has been removed in the meantime.")),))
    if not ctx.is_organiser(community):
        return Finish((Text(text=ctx.t._("Only organisers can {what}.", what=ctx.t._("change pickup points"))),))
    try:
        store.update_point(ctx.db, point, _data_spec(c), now=ctx.now)
    except PointError as error:
        return Goto("what", (Text(text=texts.point_error(ctx.t, error)),))
    return Goto("what", (*said, Text(text=ctx.t._("Saved."))))


def _ask_name(ctx: Context, c: Conversation) -> HandlerResult:
    return Text(text=ctx.t._("What is the pickup point called? For example: Kiosk by the park. (Send /cancel to stop.)"))


def _take_name(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    if not a.text:
        return Retry(ctx.t._("Please write the name as text."))
    community = _flow_community(ctx, c)
    try:
        name = check_name(a.text)
    except PointError as error:
        return Retry(texts.point_error(ctx.t, error))
    existing = store.point_by_name(ctx.db, community.id, name)
    if existing is not None and existing.id != c.data.get("point_id"):
        return Retry(texts.point_error(ctx.t, PointError("duplicate_name", name=existing.name)))
    c.data["name"] = name
    return _then(ctx, c, "place")


def _ask_place(ctx: Context, c: Conversation) -> HandlerResult:
    return Text(
        text=ctx.t._(
            "Where is {name}? Send a location pin (📎 → Location), or type the address or the coordinates (for example 52.2297, 21.0122).",
            name=c.data["name"],
        )
    )


def _take_place(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    if a.location is not None:
        c.data.update(latitude=a.location[0], longitude=a.location[1], address=None)
        return _then(ctx, c, "hours")
    if not a.text:
        return Retry(ctx.t._("Please send a location pin, or type the address."))
    community = _flow_community(ctx, c)
    try:
        place = locate_text(ctx, community, a.text, keep=True)
    except HandlerError as error:
        return Retry(error.message)
    c.data["found"] = {"latitude": place.latitude, "longitude": place.longitude, "address": place.address or None}
    return Goto("confirm")


def _ask_confirm(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    found = c.data["found"]
    pin = Location(latitude=found["latitude"], longitude=found["longitude"], title=c.data["name"], address=found["address"])
    if found["address"]:
        question = t._("I found: {address}", address=found["address"]) + "\n" + ATTRIBUTION + "\n" + t._("Is this the right place?")
    else:
        question = t._("Here is that spot on the map. Is this the right place?")
    return [pin, Choices(text=question, options=(c.option(t._("Yes, that's it"), "yes"), c.option(t._("No, try again"), "no")))]


def _take_confirm(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    if a.choice == "no":
        c.data.pop("found", None)
        return Goto("place")
    if a.choice != "yes":
        return conv.pick_one(ctx)
    c.data.update(c.data.pop("found"))
    return _then(ctx, c, "hours")


def _ask_hours(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    unknown = c.option(t._("Not known"), "unknown")
    options = (c.option(t._("Open round the clock"), "always"), unknown)
    if ctx.buttons:
        text = t._("When is it open? For example: {example}. Or tap “Not known”.", example=texts.HOURS_EXAMPLE)
    else:
        number = options.index(unknown) + 1
        text = t._("When is it open? For example: {example}. Or reply {number} for “Not known”.", example=texts.HOURS_EXAMPLE, number=number)
    return Choices(text=text, options=options)


def _take_hours(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    if a.choice == "unknown":
        c.data["hours"] = None
        return _then(ctx, c, "note")
    text = "24/7" if a.choice == "always" else a.text
    if not text:
        if ctx.buttons:
            return Retry(t._("Please write the opening hours, or tap one of the buttons."))
        return Retry(t._("Please write the opening hours, or reply with one of the numbers."))
    try:
        hours = parse_hours(text)
    except HoursError as error:
        return Retry(texts.hours_error(t, error))
    c.data["hours"] = hours.canonical()
    return _then(ctx, c, "note", Text(text=t._("Opening hours: {hours}", hours=texts.hours_summary(t, hours))))


def _ask_note(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    if ctx.buttons:
        text = t._("Anything members should know? For example: ring the bell, ask for Ania. Or tap “No note”.")
    else:
        text = t._("Anything members should know? For example: ring the bell, ask for Ania. Or reply {number} for “No note”.", number=1)
    return Choices(text=text, options=(c.option(t._("No note"), "none"),))


def _take_note(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    t = ctx.t
    if a.choice == "none":
        c.data["note"] = None
    elif a.text:
        try:
            c.data["note"] = check_text(a.text, MAX_NOTE, "note_too_long")
        except PointError as error:
            return Retry(texts.point_error(t, error))
    elif ctx.buttons:
        return Retry(t._("Please write the note as text, or tap “No note”."))
    else:
        return Retry(t._("Please write the note as text, or reply {number} for “No note”.", number=1))
    if c.data.get("mode") == "edit":
        return _then(ctx, c, "what")
    return _add(ctx, c)


def _add(ctx: Context, c: Conversation) -> conv.Outcome:
    t = ctx.t
    community = _flow_community(ctx, c)
    if not ctx.is_organiser(community):
        return Finish((Text(text=t._("Only organisers can {what}.", what=t._("add pickup points"))),))
    try:
        point = store.create_point(ctx.db, community.id, _data_spec(c), created_by=ctx.member.id, now=ctx.now)
    except PointError as error:
        if error.code == "duplicate_name":  # someone took the name in the meantime
            return Goto("name", (Text(text=texts.point_error(t, error)),))
        raise HandlerError(texts.point_error(t, error)) from None
    pin = point_pin(t, point)
    done = t._("Added pickup point {number}: {name}. Members find it with /near and /points.", number=point.number, name=point.name)
    return Finish((Text(text=done), pin, Text(text=point_details(t, point, community, ctx))))


def _ask_what(ctx: Context, c: Conversation) -> HandlerResult:
    t = ctx.t
    community = _flow_community(ctx, c)
    point = store.get_point(ctx.db, int(c.data["point_id"]))
    if point is None:
        raise HandlerError(t._("That pickup point has been removed in the meantime."))
    return Choices(
        text=point_details(t, point, community, ctx) + "\n\n" + t._("What would you like to change?"),
        options=(
            c.option(t._("Name"), "name"),
            c.option(t._("Place"), "place"),
            c.option(t._("Opening hours"), "hours"),
            c.option(t._("Note"), "note"),
            c.option(t._("Done"), "done"),
        ),
        columns=2,
    )


def _take_what(ctx: Context, c: Conversation, a: Answer) -> conv.Outcome:
    if a.choice == "done":
        return Finish((Text(text=ctx.t._("Done. {name} is up to date.", name=c.data["name"])),))
    if a.choice in ("name", "place", "hours", "note"):
        return Goto(a.choice)
    return conv.pick_one(ctx)


STEPS = {
    "name": Step(Expect.TEXT, _ask_name, _take_name),
    "place": Step(Expect.LOCATION | Expect.TEXT, _ask_place, _take_place),
    "confirm": Step(Expect.CHOICE, _ask_confirm, _take_confirm),
    "hours": Step(Expect.TEXT | Expect.CHOICE, _ask_hours, _take_hours),
    "note": Step(Expect.TEXT | Expect.CHOICE, _ask_note, _take_note),
    "what": Step(Expect.CHOICE, _ask_what, _take_what),
}
ADD_FLOW = Flow(name="maps.add", first="name", steps=STEPS)
ADD_NAMED_FLOW = Flow(name="maps.add.named", first="place", steps=STEPS)
EDIT_FLOW = Flow(name="maps.edit", first="what", steps=STEPS)


def cmd_addpoint(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    data: dict[str, Any] = {"community_id": community.id, "mode": "add"}
    if not cmd.args.strip():
        return conv.start_flow(ctx, ADD_FLOW.name, data, private=True)
    try:
        name = check_name(cmd.args)
    except PointError as error:
        raise HandlerError(texts.point_error(ctx.t, error)) from None
    existing = store.point_by_name(ctx.db, community.id, name)
    if existing is not None:
        raise HandlerError(texts.point_error(ctx.t, PointError("duplicate_name", name=existing.name)))
    return conv.start_flow(ctx, ADD_NAMED_FLOW.name, {**data, "name": name}, private=True)


def cmd_editpoint(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    point = _point_ref(ctx, community, cmd.args, "/editpoint 2")
    data = {
        "community_id": community.id,
        "mode": "edit",
        "point_id": point.id,
        **{f.name: getattr(point, f.name) for f in dataclasses.fields(PointSpec) if f.name != "hours"},
        "hours": point.hours.canonical() if point.hours else None,
    }
    return conv.start_flow(ctx, EDIT_FLOW.name, data, private=True)


def cmd_removepoint(ctx: Context, cmd: Command) -> HandlerResult:
    community = ctx.require_community()
    point = _point_ref(ctx, community, cmd.args, "/removepoint 2")
    t = ctx.t
    return Choices(
        text=t._("Remove pickup point {number}: {name}? Members who chose it will have to choose again.", number=point.number, name=point.name),
        options=(Option(t._("Remove"), f"pt:rm:{point.id}"), Option(t._("Keep it"), f"pt:keep:{point.id}")),
    )


# --- buttons -------------------------------------------------------------------------------------


def on_point_button(ctx: Context, event: ChoicePicked, parts: list[str]) -> HandlerResult:
    """``pt:pick:<id>`` (a member chooses a point), ``pt:rm:<id>`` and ``pt:keep:<id>`` (removal)."""
    t = ctx.t
    ident = whole_number(parts[1]) if len(parts) == 2 else None
    if ident is None or parts[0] not in ("pick", "rm", "keep"):
        return Ack(text=t._("This button no longer works."))
    point = store.get_point(ctx.db, ident)
    if point is None:
        return Ack(text=t._("That pickup point no longer exists."))
    community = community_store.get_community(ctx.db, point.community_id)
    assert community is not None
    if community_store.role_of(ctx.db, community.id, ctx.member.id) is None and not ctx.is_organiser(community):
        return Ack(text=t._("This pickup point belongs to another community."))
    if parts[0] == "pick":
        store.choose_point(ctx.db, community.id, ctx.member.id, point.id, now=ctx.now)
        return Ack(text=t._("Your pickup point is now {name}.", name=point.name))
    if not ctx.is_organiser(community):
        return Ack(text=t._("Only organisers can {what}.", what=t._("remove pickup points")))
    if parts[0] == "keep":
        return Ack(text=t._("Kept {name}.", name=point.name))
    try:
        store.delete_point(ctx.db, point.id)
    except PointError as error:
        return Text(text=texts.point_error(t, error))
    return Text(text=t._("Removed pickup point {number}: {name}.", number=point.number, name=point.name))


def register(router: Router) -> None:
    section = "maps"
    router.command("near", help=N_("The three pickup points nearest to you: share a location or type an address"), usage="[ADDRESS|remember|forget]", section=section)(cmd_near)
    router.command("points", help=N_("All pickup points, listed and on a map"), section=section)(cmd_points)
    router.command("point", help=N_("One pickup point: where it is and when it is open"), usage="NUMBER|NAME", section=section)(cmd_point)
    router.command("addpoint", help=N_("Add a pickup point, step by step"), usage="[NAME]", organiser_only=True, section=section)(cmd_addpoint)
    router.command("editpoint", help=N_("Change a pickup point"), usage="NUMBER|NAME", organiser_only=True, section=section)(cmd_editpoint)
    router.command("removepoint", help=N_("Remove a pickup point"), usage="NUMBER|NAME", organiser_only=True, section=section)(cmd_removepoint)
    router.choice("pt")(on_point_button)
    for flow in (ADD_FLOW, ADD_NAMED_FLOW, EDIT_FLOW, NEAR_FLOW, REMEMBER_FLOW):
        router.flow(flow)
    router.on_location(on_location)
