"""Response shapes of the captain rotations API (`api_rotations.py`): the OpenAPI schemas.

Turn times are given in the rotation's timezone and departure times in the train's, each with
its offset ("2026-12-07T10:00:00+01:00"), so a bot can print them as they are.
"""

from __future__ import annotations

import re
from datetime import datetime, time, tzinfo
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, BeforeValidator, ConfigDict

from releases.departures import Departure
from releases.models import Rotation, RotationTurn, Train, TurnLength, TurnSource
from releases.models.rotations import WEEKDAYS
from releases.schemas import TrainRef
from releases.selectors_rotations import RotationOverview
from releases.timetable import zone

TurnLengthName = Literal[*TurnLength.values]
SourceName = Literal[*TurnSource.values]
WeekdayName = Literal[*(name.lower() for _, name in WEEKDAYS)]
_WEEKDAY_NAMES = {number: name.lower() for number, name in WEEKDAYS}

# Why `captain` is null in the captain answer; bots may match on these exact strings.
NOBODY_ELIGIBLE = "nobody eligible"
NO_ROTATION = "the train has no rotation"
NOT_PLANNED = "no turn is planned for this departure yet"
NO_DEPARTURE = "the train has no departure at or after this time"
PAUSED = "the train is paused"
CAPTAIN_REASONS = [NOBODY_ELIGIBLE, NO_ROTATION, NOT_PLANNED, NO_DEPARTURE, PAUSED]
CaptainReason = Literal[*CAPTAIN_REASONS]


def _plus_restored(value):
    """A `+01:00` offset typed into a URL unencoded arrives as ` 01:00`: read it as meant."""
    if isinstance(value, str):
        return re.sub(r" (\d\d:?\d\d)$", r"+\1", value.strip())
    return value


# An ISO-8601 instant with its offset, forgiving the `+` a query string turned into a space.
Instant = Annotated[AwareDatetime, BeforeValidator(_plus_restored)]


class PersonOut(Schema):
    username: str = Field(examples=["ana"])
    name: str = Field(description="Full name, or the username when none.", examples=["Ana Lima"])

    @classmethod
    def build(cls, user) -> PersonOut | None:
        if user is None:
            return None
        return cls(username=user.username, name=user.display_name)


class TrainServedOut(Schema):
    id: int
    slug: str = Field(examples=["checkout-web"])


class TurnOut(Schema):
    starts_at: datetime = Field(
        description="In the rotation's timezone, with its offset.",
        examples=["2026-12-07T10:00:00+01:00"],
    )
    ends_at: datetime = Field(
        description="In the rotation's timezone; the next turn starts here.",
        examples=["2026-12-14T10:00:00+01:00"],
    )
    captain: PersonOut | None = Field(description="Who holds the turn; null when nobody may.")
    source: SourceName = Field(
        description="How the captain was chosen: rotation (the rotation's pick), skip (the next "
        "eligible member, the pick being away), cover (a manager's override), swap (taken "
        "from the pick), nobody (nobody eligible)."
    )
    reason: str = Field(
        description="Why the captain is not simply the rotation's pick; empty when they are.",
        examples=["Ana Lima is out of office (holiday)"],
    )
    train: str | None = Field(
        description="Per-departure turns: the slug of the train whose departure it serves.",
        examples=[None],
    )
    slot: datetime | None = Field(
        description="Per-departure turns: the departure's timetable slot, in the rotation's "
        "timezone.",
        examples=[None],
    )

    @classmethod
    def build(cls, turn: RotationTurn, tz: tzinfo) -> TurnOut:
        return cls(
            starts_at=turn.starts_at.astimezone(tz),
            ends_at=turn.ends_at.astimezone(tz),
            captain=PersonOut.build(turn.captain),
            source=turn.source,
            reason=turn.reason,
            train=turn.train.slug if turn.train_id else None,
            slot=turn.slot.astimezone(tz) if turn.slot else None,
        )


_ROTATION_EXAMPLE = {
    "id": 3,
    "name": "Web captains",
    "team": "checkout",
    "timezone": "Europe/Berlin",
    "turn_length": "weeks",
    "weeks": 1,
    "handoff_weekday": "monday",
    "handoff_time": "10:00:00",
    "trains": [{"id": 7, "slug": "checkout-web"}],
    "members": [
        {"username": "ana", "name": "Ana Lima"},
        {"username": "bob", "name": "Bob Stone"},
    ],
    "captain_now": {"username": "ana", "name": "Ana Lima"},
    "current_turn": {
        "starts_at": "2026-11-30T10:00:00+01:00",
        "ends_at": "2026-12-07T10:00:00+01:00",
        "captain": {"username": "ana", "name": "Ana Lima"},
        "source": "rotation",
        "reason": "",
        "train": None,
        "slot": None,
    },
    "next_turns": [
        {
            "starts_at": "2026-12-07T10:00:00+01:00",
            "ends_at": "2026-12-14T10:00:00+01:00",
            "captain": {"username": "ana", "name": "Ana Lima"},
            "source": "skip",
            "reason": "Bob Stone is out of office (holiday)",
            "train": None,
            "slot": None,
        }
    ],
}


class RotationOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_ROTATION_EXAMPLE]})

    id: int
    name: str = Field(examples=["Web captains"])
    team: str = Field(description="The team's slug.", examples=["checkout"])
    timezone: str = Field(
        description="IANA timezone of the handoffs; turn times are given in it.",
        examples=["Europe/Berlin"],
    )
    turn_length: TurnLengthName = Field(
        description="per_departure: one departure per captain; weeks: every `weeks` weeks, "
        "handing off on `handoff_weekday` at `handoff_time`."
    )
    weeks: int | None = Field(description="Weeks per turn; null for per_departure.")
    handoff_weekday: WeekdayName | None = Field(description="Null for per_departure.")
    handoff_time: time | None = Field(
        description="Wall-clock time in `timezone`; null for per_departure.", examples=["10:00:00"]
    )
    trains: list[TrainServedOut] = Field(description="The trains it captains, by name.")
    members: list[PersonOut] = Field(description="In rotation order.")
    captain_now: PersonOut | None = Field(
        description="Who is captain now: the current turn's captain (per_departure: the next "
        "departure's). Null when nobody is eligible or no turn has started."
    )
    current_turn: TurnOut | None = Field(
        description="The turn running now (per_departure: the next departure's turn)."
    )
    next_turns: list[TurnOut] = Field(description="The next 8 turns after the current one.")

    @classmethod
    def build(cls, rotation: Rotation, overview: RotationOverview) -> RotationOut:
        tz = zone(rotation.timezone)
        by_weeks = rotation.turn_length == TurnLength.WEEKS
        current = overview.current
        return cls(
            id=rotation.pk,
            name=rotation.name,
            team=rotation.team.slug,
            timezone=rotation.timezone,
            turn_length=rotation.turn_length,
            weeks=rotation.weeks if by_weeks else None,
            handoff_weekday=_WEEKDAY_NAMES[rotation.handoff_weekday] if by_weeks else None,
            handoff_time=rotation.handoff_time if by_weeks else None,
            trains=[TrainServedOut(id=t.pk, slug=t.slug) for t in rotation.trains.all()],
            members=[PersonOut.build(m.user) for m in rotation.members.all()],
            captain_now=PersonOut.build(current.captain) if current else None,
            current_turn=TurnOut.build(current, tz) if current else None,
            next_turns=[TurnOut.build(turn, tz) for turn in overview.upcoming],
        )


class RotationRef(Schema):
    id: int
    name: str = Field(examples=["Web captains"])
    timezone: str = Field(
        description="The turn's times are given in this timezone.", examples=["Europe/Berlin"]
    )


class DepartureOut(Schema):
    slot: datetime = Field(
        description="The timetable slot, in the train's timezone; the key of the departure.",
        examples=["2026-12-08T14:00:00+01:00"],
    )
    departs_at: datetime = Field(
        description="When it leaves: the slot, or later when postponed.",
        examples=["2026-12-08T14:00:00+01:00"],
    )
    postponed: bool

    @classmethod
    def build(cls, departure: Departure, tz: tzinfo) -> DepartureOut:
        return cls(
            slot=departure.slot.astimezone(tz),
            departs_at=departure.departs_at.astimezone(tz),
            postponed=departure.departs_at != departure.slot,
        )


class CaptainOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "train": {
                        "id": 7,
                        "slug": "checkout-web",
                        "name": "Checkout web",
                        "team": "checkout",
                        "timezone": "Europe/Berlin",
                    },
                    "at": "2026-12-03T09:30:00+01:00",
                    "departure": {
                        "slot": "2026-12-08T14:00:00+01:00",
                        "departs_at": "2026-12-08T14:00:00+01:00",
                        "postponed": False,
                    },
                    "rotation": {"id": 3, "name": "Web captains", "timezone": "Europe/Berlin"},
                    "captain": {"username": "ana", "name": "Ana Lima"},
                    "reason": None,
                    "turn": _ROTATION_EXAMPLE["next_turns"][0],
                },
                {
                    "train": {
                        "id": 8,
                        "slug": "mobile",
                        "name": "Mobile",
                        "team": "checkout",
                        "timezone": "America/New_York",
                    },
                    "at": "2026-12-03T03:30:00-05:00",
                    "departure": {
                        "slot": "2026-12-04T09:00:00-05:00",
                        "departs_at": "2026-12-04T09:00:00-05:00",
                        "postponed": False,
                    },
                    "rotation": None,
                    "captain": None,
                    "reason": NO_ROTATION,
                    "turn": None,
                },
            ]
        }
    )

    train: TrainRef
    at: datetime = Field(description="The moment asked about, in the train's timezone.")
    departure: DepartureOut | None = Field(
        description="The train's first departure that leaves at or after `at`; null when none "
        "does (paused, or the timetable has ended)."
    )
    rotation: RotationRef | None = Field(description="The rotation the train belongs to.")
    captain: PersonOut | None = Field(description="Who captains that departure.")
    reason: CaptainReason | None = Field(
        description="Why `captain` is null; null when there is a captain.",
        examples=[NOBODY_ELIGIBLE],
    )
    turn: TurnOut | None = Field(
        description="The rotation turn that covers the departure (times in the rotation's "
        "timezone)."
    )

    @classmethod
    def build(
        cls,
        train: Train,
        *,
        at: datetime,
        departure: Departure | None,
        turn: RotationTurn | None,
        reason: str | None,
    ) -> CaptainOut:
        tz = zone(train.timezone)
        rotation = train.rotation
        return cls(
            train=TrainRef.build(train),
            at=at.astimezone(tz),
            departure=DepartureOut.build(departure, tz) if departure else None,
            rotation=RotationRef(id=rotation.pk, name=rotation.name, timezone=rotation.timezone)
            if rotation
            else None,
            captain=PersonOut.build(turn.captain) if turn else None,
            reason=reason,
            turn=TurnOut.build(turn, zone(rotation.timezone)) if turn else None,
        )
